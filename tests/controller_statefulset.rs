//! The StatefulSet controller against a real API server, with the controller manager run in
//! the test and the test playing the kubelet through `pods/status`: ordered and parallel
//! pod management, stable names and claims, partitioned rolling updates in reverse ordinal
//! order, claim retention on scale-down, and `kubectl rollout status|history|undo`.

#[path = "support/kubelet.rs"]
mod kubelet;
#[path = "support/manager.rs"]
mod manager;

use manager::{eventually, Cluster};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_controllers::ManagerOptions;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{json, Value};

const REVISION_LABEL: &str = "controller-revision-hash";

impl Cluster {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    fn sets(&self) -> Api<StatefulSet> {
        Api::namespaced(self.client.clone(), "default")
    }

    fn claims(&self) -> Api<PersistentVolumeClaim> {
        Api::namespaced(self.client.clone(), "default")
    }

    fn revisions(&self) -> Api<ControllerRevision> {
        Api::namespaced(self.client.clone(), "default")
    }

    async fn create(&self, set: Value) -> Result<StatefulSet> {
        let set: StatefulSet = serde_json::from_value(set)?;
        Ok(self.sets().create(&PostParams::default(), &set).await?)
    }
}

async fn cluster() -> Result<Cluster> {
    Cluster::start(ManagerOptions::default()).await
}

/// A StatefulSet `web` with a claim template `www`.
fn stateful_set(replicas: i32, image: &str, extra_spec: Value) -> Value {
    let mut set = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "serviceName": "nginx",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image,
                                         "volumeMounts": [{"name": "www", "mountPath": "/www"}]}]},
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}},
            }],
        },
    });
    if let (Some(spec), Value::Object(extra)) = (set["spec"].as_object_mut(), extra_spec) {
        spec.extend(extra);
    }
    set
}

/// The names of the pods that exist (deleting or not).
async fn pod_names(pods: &Api<Pod>) -> Result<Vec<String>> {
    let mut names: Vec<String> = pods
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    names.sort();
    Ok(names)
}

async fn claim_names(claims: &Api<PersistentVolumeClaim>) -> Result<Vec<String>> {
    let mut names: Vec<String> = claims
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    names.sort();
    Ok(names)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

fn label(pod: &Pod, key: &str) -> Option<String> {
    pod.labels().get(key).cloned()
}

fn image(pod: &Pod) -> Option<String> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.containers.first())
        .and_then(|container| container.image.clone())
}

async fn status(sets: &Api<StatefulSet>) -> Result<StatefulSetStatus> {
    Ok(sets.get("web").await?.status.unwrap_or_default())
}

/// Records the order in which pods are deleted, from now on.
struct Deletions {
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Deletions {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Deletions {
    async fn start(pods: &Api<Pod>) -> Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let task = {
            let (pods, seen) = (pods.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                let events = watcher(pods, watcher::Config::default());
                futures::pin_mut!(events);
                let mut ready_tx = Some(ready_tx);
                while let Some(event) = events.next().await {
                    match event {
                        Ok(watcher::Event::InitDone) => {
                            if let Some(tx) = ready_tx.take() {
                                let _ = tx.send(());
                            }
                        }
                        Ok(watcher::Event::Delete(pod)) => {
                            if let Ok(mut seen) = seen.lock() {
                                seen.push(pod.name_any());
                            }
                        }
                        _ => {}
                    }
                }
            })
        };
        ready_rx
            .await
            .context("the pod watch ended before listing")?;
        Ok(Self { seen, task })
    }

    fn order(&self) -> Vec<String> {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ordered_ready_creates_one_at_a_time_and_scales_down_from_the_top() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets, claims) = (cluster.pods(), cluster.sets(), cluster.claims());
    cluster
        .create(stateful_set(3, "nginx:1.25", json!({})))
        .await?;

