//! Waiting on the scheduler's decisions about a pod, shared by the scheduler tests.
#![allow(dead_code)]

use std::time::Duration;

use anyhow::{bail, ensure, Result};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;

/// How long a decision may take.
const DECISION: Duration = Duration::from_secs(30);

/// The node the pod is bound to, once it is.
pub async fn bound(pods: &Api<Pod>, name: &str) -> Result<String> {
    let deadline = tokio::time::Instant::now() + DECISION;
    loop {
        let pod = pods.get(name).await?;
        if let Some(node) = pod.spec.and_then(|s| s.node_name).filter(|n| !n.is_empty()) {
            return Ok(node);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("pod {name} was never bound");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The reason and message of the pod's `PodScheduled=False` condition, once it has one;
/// an error if the pod gets bound instead.
pub async fn unschedulable(pods: &Api<Pod>, name: &str) -> Result<(String, String)> {
    let deadline = tokio::time::Instant::now() + DECISION;
    loop {
        let pod = pods.get(name).await?;
        ensure!(
            pod.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_none(),
            "pod {name} was bound"
        );
        let condition = pod
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False");
        if let Some(c) = condition {
            return Ok((c.reason.unwrap_or_default(), c.message.unwrap_or_default()));
        }
        if tokio::time::Instant::now() > deadline {
            bail!("pod {name} never got PodScheduled=False");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
