//! The ReplicaSet, ReplicationController and Deployment controllers against a real API
//! server, with the controller manager run in the test and the test playing the kubelet
//! through `pods/status`; rollouts are driven and checked with stock kubectl.

#[path = "support/kubelet.rs"]
mod kubelet;
#[path = "support/manager.rs"]
mod manager;

use manager::{eventually, Cluster};

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_controllers::ManagerOptions;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

impl Cluster {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    fn replica_sets(&self) -> Api<ReplicaSet> {
        Api::namespaced(self.client.clone(), "default")
    }

    fn deployments(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), "default")
    }
}

async fn cluster() -> Result<Cluster> {
    Cluster::start(ManagerOptions::default()).await
}

fn template(app: &str, image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "web", "image": image}]},
    })
}

fn replica_set(name: &str, app: &str, replicas: i32) -> Result<ReplicaSet> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                 "template": template(app, "nginx:1.25")},
    }))?)
}

fn deployment(name: &str, replicas: i32, strategy: Value) -> Result<Deployment> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "strategy": strategy, "template": template(name, "nginx:1.25")},
    }))?)
}

/// Live (not deleting) pods controlled by the object with `uid`.
async fn owned_pods(pods: &Api<Pod>, uid: &str) -> Result<Vec<Pod>> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replica_set_keeps_exactly_n_pods_and_replaces_deleted_ones() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets) = (cluster.pods(), cluster.replica_sets());
    let rs = sets
        .create(&PostParams::default(), &replica_set("web", "web", 3)?)
        .await?;
    let uid = rs.uid().context("uid")?;
    let created = eventually("three pods", 20, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let owned = owned_pods(&pods, &uid).await?;
            Ok((owned.len() == 3).then_some(owned))
        }
    })
    .await?;
    // A burst of pod events must not create more than asked for.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = pods.list(&ListParams::default()).await?.items;
    if all.len() != 3 {
        bail!("expected exactly 3 pods, found {}", all.len());
    }
    for pod in &created {
        let owner = &pod.owner_references()[0];
        if (
            owner.kind.as_str(),
            owner.name.as_str(),
            owner.block_owner_deletion,
        ) != ("ReplicaSet", "web", Some(true))
            || !pod.name_any().starts_with("web-")
            || pod.metadata.generate_name.as_deref() != Some("web-")
        {
            bail!("unexpected pod metadata: {:?}", pod.metadata);
        }
        kubelet::run(&pods, &pod.name_any(), Timestamp::now()).await?;
    }
    eventually("status with three available replicas", 20, || {
        let sets = sets.clone();
        async move {
            let status = sets.get("web").await?.status.unwrap_or_default();
            Ok((status.replicas == 3
                && status.fully_labeled_replicas == Some(3)
                && status.ready_replicas == Some(3)
                && status.available_replicas == Some(3)
                && status.observed_generation == Some(1)
                && status.terminating_replicas == Some(0))
            .then_some(()))
        }
    })
    .await?;

    let victim = created[0].name_any();
    pods.delete(&victim, &DeleteParams::default()).await?;
    let replaced = eventually("a replacement pod", 20, || {
        let (pods, uid, victim) = (pods.clone(), uid.clone(), victim.clone());
        async move {
            let owned = owned_pods(&pods, &uid).await?;
            Ok((owned.len() == 3 && owned.iter().all(|p| p.name_any() != victim)).then_some(owned))
        }
    })
    .await?;
    if replaced.len() != 3 {
        bail!("expected 3 pods after the replacement");
    }

    cluster.kubectl(&["scale", "replicaset", "web", "--replicas=5"])?;
    eventually("five pods", 20, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move { Ok((owned_pods(&pods, &uid).await?.len() == 5).then_some(())) }
    })
    .await?;
    let described = eventually("events in kubectl describe", 20, || {
        let out = cluster.kubectl(&["describe", "replicaset", "web"]);
        async move {
            let out = out?;
            Ok(
                (out.contains("SuccessfulCreate") && out.contains("Created pod: web-"))
                    .then_some(out),
            )
        }
    })
    .await?;
    if !described.contains("replicaset-controller") {
        bail!("events not reported by replicaset-controller:\n{described}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scaling_down_deletes_pods_earlier_in_their_life_first() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets) = (cluster.pods(), cluster.replica_sets());
    let rs = sets
        .create(&PostParams::default(), &replica_set("web", "web", 4)?)
        .await?;
    let uid = rs.uid().context("uid")?;
    let created = eventually("four pods", 20, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let owned = owned_pods(&pods, &uid).await?;
            Ok((owned.len() == 4).then_some(owned))
        }
    })
    .await?;
    let names: Vec<String> = created.iter().map(|p| p.name_any()).collect();
    // Two ready, one running but not ready, one still pending.
    kubelet::run(&pods, &names[0], Timestamp::now()).await?;
    kubelet::run(&pods, &names[1], Timestamp::now()).await?;
    kubelet::run_unready(&pods, &names[2], Timestamp::now()).await?;
    eventually("two ready replicas", 20, || {
        let sets = sets.clone();
        async move {
            let status = sets.get("web").await?.status.unwrap_or_default();
            Ok((status.ready_replicas == Some(2)).then_some(()))
        }
    })
    .await?;
    sets.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 2}})),
    )
    .await?;
    let left = eventually("two pods left", 20, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let owned = owned_pods(&pods, &uid).await?;
            Ok((owned.len() == 2).then_some(owned))
        }
    })
    .await?;
    let mut kept: Vec<String> = left.iter().map(|p| p.name_any()).collect();
    kept.sort();
    let mut wanted = vec![names[0].clone(), names[1].clone()];
    wanted.sort();
    if kept != wanted {
        bail!("kept {kept:?}, expected the ready pods {wanted:?}");
    }
    let described = cluster.kubectl(&["describe", "replicaset", "web"])?;
    if !described.contains("SuccessfulDelete") {
        bail!("no SuccessfulDelete event:\n{described}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adopts_matching_orphans_and_releases_pods_that_stop_matching() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets) = (cluster.pods(), cluster.replica_sets());
    let stray: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "stray", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
    }))?;
    pods.create(&PostParams::default(), &stray).await?;
    let rs = sets
        .create(&PostParams::default(), &replica_set("web", "web", 2)?)
        .await?;
    let uid = rs.uid().context("uid")?;
    let owned = eventually("the orphan adopted and one pod created", 20, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let owned = owned_pods(&pods, &uid).await?;
            Ok(
                (owned.len() == 2 && owned.iter().any(|p| p.name_any() == "stray"))
                    .then_some(owned),
            )
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let total = pods.list(&ListParams::default()).await?.items.len();
    if total != 2 {
        bail!("adoption should have saved a pod: {total} pods exist");
    }
    let created = owned
        .iter()
        .find(|p| p.name_any() != "stray")
        .map(|p| p.name_any())
        .context("created pod")?;

    // Relabelled, the pod stops matching: released and replaced.
    pods.patch(
        &created,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "other"}}})),
    )
    .await?;
    eventually("the relabelled pod released and replaced", 20, || {
        let (pods, uid, created) = (pods.clone(), uid.clone(), created.clone());
        async move {
            let released = pods.get(&created).await?;
            let owned = owned_pods(&pods, &uid).await?;
            Ok((released.owner_references().is_empty()
                && owned.len() == 2
                && owned
                    .iter()
                    .all(|p| label(p, "app").as_deref() == Some("web")))
            .then_some(()))
        }
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replication_controller_keeps_its_replicas() -> Result<()> {
    let cluster = cluster().await?;
    let pods = cluster.pods();
    let controllers: Api<ReplicationController> =
        Api::namespaced(cluster.client.clone(), "default");
    let rc: ReplicationController = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "legacy"},
        "spec": {"replicas": 2, "selector": {"app": "legacy"},
                 "template": template("legacy", "nginx:1.25")},
    }))?;
    let rc = controllers.create(&PostParams::default(), &rc).await?;
    let uid = rc.uid().context("uid")?;
    let owned = eventually("two pods", 20, || {
        let (pods, uid) = (pods.clone(), uid.clone());
        async move {
            let owned = owned_pods(&pods, &uid).await?;
            Ok((owned.len() == 2).then_some(owned))
        }
    })
    .await?;
    if owned
        .iter()
        .any(|pod| pod.owner_references()[0].kind != "ReplicationController")
    {
        bail!("pods not owned by the ReplicationController");
    }
    for pod in &owned {
        kubelet::run(&pods, &pod.name_any(), Timestamp::now()).await?;
    }
    eventually("the status", 20, || {
        let controllers = controllers.clone();
        async move {
            let status = controllers.get("legacy").await?.status.unwrap_or_default();
            Ok((status.replicas == 2 && status.available_replicas == Some(2)).then_some(()))
        }
    })
    .await?;
    Ok(())
}

