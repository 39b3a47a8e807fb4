//! The scheduler (`ferrokube_scheduler::run`) against a real API server, with Node objects
//! created through the API (no kubelet): each filter with a case that fails without it,
//! priority order, preemption, and the unschedulable condition and events as stock kubectl
//! shows them.

#[path = "support/scheduling.rs"]
mod scheduling;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use ferrokube_scheduler::SchedulerOptions;
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Value};

struct Cluster {
    server: ServerProcess,
    client: Client,
    scheduler: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(task) = self.scheduler.take() {
            task.abort();
        }
    }
}

impl Cluster {
    async fn start() -> Result<Self> {
        let server =
            ServerProcess::start_apiserver(Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
        let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
        Ok(Self {
            server,
            client,
            scheduler: None,
        })
    }

    fn run_scheduler(&mut self) {
        let client = self.client.clone();
        self.scheduler = Some(tokio::spawn(async move {
            let options = SchedulerOptions {
                lease: None,
                ..SchedulerOptions::default()
            };
            if let Err(error) = ferrokube_scheduler::run(client, options).await {
                eprintln!("scheduler stopped: {error}");
            }
        }));
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    /// Creates a node with `cpu`, `memory` and `pods` allocatable, and extra fields.
    async fn node(&self, name: &str, cpu: &str, extra: Value) -> Result<()> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let mut labels = json!({"kubernetes.io/hostname": name});
        if let (Some(l), Some(e)) = (
            labels.as_object_mut(),
            extra.pointer("/labels").and_then(Value::as_object),
        ) {
            l.extend(e.clone());
        }
        let mut resources = json!({"cpu": cpu, "memory": "8Gi", "pods": extra.pointer("/pods").cloned().unwrap_or(json!("110"))});
        if let (Some(r), Some(e)) = (
            resources.as_object_mut(),
            extra.pointer("/resources").and_then(Value::as_object),
        ) {
            r.extend(e.clone());
        }
        let status = json!({"capacity": resources, "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True"}]});
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": extra.pointer("/spec").cloned().unwrap_or(json!({})),
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

