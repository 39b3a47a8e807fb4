//! PodDisruptionBudget status against a real API server with the controller manager in the
//! test; the test plays the kubelet by setting pod readiness.

use std::time::Duration;

use anyhow::{bail, Result};
use ferrokube_controllers::ManagerOptions;
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
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

async fn ready(pods: &Api<Pod>, name: &str, ready: bool) -> Result<()> {
    let status = json!({"status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": if ready { "True" } else { "False" }}]}});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

#[tokio::test]
async fn budgets_count_healthy_pods() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let budgets: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), "default");
    for name in ["a", "b", "c"] {
        pods.create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": name, "labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            }))?,
        )
        .await?;
    }
    ready(&pods, "a", true).await?;
    ready(&pods, "b", true).await?;
    ready(&pods, "c", false).await?;
    budgets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "db"},
                "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
            }))?,
        )
        .await?;
    let manager = tokio::spawn(ferrokube_controllers::run(
        client.clone(),
        ManagerOptions {
            lease: None,
            ..ManagerOptions::default()
        },
    ));
    eventually("no disruption allowed", || {
        let budgets = budgets.clone();
        async move {
            let status = budgets.get("db").await?.status.unwrap_or_default();
            Ok(status.current_healthy == 2
                && status.desired_healthy == 2
                && status.disruptions_allowed == 0
                && status.expected_pods == 3
                && status.conditions.unwrap_or_default().iter().any(|c| {
                    c.type_ == "DisruptionAllowed"
                        && c.status == "False"
                        && c.reason == "InsufficientPods"
                }))
        }
    })
    .await?;
    ready(&pods, "c", true).await?;
    eventually("one disruption allowed", || {
        let budgets = budgets.clone();
        async move {
            let status = budgets.get("db").await?.status.unwrap_or_default();
            Ok(status.current_healthy == 3 && status.disruptions_allowed == 1)
        }
    })
    .await?;
    let shown = server.kubectl_ok(&[
        "get",
        "pdb",
        "db",
        "-o",
        "jsonpath={.status.disruptionsAllowed}",
    ])?;
    if shown != "1" {
        bail!("kubectl shows {shown}");
    }
    manager.abort();
    Ok(())
}