/// Pods of one app as a watch sees them, event by event.
#[derive(Default)]
struct PodLog {
    live: HashMap<String, Pod>,
    /// The fewest ready pods seen once `armed`.
    min_ready: Option<usize>,
    armed: bool,
    /// Live pods of `old_hash` when each pod of another template first appeared.
    old_when_new: Vec<usize>,
    old_hash: Option<String>,
}

impl PodLog {
    fn apply(&mut self, pod: Pod, deleted: bool) {
        let name = pod.name_any();
        let gone = deleted || pod.metadata.deletion_timestamp.is_some();
        let hash = label(&pod, "pod-template-hash");
        if !gone
            && !self.live.contains_key(&name)
            && self.old_hash.is_some()
            && hash != self.old_hash
        {
            let old = self
                .live
                .values()
                .filter(|p| label(p, "pod-template-hash") == self.old_hash)
                .count();
            self.old_when_new.push(old);
        }
        if gone {
            self.live.remove(&name);
        } else {
            self.live.insert(name, pod);
        }
        if self.armed {
            let count = self.live.values().filter(|p| ready(p)).count();
            self.min_ready = Some(self.min_ready.map_or(count, |min| min.min(count)));
        }
    }
}

/// Follows the pods labelled `app=<app>` into a shared [`PodLog`].
fn watch_pods(client: Client, app: &str) -> (Arc<Mutex<PodLog>>, tokio::task::JoinHandle<()>) {
    let log = Arc::new(Mutex::new(PodLog::default()));
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let config = watcher::Config::default().labels(&format!("app={app}"));
    let shared = Arc::clone(&log);
    let task = tokio::spawn(async move {
        let events = watcher(pods, config);
        futures::pin_mut!(events);
        while let Some(event) = events.next().await {
            let Ok(mut log) = shared.lock() else { return };
            match event {
                Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => {
                    log.apply(pod, false)
                }
                Ok(watcher::Event::Delete(pod)) => log.apply(pod, true),
                _ => {}
            }
        }
    });
    (log, task)
}

