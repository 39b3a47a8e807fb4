//! The HorizontalPodAutoscaler loop. No resource metrics API is registered in this cluster,
//! so, as upstream's controller does in that situation, it keeps replicas within
//! `[minReplicas, maxReplicas]`, reports the target's scale in status, and says why it
//! cannot scale on metrics (`ScalingActive=False`, `FailedGetResourceMetric`).

use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::pinned_kind;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::{ControllerError, Informers, Shared};

/// Upstream's `--horizontal-pod-autoscaler-sync-period`.
pub const SYNC_PERIOD: Duration = Duration::from_secs(15);

const NO_METRICS: &str = "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)";

struct Context {
    shared: Shared,
    autoscalers: Store<HorizontalPodAutoscaler>,
    recorder: Recorder,
}

/// The loop: every autoscaler once per sync period.
pub fn build(
    informers: &mut Informers,
    shared: Shared,
    period: Duration,
) -> BoxFuture<'static, ()> {
    let context = Context {
        recorder: shared.recorder("horizontal-pod-autoscaler"),
        autoscalers: informers.store::<HorizontalPodAutoscaler>(),
        shared,
    };
    async move {
        loop {
            tokio::time::sleep(period).await;
            for autoscaler in context.autoscalers.state() {
                if let Err(error) = reconcile(&context, &autoscaler).await {
                    tracing::debug!(%error, hpa = %autoscaler.name_any(), "autoscaler pass failed");
                }
            }
        }
    }
    .boxed()
}

fn condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) -> serde_json::Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": now})
}

async fn reconcile(
    context: &Context,
    autoscaler: &HorizontalPodAutoscaler,
) -> Result<(), ControllerError> {
    let namespace = autoscaler
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let spec = autoscaler
        .spec
        .as_ref()
        .ok_or(ControllerError::Missing("spec"))?;
    let target = &spec.scale_target_ref;
    let (group, version) = target
        .api_version
        .as_deref()
        .unwrap_or("v1")
        .split_once('/')
        .map_or(
            ("", target.api_version.as_deref().unwrap_or("v1")),
            |(g, v)| (g, v),
        );
    let client = context.shared.client.clone();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let hpa_api: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &namespace);
    let gvk = GroupVersionKind::gvk(group, version, &target.kind);
    let scale = match pinned_kind(&client, &gvk).await {
        Ok((resource, _)) => {
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), &namespace, &resource);
            api.get_scale(&target.name).await.ok()
        }
        Err(_) => None,
    };
    let Some(scale) = scale else {
        let status = json!({"status": {"conditions": [condition("AbleToScale", "False", "FailedGetScale",
            &format!("the HPA controller was unable to get the target's current scale: {}s.{} \"{}\" not found", target.kind.to_ascii_lowercase(), group, target.name), &now)],
            "currentReplicas": 0, "desiredReplicas": 0}});
        hpa_api
            .patch_status(
                &autoscaler.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&status),
            )
            .await?;
        return Ok(());
    };
    let current = scale
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(0);
    let min = spec.min_replicas.unwrap_or(1);
    let max = spec.max_replicas;
    let (desired, active) = if current == 0 && min != 0 {
        (
            0,
            condition(
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                &now,
            ),
        )
    } else if current > max {
        (
            max,
            condition(
                "ScalingActive",
                "True",
                "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count",
                &now,
            ),
        )
    } else if current < min {
        (
            min,
            condition(
                "ScalingActive",
                "True",
                "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count",
                &now,
            ),
        )
    } else {
        (
            current,
            condition(
                "ScalingActive",
                "False",
                "FailedGetResourceMetric",
                NO_METRICS,
                &now,
            ),
        )
    };
    if desired != current {
        let (resource, _) = pinned_kind(&client, &gvk).await?;
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
        api.patch_scale(
            &target.name,
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": desired}})),
        )
        .await?;
        publish(
            context,
            autoscaler,
            EventType::Normal,
            "SuccessfulRescale",
            &format!(
                "New size: {desired}; reason: Current number of replicas {} Spec.{}Replicas",
                if current > max { "above" } else { "below" },
                if current > max { "Max" } else { "Min" }
            ),
        )
        .await;
    } else if active["reason"] == "FailedGetResourceMetric" {
        publish(
            context,
            autoscaler,
            EventType::Warning,
            "FailedGetResourceMetric",
            NO_METRICS,
        )
        .await;
    }
    let status = json!({"status": {
        "currentReplicas": current,
        "desiredReplicas": desired,
        "conditions": [
            condition("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale", &now),
            active,
        ],
    }});
    hpa_api
        .patch_status(
            &autoscaler.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await?;
    Ok(())
}

async fn publish(
    context: &Context,
    autoscaler: &HorizontalPodAutoscaler,
    kind: EventType,
    reason: &str,
    note: &str,
) {
    let event = Event {
        type_: kind,
        reason: reason.to_owned(),
        note: Some(note.to_owned()),
        action: "Scale".to_owned(),
        secondary: None,
    };
    if let Err(error) = context
        .recorder
        .publish(&event, &autoscaler.object_ref(&()))
        .await
    {
        tracing::debug!(%error, "recording autoscaler event");
    }
}
