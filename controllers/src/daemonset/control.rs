//! Creating and deleting daemon pods (upstream's `syncNodes`): at most 250 of each per
//! sync, creations in slow-start batches, each pod from the template with the daemon
//! tolerations, the revision hash label and a required affinity for its node; expectations
//! are recorded so that the next sync waits for the cache to see them.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::api::Api;
use kube::ResourceExt;

use super::affinity::bind_to_node;
use super::error::{aggregate, DaemonSetError};
use super::tolerations::add_daemon_tolerations;
use super::view::{View, TEMPLATE_GENERATION_LABEL};
use super::Context;
use crate::history::POD_REVISION_LABEL;
use crate::workloads::error::SyncError;
use crate::workloads::podcontrol::control::{create_pod, delete_pod, Owner};
use crate::workloads::podcontrol::{pod_from_template, slow_start, SLOW_START_INITIAL_BATCH};

/// Upstream's `BurstReplicas` for DaemonSets: the most pods one sync creates or deletes.
pub const BURST_REPLICAS: usize = 250;

/// Upstream's `CreatePodTemplate`: the template with the daemon tolerations and the
/// revision (and deprecated generation) labels.
pub fn pod_template(view: &View, hash: &str) -> PodTemplateSpec {
    let mut template = view.template.clone();
    add_daemon_tolerations(template.spec.get_or_insert_with(Default::default));
    let labels = template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default);
    if let Some(generation) = view.template_generation {
        labels.insert(TEMPLATE_GENERATION_LABEL.to_owned(), generation.to_string());
    }
    if !hash.is_empty() {
        labels.insert(POD_REVISION_LABEL.to_owned(), hash.to_owned());
    }
    template
}

/// The pod for `node`: the template bound to the node by required affinity.
fn pod_for_node(view: &View, template: &PodTemplateSpec, node: &str) -> Pod {
    let mut pod = pod_from_template(template, &view.name, &view.controller_ref);
    if let Some(spec) = pod.spec.as_mut() {
        spec.affinity = Some(bind_to_node(spec.affinity.take(), node));
    }
    pod
}

async fn create_on(
    context: &Context,
    view: &View,
    api: &Api<Pod>,
    pod: Pod,
) -> Result<(), kube::Error> {
    let owner = Owner {
        uid: &view.uid,
        reference: view_reference(view),
        expectations: &context.expectations,
        events: &context.events,
    };
    create_pod(api, &pod, owner).await
}

async fn delete_one(
    context: &Context,
    view: &View,
    api: &Api<Pod>,
    pod: &Pod,
) -> Result<(), kube::Error> {
    let owner = Owner {
        uid: &view.uid,
        reference: view_reference(view),
        expectations: &context.expectations,
        events: &context.events,
    };
    delete_pod(api, pod, owner).await
}

/// The object reference events about the DaemonSet carry.
pub fn view_reference(view: &View) -> k8s_openapi::api::core::v1::ObjectReference {
    k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some(view.controller_ref.api_version.clone()),
        kind: Some(view.controller_ref.kind.clone()),
        name: Some(view.name.clone()),
        namespace: Some(view.namespace.clone()),
        uid: Some(view.uid.clone()),
        ..Default::default()
    }
}

/// Upstream's `syncNodes`: deletes `doomed` and creates a pod on each of `nodes`.
pub async fn sync_nodes(
    context: &Context,
    view: &View,
    mut doomed: Vec<Arc<Pod>>,
    mut nodes: Vec<String>,
    hash: &str,
) -> Result<(), DaemonSetError> {
    nodes.truncate(BURST_REPLICAS);
    doomed.truncate(BURST_REPLICAS);
    if nodes.is_empty() && doomed.is_empty() {
        return Ok(());
    }
    let live: HashSet<String> = context
        .daemon_sets
        .state()
        .iter()
        .filter_map(|ds| ds.metadata.uid.clone())
        .collect();
    context.expectations.retain(|uid| live.contains(uid));
    context.expectations.start(&view.uid);
    context.expectations.deleting(
        &view.uid,
        doomed.iter().filter_map(|pod| pod.metadata.uid.as_deref()),
    );
    let api: Api<Pod> = Api::namespaced(context.client.clone(), &view.namespace);
    let mut errors = Vec::new();
    if !nodes.is_empty() {
        tracing::info!(namespace = %view.namespace, daemonset = %view.name, count = nodes.len(), "creating daemon pods");
        tracing::debug!(daemonset = %view.name, nodes = ?nodes, "nodes needing daemon pods");
        let template = pod_template(view, hash);
        let next = AtomicUsize::new(0);
        let (_, failure) = slow_start(nodes.len(), SLOW_START_INITIAL_BATCH, || {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let node = nodes.get(index).cloned().unwrap_or_default();
            let pod = pod_for_node(view, &template, &node);
            let api = &api;
            async move { create_on(context, view, api, pod).await }
        })
        .await;
        errors.extend(failure.map(SyncError::Api));
    }
    if !doomed.is_empty() {
        tracing::info!(namespace = %view.namespace, daemonset = %view.name, count = doomed.len(), "deleting daemon pods");
        tracing::debug!(daemonset = %view.name,
            pods = ?doomed.iter().map(|p| p.name_any()).collect::<Vec<_>>(), "daemon pods to delete");
        let results = futures::future::join_all(
            doomed
                .iter()
                .map(|pod| delete_one(context, view, &api, pod)),
        )
        .await;
        errors.extend(
            results
                .into_iter()
                .filter_map(Result::err)
                .map(SyncError::Api),
        );
    }
    match aggregate(errors) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
