//! Plays the kubelet in controller tests (there is no kubelet yet): moves pods through
//! their phases by writing `pods/status` as a kubelet would — Running and Ready, or
//! terminated with an exit code, a finish time and Ready=False.
#![allow(dead_code)]

use anyhow::{Context, Result};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

fn containers(pod: &Pod) -> Vec<(String, String)> {
    pod.spec
        .as_ref()
        .map(|spec| {
            spec.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

fn time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

async fn write(pods: &Api<Pod>, name: &str, status: Value) -> Result<()> {
    pods.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .with_context(|| format!("writing the status of pod {name}"))?;
    Ok(())
}

/// The pod's containers run and it is Ready (since `at`).
pub async fn run(pods: &Api<Pod>, name: &str, at: Timestamp) -> Result<()> {
    let pod = pods.get(name).await?;
    let statuses: Vec<Value> = containers(&pod)
        .into_iter()
        .map(|(container, image)| {
            json!({"name": container, "image": image, "imageID": "", "ready": true,
                   "restartCount": 0, "started": true,
                   "state": {"running": {"startedAt": time(at)}}})
        })
        .collect();
    write(
        pods,
        name,
        json!({
            "phase": "Running",
            "startTime": time(at),
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": time(at)}],
            "containerStatuses": statuses,
        }),
    )
    .await
}

/// Every container exited with `exit_code` at `at`: the pod Succeeded (0) or Failed.
pub async fn finish(pods: &Api<Pod>, name: &str, exit_code: i32, at: Timestamp) -> Result<()> {
    let pod = pods.get(name).await?;
    let reason = if exit_code == 0 { "Completed" } else { "Error" };
    let statuses: Vec<Value> = containers(&pod)
        .into_iter()
        .map(|(container, image)| {
            json!({"name": container, "image": image, "imageID": "", "ready": false,
                   "restartCount": 0, "started": false,
                   "state": {"terminated": {"exitCode": exit_code, "reason": reason,
                                            "startedAt": time(at), "finishedAt": time(at)}}})
        })
        .collect();
    let phase = if exit_code == 0 {
        "Succeeded"
    } else {
        "Failed"
    };
    write(
        pods,
        name,
        json!({
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "False", "reason": "PodCompleted",
                            "lastTransitionTime": time(at)}],
            "containerStatuses": statuses,
        }),
    )
    .await
}

/// The pod succeeded at `at`.
pub async fn succeed(pods: &Api<Pod>, name: &str, at: Timestamp) -> Result<()> {
    finish(pods, name, 0, at).await
}

/// The pod failed with `exit_code` at `at`.
pub async fn fail(pods: &Api<Pod>, name: &str, exit_code: i32, at: Timestamp) -> Result<()> {
    finish(pods, name, exit_code, at).await
}

/// The pod's containers run but it is not Ready (a failing readiness probe).
pub async fn run_unready(pods: &Api<Pod>, name: &str, at: Timestamp) -> Result<()> {
    let pod = pods.get(name).await?;
    let statuses: Vec<Value> = containers(&pod)
        .into_iter()
        .map(|(container, image)| {
            json!({"name": container, "image": image, "imageID": "", "ready": false,
                   "restartCount": 0, "started": true,
                   "state": {"running": {"startedAt": time(at)}}})
        })
        .collect();
    write(
        pods,
        name,
        json!({
            "phase": "Running",
            "startTime": time(at),
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                            "lastTransitionTime": time(at)}],
            "containerStatuses": statuses,
        }),
    )
    .await
}

/// A kubelet acting at once: every pod of the namespace that appears is made Running and
/// Ready, until this is dropped.
pub struct AutoKubelet {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AutoKubelet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// Starts an [`AutoKubelet`] for `namespace`.
pub fn auto_ready(client: kube::Client, namespace: &str) -> AutoKubelet {
    use futures::StreamExt;
    use kube::runtime::watcher;

    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let task = tokio::spawn(async move {
        let mut started = std::collections::HashSet::new();
        let events = watcher(pods.clone(), watcher::Config::default());
        futures::pin_mut!(events);
        let mut pending = futures::stream::FuturesUnordered::new();
        loop {
            tokio::select! {
                event = events.next() => {
                    let Some(event) = event else { break };
                    let pod = match event {
                        Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => pod,
                        _ => continue,
                    };
                    let fresh = pod.metadata.deletion_timestamp.is_none() && !is_ready(&pod);
                    let Some(uid) = pod.metadata.uid.clone() else { continue };
                    if !fresh || !started.insert(uid) {
                        continue;
                    }
                    let (pods, pod) = (pods.clone(), pod.clone());
                    pending.push(async move {
                        let at = Timestamp::now();
                        let statuses: Vec<Value> = containers(&pod)
                            .into_iter()
                            .map(|(container, image)| {
                                json!({"name": container, "image": image, "imageID": "",
                                       "ready": true, "restartCount": 0, "started": true,
                                       "state": {"running": {"startedAt": time(at)}}})
                            })
                            .collect();
                        let name = pod.metadata.name.clone().unwrap_or_default();
                        // A pod deleted meanwhile is no error for a kubelet.
                        let _ = write(&pods, &name, json!({
                            "phase": "Running",
                            "startTime": time(at),
                            "conditions": [{"type": "Ready", "status": "True",
                                            "lastTransitionTime": time(at)}],
                            "containerStatuses": statuses,
                        }))
                        .await;
                    });
                }
                Some(()) = pending.next(), if !pending.is_empty() => {}
            }
        }
    });
    AutoKubelet { task }
}