    let first = eventually("web-0", 60, || {
        let pods = pods.clone();
        async move { Ok(pods.get_opt("web-0").await?) }
    })
    .await?;
    let labels = first.labels();
    let spec = first.spec.clone().unwrap_or_default();
    let volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "www")
        .and_then(|v| v.persistent_volume_claim.as_ref())
        .map(|claim| claim.claim_name.clone());
    if labels
        .get("statefulset.kubernetes.io/pod-name")
        .map(String::as_str)
        != Some("web-0")
        || labels
            .get("apps.kubernetes.io/pod-index")
            .map(String::as_str)
            != Some("0")
        || labels.get("app").map(String::as_str) != Some("web")
        || !labels.contains_key(REVISION_LABEL)
        || spec.hostname.as_deref() != Some("web-0")
        || spec.subdomain.as_deref() != Some("nginx")
        || volume.as_deref() != Some("www-web-0")
    {
        bail!("web-0 lacks its identity: {:?} {:?}", first.metadata, spec);
    }
    let owner = first.owner_references().first().cloned().context("owner")?;
    if (owner.kind.as_str(), owner.name.as_str(), owner.controller)
        != ("StatefulSet", "web", Some(true))
    {
        bail!("unexpected owner {owner:?}");
    }
    let claim = claims.get("www-web-0").await?;
    if claim.labels().get("app").map(String::as_str) != Some("web") {
        bail!("claim lacks the selector labels: {:?}", claim.metadata);
    }

    // web-0 runs but is not Ready: web-1 must wait.
    kubelet::run_unready(&pods, "web-0", Timestamp::now()).await?;
    eventually("status counting web-0", 60, || {
        let sets = sets.clone();
        async move { Ok((status(&sets).await?.replicas == 1).then_some(())) }
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    if pod_names(&pods).await? != names(&["web-0"]) {
        bail!(
            "a pod was created before web-0 was Ready: {:?}",
            pod_names(&pods).await?
        );
    }

    for (ready, next) in [("web-0", "web-1"), ("web-1", "web-2")] {
        kubelet::run(&pods, ready, Timestamp::now()).await?;
        eventually(next, 60, || {
            let pods = pods.clone();
            async move { Ok(pods.get_opt(next).await?.map(|_| ())) }
        })
        .await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let existing = pod_names(&pods).await?;
        if existing.iter().any(|name| name.as_str() > next) {
            bail!("{next} is not Ready yet but later pods exist: {existing:?}");
        }
    }
    kubelet::run(&pods, "web-2", Timestamp::now()).await?;
    let done = eventually("three ready replicas", 60, || {
        let sets = sets.clone();
        async move {
            let status = status(&sets).await?;
            Ok((status.replicas == 3
                && status.ready_replicas == Some(3)
                && status.available_replicas == Some(3)
                && status.current_replicas == Some(3)
                && status.updated_replicas == Some(3)
                && status.observed_generation == Some(1))
            .then_some(status))
        }
    })
    .await?;
    if done.current_revision.is_none() || done.current_revision != done.update_revision {
        bail!("revisions not settled: {done:?}");
    }
    if done.collision_count != Some(0) {
        bail!("unexpected collision count: {done:?}");
    }
    if claim_names(&claims).await? != names(&["www-web-0", "www-web-1", "www-web-2"]) {
        bail!("unexpected claims: {:?}", claim_names(&claims).await?);
    }
    let rollout = cluster.kubectl(&["rollout", "status", "statefulset/web", "--timeout=60s"])?;
    if !rollout.contains("partitioned roll out complete: 3 new pods have been updated") {
        bail!("unexpected rollout status: {rollout}");
    }
    let described = eventually("events in kubectl describe", 60, || {
        let out = cluster.kubectl(&["describe", "statefulset", "web"]);
        async move {
            let out = out?;
            Ok(
                (out.contains("create Pod web-2 in StatefulSet web successful")
                    && out.contains("create Claim www-web-2 Pod web-2 in StatefulSet web success"))
                .then_some(out),
            )
        }
    })
    .await?;
    if !described.contains("SuccessfulCreate") || !described.contains("statefulset-controller") {
        bail!("unexpected events:\n{described}");
    }

    // Scale down: the highest ordinal goes first, one at a time; claims are retained.
    let deletions = Deletions::start(&pods).await?;
    cluster.kubectl(&["scale", "statefulset", "web", "--replicas=1"])?;
    eventually("one pod left", 60, || {
        let pods = pods.clone();
        async move { Ok((pod_names(&pods).await? == names(&["web-0"])).then_some(())) }
    })
    .await?;
    if deletions.order() != names(&["web-2", "web-1"]) {
        bail!("pods deleted in the wrong order: {:?}", deletions.order());
    }
    eventually("status of one replica", 60, || {
        let sets = sets.clone();
        async move {
            let status = status(&sets).await?;
            Ok((status.replicas == 1 && status.ready_replicas == Some(1)).then_some(()))
        }
    })
    .await?;
    if claim_names(&claims).await? != names(&["www-web-0", "www-web-1", "www-web-2"]) {
        bail!(
            "retained claims were deleted: {:?}",
            claim_names(&claims).await?
        );
    }
    let described = eventually("delete events", 60, || {
        let out = cluster.kubectl(&["describe", "statefulset", "web"]);
        async move {
            let out = out?;
            Ok(out
                .contains("delete Pod web-1 in StatefulSet web successful")
                .then_some(out))
        }
    })
    .await?;
    if !described.contains("SuccessfulDelete") {
        bail!("no SuccessfulDelete event:\n{described}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_creates_every_pod_at_once() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets) = (cluster.pods(), cluster.sets());
    cluster
        .create(stateful_set(
            3,
            "nginx:1.25",
            json!({"podManagementPolicy": "Parallel"}),
        ))
        .await?;
    // No kubelet: none of them is ever Ready, yet all three are created.
    eventually("three pods", 60, || {
        let pods = pods.clone();
        async move {
            Ok((pod_names(&pods).await? == names(&["web-0", "web-1", "web-2"])).then_some(()))
        }
    })
    .await?;
    let status = eventually("status of three unready replicas", 60, || {
        let sets = sets.clone();
        async move {
            let status = status(&sets).await?;
            Ok((status.replicas == 3).then_some(status))
        }
    })
    .await?;
    if status.ready_replicas.unwrap_or(0) != 0 {
        bail!("pods counted ready without a kubelet: {status:?}");
    }
    // Scaling down in parallel does not wait for readiness either.
    cluster.kubectl(&["scale", "statefulset", "web", "--replicas=1"])?;
    eventually("one pod left", 60, || {
        let pods = pods.clone();
        async move { Ok((pod_names(&pods).await? == names(&["web-0"])).then_some(())) }
    })
    .await?;
    Ok(())
}

async fn pods_by_name(pods: &Api<Pod>) -> Result<BTreeMap<String, Pod>> {
    Ok(pods
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|pod| (pod.name_any(), pod))
        .collect())
}

async fn set_partition(sets: &Api<StatefulSet>, partition: i32) -> Result<()> {
    sets.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": partition}}}}),
        ),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partitioned_rolling_update_in_reverse_order_with_history_and_undo() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets, revisions) = (cluster.pods(), cluster.sets(), cluster.revisions());
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    cluster
        .create(stateful_set(3, "nginx:1.25", json!({})))
        .await?;
    let rollout = cluster.kubectl(&["rollout", "status", "statefulset/web", "--timeout=60s"])?;
    if !rollout.contains("partitioned roll out complete: 3 new pods have been updated") {
        bail!("unexpected rollout status: {rollout}");
    }
    let first = eventually("a settled first revision", 60, || {
        let sets = sets.clone();
        async move {
            let status = status(&sets).await?;
            Ok((status.current_replicas == Some(3))
                .then_some(status.current_revision)
                .flatten())
        }
    })
    .await?;
    let revision = revisions.get(&first).await?;
    if revision.revision != 1
        || revision
            .labels()
            .get("controller.kubernetes.io/hash")
            .is_none()
        || !revision
            .owner_references()
            .iter()
            .any(|owner| owner.kind == "StatefulSet" && owner.controller == Some(true))
    {
        bail!("unexpected first revision: {revision:?}");
    }

    // Partition 1: ordinals 2 then 1 move to the new revision; web-0 stays.
    set_partition(&sets, 1).await?;
    let deletions = Deletions::start(&pods).await?;
    cluster.kubectl(&["set", "image", "statefulset/web", "web=nginx:1.26"])?;
    let second = eventually("web-2 and web-1 updated and ready", 60, || {
        let sets = sets.clone();
        async move {
            let status = status(&sets).await?;
            Ok((status.updated_replicas == Some(2)
                && status.ready_replicas == Some(3)
                && status.current_replicas == Some(1)
                && status.update_revision != status.current_revision)
                .then_some(status.update_revision)
                .flatten())
        }
    })
    .await?;
    let by_name = pods_by_name(&pods).await?;
    for (name, wanted_revision, wanted_image) in [
        ("web-0", &first, "nginx:1.25"),
        ("web-1", &second, "nginx:1.26"),
        ("web-2", &second, "nginx:1.26"),
    ] {
        let pod = by_name.get(name).context(name)?;
        if label(pod, REVISION_LABEL).as_ref() != Some(wanted_revision)
            || image(pod).as_deref() != Some(wanted_image)
        {
            bail!(
                "{name} is at {:?} with {:?}",
                label(pod, REVISION_LABEL),
                image(pod)
            );
        }
    }
    if deletions.order() != names(&["web-2", "web-1"]) {
        bail!("pods updated in the wrong order: {:?}", deletions.order());
    }
    let rollout = cluster.kubectl(&["rollout", "status", "statefulset/web", "--timeout=60s"])?;
    if !rollout.contains("partitioned roll out complete: 2 new pods have been updated") {
        bail!("unexpected partitioned rollout status: {rollout}");
    }

    // Partition 0: web-0 follows, and the update revision becomes the current one.
    set_partition(&sets, 0).await?;
    cluster.kubectl(&["rollout", "status", "statefulset/web", "--timeout=60s"])?;
    eventually("the rollout completed", 60, || {
        let (sets, second) = (sets.clone(), second.clone());
        async move {
            let status = status(&sets).await?;
            Ok((status.current_revision.as_ref() == Some(&second)
                && status.current_replicas == Some(3)
                && status.updated_replicas == Some(3))
            .then_some(()))
        }
    })
    .await?;
    if deletions.order() != names(&["web-2", "web-1", "web-0"]) {
        bail!("pods updated in the wrong order: {:?}", deletions.order());
    }

    let history = cluster.kubectl(&["rollout", "history", "statefulset/web"])?;
    let numbers: Vec<&str> = history
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.chars().all(|c| c.is_ascii_digit()))
        .collect();
    if numbers != ["1", "2"] {
        bail!("unexpected history:\n{history}");
    }
    let shown = cluster.kubectl(&["rollout", "history", "statefulset/web", "--revision=1"])?;
    if !shown.contains("nginx:1.25") {
        bail!("revision 1 does not show its template:\n{shown}");
    }

    // Undo: the first revision's template comes back and that revision becomes number 3.
    let undo = cluster.kubectl(&["rollout", "undo", "statefulset/web"])?;
    if !undo.contains("rolled back") {
        bail!("unexpected undo output: {undo}");
    }
    eventually("every pod back at the first revision", 60, || {
        let (pods, first) = (pods.clone(), first.clone());
        async move {
            let by_name = pods_by_name(&pods).await?;
            Ok((by_name.len() == 3
                && by_name.values().all(|pod| {
                    label(pod, REVISION_LABEL).as_ref() == Some(&first)
                        && image(pod).as_deref() == Some("nginx:1.25")
                        && pod.metadata.deletion_timestamp.is_none()
                }))
            .then_some(()))
        }
    })
    .await?;
    cluster.kubectl(&["rollout", "status", "statefulset/web", "--timeout=60s"])?;
    let renumbered = revisions.get(&first).await?;
    if renumbered.revision != 3 {
        bail!(
            "the restored revision was not renumbered: {}",
            renumbered.revision
        );
    }
    let history = cluster.kubectl(&["rollout", "history", "statefulset/web"])?;
    let numbers: Vec<&str> = history
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.chars().all(|c| c.is_ascii_digit()))
        .collect();
    if numbers != ["2", "3"] {
        bail!("unexpected history after undo:\n{history}");
    }
    let status = status(&sets).await?;
    if status.current_revision.as_ref() != Some(&first)
        || status.update_revision.as_ref() != Some(&first)
    {
        bail!("unexpected status after undo: {status:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_delete_updates_only_pods_deleted_by_hand() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets) = (cluster.pods(), cluster.sets());
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    cluster
        .create(stateful_set(
            2,
            "nginx:1.25",
            json!({"updateStrategy": {"type": "OnDelete"}}),
        ))
        .await?;
    let first = eventually("two ready replicas", 60, || {
        let sets = sets.clone();
        async move {
            let status = status(&sets).await?;
            Ok((status.ready_replicas == Some(2))
                .then_some(status.current_revision)
                .flatten())
        }
    })
    .await?;
    cluster.kubectl(&["set", "image", "statefulset/web", "web=nginx:1.26"])?;
    let second = eventually("a new update revision", 60, || {
        let (sets, first) = (sets.clone(), first.clone());
        async move {
            let status = status(&sets).await?;
            Ok(status.update_revision.filter(|update| *update != first))
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let by_name = pods_by_name(&pods).await?;
    if by_name
        .values()
        .any(|pod| label(pod, REVISION_LABEL).as_ref() != Some(&first))
    {
        bail!("OnDelete pods were replaced without being deleted");
    }
    cluster.kubectl(&["delete", "pod", "web-1"])?;
    eventually("web-1 recreated at the new revision", 60, || {
        let (pods, second) = (pods.clone(), second.clone());
        async move {
            Ok(pods
                .get_opt("web-1")
                .await?
                .filter(|pod| label(pod, REVISION_LABEL).as_ref() == Some(&second))
                .map(|_| ()))
        }
    })
    .await?;
    let web0 = pods.get("web-0").await?;
    if label(&web0, REVISION_LABEL).as_ref() != Some(&first) {
        bail!("web-0 changed revision without being deleted");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_follow_the_retention_policy() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets, claims) = (cluster.pods(), cluster.sets(), cluster.claims());
    let _kubelet = kubelet::auto_ready(cluster.client.clone(), "default");
    let set = cluster
        .create(stateful_set(
            2,
            "nginx:1.25",
            json!({"persistentVolumeClaimRetentionPolicy":
                   {"whenScaled": "Delete", "whenDeleted": "Delete"}}),
        ))
        .await?;
    let set_uid = set.uid().context("uid")?;
    eventually("two ready replicas", 60, || {
        let sets = sets.clone();
        async move { Ok((status(&sets).await?.ready_replicas == Some(2)).then_some(())) }
    })
    .await?;
    // Replicas in range: each claim is controlled by the set (deleted with it).
    eventually("claims owned by the set", 60, || {
        let (claims, set_uid) = (claims.clone(), set_uid.clone());
        async move {
            let mut owned = 0;
            for name in ["www-web-0", "www-web-1"] {
                let Some(claim) = claims.get_opt(name).await? else {
                    return Ok(None);
                };
                let refs = claim.owner_references();
                if refs.len() == 1
                    && refs[0].uid == set_uid
                    && refs[0].kind == "StatefulSet"
                    && refs[0].controller == Some(true)
                {
                    owned += 1;
                }
            }
            Ok((owned == 2).then_some(()))
        }
    })
    .await?;

    // Scaled down: web-1's claim moves to the pod and goes with it.
    cluster.kubectl(&["scale", "statefulset", "web", "--replicas=1"])?;
    eventually("www-web-1 deleted", 60, || {
        let claims = claims.clone();
        async move { Ok((claim_names(&claims).await? == names(&["www-web-0"])).then_some(())) }
    })
    .await?;
    if pod_names(&pods).await? != names(&["web-0"]) {
        bail!("unexpected pods: {:?}", pod_names(&pods).await?);
    }

    // Scaled up again: a fresh claim for the new web-1.
    cluster.kubectl(&["scale", "statefulset", "web", "--replicas=2"])?;
    eventually("web-1 and its claim back", 60, || {
        let (pods, claims) = (pods.clone(), claims.clone());
        async move {
            Ok((pod_names(&pods).await? == names(&["web-0", "web-1"])
                && claim_names(&claims).await? == names(&["www-web-0", "www-web-1"]))
            .then_some(()))
        }
    })
    .await?;

    // whenDeleted: Delete — the claims go with the set.
    cluster.kubectl(&["delete", "statefulset", "web"])?;
    eventually("claims deleted with the set", 60, || {
        let claims = claims.clone();
        async move { Ok(claim_names(&claims).await?.is_empty().then_some(())) }
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_unavailable_replaces_several_pods_at_once() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets) = (cluster.pods(), cluster.sets());
    cluster
        .create(stateful_set(
            3,
            "nginx:1.25",
            json!({"podManagementPolicy": "Parallel",
                   "updateStrategy": {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxUnavailable": 2}}}),
        ))
        .await?;
    eventually("three pods", 60, || {
        let pods = pods.clone();
        async move {
            Ok((pod_names(&pods).await? == names(&["web-0", "web-1", "web-2"])).then_some(()))
        }
    })
    .await?;
    for name in ["web-0", "web-1", "web-2"] {
        kubelet::run(&pods, name, Timestamp::now()).await?;
    }
    eventually("three ready replicas", 60, || {
        let sets = sets.clone();
        async move { Ok((status(&sets).await?.ready_replicas == Some(3)).then_some(())) }
    })
    .await?;
    let deletions = Deletions::start(&pods).await?;
    cluster.kubectl(&["set", "image", "statefulset/web", "web=nginx:1.26"])?;
    // No kubelet now: with one unavailable pod allowed only web-2 would go; with two, web-2
    // and web-1 both do, without waiting for a replacement to be Ready.
    eventually("web-2 and web-1 replaced", 60, || {
        let (sets, order) = (sets.clone(), deletions.order());
        async move {
            let status = status(&sets).await?;
            Ok(
                (order == names(&["web-2", "web-1"]) && status.updated_replicas == Some(2))
                    .then_some(()),
            )
        }
    })
    .await?;
    let web0 = pods.get("web-0").await?;
    if image(&web0).as_deref() != Some("nginx:1.25") || deletions.order().len() != 2 {
        bail!(
            "web-0 was replaced beyond maxUnavailable: {:?}",
            deletions.order()
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orphaned_pods_and_revisions_are_adopted() -> Result<()> {
    let cluster = cluster().await?;
    let (pods, sets, revisions) = (cluster.pods(), cluster.sets(), cluster.revisions());
    let spec = stateful_set(2, "nginx:1.25", json!({"podManagementPolicy": "Parallel"}));
    cluster.create(spec.clone()).await?;
    let revision = eventually("two pods and a revision", 60, || {
        let (pods, sets) = (pods.clone(), sets.clone());
        async move {
            let status = status(&sets).await?;
            Ok(
                (pod_names(&pods).await? == names(&["web-0", "web-1"]) && status.replicas == 2)
                    .then_some(status.update_revision)
                    .flatten(),
            )
        }
    })
    .await?;
    let before: BTreeMap<String, String> = pods_by_name(&pods)
        .await?
        .into_iter()
        .map(|(name, pod)| (name, pod.uid().unwrap_or_default()))
        .collect();

    cluster.kubectl(&["delete", "statefulset", "web", "--cascade=orphan"])?;
    eventually("pods and revision orphaned", 60, || {
        let (pods, revisions, revision) = (pods.clone(), revisions.clone(), revision.clone());
        async move {
            let orphaned = pods_by_name(&pods)
                .await?
                .values()
                .all(|pod| pod.owner_references().is_empty());
            let revision = revisions.get(&revision).await?;
            Ok((orphaned && revision.owner_references().is_empty()).then_some(()))
        }
    })
    .await?;

    let set = cluster.create(spec).await?;
    let uid = set.uid().context("uid")?;
    eventually("pods and revision adopted", 60, || {
        let (pods, revisions, revision, uid) = (
            pods.clone(),
            revisions.clone(),
            revision.clone(),
            uid.clone(),
        );
        async move {
            let owned_by_set =
                |refs: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference]| {
                    refs.iter()
                        .any(|r| r.uid == uid && r.controller == Some(true))
                };
            let by_name = pods_by_name(&pods).await?;
            let pods_adopted = by_name.len() == 2
                && by_name
                    .values()
                    .all(|pod| owned_by_set(pod.owner_references()));
            let revision = revisions.get(&revision).await?;
            Ok((pods_adopted && owned_by_set(revision.owner_references())).then_some(()))
        }
    })
    .await?;
    let after: BTreeMap<String, String> = pods_by_name(&pods)
        .await?
        .into_iter()
        .map(|(name, pod)| (name, pod.uid().unwrap_or_default()))
        .collect();
    if after != before {
        bail!("pods were replaced instead of adopted: {before:?} -> {after:?}");
    }
    if revisions.list(&ListParams::default()).await?.items.len() != 1 {
        bail!("the adopted revision was not reused");
    }
    Ok(())
}
