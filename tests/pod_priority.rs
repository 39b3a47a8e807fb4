//! The Priority admission plugin as upstream runs it: a pod's priority comes from its
//! PriorityClass or the global default, never from the client, and the two system classes
//! exist from the first start.

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::{Api, PostParams};
use serde_json::{json, Value};

fn pod(name: &str, spec_extra: Value) -> Result<Pod> {
    let mut spec = json!({"containers": [{"name": "c", "image": "busybox"}]});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
        spec.extend(extra.clone());
    }
    Ok(serde_json::from_value(
        json!({"metadata": {"name": name}, "spec": spec}),
    )?)
}

fn priority(pod: &Pod) -> (Option<i32>, Option<String>, Option<String>) {
    let spec = pod.spec.clone().unwrap_or_default();
    (
        spec.priority,
        spec.priority_class_name,
        spec.preemption_policy,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_get_the_priority_of_their_class() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let classes: Api<PriorityClass> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client, "default");

    let system = server.kubectl_ok(&["get", "priorityclass", "-o", "name"])?;
    ensure!(
        system.contains("priorityclass.scheduling.k8s.io/system-node-critical")
            && system.contains("priorityclass.scheduling.k8s.io/system-cluster-critical"),
        "system classes missing: {system}"
    );

    // No class and no default: 0.
    let plain = pods
        .create(&PostParams::default(), &pod("plain", json!({}))?)
        .await?;
    ensure!(priority(&plain).0 == Some(0), "{:?}", priority(&plain));

    let high: PriorityClass = serde_json::from_value(json!({
        "metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never",
    }))?;
    classes.create(&PostParams::default(), &high).await?;
    let created = pods
        .create(
            &PostParams::default(),
            &pod("important", json!({"priorityClassName": "high"}))?,
        )
        .await?;
    ensure!(
        priority(&created) == (Some(1000), Some("high".into()), Some("Never".into())),
        "{:?}",
        priority(&created)
    );
    let critical = pods
        .create(
            &PostParams::default(),
            &pod(
                "critical",
                json!({"priorityClassName": "system-node-critical"}),
            )?,
        )
        .await?;
    ensure!(priority(&critical).0 == Some(2_000_001_000));

    // An unknown class, a priority of the client's own, a contradicting policy: 403s.
    for (name, extra, message) in [
        (
            "unknown",
            json!({"priorityClassName": "nope"}),
            "pods \"unknown\" is forbidden: no PriorityClass with name nope was found",
        ),
        (
            "self-made",
            json!({"priorityClassName": "high", "priority": 5}),
            "pods \"self-made\" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name",
        ),
        (
            "policy",
            json!({"priorityClassName": "high", "preemptionPolicy": "PreemptLowerPriority"}),
            "pods \"policy\" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name",
        ),
    ] {
        match pods.create(&PostParams::default(), &pod(name, extra)?).await {
            Err(kube::Error::Api(status)) => ensure!(
                status.code == 403 && status.reason == "Forbidden" && status.message == message,
                "{name}: {status:?}"
            ),
            other => anyhow::bail!("{name} was not refused: {other:?}"),
        }
        ensure!(pods.get_opt(name).await?.is_none(), "{name} was stored");
    }

    // A global default applies to pods that name no class.
    let default: PriorityClass = serde_json::from_value(json!({
        "metadata": {"name": "everyone"}, "value": 7, "globalDefault": true,
    }))?;
    classes.create(&PostParams::default(), &default).await?;
    let defaulted = pods
        .create(&PostParams::default(), &pod("defaulted", json!({}))?)
        .await?;
    let (value, class, _) = priority(&defaulted);
    ensure!(
        value == Some(7) && class.as_deref() == Some("everyone"),
        "{:?}",
        priority(&defaulted)
    );
    let described = server.kubectl_ok(&["describe", "pod", "defaulted"])?;
    ensure!(
        described.contains("Priority:") && described.contains("everyone"),
        "describe: {described}"
    );
    let _ = pods.get("plain").await.context("plain pod")?;
    Ok(())
}
