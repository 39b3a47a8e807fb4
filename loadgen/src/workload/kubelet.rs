//! A kubelet that acts instantly: every pod that appears in the namespace is written
//! Running and Ready through `pods/status`, as a kubelet would after starting it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::Semaphore;

/// Counts of what the stand-in kubelet saw and did.
#[derive(Debug, Default)]
pub struct KubeletCounts {
    /// Distinct pods seen created.
    pub seen: AtomicUsize,
    /// Pods written Ready.
    pub readied: AtomicUsize,
}

/// The running stand-in; stops when dropped.
pub struct InstantKubelet {
    counts: Arc<KubeletCounts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InstantKubelet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl InstantKubelet {
    /// Starts following the pods of `namespace`, with at most `concurrency` status writes
    /// in flight.
    pub fn start(client: Client, namespace: &str, concurrency: usize) -> Self {
        let counts = Arc::new(KubeletCounts::default());
        let pods: Api<Pod> = Api::namespaced(client, namespace);
        let shared = Arc::clone(&counts);
        let task = tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(concurrency.max(1)));
            let mut known: HashSet<String> = HashSet::new();
            let mut events = std::pin::pin!(watcher(pods.clone(), watcher::Config::default()));
            while let Some(event) = events.next().await {
                let pod = match event {
                    Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => pod,
                    Ok(_) => continue,
                    Err(error) => {
                        tracing::debug!(%error, "stand-in kubelet watch restarting");
                        continue;
                    }
                };
                let name = pod.name_any();
                if pod.metadata.deletion_timestamp.is_some() || !known.insert(name.clone()) {
                    continue;
                }
                shared.seen.fetch_add(1, Ordering::Relaxed);
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    return;
                };
                let (pods, counts) = (pods.clone(), Arc::clone(&shared));
                tokio::spawn(async move {
                    if run(&pods, &pod).await {
                        counts.readied.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(permit);
                });
            }
        });
        Self { counts, task }
    }

    /// What it has seen and done so far.
    pub fn counts(&self) -> &KubeletCounts {
        &self.counts
    }
}

/// Writes `pod` Running and Ready; false if the pod is gone or the write failed.
async fn run(pods: &Api<Pod>, pod: &Pod) -> bool {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let statuses: Vec<_> = pod
        .spec
        .iter()
        .flat_map(|spec| &spec.containers)
        .map(|container| {
            json!({"name": container.name, "image": container.image, "imageID": "",
                   "ready": true, "restartCount": 0, "started": true,
                   "state": {"running": {"startedAt": now}}})
        })
        .collect();
    let status = json!({"status": {
        "phase": "Running",
        "startTime": now,
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
        "containerStatuses": statuses,
    }});
    match pods
        .patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await
    {
        Ok(_) => true,
        Err(error) => {
            tracing::debug!(%error, pod = %pod.name_any(), "stand-in kubelet status write");
            false
        }
    }
}
