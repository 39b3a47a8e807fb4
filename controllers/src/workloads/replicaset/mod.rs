//! The ReplicaSet and ReplicationController controllers (upstream's `replicaset` package,
//! which serves both): keep `spec.replicas` pods from the template, adopt matching orphans,
//! release pods that stopped matching, and report counts in the status.

mod kind;
mod manage;
mod status;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};

use super::backoff::Backoff;
use super::error::{is_conflict, is_not_found, SyncError};
use super::events::Events;
use super::podcontrol::expectations::{Expectations, Seen};
use super::podcontrol::owners::LastControllers;
use super::podcontrol::pods::{self, available_at, controller_of, is_active, is_terminating};
use crate::{Change, Informers, Ready, Shared};

pub use kind::ReplicaKind;
use kind::View;
use status::Outcome;

/// What one loop (for one kind) shares between syncs.
pub struct Context<K: ReplicaKind> {
    client: Client,
    events: Events,
    owners: Store<K>,
    pods: Store<Pod>,
    pods_ready: Ready,
    expectations: Expectations,
    last: LastControllers,
    backoff: Backoff,
}

impl<K: ReplicaKind> Context<K> {
    /// The objects of kind `K` a pod change concerns: its controller (now and before), or,
    /// for an orphan, every one whose selector matches it (it may be adopted).
    fn owners_of(&self, change: &Change<Pod>) -> Vec<ObjectRef<K>> {
        let pod = change.object();
        let Some(namespace) = pod.namespace() else {
            return Vec::new();
        };
        let deleted = matches!(change, Change::Deleted(_));
        let gone = deleted || pod.metadata.deletion_timestamp.is_some();
        let mut found = Vec::new();
        if let Some((kind, name)) = self.last.update(&pod.metadata, deleted) {
            if kind == K::KIND {
                found.push(ObjectRef::new(&name).within(&namespace));
            }
        }
        match controller_of(&pod.metadata) {
            Some(owner) if owner.kind == K::KIND => {
                if let Some(uid) = pod.metadata.uid.as_deref() {
                    self.expectations.observe(&owner.uid, uid, gone);
                }
                found.push(ObjectRef::new(&owner.name).within(&namespace));
            }
            Some(_) => {}
            None if deleted => {}
            None => {
                let labels = pod.metadata.labels.clone().unwrap_or_default();
                found.extend(
                    self.owners
                        .state()
                        .iter()
                        .filter(|owner| owner.namespace().as_deref() == Some(namespace.as_str()))
                        .filter(|owner| owner.selects(&labels))
                        .map(|owner| ObjectRef::from_obj(&**owner)),
                );
            }
        }
        found
    }
}

/// The loop for kind `K`, subscribed to its objects and to pods.
pub fn build<K: ReplicaKind>(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let owners = informers.subscribe::<K>();
    let pods = informers.subscribe::<Pod>();
    let context = Arc::new(Context {
        client: shared.client.clone(),
        events: Events::new(&shared, K::COMPONENT),
        owners: owners.store.clone(),
        pods: pods.store.clone(),
        pods_ready: pods.ready.clone(),
        expectations: Expectations::default(),
        last: LastControllers::default(),
        backoff: Backoff::default(),
    });
    let mapper = {
        let context = Arc::clone(&context);
        move |change: &Change<Pod>| context.owners_of(change)
    };
    let store = owners.store.clone();
    Controller::for_shared_stream(owners.applied(), store)
        .reconcile_on(pods.map_to(mapper))
        .run(reconcile::<K>, error_policy::<K>, context)
        .for_each(|_| ready(()))
        .boxed()
}

fn error_policy<K: ReplicaKind>(
    object: Arc<K>,
    error: &SyncError,
    context: Arc<Context<K>>,
) -> Action {
    let key = object.uid().unwrap_or_default();
    let delay = context.backoff.failed(&key);
    tracing::debug!(kind = K::KIND, name = %object.name_any(), %error, ?delay, "sync failed");
    Action::requeue(delay)
}