    /// Creates a pod in `default` with one container requesting `cpu`, merged with `spec`.
    async fn pod(&self, name: &str, cpu: &str, labels: Value, spec: Value) -> Result<()> {
        let mut full = json!({"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": cpu}}}]});
        if let (Some(f), Some(s)) = (full.as_object_mut(), spec.as_object()) {
            f.extend(s.clone());
        }
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": full,
        }))?;
        self.pods().create(&PostParams::default(), &pod).await?;
        Ok(())
    }

    async fn node_of(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .pods()
            .get(name)
            .await?
            .spec
            .and_then(|s| s.node_name)
            .filter(|n| !n.is_empty()))
    }

    async fn bound(&self, name: &str) -> Result<String> {
        scheduling::bound(&self.pods(), name).await
    }

    /// Waits for the pod's `PodScheduled=False` condition; returns (reason, message).
    async fn unschedulable(&self, name: &str) -> Result<(String, String)> {
        scheduling::unschedulable(&self.pods(), name).await
    }

    /// Waits until the pod's unschedulable message is `expected`.
    async fn message_becomes(&self, name: &str, expected: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (reason, message) = self.unschedulable(name).await?;
            if message == expected {
                ensure!(reason == "Unschedulable", "{reason}");
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("pod {name}: message {message:?}, wanted {expected:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `kubectl describe pod` shows every one of `needles`.
    async fn described_shows(&self, name: &str, needles: &[&str]) -> Result<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.server.kubectl_ok(&["describe", "pod", name])?;
            if needles.iter().all(|n| out.contains(n)) {
                return Ok(out);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("describe pod {name} lacks one of {needles:?}:\n{out}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test]
async fn requests_must_fit_and_unschedulable_pods_say_why() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    cluster.node("small", "1", json!({})).await?;
    cluster.node("big", "4", json!({})).await?;
    cluster.run_scheduler();
    cluster.pod("two", "2", json!({}), json!({})).await?;
    ensure!(
        cluster.bound("two").await? == "big",
        "a 2-CPU pod fits only the big node"
    );
    // init containers count at their maximum: 3 CPUs for a moment, more than `big` has left.
    cluster
        .pod(
            "init",
            "100m",
            json!({}),
            json!({"initContainers": [{"name": "i", "image": "busybox", "resources": {"requests": {"cpu": "3"}}}]}),
        )
        .await?;
    let expected = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are \
        available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful \
        for scheduling.";
    cluster.message_becomes("init", expected).await?;
    let described = cluster
        .described_shows("init", &["FailedScheduling", "default-scheduler", expected])
        .await?;
    ensure!(described.contains("PodScheduled"), "{described}");
    ensure!(described.contains("Warning"), "{described}");
    // A node that fits arrives: the unschedulable pod is retried and lands there.
    cluster.node("bigger", "8", json!({})).await?;
    ensure!(cluster.bound("init").await? == "bigger");
    cluster
        .described_shows(
            "init",
            &["Scheduled", "Successfully assigned default/init to bigger"],
        )
        .await?;
    // The pod count is capacity too.
    cluster
        .node(
            "tiny",
            "64",
            json!({"pods": "1", "labels": {"only": "tiny"}}),
        )
        .await?;
    for name in ["p1", "p2"] {
        cluster
            .pod(
                name,
                "10m",
                json!({}),
                json!({"nodeSelector": {"only": "tiny"}}),
            )
            .await?;
    }
    let mut placed = 0;
    for name in ["p1", "p2"] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if cluster.node_of(name).await?.is_some() {
                placed += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    ensure!(placed == 1, "one pod slot, {placed} placed");
    Ok(())
}

#[tokio::test]
async fn taints_cordons_and_node_affinity() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    cluster
        .node(
            "gpu",
            "4",
            json!({"labels": {"accel": "gpu", "cores": "16"},
                "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}),
        )
        .await?;
    cluster
        .node(
            "cordoned",
            "4",
            json!({"labels": {"cores": "8"}, "spec": {"unschedulable": true}}),
        )
        .await?;
    cluster
        .node("plain", "4", json!({"labels": {"cores": "4"}}))
        .await?;
    cluster.run_scheduler();
    for i in 0..3 {
        let name = format!("plain-{i}");
        cluster.pod(&name, "100m", json!({}), json!({})).await?;
        ensure!(
            cluster.bound(&name).await? == "plain",
            "untolerated taint and cordon"
        );
    }
    cluster
        .pod(
            "tolerant",
            "100m",
            json!({}),
            json!({"nodeSelector": {"accel": "gpu"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]}),
        )
        .await?;
    ensure!(cluster.bound("tolerant").await? == "gpu");
    cluster
        .pod(
            "intolerant",
            "100m",
            json!({}),
            json!({"nodeSelector": {"accel": "gpu"}}),
        )
        .await?;
    cluster
        .message_becomes(
            "intolerant",
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 \
             node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable. \
             preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        )
        .await?;
    // Tolerating the cordon taint opens the cordoned node; Gt picks it among the rest.
    cluster
        .pod(
            "cordon-ok",
            "100m",
            json!({}),
            json!({"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["5"]}]}]}}}}),
        )
        .await?;
    ensure!(cluster.bound("cordon-ok").await? == "cordoned");
    cluster
        .pod(
            "by-name",
            "100m",
            json!({}),
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["plain"]}]}]}}}}),
        )
        .await?;
    cluster
        .message_becomes(
            "by-name",
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 \
             node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable. \
             preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        )
        .await?;
    // Uncordoning the node is a node update: the waiting pod is retried and lands there.
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    nodes
        .patch(
            "cordoned",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"unschedulable": false}})),
        )
        .await?;
    ensure!(cluster.bound("by-name").await? == "cordoned");
    Ok(())
}

async fn zone_cluster() -> Result<Cluster> {
    let mut cluster = Cluster::start().await?;
    for (name, zone) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
        cluster
            .node(
                name,
                "8",
                json!({"labels": {"topology.kubernetes.io/zone": zone}}),
            )
            .await?;
    }
    cluster.run_scheduler();
    Ok(cluster)
}