fn annotation(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<String> {
    meta.annotations.as_ref()?.get(key).cloned()
}

/// The Deployment's ReplicaSets by revision.
async fn revisions(sets: &Api<ReplicaSet>) -> Result<BTreeMap<i64, ReplicaSet>> {
    let mut found = BTreeMap::new();
    for rs in sets.list(&ListParams::default()).await?.items {
        let revision = annotation(&rs.metadata, "deployment.kubernetes.io/revision")
            .context("revision annotation")?
            .parse()?;
        found.insert(revision, rs);
    }
    Ok(found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rolling_update_with_max_unavailable_zero_never_drops_ready_pods() -> Result<()> {
    let cluster = cluster().await?;
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    let (deployments, sets) = (cluster.deployments(), cluster.replica_sets());
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    deployments
        .create(&PostParams::default(), &deployment("web", 3, strategy)?)
        .await?;
    let out = cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    if !out.contains("deployment \"web\" successfully rolled out") {
        bail!("unexpected rollout status output: {out}");
    }
    let first = revisions(&sets).await?;
    let rs = first.get(&1).context("revision 1")?;
    let hash = rs
        .spec
        .as_ref()
        .and_then(|spec| spec.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
        .and_then(|labels| labels.get("pod-template-hash"))
        .cloned()
        .context("hash label")?;
    if rs.name_any() != format!("web-{hash}")
        || annotation(&rs.metadata, "deployment.kubernetes.io/desired-replicas").as_deref()
            != Some("3")
        || annotation(&rs.metadata, "deployment.kubernetes.io/max-replicas").as_deref() != Some("4")
    {
        bail!("unexpected ReplicaSet: {:?}", rs.metadata);
    }
    let d = deployments.get("web").await?;
    let status = d.status.clone().unwrap_or_default();
    let conditions: Vec<(String, String, String)> = status
        .conditions
        .iter()
        .flatten()
        .map(|c| {
            (
                c.type_.clone(),
                c.status.clone(),
                c.reason.clone().unwrap_or_default(),
            )
        })
        .collect();
    if (
        status.replicas,
        status.updated_replicas,
        status.ready_replicas,
        status.available_replicas,
    ) != (Some(3), Some(3), Some(3), Some(3))
        || annotation(&d.metadata, "deployment.kubernetes.io/revision").as_deref() != Some("1")
        || !conditions.contains(&(
            "Available".into(),
            "True".into(),
            "MinimumReplicasAvailable".into(),
        ))
        || !conditions.contains(&(
            "Progressing".into(),
            "True".into(),
            "NewReplicaSetAvailable".into(),
        ))
    {
        bail!(
            "unexpected Deployment: {:?} {status:?}",
            d.metadata.annotations
        );
    }

    let (log, watch) = watch_pods(cluster.client.clone(), "web");
    eventually("the watch to list the pods", 10, || {
        let ready_now = log
            .lock()
            .map(|l| l.live.values().filter(|p| ready(p)).count())
            .unwrap_or(0);
        async move { Ok((ready_now == 3).then_some(())) }
    })
    .await?;
    if let Ok(mut log) = log.lock() {
        log.armed = true;
    }
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({
                "metadata": {"annotations": {"kubernetes.io/change-cause": "nginx 1.26"}},
                "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}},
            })),
        )
        .await?;
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    watch.abort();
    let min_ready = log
        .lock()
        .ok()
        .and_then(|l| l.min_ready)
        .context("no pod events")?;
    if min_ready < 3 {
        bail!("ready pods dropped to {min_ready} during a maxUnavailable=0 rollout");
    }
    let after = revisions(&sets).await?;
    let (old, new) = (after.get(&1).context("old")?, after.get(&2).context("new")?);
    let replicas = |rs: &ReplicaSet| rs.spec.as_ref().and_then(|s| s.replicas);
    if replicas(old) != Some(0) || replicas(new) != Some(3) || after.len() != 2 {
        bail!(
            "unexpected ReplicaSets after the rollout: {:?}",
            after.keys()
        );
    }
    if annotation(&new.metadata, "kubernetes.io/change-cause").as_deref() != Some("nginx 1.26") {
        bail!("change-cause not copied: {:?}", new.metadata.annotations);
    }
    let described = cluster.kubectl(&["describe", "deployment", "web"])?;
    let (old_name, new_name) = (old.name_any(), new.name_any());
    for expected in [
        format!("Scaled up replica set {old_name} from 0 to 3"),
        format!("Scaled up replica set {new_name} from 0 to 1"),
        format!("Scaled down replica set {old_name} from 3 to 2"),
        "deployment-controller".to_owned(),
        "NewReplicaSetAvailable".to_owned(),
    ] {
        if !described.contains(&expected) {
            bail!("kubectl describe lacks {expected:?}:\n{described}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollout_history_undo_pause_resume_and_restart() -> Result<()> {
    let cluster = cluster().await?;
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    let (deployments, sets) = (cluster.deployments(), cluster.replica_sets());
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 2, json!({"type": "RollingUpdate"}))?,
        )
        .await?;
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({
                "metadata": {"annotations": {"kubernetes.io/change-cause": "to 1.26"}},
                "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}},
            })),
        )
        .await?;
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;

    let history = cluster.kubectl(&["rollout", "history", "deployment/web"])?;
    let lines: Vec<Vec<&str>> = history
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    if !lines.iter().any(|l| l.as_slice() == ["1", "<none>"])
        || !lines.iter().any(|l| l.as_slice() == ["2", "to", "1.26"])
    {
        bail!("unexpected history:\n{history}");
    }
    let first = cluster.kubectl(&["rollout", "history", "deployment/web", "--revision=1"])?;
    if !first.contains("nginx:1.25") {
        bail!("revision 1 does not show its template:\n{first}");
    }

    // Undo: kubectl copies revision 1's template back; its ReplicaSet becomes revision 3.
    let undo = cluster.kubectl(&["rollout", "undo", "deployment/web"])?;
    if !undo.contains("rolled back") {
        bail!("unexpected undo output: {undo}");
    }
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    let after_undo = revisions(&sets).await?;
    let image = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers[0].image.clone())
    };
    let rolled_back = after_undo.get(&3).context("revision 3")?;
    if after_undo.len() != 2
        || annotation(
            &rolled_back.metadata,
            "deployment.kubernetes.io/revision-history",
        )
        .as_deref()
            != Some("1")
        || image(&deployments.get("web").await?).as_deref() != Some("nginx:1.25")
    {
        bail!("unexpected state after undo: {:?}", after_undo.keys());
    }

    // Paused: template changes wait.
    let paused = cluster.kubectl(&["rollout", "pause", "deployment/web"])?;
    if !paused.contains("paused") {
        bail!("unexpected pause output: {paused}");
    }
    cluster.kubectl(&["set", "image", "deployment/web", "web=nginx:1.27"])?;
    eventually("the paused condition", 20, || {
        let deployments = deployments.clone();
        async move {
            let d = deployments.get("web").await?;
            let status = d.status.clone().unwrap_or_default();
            let paused = status.conditions.iter().flatten().any(|c| {
                c.type_ == "Progressing" && c.reason.as_deref() == Some("DeploymentPaused")
            });
            Ok((paused && status.observed_generation == d.metadata.generation).then_some(()))
        }
    })
    .await?;
    if sets.list(&ListParams::default()).await?.items.len() != 2 {
        bail!("a paused Deployment created a ReplicaSet");
    }
    cluster.kubectl(&["rollout", "resume", "deployment/web"])?;
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    if revisions(&sets).await?.len() != 3 {
        bail!("resume did not roll out the new template");
    }

    // Restart: a template annotation, hence a new ReplicaSet.
    let restarted = cluster.kubectl(&["rollout", "restart", "deployment/web"])?;
    if !restarted.contains("restarted") {
        bail!("unexpected restart output: {restarted}");
    }
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    let after_restart = revisions(&sets).await?;
    let newest = after_restart.values().next_back().context("newest")?;
    let restarted_at = newest
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .is_some_and(|a| a.contains_key("kubectl.kubernetes.io/restartedAt"));
    if after_restart.len() != 4 || !restarted_at {
        bail!(
            "restart did not roll out a new ReplicaSet: {:?}",
            after_restart.keys()
        );
    }

    // History beyond revisionHistoryLimit goes.
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"revisionHistoryLimit": 1}})),
        )
        .await?;
    eventually("old ReplicaSets cleaned up", 20, || {
        let sets = sets.clone();
        async move { Ok((sets.list(&ListParams::default()).await?.items.len() == 2).then_some(())) }
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recreate_deletes_old_pods_before_creating_new_ones() -> Result<()> {
    let cluster = cluster().await?;
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    let (deployments, sets) = (cluster.deployments(), cluster.replica_sets());
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 3, json!({"type": "Recreate"}))?,
        )
        .await?;
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    let (log, watch) = watch_pods(cluster.client.clone(), "web");
    eventually("the watch to list the pods", 10, || {
        let live = log.lock().map(|l| l.live.len()).unwrap_or(0);
        async move { Ok((live == 3).then_some(())) }
    })
    .await?;
    let old_hash = revisions(&sets)
        .await?
        .get(&1)
        .and_then(|rs| rs.labels().get("pod-template-hash").cloned())
        .context("the first ReplicaSet's hash")?;
    if let Ok(mut log) = log.lock() {
        log.old_hash = Some(old_hash);
    }
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}})),
        )
        .await?;
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    watch.abort();
    let seen = log
        .lock()
        .map(|l| l.old_when_new.clone())
        .unwrap_or_default();
    if seen.len() != 3 || seen.iter().any(|old| *old != 0) {
        bail!("new pods appeared while old ones lived (old pods at each new pod: {seen:?})");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn progress_deadline_exceeded_fails_rollout_status() -> Result<()> {
    let cluster = cluster().await?;
    let deployments = cluster.deployments();
    let mut d = deployment("stuck", 1, json!({"type": "RollingUpdate"}))?;
    if let Some(spec) = d.spec.as_mut() {
        spec.progress_deadline_seconds = Some(2);
    }
    deployments.create(&PostParams::default(), &d).await?;
    // No kubelet: the pod never becomes ready.
    eventually("ProgressDeadlineExceeded", 30, || {
        let deployments = deployments.clone();
        async move {
            let status = deployments.get("stuck").await?.status.unwrap_or_default();
            Ok(status
                .conditions
                .iter()
                .flatten()
                .any(|c| {
                    c.type_ == "Progressing"
                        && c.status == "False"
                        && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
                        && c.message
                            .as_deref()
                            .is_some_and(|m| m.ends_with("has timed out progressing."))
                })
                .then_some(()))
        }
    })
    .await?;
    let error =
        cluster
            .server
            .kubectl_err(&["rollout", "status", "deployment/stuck", "--timeout=20s"])?;
    if !error.contains("exceeded its progress deadline") {
        bail!("unexpected rollout status error: {error}");
    }
    Ok(())
}

/// Appends `<kind>/<name>` to `log` as each object of `api` is deleted.
fn record_deletions<K>(api: Api<K>, log: Arc<Mutex<Vec<String>>>) -> tokio::task::JoinHandle<()>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
{
    tokio::spawn(async move {
        let events = watcher(api, watcher::Config::default());
        futures::pin_mut!(events);
        while let Some(event) = events.next().await {
            if let Ok(watcher::Event::Delete(object)) = event {
                if let Ok(mut log) = log.lock() {
                    log.push(format!("{}/{}", K::kind(&()), object.name_any()));
                }
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn foreground_deletion_removes_pods_then_replica_set_then_deployment() -> Result<()> {
    let cluster = cluster().await?;
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    cluster
        .deployments()
        .create(
            &PostParams::default(),
            &deployment("web", 2, json!({"type": "RollingUpdate"}))?,
        )
        .await?;
    cluster.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let watchers = [
        record_deletions(cluster.pods(), Arc::clone(&log)),
        record_deletions(cluster.replica_sets(), Arc::clone(&log)),
        record_deletions(cluster.deployments(), Arc::clone(&log)),
    ];
    // Let the watches list before anything goes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // kubectl waits for the Deployment itself to be gone.
    cluster.kubectl(&[
        "delete",
        "deployment",
        "web",
        "--cascade=foreground",
        "--timeout=60s",
    ])?;
    let order = eventually("every deletion observed", 10, || {
        let order = log.lock().map(|l| l.clone()).unwrap_or_default();
        async move { Ok((order.len() == 4).then_some(order)) }
    })
    .await?;
    for watcher in watchers {
        watcher.abort();
    }
    let position = |prefix: &str| order.iter().position(|entry| entry.starts_with(prefix));
    let last_pod = order.iter().rposition(|entry| entry.starts_with("Pod/"));
    let (Some(last_pod), Some(rs), Some(deployment)) = (
        last_pod,
        position("ReplicaSet/"),
        position("Deployment/web"),
    ) else {
        bail!("unexpected deletions: {order:?}");
    };
    if !(last_pod < rs && rs < deployment) {
        bail!("foreground deletion out of order: {order:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orphan_deletion_leaves_the_replica_set_and_its_pods() -> Result<()> {
    let cluster = cluster().await?;
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    let (pods, sets) = (cluster.pods(), cluster.replica_sets());
    cluster
        .deployments()
        .create(
            &PostParams::default(),
            &deployment("keep", 2, json!({"type": "RollingUpdate"}))?,
        )
        .await?;
    cluster.kubectl(&["rollout", "status", "deployment/keep", "--timeout=60s"])?;
    let before: Vec<String> = pods
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    cluster.kubectl(&["delete", "deployment", "keep", "--cascade=orphan"])?;
    let rs = eventually("the ReplicaSet orphaned", 20, || {
        let sets = sets.clone();
        async move {
            let list = sets.list(&ListParams::default()).await?.items;
            Ok(list.into_iter().find(|rs| rs.owner_references().is_empty()))
        }
    })
    .await?;
    if cluster.deployments().get_opt("keep").await?.is_some() {
        bail!("the Deployment is still there");
    }
    // Give the garbage collector and the ReplicaSet loop time to (wrongly) act.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let uid = rs.uid().context("uid")?;
    let mut after: Vec<String> = owned_pods(&pods, &uid)
        .await?
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    after.sort();
    let mut before = before;
    before.sort();
    if after != before || sets.get_opt(&rs.name_any()).await?.is_none() {
        bail!("orphaning changed the pods: before {before:?}, after {after:?}");
    }
    Ok(())
}
