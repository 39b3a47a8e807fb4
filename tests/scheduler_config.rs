//! The scheduler with a `KubeSchedulerConfiguration` against a real API server: a second
//! profile's `schedulerName` is honoured, its MostAllocated strategy (and raised weight)
//! packs pods onto the fullest node where the default profile spreads them, its disabled
//! TaintToleration filter lets a pod onto a tainted node, and a bad file stops
//! `ferrokube scheduler --config` at start-up naming the field.

#[path = "support/scheduling.rs"]
mod scheduling;

use std::path::Path;

use anyhow::{ensure, Result};
use ferrokube_scheduler::SchedulerOptions;
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Value};

const CONFIG: &str = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: packer
  plugins:
    filter:
      disabled:
      - name: TaintToleration
    score:
      enabled:
      - name: NodeResourcesFit
        weight: 5
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - name: cpu
          weight: 1
"#;

struct Cluster {
    _server: ServerProcess,
    client: Client,
    scheduler: tokio::task::JoinHandle<()>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.scheduler.abort();
    }
}

impl Cluster {
    async fn start() -> Result<Self> {
        let server =
            ServerProcess::start_apiserver(Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
        let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
        let options = SchedulerOptions {
            lease: None,
            config: Some(ferrokube_scheduler::config::parse(CONFIG)?),
            ..SchedulerOptions::default()
        };
        let scheduler_client = client.clone();
        let scheduler = tokio::spawn(async move {
            if let Err(error) = ferrokube_scheduler::run(scheduler_client, options).await {
                eprintln!("scheduler stopped: {error}");
            }
        });
        Ok(Self {
            _server: server,
            client,
            scheduler,
        })
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    async fn node(&self, name: &str, spec: Value) -> Result<()> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let resources = json!({"cpu": "4", "memory": "8Gi", "pods": "110"});
        let status = json!({"capacity": resources, "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True"}]});
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": spec,
            "status": status,
        }))?;
        nodes.create(&PostParams::default(), &node).await?;
        nodes
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await?;
        Ok(())
    }

    /// Creates a pod requesting `cpu`, merged with `spec`.
    async fn pod(&self, name: &str, cpu: &str, spec: Value) -> Result<()> {
        let mut full = json!({"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": cpu}}}]});
        if let (Some(f), Some(s)) = (full.as_object_mut(), spec.as_object()) {
            f.extend(s.clone());
        }
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": name}, "spec": full}))?;
        self.pods().create(&PostParams::default(), &pod).await?;
        Ok(())
    }

    async fn bound(&self, name: &str) -> Result<String> {
        scheduling::bound(&self.pods(), name).await
    }

    /// Waits for the pod's `PodScheduled=False` message.
    async fn unschedulable(&self, name: &str) -> Result<String> {
        Ok(scheduling::unschedulable(&self.pods(), name).await?.1)
    }
}

#[tokio::test]
async fn a_second_profile_packs_where_the_default_spreads() -> Result<()> {
    let cluster = Cluster::start().await?;
    cluster.node("full", json!({})).await?;
    cluster.node("empty", json!({})).await?;
    // Half of `full` is taken by a pod bound there already.
    cluster
        .pod("seed", "2", json!({"nodeName": "full"}))
        .await?;
    cluster
        .pod("packed", "500m", json!({"schedulerName": "packer"}))
        .await?;
    ensure!(cluster.bound("packed").await? == "full");
    cluster.pod("spread", "500m", json!({})).await?;
    ensure!(cluster.bound("spread").await? == "empty");
    cluster
        .pod("packed-2", "500m", json!({"schedulerName": "packer"}))
        .await?;
    ensure!(cluster.bound("packed-2").await? == "full");
    Ok(())
}

#[tokio::test]
async fn a_disabled_filter_lets_pods_onto_tainted_nodes() -> Result<()> {
    let cluster = Cluster::start().await?;
    cluster
        .node(
            "tainted",
            json!({"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}),
        )
        .await?;
    cluster.pod("default", "100m", json!({})).await?;
    let message = cluster.unschedulable("default").await?;
    ensure!(
        message.contains("untolerated taint {dedicated: gpu}"),
        "{message}"
    );
    cluster
        .pod("tolerant", "100m", json!({"schedulerName": "packer"}))
        .await?;
    ensure!(cluster.bound("tolerant").await? == "tainted");
    Ok(())
}

#[test]
fn a_bad_config_stops_the_subcommand_naming_the_field() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let cases = [
        (
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
             profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: NoSuchPlugin\n",
            "profiles[0].plugins.filter.enabled[0].name: FilterPlugin \"NoSuchPlugin\" does not exist",
        ),
        (
            "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
            "apiVersion: Unsupported value",
        ),
    ];
    for (i, (text, wanted)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("config-{i}.yaml"));
        std::fs::write(&path, text)?;
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube"))
            .args(["scheduler", "--kubeconfig"])
            .arg(dir.path().join("missing.kubeconfig"))
            .arg("--config")
            .arg(&path)
            .output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        ensure!(!output.status.success(), "exited successfully");
        ensure!(stderr.contains(wanted), "stderr lacks {wanted:?}: {stderr}");
    }
    Ok(())
}