#[tokio::test]
async fn pod_anti_affinity_and_affinity() -> Result<()> {
    let cluster = zone_cluster().await?;
    let anti = |key: &str| {
        json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": key}]}}})
    };
    let mut zones = Vec::new();
    for name in ["db-0", "db-1"] {
        cluster
            .pod(
                name,
                "100m",
                json!({"app": "db"}),
                anti("topology.kubernetes.io/zone"),
            )
            .await?;
        let node = cluster.bound(name).await?;
        zones.push(node.chars().next().context("node name")?);
    }
    zones.sort_unstable();
    ensure!(zones == ['a', 'b'], "one db per zone: {zones:?}");
    cluster
        .pod(
            "db-2",
            "100m",
            json!({"app": "db"}),
            anti("topology.kubernetes.io/zone"),
        )
        .await?;
    cluster
        .message_becomes(
            "db-2",
            // The placed pods carry the same term, so theirs is the first rule broken.
            "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules. \
             preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
        )
        .await?;
    // The incoming pod's own rule, when placed pods have none.
    cluster
        .pod("solo", "100m", json!({"app": "solo"}), json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "db"}},
                "topologyKey": "topology.kubernetes.io/zone"}]}}}))
        .await?;
    cluster
        .message_becomes(
            "solo",
            "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: \
             0/3 nodes are available: 3 No preemption victims found for incoming pod.",
        )
        .await?;
    // Required affinity: follow the cache pod's host.
    cluster
        .pod("cache", "100m", json!({"app": "cache"}), json!({}))
        .await?;
    let cache_node = cluster.bound("cache").await?;
    for name in ["web-0", "web-1"] {
        cluster
            .pod(
                name,
                "100m",
                json!({"app": "web"}),
                json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}]}}}),
            )
            .await?;
        ensure!(
            cluster.bound(name).await? == cache_node,
            "{name} follows the cache pod"
        );
    }
    Ok(())
}

