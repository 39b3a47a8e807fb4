//! The DaemonSet controller (upstream's `pkg/controller/daemon`): one pod on every node the
//! pod template fits (node selector, required node affinity, taints and tolerations), each
//! pinned to its node by a required `metadata.name` affinity for the scheduler to honour;
//! templates recorded as ControllerRevisions; pods replaced by rolling update (within
//! `maxUnavailable` or `maxSurge`) or on deletion; and the counts `kubectl get ds` and
//! `kubectl rollout status` read.

mod affinity;
mod backoff;
mod claim;
mod control;
mod eligibility;
mod error;
mod manage;
mod pods;
mod revisions;
mod rolling;
mod status;
mod sync;
mod tolerations;
mod triggers;
mod view;

use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};

use crate::workloads::backoff::Backoff;
use crate::workloads::error::SyncError;
use crate::workloads::events::Events;
use crate::workloads::podcontrol::expectations::Expectations;
use crate::{Informers, Ready, Shared};
use error::DaemonSetError;
use triggers::Triggers;
use view::View;

/// The event source upstream reports.
const COMPONENT: &str = "daemonset-controller";

/// What the loop shares between syncs.
pub struct Context {
    client: Client,
    events: Events,
    daemon_sets: Store<DaemonSet>,
    pods: Store<Pod>,
    nodes: Store<Node>,
    revisions: Store<ControllerRevision>,
    caches: Vec<Ready>,
    expectations: Expectations,
    failed_pods: backoff::FailedPods,
    backoff: Backoff,
    triggers: Triggers,
}

/// Keeps the shorter of two requeue delays.
fn soonest(requeue: &mut Option<Duration>, delay: Duration) {
    *requeue = Some(requeue.map_or(delay, |current| current.min(delay)));
}

/// The pods of the DaemonSet's namespace it owns, after adopting and releasing (upstream's
/// `getDaemonPods`, from the cache).
async fn claim_pods(context: &Context, view: &View) -> Result<Vec<Arc<Pod>>, SyncError> {
    let candidates = context
        .pods
        .state()
        .into_iter()
        .filter(|pod| pod.metadata.namespace.as_deref() == Some(view.namespace.as_str()))
        .collect();
    claim::claim(&context.client, view, candidates).await
}

/// The loop, subscribed to DaemonSets, pods, nodes and ControllerRevisions.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let daemon_sets = informers.subscribe::<DaemonSet>();
    let pods = informers.subscribe::<Pod>();
    let nodes = informers.subscribe::<Node>();
    let revisions = informers.subscribe::<ControllerRevision>();
    let context = Arc::new(Context {
        client: shared.client.clone(),
        events: Events::new(&shared, COMPONENT),
        daemon_sets: daemon_sets.store.clone(),
        pods: pods.store.clone(),
        nodes: nodes.store.clone(),
        revisions: revisions.store.clone(),
        caches: vec![
            daemon_sets.ready.clone(),
            pods.ready.clone(),
            nodes.ready.clone(),
            revisions.ready.clone(),
        ],
        expectations: Expectations::default(),
        failed_pods: backoff::FailedPods::default(),
        backoff: Backoff::default(),
        triggers: Triggers::default(),
    });
    let by_pod = {
        let context = Arc::clone(&context);
        move |change: &crate::Change<Pod>| context.triggers.for_pod(&context, change)
    };
    let by_node = {
        let context = Arc::clone(&context);
        move |change: &crate::Change<Node>| context.triggers.for_node(&context, change)
    };
    let by_revision = {
        let context = Arc::clone(&context);
        move |change: &crate::Change<ControllerRevision>| {
            context.triggers.for_revision(&context, change)
        }
    };
    let store = daemon_sets.store.clone();
    Controller::for_shared_stream(daemon_sets.applied(), store)
        .reconcile_on(pods.map_to(by_pod))
        .reconcile_on(nodes.map_to(by_node))
        .reconcile_on(revisions.map_to(by_revision))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

fn error_policy(ds: Arc<DaemonSet>, error: &DaemonSetError, context: Arc<Context>) -> Action {
    let key = ds.uid().unwrap_or_default();
    let delay = context.backoff.failed(&key);
    tracing::info!(namespace = ?ds.namespace(), daemonset = %ds.name_any(), %error, ?delay, "sync failed");
    Action::requeue(delay)
}

async fn reconcile(ds: Arc<DaemonSet>, context: Arc<Context>) -> Result<Action, DaemonSetError> {
    // Never judge from caches that have not listed everything yet.
    for cache in &context.caches {
        if !cache.wait().await {
            return Ok(Action::await_change());
        }
    }
    tracing::debug!(namespace = ?ds.namespace(), daemonset = %ds.name_any(), "syncing");
    let requeue = sync::sync(&context, &ds).await?;
    context.backoff.succeeded(&ds.uid().unwrap_or_default());
    Ok(match requeue {
        Some(delay) => Action::requeue(delay),
        None => Action::await_change(),
    })
}
