//! A kubelet registers its Node with its status in the create, as upstream allows for
//! Nodes only; afterwards status changes only through `nodes/status`.

use anyhow::{ensure, Result};
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn capacity_cpu(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .capacity
        .as_ref()?
        .get("cpu")
        .map(|quantity| quantity.0.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_keep_the_status_they_are_created_with() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let nodes: Api<Node> = Api::all(client);
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": "worker"},
        "status": {"capacity": {"cpu": "4", "pods": "110"},
                   "allocatable": {"cpu": "4", "pods": "110"}},
    }))?;
    let created = nodes.create(&PostParams::default(), &node).await?;
    ensure!(
        capacity_cpu(&created).as_deref() == Some("4"),
        "{created:?}"
    );

    // Through the main resource status stays; through nodes/status it changes.
    let patch = json!({"status": {"capacity": {"cpu": "8"}}});
    let main = nodes
        .patch("worker", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    ensure!(capacity_cpu(&main).as_deref() == Some("4"), "{main:?}");
    let status = nodes
        .patch_status("worker", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    ensure!(capacity_cpu(&status).as_deref() == Some("8"), "{status:?}");
    let shown = server.kubectl_ok(&[
        "get",
        "node",
        "worker",
        "-o",
        "jsonpath={.status.capacity.cpu}",
    ])?;
    ensure!(shown == "8", "kubectl shows {shown}");
    Ok(())
}