#[tokio::test]
async fn topology_spread_across_zones() -> Result<()> {
    let cluster = zone_cluster().await?;
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "spread"}}}]});
    let mut per_zone: BTreeMap<char, usize> = BTreeMap::new();
    for i in 0..6 {
        let name = format!("spread-{i}");
        cluster
            .pod(&name, "100m", json!({"app": "spread"}), spread.clone())
            .await?;
        let node = cluster.bound(&name).await?;
        *per_zone
            .entry(node.chars().next().context("node name")?)
            .or_default() += 1;
        let counts: Vec<usize> = per_zone.values().copied().collect();
        let (max, min) = (
            counts.iter().max().copied().unwrap_or(0),
            if per_zone.len() < 2 {
                0
            } else {
                counts.iter().min().copied().unwrap_or(0)
            },
        );
        ensure!(max - min <= 1, "skew above 1 after {name}: {per_zone:?}");
    }
    ensure!(
        per_zone.get(&'a') == Some(&3) && per_zone.get(&'b') == Some(&3),
        "{per_zone:?}"
    );
    // Without the zone label a node cannot take part.
    cluster
        .node("bare", "8", json!({"labels": {"only": "bare"}}))
        .await?;
    let mut pinned = spread.clone();
    pinned["nodeSelector"] = json!({"only": "bare"});
    cluster
        .pod("pinned", "100m", json!({"app": "spread"}), pinned)
        .await?;
    cluster
        .message_becomes(
            "pinned",
            "0/4 nodes are available: 1 node(s) didn't match pod topology spread constraints \
             (missing required label), 3 node(s) didn't match Pod's node affinity/selector. \
             preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn host_ports_conflict() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    cluster.node("n1", "4", json!({})).await?;
    cluster.node("n2", "4", json!({})).await?;
    cluster.run_scheduler();
    let port = json!({"containers": [{"name": "c", "image": "nginx",
        "ports": [{"containerPort": 80, "hostPort": 8080}]}]});
    let mut nodes = Vec::new();
    for name in ["hp-0", "hp-1"] {
        cluster.pod(name, "0", json!({}), port.clone()).await?;
        nodes.push(cluster.bound(name).await?);
    }
    nodes.sort();
    ensure!(
        nodes == ["n1", "n2"],
        "one host port 8080 per node: {nodes:?}"
    );
    cluster.pod("hp-2", "0", json!({}), port).await?;
    cluster
        .message_becomes(
            "hp-2",
            "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod \
             ports. preemption: 0/2 nodes are available: 2 No preemption victims found for \
             incoming pod.",
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn priority_orders_the_queue_and_preempts() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    let classes: Api<PriorityClass> = Api::all(cluster.client.clone());
    for (name, value) in [("high", 1000), ("urgent", 5000)] {
        classes
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": name}, "value": value}))?,
            )
            .await?;
    }
    cluster.node("only", "1", json!({})).await?;
    // Both pods wait before the scheduler starts; the older one has the lower priority.
    cluster.pod("low", "600m", json!({}), json!({})).await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    cluster
        .pod(
            "important",
            "600m",
            json!({}),
            json!({"priorityClassName": "high"}),
        )
        .await?;
    cluster.run_scheduler();
    ensure!(
        cluster.bound("important").await? == "only",
        "higher priority first"
    );
    let (reason, message) = cluster.unschedulable("low").await?;
    ensure!(reason == "Unschedulable", "{reason}");
    ensure!(
        message.starts_with("0/1 nodes are available: 1 Insufficient cpu."),
        "{message}"
    );
    // A more urgent pod preempts the important one and is nominated to its node.
    cluster
        .pod(
            "urgent",
            "600m",
            json!({}),
            json!({"priorityClassName": "urgent"}),
        )
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let urgent = cluster.pods().get("urgent").await?;
        let nominated = urgent.status.and_then(|s| s.nominated_node_name);
        if nominated.as_deref() == Some("only") {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "urgent was never nominated"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let victim = cluster.pods().get_opt("important").await?;
    if let Some(victim) = victim {
        ensure!(
            victim.metadata.deletion_timestamp.is_some(),
            "victim not deleted"
        );
        let disrupted = victim
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .into_iter()
            .any(|c| {
                c.type_ == "DisruptionTarget"
                    && c.reason.as_deref() == Some("PreemptionByScheduler")
            });
        ensure!(disrupted, "victim lacks the DisruptionTarget condition");
    }
    let events = cluster.server.kubectl_ok(&[
        "get",
        "events",
        "--field-selector",
        "reason=Preempted",
        "-o",
        "name",
    ])?;
    ensure!(!events.trim().is_empty(), "no Preempted event");
    // With no kubelet to finish the victim's graceful deletion, finish it here: the freed
    // room goes to the nominated pod, not to the older, lower-priority one.
    if cluster.pods().get_opt("important").await?.is_some() {
        cluster
            .pods()
            .delete(
                "important",
                &kube::api::DeleteParams::default().grace_period(0),
            )
            .await?;
    }
    ensure!(cluster.bound("urgent").await? == "only");
    ensure!(cluster.node_of("low").await?.is_none(), "low took the room");
    Ok(())
}

#[tokio::test]
async fn the_server_runs_a_leader_elected_scheduler() -> Result<()> {
    let server = ServerProcess::start(Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let cluster = Cluster {
        server,
        client,
        scheduler: None,
    };
    cluster.node("node-1", "2", json!({})).await?;
    cluster.pod("web", "100m", json!({}), json!({})).await?;
    ensure!(cluster.bound("web").await? == "node-1");
    let holder = cluster.server.kubectl_ok(&[
        "get",
        "lease",
        "-n",
        "kube-system",
        "kube-scheduler",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ])?;
    ensure!(!holder.trim().is_empty(), "no kube-scheduler lease holder");
    Ok(())
}

/// Kills the child process when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_scheduler_subcommand_binds_pods() -> Result<()> {
    let cluster = Cluster::start().await?;
    let kubeconfig = cluster.server.kubeconfig();
    let _scheduler = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube"))
            .args(["scheduler", "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--no-leader-elect")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    // No node yet: the pod waits, saying so, and is retried when a node is added.
    cluster.pod("web", "100m", json!({}), json!({})).await?;
    cluster
        .message_becomes("web", "no nodes available to schedule pods")
        .await?;
    cluster.node("node-1", "2", json!({})).await?;
    ensure!(cluster.bound("web").await? == "node-1");
    Ok(())
}

#[tokio::test]
async fn scores_pick_the_preferred_node() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    let group = |g: &str| json!({"labels": {"group": g}});
    cluster.node("aff-no", "4", group("affinity")).await?;
    cluster
        .node(
            "aff-yes",
            "4",
            json!({"labels": {"group": "affinity", "disk": "ssd"}}),
        )
        .await?;
    cluster
        .node(
            "soft-tainted",
            "4",
            json!({"labels": {"group": "taint"},
                "spec": {"taints": [{"key": "flaky", "value": "yes", "effect": "PreferNoSchedule"}]}}),
        )
        .await?;
    cluster.node("soft-clean", "4", group("taint")).await?;
    cluster.node("busy", "4", group("load")).await?;
    cluster.node("idle", "4", group("load")).await?;
    cluster.node("near", "4", group("pods")).await?;
    cluster.node("far", "4", group("pods")).await?;
    // Pods already bound (no scheduler involved) that the scores must take into account.
    cluster
        .pod("hog", "3", json!({}), json!({"nodeName": "busy"}))
        .await?;
    cluster
        .pod(
            "cache",
            "0",
            json!({"app": "cache"}),
            json!({"nodeName": "near"}),
        )
        .await?;
    cluster.run_scheduler();
    let selector = |g: &str| json!({"nodeSelector": {"group": g}});
    let mut spec = selector("affinity");
    spec["affinity"] = json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}});
    cluster.pod("prefers-ssd", "100m", json!({}), spec).await?;
    ensure!(
        cluster.bound("prefers-ssd").await? == "aff-yes",
        "NodeAffinity preference"
    );
    cluster
        .pod("avoids-taint", "100m", json!({}), selector("taint"))
        .await?;
    ensure!(
        cluster.bound("avoids-taint").await? == "soft-clean",
        "PreferNoSchedule"
    );
    cluster
        .pod("spreads-load", "500m", json!({}), selector("load"))
        .await?;
    ensure!(
        cluster.bound("spreads-load").await? == "idle",
        "LeastAllocated"
    );
    let mut spec = selector("pods");
    spec["affinity"] = json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "cache"}},
            "topologyKey": "kubernetes.io/hostname"}}]}});
    cluster.pod("near-cache", "100m", json!({}), spec).await?;
    ensure!(
        cluster.bound("near-cache").await? == "near",
        "InterPodAffinity preference"
    );
    Ok(())
}

