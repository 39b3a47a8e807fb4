//! The DaemonSet controller against a real API server, with the controller manager run in
//! the test. The test plays the scheduler and the kubelet: it binds each daemon pod to the
//! node its required `metadata.name` affinity names (the controller leaves `nodeName`
//! unset, as upstream does since 1.12), reports it Running and Ready, and finishes pods
//! being deleted. Status, rollouts and history are checked with stock kubectl.

#[path = "support/kubelet.rs"]
mod kubelet;
#[path = "support/manager.rs"]
mod manager;

use manager::{eventually, Cluster};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use ferrokube_controllers::{ManagerOptions, NodeTiming};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

impl Cluster {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    fn daemon_sets(&self) -> Api<DaemonSet> {
        Api::namespaced(self.client.clone(), "default")
    }

    fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }
}

async fn cluster() -> Result<Cluster> {
    Cluster::start(ManagerOptions {
        // The test's nodes send no heartbeats; they must not turn unreachable.
        node_timing: NodeTiming {
            grace_period: Duration::from_secs(3600),
            monitor_period: Duration::from_secs(5),
        },
        ..ManagerOptions::default()
    })
    .await
}

async fn add_node(cluster: &Cluster, name: &str, labels: Value, taints: Value) -> Result<()> {
    let node: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"taints": taints},
    }))?;
    cluster
        .nodes()
        .create(&PostParams::default(), &node)
        .await?;
    Ok(())
}

fn daemon_set(strategy: Value, node_selector: Value) -> Result<DaemonSet> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "updateStrategy": strategy,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"nodeSelector": node_selector,
                         "containers": [{"name": "web", "image": "nginx:1.25"}]},
            },
        },
    }))?)
}

