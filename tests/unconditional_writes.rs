//! Writes that name no resourceVersion are unconditional, as upstream's
//! `AllowUnconditionalUpdate` kinds are: racing writers all succeed (the server retries
//! against the newer object) instead of getting 409s meant for stale preconditions.

use anyhow::{ensure, Result};
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

const WRITERS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_unconditional_updates_and_scale_patches_all_succeed() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;

    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    maps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "shared"}}))?,
    )
    .await?;
    let updates = (0..WRITERS).map(|writer| {
        let maps = maps.clone();
        async move {
            let body: ConfigMap = serde_json::from_value(json!({
                "metadata": {"name": "shared"},
                "data": {"writer": writer.to_string()},
            }))?;
            maps.replace("shared", &PostParams::default(), &body)
                .await?;
            anyhow::Ok(())
        }
    });
    for outcome in futures::future::join_all(updates).await {
        outcome?;
    }
    // A stale resourceVersion is still a precondition.
    let mut stale: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "shared"}}))?;
    stale.metadata.resource_version = Some("1".to_owned());
    let refused = maps.replace("shared", &PostParams::default(), &stale).await;
    ensure!(
        matches!(&refused, Err(kube::Error::Api(status)) if status.code == 409),
        "a stale resourceVersion was not refused: {refused:?}"
    );

    let deployments: Api<Deployment> = Api::namespaced(client, "default");
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
    let scales = (0..WRITERS).map(|writer| {
        let deployments = deployments.clone();
        async move {
            let patch = json!({"spec": {"replicas": writer}});
            deployments
                .patch_scale("web", &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            anyhow::Ok(())
        }
    });
    for outcome in futures::future::join_all(scales).await {
        outcome?;
    }
    Ok(())
}
