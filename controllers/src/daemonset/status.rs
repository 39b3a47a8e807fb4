//! A DaemonSet's status (upstream's `updateDaemonSetStatus` and `storeDaemonSetStatus`):
//! per node that should run a pod, whether one is scheduled, ready, available and of the
//! current revision; pods on nodes that should not run one are misscheduled.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::ResourceExt;

use super::eligibility::{daemon_pod_spec, placement};
use super::error::DaemonSetError;
use super::pods::{by_node, is_updated, sort_oldest_first, NodePods};
use super::view::View;
use super::{claim_pods, soonest, Context};
use crate::workloads::error::is_not_found;
use crate::workloads::podcontrol::pods::{is_available, is_ready};

/// The counts the status reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Nodes that should run a pod.
    pub desired: i32,
    /// Of those, nodes with a pod.
    pub current: i32,
    /// Nodes with a pod that should not run one.
    pub misscheduled: i32,
    /// Nodes whose oldest pod is ready.
    pub ready: i32,
    /// Nodes whose oldest pod is of the current revision.
    pub updated: i32,
    /// Nodes whose oldest pod is available.
    pub available: i32,
}

impl Counts {
    /// Nodes that should run a pod but have no available one.
    pub fn unavailable(&self) -> i32 {
        self.desired - self.available
    }
}

/// The counts for `nodes` and the DaemonSet's pods by node.
pub fn calculate(
    view: &View,
    nodes: &[Arc<Node>],
    node_pods: &NodePods,
    hash: &str,
    now: Timestamp,
) -> Counts {
    let spec = daemon_pod_spec(view.template.spec.as_ref());
    let mut counts = Counts::default();
    for node in nodes {
        let should_run = placement(node, &spec).should_run;
        let pods = node_pods
            .get(&node.name_any())
            .filter(|pods| !pods.is_empty());
        match (should_run, pods) {
            (true, None) => counts.desired += 1,
            (true, Some(pods)) => {
                counts.desired += 1;
                counts.current += 1;
                let mut pods = pods.clone();
                sort_oldest_first(&mut pods);
                let oldest = &pods[0];
                if is_ready(oldest) {
                    counts.ready += 1;
                    if is_available(oldest, view.min_ready_seconds, now) {
                        counts.available += 1;
                    }
                }
                if is_updated(oldest, hash, view.template_generation) {
                    counts.updated += 1;
                }
            }
            (false, Some(_)) => counts.misscheduled += 1,
            (false, None) => {}
        }
    }
    counts
}

/// `Some(n)` unless zero: the status fields upstream marks `omitempty`.
fn non_zero(value: i32) -> Option<i32> {
    (value != 0).then_some(value)
}

fn stored(status: &DaemonSetStatus) -> Counts {
    Counts {
        desired: status.desired_number_scheduled,
        current: status.current_number_scheduled,
        misscheduled: status.number_misscheduled,
        ready: status.number_ready,
        updated: status.updated_number_scheduled.unwrap_or(0),
        available: status.number_available.unwrap_or(0),
    }
}

fn with_counts(
    mut status: DaemonSetStatus,
    counts: &Counts,
    generation: Option<i64>,
) -> DaemonSetStatus {
    if let Some(generation) = generation {
        status.observed_generation = Some(generation);
    }
    status.desired_number_scheduled = counts.desired;
    status.current_number_scheduled = counts.current;
    status.number_misscheduled = counts.misscheduled;
    status.number_ready = counts.ready;
    status.updated_number_scheduled = non_zero(counts.updated);
    status.number_available = non_zero(counts.available);
    status.number_unavailable = non_zero(counts.unavailable());
    status
}

/// Upstream's `storeDaemonSetStatus`: a `PUT` of the status unless nothing changed,
/// retried once against a fresh read.
async fn store(
    context: &Context,
    ds: &DaemonSet,
    view: &View,
    counts: &Counts,
    observe_generation: bool,
) -> Result<(), DaemonSetError> {
    let unchanged = stored(&view.status) == *counts
        && view.status.number_unavailable.unwrap_or(0) == counts.unavailable()
        && view.status.observed_generation.unwrap_or(0) >= view.generation;
    if unchanged {
        return Ok(());
    }
    let generation = observe_generation.then_some(view.generation);
    tracing::debug!(namespace = %view.namespace, daemonset = %view.name, ?counts, "updating status");
    let api: Api<DaemonSet> = Api::namespaced(context.client.clone(), &view.namespace);
    let mut object = ds.clone();
    object.status = Some(with_counts(view.status.clone(), counts, generation));
    let params = PostParams::default();
    match api.replace_status(&view.name, &params, &object).await {
        Ok(_) => return Ok(()),
        Err(error) if is_not_found(&error) => return Ok(()),
        Err(error) => {
            tracing::debug!(daemonset = %view.name, %error, "status update failed; retrying once")
        }
    }
    let mut fresh = api.get(&view.name).await?;
    let status = fresh.status.take().unwrap_or_default();
    fresh.status = Some(with_counts(status, counts, generation));
    api.replace_status(&view.name, &params, &fresh).await?;
    Ok(())
}

/// Upstream's `updateDaemonSetStatus`; asks for a resync after `minReadySeconds` while
/// ready pods are not yet available.
pub async fn update(
    context: &Context,
    ds: &DaemonSet,
    view: &View,
    nodes: &[Arc<Node>],
    hash: &str,
    observe_generation: bool,
    requeue: &mut Option<Duration>,
) -> Result<(), DaemonSetError> {
    let claimed = claim_pods(context, view).await?;
    let node_pods = by_node(&claimed, false);
    let counts = calculate(view, nodes, &node_pods, hash, Timestamp::now());
    store(context, ds, view, &counts, observe_generation).await?;
    if view.min_ready_seconds > 0 && counts.ready != counts.available {
        let seconds = u64::try_from(view.min_ready_seconds).unwrap_or(0);
        soonest(requeue, Duration::from_secs(seconds));
    }
    Ok(())
}
