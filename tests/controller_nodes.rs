//! Node lifecycle against a real API server with the controller manager in the test (short
//! grace periods): a node whose heartbeats stop turns Unknown and gets the unreachable
//! taints; pods without a toleration are evicted at once, pods tolerating for N seconds
//! after N seconds; a node that reports Ready again loses the taints.

use std::time::Duration;

use anyhow::{bail, Result};
use ferrokube_controllers::{ManagerOptions, NodeTiming};
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

async fn eventually<F, Fut>(what: &str, seconds: u64, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
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

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string()
}

fn taint_keys(node: &Node) -> Vec<String> {
    node.spec
        .as_ref()
        .and_then(|spec| spec.taints.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|taint| format!("{}:{}", taint.key, taint.effect))
        .collect()
}

#[tokio::test]
async fn silent_nodes_are_tainted_and_drained() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    nodes
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "n1"}}))?,
        )
        .await?;
    // The kubelet's part: a Ready condition and a fresh Lease.
    nodes
        .patch_status("n1", &PatchParams::default(), &Patch::Merge(&json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": now(), "lastTransitionTime": now()}
        ]}})))
        .await?;
    leases
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "n1"}, "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40, "renewTime": now()},
        }))?)
        .await?;
    for (name, tolerations) in [
        // Without tolerations the API server would add 300 s ones (DefaultTolerationSeconds).
        (
            "impatient",
            json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}]),
        ),
        (
            "patient",
            json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 3}]),
        ),
        ("forever", json!([{"operator": "Exists"}])),
    ] {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}], "tolerations": tolerations},
        }))?;
        pods.create(&PostParams::default(), &pod).await?;
    }
    let manager = tokio::spawn(ferrokube_controllers::run(
        client.clone(),
        ManagerOptions {
            lease: None,
            node_timing: NodeTiming {
                grace_period: Duration::from_secs(2),
                monitor_period: Duration::from_millis(500),
            },
            pod_gc_period: Duration::from_millis(500),
            ..ManagerOptions::default()
        },
    ));

    eventually("the node Unknown and tainted", 15, || {
        let nodes = nodes.clone();
        async move {
            let node = nodes.get("n1").await?;
            let ready = node
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == "Ready");
            let keys = taint_keys(&nodes.get("n1").await?);
            Ok(ready.is_some_and(|c| {
                c.status == "Unknown" && c.reason.as_deref() == Some("NodeStatusUnknown")
            }) && keys.contains(&"node.kubernetes.io/unreachable:NoExecute".to_owned())
                && keys.contains(&"node.kubernetes.io/unreachable:NoSchedule".to_owned()))
        }
    })
    .await?;
    eventually("the intolerant pod evicted at once", 5, || {
        let pods = pods.clone();
        async move {
            Ok(pods
                .get_opt("impatient")
                .await?
                .is_none_or(|p| p.metadata.deletion_timestamp.is_some()))
        }
    })
    .await?;
    if pods
        .get_opt("patient")
        .await?
        .is_some_and(|p| p.metadata.deletion_timestamp.is_some())
    {
        bail!("a pod tolerating 3 s was evicted at once");
    }
    eventually("the 3 s pod evicted", 10, || {
        let pods = pods.clone();
        async move {
            Ok(pods
                .get_opt("patient")
                .await?
                .is_none_or(|p| p.metadata.deletion_timestamp.is_some()))
        }
    })
    .await?;
    if pods.get_opt("forever").await?.is_none() {
        bail!("a pod tolerating everything was evicted");
    }

    // The kubelet comes back.
    nodes
        .patch_status("n1", &PatchParams::default(), &Patch::Merge(&json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": now(), "lastTransitionTime": now()}
        ]}})))
        .await?;
    leases
        .patch(
            "n1",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"renewTime": now()}})),
        )
        .await?;
    eventually("the taints lifted", 5, || {
        let nodes = nodes.clone();
        async move { Ok(taint_keys(&nodes.get("n1").await?).is_empty()) }
    })
    .await?;

    // Pod GC: a pod bound to a node that does not exist is failed and removed.
    let orphan: Pod = serde_json::from_value(json!({
        "metadata": {"name": "orphan"},
        "spec": {"nodeName": "gone", "containers": [{"name": "c", "image": "busybox"}]},
    }))?;
    pods.create(&PostParams::default(), &orphan).await?;
    eventually("the orphaned pod collected", 10, || {
        let pods = pods.clone();
        async move { Ok(pods.get_opt("orphan").await?.is_none()) }
    })
    .await?;
    manager.abort();
    Ok(())
}