/// Upstream's `syncReplicaSet`.
async fn reconcile<K: ReplicaKind>(
    object: Arc<K>,
    context: Arc<Context<K>>,
) -> Result<Action, SyncError> {
    // Never judge pods from a cache that has not listed them yet.
    if !context.pods_ready.wait().await {
        return Ok(Action::await_change());
    }
    let view = object.view()?;
    let namespace_pods: Vec<Arc<Pod>> = context
        .pods
        .state()
        .into_iter()
        .filter(|pod| pod.metadata.namespace.as_deref() == Some(view.namespace.as_str()))
        .collect();
    let needs_sync = {
        let by_uid: HashMap<&str, &Pod> = namespace_pods
            .iter()
            .filter_map(|pod| Some((pod.metadata.uid.as_deref()?, &**pod)))
            .collect();
        context
            .expectations
            .satisfied(&view.uid, |uid| match by_uid.get(uid) {
                None => Seen::Absent,
                Some(pod) if pod.metadata.deletion_timestamp.is_some() => Seen::Deleting,
                Some(_) => Seen::Present,
            })
    };
    let active: Vec<Arc<Pod>> = namespace_pods
        .iter()
        .filter(|pod| is_active(pod))
        .cloned()
        .collect();
    let claimed = manage::claim_pods(&context, &view, active).await?;
    let terminating = K::REPORTS_TERMINATING.then(|| {
        namespace_pods
            .iter()
            .filter(|pod| is_terminating(pod))
            .filter(|pod| pods::is_controlled_by(&pod.metadata, &view.uid))
            .filter(|pod| view.selector.matches_opt(pod.metadata.labels.as_ref()))
            .count()
    });
    let managed = if needs_sync && !view.deleting {
        manage::manage_replicas(&context, &object, &view, &claimed).await
    } else {
        Ok(())
    };
    let message = managed.as_ref().err().map(|error| match error {
        SyncError::Api(error) => super::error::api_message(error),
        other => other.to_string(),
    });
    let outcome = Outcome {
        error: message.as_deref(),
        creating: claimed.len() < usize::try_from(view.replicas).unwrap_or(0),
    };
    let now = k8s_openapi::jiff::Timestamp::now();
    let template_labels = view
        .template
        .metadata
        .as_ref()
        .and_then(|meta| meta.labels.clone())
        .unwrap_or_default();
    let new_status = status::calculate(
        &view.status,
        &template_labels,
        view.min_ready_seconds,
        &claimed,
        terminating,
        &outcome,
        now,
    );
    write_status(&context, &object, &view, new_status).await?;
    managed?;
    context.backoff.succeeded(&view.uid);
    // Come back when a ready pod turns available (upstream adds a second against skew).
    let next_available = claimed
        .iter()
        .filter_map(|pod| available_at(pod, view.min_ready_seconds))
        .filter(|at| *at >= now)
        .min();
    Ok(match next_available {
        Some(at) => {
            let wait = Duration::try_from(at.duration_since(now)).unwrap_or_default();
            Action::requeue(wait + Duration::from_secs(1))
        }
        None => Action::await_change(),
    })
}

/// Upstream's `updateReplicaSetStatus`: a `PUT` of `status` unless nothing changed, retried
/// once on a conflict against a fresh read.
async fn write_status<K: ReplicaKind>(
    context: &Context<K>,
    object: &K,
    view: &View,
    mut status: k8s_openapi::api::apps::v1::ReplicaSetStatus,
) -> Result<(), SyncError> {
    if status::unchanged(&view.status, &status, view.generation) {
        return Ok(());
    }
    status.observed_generation = (view.generation != 0).then_some(view.generation);
    tracing::debug!(
        kind = K::KIND,
        namespace = %view.namespace,
        name = %view.name,
        replicas = status.replicas,
        ready = status.ready_replicas.unwrap_or(0),
        available = status.available_replicas.unwrap_or(0),
        "updating status"
    );
    let api: Api<K> = Api::namespaced(context.client.clone(), &view.namespace);
    let params = PostParams::default();
    match api
        .replace_status(&view.name, &params, &object.with_status(&status))
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if is_not_found(&error) => Ok(()),
        Err(error) if is_conflict(&error) => {
            let fresh = api.get(&view.name).await?;
            api.replace_status(&view.name, &params, &fresh.with_status(&status))
                .await?;
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}
