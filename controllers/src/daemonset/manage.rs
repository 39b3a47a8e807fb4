//! One pod per eligible node (upstream's `manage` and `podsShouldBeOnNode`): create where a
//! pod should run and none does, delete where none may run, replace failed and succeeded
//! pods (failed ones with backoff), prune extra pods, and delete unscheduled pods meant
//! for nodes that no longer exist.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use kube::ResourceExt;

use super::control::{sync_nodes, view_reference};
use super::eligibility::{daemon_pod_spec, placement};
use super::error::DaemonSetError;
use super::pods::{by_node, sort_oldest_first, NodePods};
use super::view::View;
use super::{claim_pods, soonest, Context};
use crate::history::POD_REVISION_LABEL;
use crate::workloads::podcontrol::pods::{is_available, is_ready, node_name, phase};

/// What one node needs.
#[derive(Default)]
struct NodeWork {
    create: bool,
    delete: Vec<Arc<Pod>>,
}

fn backoff_key(view: &View, node: &str) -> String {
    format!(
        "{}/{}/{}",
        view.uid,
        view.status.observed_generation.unwrap_or(0),
        node
    )
}

fn has_hash(pod: &Pod, hash: &str) -> bool {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(POD_REVISION_LABEL))
        .is_some_and(|label| label == hash)
}

/// Upstream's `podsShouldBeOnNode`, `spec` being the daemon pod's spec.
fn pods_should_be_on_node(
    context: &Context,
    view: &View,
    spec: &PodSpec,
    node: &Node,
    node_pods: &NodePods,
    hash: &str,
    requeue: &mut Option<Duration>,
) -> NodeWork {
    let placed = placement(node, spec);
    let name = node.name_any();
    let pods = node_pods.get(&name);
    let mut work = NodeWork::default();
    if placed.should_run && pods.is_none() {
        work.create = true;
        return work;
    }
    let pods = pods.map(Vec::as_slice).unwrap_or(&[]);
    if !placed.should_continue_running {
        work.delete.extend(
            pods.iter()
                .filter(|pod| pod.metadata.deletion_timestamp.is_none())
                .cloned(),
        );
        return work;
    }
    let mut running = Vec::new();
    for pod in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let pod_name = pod.name_any();
        match phase(pod) {
            "Failed" => {
                let key = backoff_key(view, &name);
                let now = Instant::now();
                if let Some(delay) = context.failed_pods.waiting(&key, now) {
                    tracing::debug!(pod = %pod_name, node = %name, ?delay, "deleting failed daemon pod is backing off");
                    soonest(requeue, delay);
                    continue;
                }
                context.failed_pods.next(&key, now);
                let message = format!(
                    "Found failed daemon pod {}/{pod_name} on node {name}, will try to kill it",
                    view.namespace
                );
                tracing::info!(pod = %pod_name, node = %name, "found failed daemon pod");
                context
                    .events
                    .warning(view_reference(view), "FailedDaemonPod", "Delete", message);
                work.delete.push(Arc::clone(pod));
            }
            "Succeeded" => {
                let message = format!(
                    "Found succeeded daemon pod {}/{pod_name} on node {name}, will try to delete it",
                    view.namespace
                );
                context.events.normal(
                    view_reference(view),
                    "SucceededDaemonPod",
                    "Delete",
                    message,
                );
                work.delete.push(Arc::clone(pod));
            }
            _ => running.push(Arc::clone(pod)),
        }
    }
    sort_oldest_first(&mut running);
    if !view.allows_surge() {
        // Keep only the oldest; the others go.
        work.delete.extend(running.iter().skip(1).cloned());
        return work;
    }
    if running.len() <= 1 {
        // Surging: a node must keep one pod that is not being deleted.
        work.create = running.is_empty() && placed.should_run;
        return work;
    }
    // Surging allows an old and a new pod side by side while the new one is not yet
    // available and the old one still ready; anything else goes.
    let mut oldest_new: Option<&Arc<Pod>> = None;
    let mut oldest_old: Option<&Arc<Pod>> = None;
    for pod in &running {
        let slot = if has_hash(pod, hash) {
            &mut oldest_new
        } else {
            &mut oldest_old
        };
        if slot.is_none() {
            *slot = Some(pod);
        } else {
            work.delete.push(Arc::clone(pod));
        }
    }
    if let (Some(new), Some(old)) = (oldest_new, oldest_old) {
        let now = k8s_openapi::jiff::Timestamp::now();
        if !is_ready(old) || is_available(new, view.min_ready_seconds, now) {
            work.delete.push(Arc::clone(old));
        }
    }
    work
}

/// Upstream's `getUnscheduledPodsWithoutNode`: unscheduled pods meant for nodes that do
/// not exist (no pod GC will ever remove them).
fn unscheduled_without_node(nodes: &[Arc<Node>], node_pods: &NodePods) -> Vec<Arc<Pod>> {
    let existing: HashSet<String> = nodes.iter().map(|node| node.name_any()).collect();
    node_pods
        .iter()
        .filter(|(node, _)| !existing.contains(*node))
        .flat_map(|(_, pods)| pods.iter())
        .filter(|pod| node_name(pod).is_empty())
        .cloned()
        .collect()
}

/// Upstream's `manage`.
pub async fn manage(
    context: &Context,
    view: &View,
    nodes: &[Arc<Node>],
    hash: &str,
    requeue: &mut Option<Duration>,
) -> Result<(), DaemonSetError> {
    let claimed = claim_pods(context, view).await?;
    let node_pods = by_node(&claimed, false);
    let mut create = Vec::new();
    let mut delete = Vec::new();
    let spec = daemon_pod_spec(view.template.spec.as_ref());
    for node in nodes {
        let work = pods_should_be_on_node(context, view, &spec, node, &node_pods, hash, requeue);
        if work.create {
            create.push(node.name_any());
        }
        delete.extend(work.delete);
    }
    delete.extend(unscheduled_without_node(nodes, &node_pods));
    sync_nodes(context, view, delete, create, hash).await
}
