//! Resources served at two versions from one storage location (HorizontalPodAutoscalers at
//! autoscaling/v1 and v2, Events at core v1 and events.k8s.io/v1), against a real
//! `ferrokube server` driven by stock kubectl and kube-rs: an object written in one version
//! reads back correctly in the other, through get, list, patch and watch.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use futures::StreamExt;
use k8s_openapi::api::events::v1::Event as NewEvent;
use kube::api::{Api, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{json, Value};

fn manifest(value: &Value) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".json").tempfile()?;
    file.write_all(&serde_json::to_vec_pretty(value)?)?;
    Ok(file)
}

fn create(server: &ServerProcess, value: &Value) -> Result<()> {
    let file = manifest(value)?;
    let path = file.path().to_str().context("temp path")?;
    server.kubectl_ok(&["create", "-f", path])?;
    Ok(())
}

fn get_json(server: &ServerProcess, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    Ok(serde_json::from_str(&server.kubectl_ok(&all)?)?)
}

fn autoscalers(server: &ServerProcess) -> Result<()> {
    create(
        server,
        &json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 55,
            },
        }),
    )?;
    let v2 = get_json(
        server,
        &["get", "horizontalpodautoscalers.v2.autoscaling", "web"],
    )?;
    ensure!(v2["apiVersion"] == "autoscaling/v2", "{v2}");
    ensure!(
        v2["spec"]["metrics"]
            == json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 55}}}]),
        "v2 metrics: {}",
        v2["spec"]
    );
    ensure!(v2["spec"].get("targetCPUUtilizationPercentage").is_none());

    // A v2-only field set through v2 survives a v1 read-modify-write.
    server.kubectl_ok(&[
        "patch",
        "horizontalpodautoscalers.v2.autoscaling",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":30}}}}"#,
    ])?;
    let v1 = get_json(
        server,
        &["get", "horizontalpodautoscalers.v1.autoscaling", "web"],
    )?;
    ensure!(v1["apiVersion"] == "autoscaling/v1", "{v1}");
    ensure!(
        v1["spec"]["targetCPUUtilizationPercentage"] == 55,
        "{}",
        v1["spec"]
    );
    ensure!(v1["spec"].get("metrics").is_none(), "{}", v1["spec"]);
    server.kubectl_ok(&[
        "patch",
        "horizontalpodautoscalers.v1.autoscaling",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"maxReplicas":9}}"#,
    ])?;
    let v2 = get_json(
        server,
        &["get", "horizontalpodautoscalers.v2.autoscaling", "web"],
    )?;
    ensure!(v2["spec"]["maxReplicas"] == 9, "{}", v2["spec"]);
    ensure!(
        v2["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 30,
        "behavior lost through v1: {}",
        v2["spec"]
    );
    ensure!(
        v2["metadata"].get("annotations").is_none(),
        "carrier annotations leaked into v2: {}",
        v2["metadata"]
    );
    let list = get_json(server, &["get", "horizontalpodautoscalers.v1.autoscaling"])?;
    ensure!(
        list["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 55,
        "{list}"
    );
    Ok(())
}

async fn events(server: &ServerProcess) -> Result<()> {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig())?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    let client = Client::try_from(config)?;
    let new_events: Api<NewEvent> = Api::namespaced(client, "default");
    let start = new_events.list(&Default::default()).await?;
    let version = start
        .metadata
        .resource_version
        .context("list resourceVersion")?;
    let mut stream = new_events
        .watch(&WatchParams::default().timeout(20), &version)
        .await?
        .boxed();

    create(
        server,
        &json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "pulled", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
            "reason": "Pulled", "message": "image pulled", "type": "Normal",
            "source": {"component": "kubelet"}, "count": 4,
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:05Z",
        }),
    )?;
    let seen = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .context("no watch event")?
        .context("watch ended")??;
    let WatchEvent::Added(event) = seen else {
        anyhow::bail!("expected ADDED, got {seen:?}");
    };
    ensure!(event.note.as_deref() == Some("image pulled"), "{event:?}");
    ensure!(event.deprecated_count == Some(4), "{event:?}");
    ensure!(
        event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("web-1"),
        "{event:?}"
    );

    let got = get_json(server, &["get", "events.v1.events.k8s.io", "pulled"])?;
    ensure!(got["apiVersion"] == "events.k8s.io/v1", "{got}");
    ensure!(
        got["note"] == "image pulled" && got.get("message").is_none(),
        "{got}"
    );
    ensure!(got["deprecatedSource"]["component"] == "kubelet", "{got}");

    // And the other way: written as events.k8s.io, read as core.
    create(
        server,
        &json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "scheduled", "namespace": "default"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-1",
            "action": "Binding", "reason": "Scheduled", "type": "Normal",
            "note": "assigned default/web-1 to node-1",
            "regarding": {"kind": "Pod", "name": "web-1", "namespace": "default"},
        }),
    )?;
    let core = get_json(server, &["get", "event", "scheduled"])?;
    ensure!(core["apiVersion"] == "v1", "{core}");
    ensure!(
        core["message"] == "assigned default/web-1 to node-1",
        "{core}"
    );
    ensure!(core["involvedObject"]["name"] == "web-1", "{core}");
    ensure!(core["reportingComponent"] == "default-scheduler", "{core}");
    let by_field = server.kubectl_ok(&[
        "get",
        "event",
        "--field-selector",
        "involvedObject.name=web-1,reason=Scheduled",
        "-o",
        "name",
    ])?;
    ensure!(by_field.trim() == "event/scheduled", "{by_field}");
    Ok(())
}

#[tokio::test]
async fn shared_storage_resources_convert_between_versions() -> Result<()> {
    let server = ServerProcess::start(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    autoscalers(&server).context("HorizontalPodAutoscalers")?;
    events(&server).await.context("Events")?;
    Ok(())
}
