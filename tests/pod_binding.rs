//! `pods/binding`, as a scheduler uses it, against a real API server: a pod is assigned to a
//! node once (with the PodScheduled condition), a second binding is a 409.

use anyhow::{ensure, Result};
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde_json::json;

#[tokio::test]
async fn pods_bind_once() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }))?,
    )
    .await?;
    let binding = |node: &str| {
        json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": "web"}, "target": {"apiVersion": "v1", "kind": "Node", "name": node}})
    };
    pods.create_subresource::<serde_json::Value, serde_json::Value>(
        "binding",
        "web",
        &PostParams::default(),
        &binding("node-1"),
    )
    .await?;
    let bound = pods.get("web").await?;
    ensure!(bound.spec.and_then(|s| s.node_name).as_deref() == Some("node-1"));
    let scheduled = bound
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled");
    ensure!(
        scheduled.is_some_and(|c| c.status == "True"),
        "no PodScheduled condition"
    );
    let again = pods
        .create_subresource::<serde_json::Value, serde_json::Value>(
            "binding",
            "web",
            &PostParams::default(),
            &binding("node-2"),
        )
        .await;
    match again {
        Err(kube::Error::Api(status)) => {
            ensure!(status.code == 409, "{status:?}");
            ensure!(
                status
                    .message
                    .contains("is already assigned to node \"node-1\""),
                "{}",
                status.message
            );
        }
        other => anyhow::bail!("second binding: {other:?}"),
    }
    let shown = server.kubectl_ok(&["get", "pod", "web", "-o", "jsonpath={.spec.nodeName}"])?;
    ensure!(shown == "node-1", "{shown}");
    Ok(())
}
