//! The pod status the scheduler writes: `PodScheduled=False` with the reason and message of
//! the last failed attempt, and `status.nominatedNodeName` after preemption.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::Client;
use serde_json::json;

/// Upstream's `v1.PodReasonUnschedulable`.
pub const REASON_UNSCHEDULABLE: &str = "Unschedulable";
/// Upstream's `v1.PodReasonSchedulerError`.
pub const REASON_SCHEDULER_ERROR: &str = "SchedulerError";

/// Writes the failed condition (and nomination: `Some("")` clears it) unless the pod
/// already shows exactly that, as upstream's `updatePod` skips no-op writes.
pub async fn record_failure(
    client: &Client,
    pod: &Pod,
    reason: &str,
    message: &str,
    nominated: Option<&str>,
) -> Result<(), kube::Error> {
    let status = pod.status.as_ref();
    let current = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
    let current_nominated = status
        .and_then(|s| s.nominated_node_name.as_deref())
        .unwrap_or("");
    let same_condition = current.is_some_and(|c| {
        c.status == "False"
            && c.reason.as_deref() == Some(reason)
            && c.message.as_deref() == Some(message)
    });
    let nomination_unchanged = nominated.is_none_or(|n| n == current_nominated);
    if same_condition && nomination_unchanged {
        return Ok(());
    }
    let transition = match current {
        Some(c) if c.status == "False" => c
            .last_transition_time
            .as_ref()
            .map_or_else(Timestamp::now, |t| t.0),
        _ => Timestamp::now(),
    };
    let mut patch = json!({"status": {"conditions": [{
        "type": "PodScheduled",
        "status": "False",
        "reason": reason,
        "message": message,
        "lastProbeTime": null,
        "lastTransitionTime": transition.to_string(),
    }]}});
    match nominated {
        Some("") if !current_nominated.is_empty() => {
            patch["status"]["nominatedNodeName"] = serde_json::Value::Null;
        }
        Some(node) if !node.is_empty() => patch["status"]["nominatedNodeName"] = json!(node),
        _ => {}
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    Api::<Pod>::namespaced(client.clone(), namespace)
        .patch_status(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await?;
    Ok(())
}
