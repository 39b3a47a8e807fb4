//! The HorizontalPodAutoscaler loop against a real API server (no metrics API, as here):
//! replicas are brought within [min, max] through the target's scale subresource, and the
//! status says why metrics-based scaling is inactive, as upstream reports it.

use std::time::Duration;

use anyhow::{bail, Result};
use ferrokube_controllers::ManagerOptions;
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if check().await.unwrap_or(false) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn replicas(deployment: &Deployment) -> i32 {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(-1)
}

#[tokio::test]
async fn autoscalers_keep_replicas_in_bounds() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let autoscalers: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "web"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
            }))?,
        )
        .await?;
    autoscalers
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2, "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
        }))?)
        .await?;
    let manager = tokio::spawn(ferrokube_controllers::run(
        client.clone(),
        ManagerOptions {
            lease: None,
            hpa_sync_period: Duration::from_millis(300),
            ..ManagerOptions::default()
        },
    ));
    eventually("scaled up to minReplicas", || {
        let deployments = deployments.clone();
        async move { Ok(replicas(&deployments.get("web").await?) == 2) }
    })
    .await?;
    deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 9}})),
        )
        .await?;
    eventually("scaled down to maxReplicas", || {
        let deployments = deployments.clone();
        async move { Ok(replicas(&deployments.get("web").await?) == 5) }
    })
    .await?;
    deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 3}})),
        )
        .await?;
    eventually("metrics unavailable reported", || {
        let autoscalers = autoscalers.clone();
        async move {
            let status = autoscalers.get("web").await?.status.unwrap_or_default();
            let active = status
                .conditions
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == "ScalingActive");
            Ok(status.current_replicas == Some(3)
                && status.desired_replicas == 3
                && active.is_some_and(|c| {
                    c.status == "False" && c.reason.as_deref() == Some("FailedGetResourceMetric")
                }))
        }
    })
    .await?;
    let described = server.kubectl_ok(&["describe", "hpa", "web"])?;
    if !described.contains("FailedGetResourceMetric") {
        bail!("{described}");
    }
    manager.abort();
    Ok(())
}