/// The node a daemon pod's required affinity names (`metadata.name In [node]`).
fn affinity_node(pod: &Pod) -> Option<String> {
    let value = serde_json::to_value(pod.spec.as_ref()?.affinity.as_ref()?).ok()?;
    let terms = value
        .pointer("/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")?
        .as_array()?
        .clone();
    match terms.as_slice() {
        [term] => {
            let fields = term.get("matchFields")?.as_array()?;
            match fields.as_slice() {
                [field]
                    if field["key"] == "metadata.name"
                        && field["operator"] == "In"
                        && field["values"].as_array().map(Vec::len) == Some(1) =>
                {
                    field["values"][0].as_str().map(str::to_owned)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.node_name.as_deref()
}

fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

fn label(pod: &Pod, key: &str) -> Option<String> {
    pod.labels().get(key).cloned()
}

fn image(pod: &Pod) -> Option<String> {
    pod.spec.as_ref()?.containers.first()?.image.clone()
}

/// Live (not deleting) pods controlled by the object with `uid`.
async fn daemon_pods(pods: &Api<Pod>, uid: &str) -> Result<Vec<Pod>> {
    Ok(pods
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| {
            pod.owner_references()
                .iter()
                .any(|owner| owner.uid == uid && owner.controller == Some(true))
        })
        .collect())
}

/// Live daemon pods by the node their affinity names.
async fn pods_by_node(pods: &Api<Pod>, uid: &str) -> Result<BTreeMap<String, Pod>> {
    let mut found = BTreeMap::new();
    for pod in daemon_pods(pods, uid).await? {
        let node = affinity_node(&pod).context("daemon pod without a node affinity")?;
        if found.insert(node.clone(), pod).is_some() {
            bail!("two live daemon pods for node {node}");
        }
    }
    Ok(found)
}

/// The scheduler and kubelet the test plays.
struct Agent {
    task: tokio::task::JoinHandle<()>,
    /// Pods that already had a node name when first seen (the controller must not set it).
    prebound: Arc<Mutex<Vec<String>>>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bind_and_run(pods: Api<Pod>, pod: Pod) {
    let name = pod.name_any();
    let Some(node) = affinity_node(&pod) else {
        return;
    };
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node}});
    let bound = pods
        .create_subresource::<Value, Value>("binding", &name, &PostParams::default(), &binding)
        .await;
    if bound.is_err() {
        return;
    }
    // Starting takes a moment, during which the node has no available daemon pod.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A pod deleted meanwhile is no error for a kubelet.
    let _ = kubelet::run(&pods, &name, Timestamp::now()).await;
}

/// Binds new pods to the node their affinity names and runs them; finishes pods being
/// deleted on their node.
fn agent(client: Client) -> Agent {
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let prebound = Arc::new(Mutex::new(Vec::new()));
    let seen_prebound = Arc::clone(&prebound);
    let task = tokio::spawn(async move {
        let mut seen = HashSet::new();
        let mut finishing = HashSet::new();
        let events = watcher(pods.clone(), watcher::Config::default());
        futures::pin_mut!(events);
        while let Some(event) = events.next().await {
            let pod = match event {
                Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => pod,
                _ => continue,
            };
            let Some(uid) = pod.uid() else { continue };
            let first = seen.insert(uid.clone());
            if first && node_name(&pod).is_some() {
                if let Ok(mut prebound) = seen_prebound.lock() {
                    prebound.push(pod.name_any());
                }
            }
            if pod.metadata.deletion_timestamp.is_some() {
                if node_name(&pod).is_some() && finishing.insert(uid) {
                    let (pods, name) = (pods.clone(), pod.name_any());
                    tokio::spawn(async move {
                        let _ = pods
                            .delete(&name, &DeleteParams::default().grace_period(0))
                            .await;
                    });
                }
                continue;
            }
            if first && node_name(&pod).is_none() {
                tokio::spawn(bind_and_run(pods.clone(), pod));
            }
        }
    });
    Agent { task, prebound }
}

/// `kubectl get ds <name>`'s numeric columns: DESIRED CURRENT READY UP-TO-DATE AVAILABLE.
fn get_ds_columns(cluster: &Cluster, name: &str) -> Result<Vec<String>> {
    let out = cluster.kubectl(&["get", "ds", name])?;
    let mut lines = out.lines();
    let header: Vec<&str> = lines
        .next()
        .context("no header")?
        .split_whitespace()
        .collect();
    ensure!(
        header.starts_with(&[
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE"
        ]),
        "unexpected header: {out}"
    );
    let row: Vec<String> = lines
        .next()
        .context("no row")?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    ensure!(row.first().map(String::as_str) == Some(name), "{out}");
    Ok(row.into_iter().skip(1).take(5).collect())
}

async fn wait_columns(cluster: &Cluster, expected: [&str; 5]) -> Result<()> {
    eventually(&format!("kubectl get ds showing {expected:?}"), 30, || {
        let columns = get_ds_columns(cluster, "web");
        async move { Ok((columns? == expected).then_some(())) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_pod_per_eligible_node_following_nodes_and_tolerations() -> Result<()> {
    let cluster = cluster().await?;
    let agent = agent(cluster.client.clone());
    let (pods, sets) = (cluster.pods(), cluster.daemon_sets());
    add_node(&cluster, "node-a", json!({"role": "web"}), json!([])).await?;
    add_node(
        &cluster,
        "node-b",
        json!({"role": "web"}),
        json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
    )
    .await?;
    add_node(&cluster, "node-c", json!({"role": "db"}), json!([])).await?;
    let ds = sets
        .create(
            &PostParams::default(),
            &daemon_set(
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
                json!({"role": "web"}),
            )?,
        )
        .await?;
    let uid = ds.uid().context("uid")?;

    // Only node-a: node-b's taint is not tolerated, node-c is not selected.
    let placed = eventually("a ready pod on node-a only", 30, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let placed = pods_by_node(&pods, &uid).await?;
            let done = placed.keys().eq(["node-a"]) && placed.values().all(ready);
            Ok(done.then_some(placed))
        }
    })
    .await?;
    let pod = placed.get("node-a").context("pod on node-a")?;
    let owner = pod.owner_references().first().cloned().context("owner")?;
    ensure!(
        (
            owner.kind.as_str(),
            owner.name.as_str(),
            owner.block_owner_deletion
        ) == ("DaemonSet", "web", Some(true)),
        "unexpected owner: {owner:?}"
    );
    ensure!(pod.metadata.generate_name.as_deref() == Some("web-"));
    ensure!(label(pod, "controller-revision-hash").is_some_and(|h| !h.is_empty()));
    let tolerations: Vec<(String, String)> = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.tolerations.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.effect.unwrap_or_default()))
        .collect();
    for (key, effect) in [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ] {
        ensure!(
            tolerations.contains(&(key.to_owned(), effect.to_owned())),
            "missing default toleration {key}:{effect} in {tolerations:?}"
        );
    }
    ensure!(
        !tolerations
            .iter()
            .any(|(key, _)| key == "node.kubernetes.io/network-unavailable"),
        "network-unavailable is only for host-network pods"
    );
    wait_columns(&cluster, ["1", "1", "1", "1", "1"]).await?;
    let status = sets.get("web").await?.status.context("status")?;
    ensure!(
        status.number_misscheduled == 0
            && status.number_unavailable.unwrap_or(0) == 0
            && status.observed_generation == Some(1),
        "unexpected status: {status:?}"
    );

    // A failed daemon pod is deleted and replaced on the same node.
    let failed = pod.name_any();
    kubelet::fail(&pods, &failed, 1, Timestamp::now()).await?;
    eventually("the failed pod replaced", 30, || {
        let (pods, uid, failed) = (pods.clone(), uid.clone(), failed.clone());
        async move {
            let placed = pods_by_node(&pods, &uid).await?;
            let replaced = placed.keys().eq(["node-a"])
                && placed.values().all(|p| p.name_any() != failed && ready(p));
            Ok(replaced.then_some(()))
        }
    })
    .await?;
    ensure!(
        status.number_misscheduled == 0,
        "unexpected status: {status:?}"
    );

    // A new eligible node gets a pod.
    add_node(&cluster, "node-d", json!({"role": "web"}), json!([])).await?;
    eventually("a pod on node-d", 30, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let placed = pods_by_node(&pods, &uid).await?;
            Ok(placed.keys().eq(["node-a", "node-d"]).then_some(()))
        }
    })
    .await?;
    wait_columns(&cluster, ["2", "2", "2", "2", "2"]).await?;

    // A node labelled out of the selector loses its pod.
    cluster.kubectl(&["label", "node", "node-d", "role=db", "--overwrite"])?;
    eventually("node-d's pod deleted", 30, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let placed = pods_by_node(&pods, &uid).await?;
            Ok(placed.keys().eq(["node-a"]).then_some(()))
        }
    })
    .await?;
    wait_columns(&cluster, ["1", "1", "1", "1", "1"]).await?;

    // Tolerating node-b's taint makes it eligible (and rolls node-a's pod to the new
    // template).
    cluster.kubectl(&[
        "patch",
        "ds",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"template":{"spec":{"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]}}}}"#,
    ])?;
    let out = cluster.kubectl(&["rollout", "status", "daemonset/web", "--timeout=60s"])?;
    ensure!(
        out.contains("daemon set \"web\" successfully rolled out"),
        "unexpected rollout status: {out}"
    );
    let placed = pods_by_node(&pods, &uid).await?;
    ensure!(
        placed.keys().eq(["node-a", "node-b"]),
        "pods on {:?}",
        placed.keys()
    );
    wait_columns(&cluster, ["2", "2", "2", "2", "2"]).await?;

    let described = eventually("events in kubectl describe", 30, || {
        let out = cluster.kubectl(&["describe", "ds", "web"]);
        let failed_event = format!("Found failed daemon pod default/{failed} on node node-a");
        async move {
            let out = out?;
            Ok((out.contains("SuccessfulCreate")
                && out.contains("Created pod: web-")
                && out.contains("SuccessfulDelete")
                && out.contains("Deleted pod: web-")
                && out.contains("FailedDaemonPod")
                && out.contains(&failed_event))
            .then_some(out))
        }
    })
    .await?;
    ensure!(
        described.contains("daemonset-controller"),
        "events not reported by daemonset-controller:\n{described}"
    );
    let prebound = agent.prebound.lock().map(|p| p.clone()).unwrap_or_default();
    ensure!(
        prebound.is_empty(),
        "the controller set nodeName on {prebound:?}"
    );
    Ok(())
}

/// Per node, whether it has a ready daemon pod that is not being deleted, as a watch sees
/// it; records the most nodes seen without one once armed.
#[derive(Default)]
struct Availability {
    live: HashMap<String, Pod>,
    armed: bool,
    max_unavailable: usize,
    /// The most live (not deleting) pods seen on one node once armed.
    max_per_node: usize,
}

impl Availability {
    fn apply(&mut self, pod: Pod, deleted: bool, nodes: &[&str]) {
        let name = pod.name_any();
        if deleted {
            self.live.remove(&name);
        } else {
            self.live.insert(name, pod);
        }
        if !self.armed {
            return;
        }
        let available: HashSet<String> = self
            .live
            .values()
            .filter(|pod| pod.metadata.deletion_timestamp.is_none() && ready(pod))
            .filter_map(affinity_node)
            .collect();
        let unavailable = nodes.iter().filter(|n| !available.contains(**n)).count();
        self.max_unavailable = self.max_unavailable.max(unavailable);
        let mut per_node: HashMap<String, usize> = HashMap::new();
        for node in self
            .live
            .values()
            .filter(|pod| pod.metadata.deletion_timestamp.is_none())
            .filter_map(affinity_node)
        {
            *per_node.entry(node).or_default() += 1;
        }
        let most = per_node.values().copied().max().unwrap_or(0);
        self.max_per_node = self.max_per_node.max(most);
    }
}

fn watch_availability(
    client: Client,
    nodes: &'static [&'static str],
) -> (Arc<Mutex<Availability>>, tokio::task::JoinHandle<()>) {
    let log = Arc::new(Mutex::new(Availability::default()));
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let shared = Arc::clone(&log);
    let task = tokio::spawn(async move {
        let events = watcher(pods, watcher::Config::default().labels("app=web"));
        futures::pin_mut!(events);
        while let Some(event) = events.next().await {
            let Ok(mut log) = shared.lock() else { return };
            match event {
                Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => {
                    log.apply(pod, false, nodes)
                }
                Ok(watcher::Event::Delete(pod)) => log.apply(pod, true, nodes),
                _ => {}
            }
        }
    });
    (log, task)
}

