//! ResourceQuota usage against a real API server with the controller manager in the test.

use std::time::Duration;

use anyhow::{bail, Result};
use ferrokube_controllers::ManagerOptions;
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, ResourceQuota};
use kube::api::{Api, DeleteParams, PostParams};
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

async fn used(quotas: &Api<ResourceQuota>) -> Result<Vec<(String, String)>> {
    Ok(quotas
        .get("compute")
        .await?
        .status
        .and_then(|status| status.used)
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect())
}

#[tokio::test]
async fn quota_usage_follows_the_namespace() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    quotas
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "compute"},
            "spec": {"hard": {"pods": "10", "requests.cpu": "4", "requests.memory": "8Gi", "configmaps": "5"}},
        }))?)
        .await?;
    for name in ["a", "b"] {
        pods.create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "busybox",
                    "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]},
            }))?,
        )
        .await?;
    }
    maps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "settings"}}))?,
    )
    .await?;
    let manager = tokio::spawn(ferrokube_controllers::run(
        client.clone(),
        ManagerOptions {
            lease: None,
            ..ManagerOptions::default()
        },
    ));
    let expect = |pods: &str, cpu: &str, memory: &str| -> Vec<(String, String)> {
        vec![
            ("configmaps".to_owned(), "1".to_owned()),
            ("pods".to_owned(), pods.to_owned()),
            ("requests.cpu".to_owned(), cpu.to_owned()),
            ("requests.memory".to_owned(), memory.to_owned()),
        ]
    };
    let first = expect("2", "500m", "128Mi");
    eventually("usage of two pods", || {
        let (quotas, first) = (quotas.clone(), first.clone());
        async move { Ok(used(&quotas).await? == first) }
    })
    .await?;
    pods.delete("a", &DeleteParams::default()).await?;
    let second = expect("1", "250m", "64Mi");
    eventually("usage after a pod left", || {
        let (quotas, second) = (quotas.clone(), second.clone());
        async move { Ok(used(&quotas).await? == second) }
    })
    .await?;
    let described = server.kubectl_ok(&["describe", "quota", "compute"])?;
    if !described.contains("requests.cpu") || !described.contains("250m") {
        bail!("{described}");
    }
    manager.abort();
    Ok(())
}
