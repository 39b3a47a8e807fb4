//! The StatefulSet controller (upstream's `statefulset` package): pods with stable names
//! `<set>-<ordinal>`, hostnames and claims, created and deleted in ordinal order (or all at
//! once), rolled to new revisions from the highest ordinal down to the partition, with
//! ControllerRevisions for `kubectl rollout history|undo` and the status kubectl reads.

mod adopt;
mod claims;
mod control;
mod error;
mod identity;
mod pods;
mod retention;
mod revisions;
mod set;
mod status;

use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};

use crate::workloads::backoff::Backoff;
use crate::workloads::events::Events;
use crate::workloads::podcontrol::owners::LastControllers;
use crate::workloads::podcontrol::pods::controller_of;
use crate::{Change, Informers, Ready, Shared};
use error::SetError;
use set::SetView;

/// The event source upstream reports.
const COMPONENT: &str = "statefulset-controller";

/// What the loop shares between syncs.
pub struct Context {
    client: Client,
    events: Events,
    sets: Store<StatefulSet>,
    pods: Store<Pod>,
    claims: Store<PersistentVolumeClaim>,
    revisions: Store<ControllerRevision>,
    filled: Vec<Ready>,
    last: LastControllers,
    backoff: Backoff,
}

impl Context {
    /// The sets a pod change concerns: its controller (now and before), or, for an orphan,
    /// every set whose selector matches it (it may be adopted).
    fn sets_of_pod(&self, change: &Change<Pod>) -> Vec<ObjectRef<StatefulSet>> {
        let pod = change.object();
        let Some(namespace) = pod.namespace() else {
            return Vec::new();
        };
        let deleted = matches!(change, Change::Deleted(_));
        let mut found = Vec::new();
        if let Some((kind, name)) = self.last.update(&pod.metadata, deleted) {
            if kind == set::KIND {
                found.push(ObjectRef::new(&name).within(&namespace));
            }
        }
        match controller_of(&pod.metadata) {
            Some(owner) if owner.kind == set::KIND => {
                found.push(ObjectRef::new(&owner.name).within(&namespace));
            }
            Some(_) => {}
            None if deleted => {}
            None => found.extend(
                self.sets
                    .state()
                    .iter()
                    .filter(|set| set.namespace().as_deref() == Some(namespace.as_str()))
                    .filter(|set| {
                        set.spec.as_ref().is_some_and(|spec| {
                            crate::workloads::podcontrol::selector::Selector::parse(&spec.selector)
                                .is_ok_and(|selector| {
                                    !selector.is_everything()
                                        && selector.matches_opt(pod.metadata.labels.as_ref())
                                })
                        })
                    })
                    .map(|set| ObjectRef::from_obj(&**set)),
            ),
        }
        found
    }
}

/// The set a deleted claim belonged to (through its owner references), so that a pod
/// waiting for a stale claim to be collected is created once it is.
fn set_of_deleted_claim(change: &Change<PersistentVolumeClaim>) -> Vec<ObjectRef<StatefulSet>> {
    let Change::Deleted(claim) = change else {
        return Vec::new();
    };
    let Some(namespace) = claim.namespace() else {
        return Vec::new();
    };
    claim
        .owner_references()
        .iter()
        .filter_map(|owner| match owner.kind.as_str() {
            "StatefulSet" => Some(owner.name.clone()),
            "Pod" => identity::parent_and_ordinal(&owner.name).map(|(parent, _)| parent.to_owned()),
            _ => None,
        })
        .map(|name| ObjectRef::new(&name).within(&namespace))
        .collect()
}

/// The loop, subscribed to StatefulSets, pods and claims, reading revisions from the cache.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let sets = informers.subscribe::<StatefulSet>();
    let pods = informers.subscribe::<Pod>();
    let claims = informers.subscribe::<PersistentVolumeClaim>();
    let revisions_ready = informers.ready::<ControllerRevision>();
    let context = Arc::new(Context {
        client: shared.client.clone(),
        events: Events::new(&shared, COMPONENT),
        sets: sets.store.clone(),
        pods: pods.store.clone(),
        claims: claims.store.clone(),
        revisions: informers.store::<ControllerRevision>(),
        filled: vec![
            pods.ready.clone(),
            claims.ready.clone(),
            revisions_ready,
            sets.ready.clone(),
        ],
        last: LastControllers::default(),
        backoff: Backoff::default(),
    });
    let mapper = {
        let context = Arc::clone(&context);
        move |change: &Change<Pod>| context.sets_of_pod(change)
    };
    let store = sets.store.clone();
    Controller::for_shared_stream(sets.applied(), store)
        .reconcile_on(pods.map_to(mapper))
        .reconcile_on(claims.map_to(set_of_deleted_claim))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

fn error_policy(set: Arc<StatefulSet>, error: &SetError, context: Arc<Context>) -> Action {
    let key = set.uid().unwrap_or_default();
    let delay = context.backoff.failed(&key);
    tracing::debug!(namespace = ?set.namespace(), name = %set.name_any(), %error, ?delay, "StatefulSet sync failed");
    Action::requeue(delay)
}

/// Upstream's `sync` and `UpdateStatefulSet`.
async fn reconcile(object: Arc<StatefulSet>, ctx: Arc<Context>) -> Result<Action, SetError> {
    // Never judge pods, claims or revisions from a cache that has not listed them yet.
    for filled in &ctx.filled {
        if !filled.wait().await {
            return Ok(Action::await_change());
        }
    }
    let set = match SetView::new(&object) {
        Ok(set) => set,
        // Not transient: wait for the set to change.
        Err(SetError::Selector(error)) => {
            tracing::warn!(name = %object.name_any(), %error, "StatefulSet selector is invalid");
            return Ok(Action::await_change());
        }
        Err(error) => return Err(error),
    };
    let regarding = object.object_ref(&());
    let mut revisions = revisions::list(&ctx, &set);
    revisions::adopt_orphans(&ctx, &set, &mut revisions).await?;
    let pods = adopt::claim_pods(&ctx, &set).await?;
    tracing::debug!(namespace = %set.namespace, name = %set.name, pods = pods.len(), "syncing StatefulSet");

    let chosen = revisions::current_and_update(&ctx, &set, &revisions).await;
    let (outcome, chosen) = match chosen {
        Ok(chosen) => {
            let outcome =
                control::update_stateful_set(&ctx, &set, &regarding, &chosen, &pods).await;
            (outcome, Some(chosen))
        }
        Err(error) => (Err(error), None),
    };
    let result = match outcome {
        Ok(mut outcome) => {
            status::complete_rolling_update(&set, &mut outcome.status);
            let written = if status::inconsistent(&set.status, &outcome.status) {
                status::write(&ctx, &object, &set, &outcome.status).await
            } else {
                Ok(())
            };
            outcome.result.and(written).map(|()| outcome.status)
        }
        Err(error) => Err(error),
    };
    let live: Vec<&ControllerRevision> = chosen
        .iter()
        .flat_map(|chosen| [&chosen.current, &chosen.update])
        .collect();
    let truncated = revisions::truncate(&ctx, &set, &pods, &revisions, &live).await;
    let status = result?;
    truncated?;
    ctx.backoff.succeeded(&set.uid);
    // Come back when ready pods may have turned available.
    if set.min_ready_seconds > 0 && status.available_replicas.unwrap_or(0) != set.replicas {
        let wait = Duration::from_secs(u64::try_from(set.min_ready_seconds).unwrap_or(0));
        return Ok(Action::requeue(wait));
    }
    Ok(Action::await_change())
}