/// The DaemonSet's revisions by number.
async fn revisions(cluster: &Cluster, uid: &str) -> Result<BTreeMap<i64, ControllerRevision>> {
    let api: Api<ControllerRevision> = Api::namespaced(cluster.client.clone(), "default");
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|r| r.owner_references().iter().any(|o| o.uid == uid))
        .map(|r| (r.revision, r))
        .collect())
}

fn revision_hash(revision: &ControllerRevision) -> Option<String> {
    revision.labels().get("controller-revision-hash").cloned()
}

async fn wait_images(pods: &Api<Pod>, uid: &str, wanted: &str, count: usize) -> Result<Vec<Pod>> {
    eventually(&format!("{count} ready pods of {wanted}"), 60, || {
        let (pods, uid) = (pods.clone(), uid.to_owned());
        async move {
            let live = daemon_pods(&pods, &uid).await?;
            let done = live.len() == count
                && live
                    .iter()
                    .all(|p| ready(p) && image(p).as_deref() == Some(wanted));
            Ok(done.then_some(live))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rolling_update_history_undo_and_on_delete() -> Result<()> {
    const NODES: &[&str] = &["node-1", "node-2", "node-3"];
    let cluster = cluster().await?;
    let _agent = agent(cluster.client.clone());
    let (pods, sets) = (cluster.pods(), cluster.daemon_sets());
    for node in NODES {
        add_node(&cluster, node, json!({}), json!([])).await?;
    }
    let ds = sets
        .create(
            &PostParams::default(),
            &daemon_set(
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
                json!({}),
            )?,
        )
        .await?;
    let uid = ds.uid().context("uid")?;
    let out = cluster.kubectl(&["rollout", "status", "daemonset/web", "--timeout=60s"])?;
    ensure!(
        out.contains("daemon set \"web\" successfully rolled out"),
        "unexpected rollout status: {out}"
    );
    let first = wait_images(&pods, &uid, "nginx:1.25", 3).await?;
    let first_names: HashSet<String> = first.iter().map(|p| p.name_any()).collect();
    let first_revisions = revisions(&cluster, &uid).await?;
    ensure!(
        first_revisions.keys().eq([&1]),
        "revisions: {:?}",
        first_revisions.keys()
    );
    let first_hash = first_revisions
        .get(&1)
        .and_then(revision_hash)
        .context("revision 1 hash")?;
    ensure!(first
        .iter()
        .all(|p| label(p, "controller-revision-hash").as_deref() == Some(first_hash.as_str())));

    // Roll to a new image, never with more than one node lacking an available pod.
    let (log, watch) = watch_availability(cluster.client.clone(), NODES);
    eventually("the availability watch to list the pods", 20, || {
        let log = Arc::clone(&log);
        async move {
            let Ok(mut log) = log.lock() else {
                bail!("poisoned")
            };
            let listed = log.live.len() == 3;
            log.armed = listed;
            Ok(listed.then_some(()))
        }
    })
    .await?;
    cluster.kubectl(&["set", "image", "daemonset/web", "web=nginx:1.27"])?;
    let out = cluster.kubectl(&["rollout", "status", "daemonset/web", "--timeout=60s"])?;
    ensure!(
        out.contains("daemon set \"web\" successfully rolled out"),
        "unexpected rollout status: {out}"
    );
    let second = wait_images(&pods, &uid, "nginx:1.27", 3).await?;
    watch.abort();
    // The API server keeps upstream's template generation: 1 at creation, bumped by the
    // new template, and the controller labels pods with it.
    let generation = sets
        .get("web")
        .await?
        .annotations()
        .get("deprecated.daemonset.template.generation")
        .cloned();
    ensure!(
        generation.as_deref() == Some("2"),
        "template generation after one template change: {generation:?}"
    );
    ensure!(
        second
            .iter()
            .all(|p| label(p, "pod-template-generation").as_deref() == Some("2")),
        "pods lack pod-template-generation=2"
    );
    let max_unavailable = log.lock().map(|l| l.max_unavailable).unwrap_or(usize::MAX);
    ensure!(
        max_unavailable == 1,
        "expected exactly one node at a time without an available pod, saw {max_unavailable}"
    );
    ensure!(
        second.iter().all(|p| !first_names.contains(&p.name_any())),
        "every pod should have been replaced"
    );
    let nodes: HashSet<Option<String>> = second.iter().map(affinity_node).collect();
    ensure!(nodes.len() == 3 && !nodes.contains(&None), "{nodes:?}");
    let status = sets.get("web").await?.status.context("status")?;
    ensure!(
        status.desired_number_scheduled == 3
            && status.current_number_scheduled == 3
            && status.number_ready == 3
            && status.updated_number_scheduled == Some(3)
            && status.number_available == Some(3)
            && status.observed_generation == Some(2),
        "unexpected status: {status:?}"
    );

    // Two revisions; kubectl lists them and shows the first one's template.
    let second_revisions = revisions(&cluster, &uid).await?;
    ensure!(second_revisions.keys().eq([&1, &2]));
    let history = cluster.kubectl(&["rollout", "history", "daemonset/web"])?;
    let numbers: Vec<&str> = history
        .lines()
        .skip_while(|line| !line.starts_with("REVISION"))
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    ensure!(numbers == ["1", "2"], "unexpected history:\n{history}");
    let shown = cluster.kubectl(&["rollout", "history", "daemonset/web", "--revision=1"])?;
    ensure!(shown.contains("nginx:1.25"), "revision 1 shows:\n{shown}");

    // Undo: the first template comes back as revision 3.
    let undo = cluster.kubectl(&["rollout", "undo", "daemonset/web"])?;
    ensure!(
        undo.contains("rolled back"),
        "unexpected undo output: {undo}"
    );
    cluster.kubectl(&["rollout", "status", "daemonset/web", "--timeout=60s"])?;
    let third = wait_images(&pods, &uid, "nginx:1.25", 3).await?;
    ensure!(third
        .iter()
        .all(|p| label(p, "controller-revision-hash").as_deref() == Some(first_hash.as_str())));
    let third_revisions = eventually("revision 1 renumbered 3", 30, || {
        let cluster = &cluster;
        let uid = uid.clone();
        async move {
            let found = revisions(cluster, &uid).await?;
            Ok(found.keys().eq([&2, &3]).then_some(found))
        }
    })
    .await?;
    ensure!(third_revisions.get(&3).and_then(revision_hash) == Some(first_hash.clone()));
    let history = cluster.kubectl(&["rollout", "history", "daemonset/web"])?;
    ensure!(
        history.contains("\n2 ") && history.contains("\n3 "),
        "{history}"
    );

    // A restart rolls every pod to a fourth revision.
    let before: HashSet<String> = third.iter().map(|p| p.name_any()).collect();
    let restarted = cluster.kubectl(&["rollout", "restart", "daemonset/web"])?;
    ensure!(restarted.contains("restarted"), "{restarted}");
    cluster.kubectl(&["rollout", "status", "daemonset/web", "--timeout=60s"])?;
    let fourth = eventually("every pod restarted", 60, || {
        let (pods, uid, before) = (pods.clone(), uid.clone(), before.clone());
        async move {
            let live = daemon_pods(&pods, &uid).await?;
            let done = live.len() == 3
                && live
                    .iter()
                    .all(|p| ready(p) && !before.contains(&p.name_any()));
            Ok(done.then_some(live))
        }
    })
    .await?;
    let latest = revisions(&cluster, &uid).await?;
    let fourth_hash = latest.get(&4).and_then(revision_hash);
    ensure!(
        fourth_hash.is_some()
            && fourth
                .iter()
                .all(|p| label(p, "controller-revision-hash") == fourth_hash),
        "pods not of revision 4: {:?}",
        latest.keys()
    );

    // OnDelete: a new template replaces pods only as they are deleted.
    cluster.kubectl(&[
        "patch",
        "ds",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null},"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}"#,
    ])?;
    let generation = sets
        .get("web")
        .await?
        .metadata
        .generation
        .context("generation")?;
    let status = eventually("the OnDelete template observed", 30, || {
        let sets = sets.clone();
        async move {
            let status = sets.get("web").await?.status.unwrap_or_default();
            Ok((status.observed_generation == Some(generation)).then_some(status))
        }
    })
    .await?;
    ensure!(
        status.updated_number_scheduled.unwrap_or(0) == 0,
        "no pod should be updated yet: {status:?}"
    );
    let live = daemon_pods(&pods, &uid).await?;
    ensure!(live
        .iter()
        .all(|p| label(p, "controller-revision-hash") == fourth_hash));
    let victim = live.first().context("a pod")?;
    let victim_node = affinity_node(victim);
    pods.delete(&victim.name_any(), &DeleteParams::default())
        .await?;
    let replacement = eventually("a replacement with the new image", 30, || {
        let (pods, uid, victim_node) = (pods.clone(), uid.clone(), victim_node.clone());
        async move {
            let live = daemon_pods(&pods, &uid).await?;
            Ok(live
                .into_iter()
                .find(|p| affinity_node(p) == victim_node && ready(p))
                .filter(|p| image(p).as_deref() == Some("nginx:1.28")))
        }
    })
    .await?;
    ensure!(replacement.metadata.deletion_timestamp.is_none());
    wait_columns(&cluster, ["3", "3", "3", "1", "3"]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn surge_update_keeps_every_node_available() -> Result<()> {
    const NODES: &[&str] = &["node-1", "node-2", "node-3"];
    let cluster = cluster().await?;
    let _agent = agent(cluster.client.clone());
    let (pods, sets) = (cluster.pods(), cluster.daemon_sets());
    for node in NODES {
        add_node(&cluster, node, json!({}), json!([])).await?;
    }
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    let ds = sets
        .create(&PostParams::default(), &daemon_set(strategy, json!({}))?)
        .await?;
    let uid = ds.uid().context("uid")?;
    cluster.kubectl(&["rollout", "status", "daemonset/web", "--timeout=60s"])?;
    wait_images(&pods, &uid, "nginx:1.25", 3).await?;
    let (log, watch) = watch_availability(cluster.client.clone(), NODES);
    eventually("the availability watch to list the pods", 20, || {
        let log = Arc::clone(&log);
        async move {
            let Ok(mut log) = log.lock() else {
                bail!("poisoned")
            };
            let listed = log.live.len() == 3;
            log.armed = listed;
            Ok(listed.then_some(()))
        }
    })
    .await?;
    cluster.kubectl(&["set", "image", "daemonset/web", "web=nginx:1.27"])?;
    let out = cluster.kubectl(&["rollout", "status", "daemonset/web", "--timeout=60s"])?;
    ensure!(
        out.contains("daemon set \"web\" successfully rolled out"),
        "unexpected rollout status: {out}"
    );
    wait_images(&pods, &uid, "nginx:1.27", 3).await?;
    watch.abort();
    let (max_unavailable, max_per_node) = log
        .lock()
        .map(|l| (l.max_unavailable, l.max_per_node))
        .unwrap_or((usize::MAX, 0));
    ensure!(
        max_unavailable == 0,
        "a node went without an available pod during a surge update ({max_unavailable})"
    );
    ensure!(
        max_per_node == 2,
        "the new pod should start next to the old one (most per node: {max_per_node})"
    );
    wait_columns(&cluster, ["3", "3", "3", "3", "3"]).await?;
    Ok(())
}