#[tokio::test]
async fn assumed_pods_count_before_their_bindings_land() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    cluster.node("n", "1", json!({})).await?;
    // All pods wait before the scheduler starts, so they go through back to back.
    for i in 0..15 {
        cluster
            .pod(&format!("p-{i}"), "100m", json!({}), json!({}))
            .await?;
    }
    cluster.run_scheduler();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let pods = cluster.pods().list(&Default::default()).await?;
        let bound = pods
            .items
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
            .count();
        let refused = pods
            .items
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| {
                        c.iter().any(|c| {
                            c.type_ == "PodScheduled"
                                && c.status == "False"
                                && c.message.as_deref().is_some_and(|m| {
                                    m.starts_with("0/1 nodes are available: 1 Insufficient cpu.")
                                })
                        })
                    })
            })
            .count();
        ensure!(bound <= 10, "{bound} pods of 100m bound on a 1-CPU node");
        if bound == 10 && refused == 5 {
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "{bound} bound, {refused} refused"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn claims_must_exist_and_bound_volumes_pin_nodes() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    cluster.node("a", "4", json!({})).await?;
    cluster.node("b", "4", json!({})).await?;
    cluster.run_scheduler();
    let volume = |claim: &str| json!({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]});
    cluster
        .pod("needs-claim", "100m", json!({}), volume("pinned"))
        .await?;
    cluster
        .message_becomes(
            "needs-claim",
            "0/2 nodes are available: persistentvolumeclaim \"pinned\" not found. preemption: 0/2 \
             nodes are available: 2 Preemption is not helpful for scheduling.",
        )
        .await?;
    let client = cluster.client.clone();
    let volumes: Api<k8s_openapi::api::core::v1::PersistentVolume> = Api::all(client.clone());
    volumes
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "pv-b"},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "", "hostPath": {"path": "/tmp/pv-b"},
                    "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["b"]}]}]}}},
            }))?,
        )
        .await?;
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        Api::namespaced(client, "default");
    for (name, volume_name) in [("pending", None), ("pinned", Some("pv-b"))] {
        let mut spec = json!({"accessModes": ["ReadWriteOnce"], "storageClassName": "",
            "resources": {"requests": {"storage": "1Gi"}}});
        if let Some(v) = volume_name {
            spec["volumeName"] = json!(v);
        }
        claims
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec}))?,
            )
            .await?;
    }
    // The claim arriving lets the pod in, on the node its volume allows.
    ensure!(
        cluster.bound("needs-claim").await? == "b",
        "PV node affinity"
    );
    cluster
        .pod("unbound", "100m", json!({}), volume("pending"))
        .await?;
    cluster
        .message_becomes(
            "unbound",
            "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn extended_resources_are_counted() -> Result<()> {
    let mut cluster = Cluster::start().await?;
    cluster.node("plain", "8", json!({})).await?;
    cluster
        .node("gpu", "8", json!({"resources": {"example.com/gpu": "2"}}))
        .await?;
    cluster.run_scheduler();
    let gpu = json!({"containers": [{"name": "c", "image": "cuda",
        "resources": {"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "1"}}}]});
    for name in ["g-0", "g-1"] {
        cluster.pod(name, "0", json!({}), gpu.clone()).await?;
        ensure!(
            cluster.bound(name).await? == "gpu",
            "{name} needs the GPU node"
        );
    }
    cluster.pod("g-2", "0", json!({}), gpu).await?;
    cluster
        .message_becomes(
            "g-2",
            "0/2 nodes are available: 2 Insufficient example.com/gpu. preemption: 0/2 nodes are \
             available: 1 No preemption victims found for incoming pod, 1 Preemption is not \
             helpful for scheduling.",
        )
        .await?;
    Ok(())
}
