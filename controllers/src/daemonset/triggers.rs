//! Which DaemonSets a change concerns (upstream's event handlers): a pod's controller (and
//! its former one), or for an orphan every DaemonSet selecting it; a revision likewise; a
//! node every DaemonSet whose placement on it changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use super::eligibility::{daemon_pod_spec, placement, Placement};
use super::view::KIND;
use super::Context;
use crate::workloads::podcontrol::owners::LastControllers;
use crate::workloads::podcontrol::pods::controller_of;
use crate::workloads::podcontrol::selector::Selector;
use crate::Change;

/// What the triggers remember between changes.
#[derive(Default)]
pub struct Triggers {
    pod_owners: LastControllers,
    revision_owners: LastControllers,
    nodes: Mutex<HashMap<String, Arc<Node>>>,
}

fn selects(ds: &DaemonSet, labels: &std::collections::BTreeMap<String, String>) -> bool {
    ds.spec
        .as_ref()
        .and_then(|spec| Selector::parse(&spec.selector).ok())
        .is_some_and(|selector| !selector.is_everything() && selector.matches(labels))
}

fn placement_on(node: &Node, ds: &DaemonSet) -> Placement {
    let spec = ds
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref());
    placement(node, &daemon_pod_spec(spec))
}

impl Triggers {
    /// The DaemonSets an object's change concerns: its controller now and before, or, for an
    /// orphan that was not deleted, those selecting it.
    fn owners(
        context: &Context,
        last: &LastControllers,
        meta: &ObjectMeta,
        deleted: bool,
    ) -> Vec<ObjectRef<DaemonSet>> {
        let Some(namespace) = meta.namespace.as_deref() else {
            return Vec::new();
        };
        let mut found = Vec::new();
        if let Some((kind, name)) = last.update(meta, deleted) {
            if kind == KIND {
                found.push(ObjectRef::new(&name).within(namespace));
            }
        }
        match controller_of(meta) {
            Some(owner) if owner.kind == KIND => {
                found.push(ObjectRef::new(&owner.name).within(namespace));
            }
            Some(_) => {}
            None if deleted => {}
            None => {
                let labels = meta.labels.clone().unwrap_or_default();
                found.extend(
                    context
                        .daemon_sets
                        .state()
                        .iter()
                        .filter(|ds| ds.namespace().as_deref() == Some(namespace))
                        .filter(|ds| selects(ds, &labels))
                        .map(|ds| ObjectRef::from_obj(&**ds)),
                );
            }
        }
        found
    }

    /// A pod changed: its DaemonSet also settles the expectation on it.
    pub fn for_pod(&self, context: &Context, change: &Change<Pod>) -> Vec<ObjectRef<DaemonSet>> {
        let pod = change.object();
        let deleted = matches!(change, Change::Deleted(_));
        if let (Some(owner), Some(uid)) =
            (controller_of(&pod.metadata), pod.metadata.uid.as_deref())
        {
            if owner.kind == KIND {
                let gone = deleted || pod.metadata.deletion_timestamp.is_some();
                context.expectations.observe(&owner.uid, uid, gone);
            }
        }
        Self::owners(context, &self.pod_owners, &pod.metadata, deleted)
    }

    /// A revision changed.
    pub fn for_revision(
        &self,
        context: &Context,
        change: &Change<ControllerRevision>,
    ) -> Vec<ObjectRef<DaemonSet>> {
        let deleted = matches!(change, Change::Deleted(_));
        Self::owners(
            context,
            &self.revision_owners,
            &change.object().metadata,
            deleted,
        )
    }

    /// A node was added or changed: the DaemonSets whose placement on it differs from
    /// before (all that should run there for a new node). Deletions need nothing: the pod
    /// GC removes the pods, which wakes their DaemonSets.
    pub fn for_node(&self, context: &Context, change: &Change<Node>) -> Vec<ObjectRef<DaemonSet>> {
        let node = change.object();
        let name = node.name_any();
        let previous = {
            let mut nodes = self.nodes.lock().unwrap_or_else(PoisonError::into_inner);
            match change {
                Change::Deleted(_) => {
                    nodes.remove(&name);
                    return Vec::new();
                }
                Change::Applied(_) => nodes.insert(name, Arc::clone(node)),
            }
        };
        context
            .daemon_sets
            .state()
            .iter()
            .filter(|ds| {
                let now = placement_on(node, ds);
                match &previous {
                    None => now.should_run,
                    Some(before) => placement_on(before, ds) != now,
                }
            })
            .map(|ds| ObjectRef::from_obj(&**ds))
            .collect()
    }
}
