//! What a decision leads to through the API: binding, evicting preemption victims, and
//! clearing displaced nominations.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::events::EventType;
use serde_json::json;

use super::Scheduler;
use crate::events::reference;
use crate::framework::PodInfo;
use crate::queue::QueuedPod;
use crate::status::{record_failure, REASON_SCHEDULER_ERROR};

impl Scheduler {
    /// Evicts preemption victims as upstream's `prepareCandidate` does: a DisruptionTarget
    /// condition, an event, then a delete.
    pub(super) async fn evict(&self, preemptor: &Pod, node: &str, victims: &[Arc<PodInfo>]) {
        let uid = preemptor.metadata.uid.clone().unwrap_or_default();
        for victim in victims {
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &victim.namespace);
            let condition = json!({"status": {"conditions": [{
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "PreemptionByScheduler",
                "message": format!("{}: preempting to accommodate a higher priority pod", self.name),
                "lastTransitionTime": jiff::Timestamp::now().to_string(),
            }]}});
            if let Err(error) = api
                .patch_status(
                    &victim.name,
                    &PatchParams::default(),
                    &Patch::Strategic(condition),
                )
                .await
            {
                tracing::debug!(%error, victim = %victim.key, "marking preemption victim");
            }
            self.events
                .record(
                    &reference(&victim.pod),
                    Some(reference(preemptor)),
                    EventType::Normal,
                    "Preempted",
                    "Preempting",
                    format!("Preempted by pod {uid} on node {node}"),
                )
                .await;
            match api.delete(&victim.name, &DeleteParams::default()).await {
                Ok(_) => tracing::info!(victim = %victim.key, %node, "preempted"),
                Err(error) => {
                    tracing::warn!(%error, victim = %victim.key, "deleting preemption victim")
                }
            }
        }
    }

    /// Clears `status.nominatedNodeName` of pods a more important preemptor displaced.
    pub(super) async fn clear_nominations(&self, pods: &[Arc<PodInfo>]) {
        for other in pods {
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &other.namespace);
            let patch = json!({"status": {"nominatedNodeName": null}});
            if let Err(error) = api
                .patch_status(&other.name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                tracing::debug!(%error, pod = %other.key, "clearing nomination");
            }
        }
    }

    pub(super) async fn bind(self: Arc<Self>, queued: QueuedPod, node: String) {
        let pod = queued.info.pod.clone();
        let key = queued.info.key.clone();
        match crate::bind::bind(&self.client, &pod, &node).await {
            Ok(()) => {
                tracing::info!(pod = %key, %node, "bound");
                self.events
                    .record(
                        &reference(&pod),
                        None,
                        EventType::Normal,
                        "Scheduled",
                        "Binding",
                        format!("Successfully assigned {key} to {node}"),
                    )
                    .await;
            }
            Err(error) => {
                tracing::warn!(%error, pod = %key, %node, "binding failed");
                let gone = matches!(&error, kube::Error::Api(s) if s.code == 404);
                {
                    let mut state = self.lock();
                    state.cache.forget(&key);
                    state.queue.move_all("AssumedPodDelete");
                    if !gone {
                        state.queue.backoff(queued);
                    }
                }
                if gone {
                    return;
                }
                let message = format!("Binding rejected: {error}");
                self.events
                    .record(
                        &reference(&pod),
                        None,
                        EventType::Warning,
                        "FailedScheduling",
                        "Scheduling",
                        message.clone(),
                    )
                    .await;
                if let Err(error) =
                    record_failure(&self.client, &pod, REASON_SCHEDULER_ERROR, &message, None).await
                {
                    tracing::debug!(%error, pod = %key, "updating pod status");
                }
            }
        }
    }
}
