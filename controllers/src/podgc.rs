//! Pod garbage collection, as upstream's podgc controller: terminated pods beyond the
//! threshold (oldest first), pods bound to nodes that no longer exist (marked Failed, then
//! deleted at once), and unscheduled pods that are terminating (deleted at once).

use std::collections::HashSet;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::reflector::Store;
use kube::ResourceExt;
use serde_json::json;

use crate::{ControllerError, Informers, Shared};

/// Upstream's `--terminated-pod-gc-threshold`.
pub const TERMINATED_POD_THRESHOLD: usize = 12_500;
/// Upstream's `gcCheckPeriod`.
pub const PERIOD: Duration = Duration::from_secs(20);

struct Context {
    shared: Shared,
    pods: Store<Pod>,
    nodes: Store<Node>,
    threshold: usize,
}

/// The loop: one pass every `period` (upstream: 20 seconds).
pub fn build(
    informers: &mut Informers,
    shared: Shared,
    period: Duration,
) -> BoxFuture<'static, ()> {
    let context = Context {
        shared,
        pods: informers.store::<Pod>(),
        nodes: informers.store::<Node>(),
        threshold: TERMINATED_POD_THRESHOLD,
    };
    async move {
        // Let the caches fill before judging anything orphaned.
        tokio::time::sleep(period).await;
        loop {
            if let Err(error) = pass(&context).await {
                tracing::debug!(%error, "pod gc pass failed");
            }
            tokio::time::sleep(period).await;
        }
    }
    .boxed()
}

fn terminal(pod: &Pod) -> bool {
    matches!(
        pod.status
            .as_ref()
            .and_then(|status| status.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

async fn pass(context: &Context) -> Result<(), ControllerError> {
    let pods = context.pods.state();
    let nodes: HashSet<String> = context
        .nodes
        .state()
        .iter()
        .map(|node| node.name_any())
        .collect();
    // Terminated pods over the threshold, oldest first.
    let mut terminated: Vec<_> = pods.iter().filter(|pod| terminal(pod)).collect();
    if terminated.len() > context.threshold {
        terminated.sort_by_key(|pod| pod.metadata.creation_timestamp.clone().map(|time| time.0));
        let excess = terminated.len() - context.threshold;
        for pod in terminated.into_iter().take(excess) {
            delete(context, pod, None).await?;
        }
    }
    for pod in &pods {
        let node = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        match node {
            Some(node) if !node.is_empty() && !nodes.contains(&node) => {
                mark_failed(context, pod).await?;
                delete(context, pod, Some(0)).await?;
            }
            None if pod.metadata.deletion_timestamp.is_some() => {
                delete(context, pod, Some(0)).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Records why an orphaned pod goes, as upstream does before deleting it.
async fn mark_failed(context: &Context, pod: &Pod) -> Result<(), ControllerError> {
    if terminal(pod) {
        return Ok(());
    }
    let namespace = pod
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let api: Api<Pod> = Api::namespaced(context.shared.client.clone(), &namespace);
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let patch = json!({"status": {"phase": "Failed", "conditions": [{
        "type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
        "message": "PodGC: node no longer exists", "lastTransitionTime": now,
    }]}});
    match api
        .patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

async fn delete(context: &Context, pod: &Pod, grace: Option<u32>) -> Result<(), ControllerError> {
    let namespace = pod
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let api: Api<Pod> = Api::namespaced(context.shared.client.clone(), &namespace);
    let params = DeleteParams {
        grace_period_seconds: grace,
        ..DeleteParams::default()
    };
    tracing::info!(pod = %pod.name_any(), %namespace, "garbage collecting pod");
    match api.delete(&pod.name_any(), &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}
