//! The scheduler's watches, one per resource (pods, nodes, PriorityClasses), feeding the
//! scheduler's handlers; each reports when its first list is complete.

use std::collections::HashSet;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use tokio::sync::mpsc;

use crate::scheduler::Scheduler;

fn key_of<K: ResourceExt>(object: &K) -> String {
    match object.namespace() {
        Some(ns) => format!("{ns}/{}", object.name_any()),
        None => object.name_any(),
    }
}

/// Applies one watch stream to the scheduler; `synced` gets one message after the first
/// complete list. Returns when the stream ends (never, with kube-rs's default retries).
async fn drive<K, S>(
    stream: S,
    scheduler: Arc<Scheduler>,
    synced: mpsc::Sender<()>,
    apply: fn(&Scheduler, K),
    delete: fn(&Scheduler, &K),
    relisted: fn(&Scheduler, &HashSet<String>),
) where
    K: ResourceExt + Clone,
    S: Stream<Item = Result<Event<K>, watcher::Error>>,
{
    futures::pin_mut!(stream);
    let mut seen: HashSet<String> = HashSet::new();
    let mut first = true;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Apply(object)) => apply(&scheduler, object),
            Ok(Event::Delete(object)) => delete(&scheduler, &object),
            Ok(Event::Init) => seen.clear(),
            Ok(Event::InitApply(object)) => {
                seen.insert(key_of(&object));
                apply(&scheduler, object);
            }
            Ok(Event::InitDone) => {
                relisted(&scheduler, &seen);
                seen.clear();
                if first {
                    first = false;
                    let _ = synced.send(()).await;
                }
            }
            Err(error) => tracing::warn!(%error, "scheduler watch failed; retrying"),
        }
    }
}

fn config() -> watcher::Config {
    watcher::Config::default()
}

/// Starts the watches; completes once each has listed everything. PriorityClasses, nodes,
/// Services and pod controllers sync before pods are listed, so the first pods queue with
/// their priorities and spread by their groups.
pub async fn start(
    client: &Client,
    scheduler: &Arc<Scheduler>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) {
    use kube::runtime::WatchStreamExt as _;
    let (synced, mut ready) = mpsc::channel(11);
    let pods = watcher::watcher(Api::<Pod>::all(client.clone()), config()).default_backoff();
    let nodes = watcher::watcher(Api::<Node>::all(client.clone()), config()).default_backoff();
    let classes =
        watcher::watcher(Api::<PriorityClass>::all(client.clone()), config()).default_backoff();
    tasks.push(tokio::spawn(drive(
        nodes,
        scheduler.clone(),
        synced.clone(),
        |s, n| s.node_applied(n),
        |s, n| s.node_deleted(&n.name_any()),
        |s, seen| s.nodes_relisted(seen),
    )));
    tasks.push(tokio::spawn(drive(
        classes,
        scheduler.clone(),
        synced.clone(),
        |s, c| s.priority_class_applied(&c),
        |s, c| s.priority_class_deleted(&c.name_any()),
        |_, _| {},
    )));
    spawn_workload_watches(client, scheduler, &synced, tasks);
    spawn_volume_watches(client, scheduler, &synced, tasks);
    for _ in 0..10 {
        if ready.recv().await.is_none() {
            return;
        }
    }
    tasks.push(tokio::spawn(drive(
        pods,
        scheduler.clone(),
        synced,
        |s, p| s.pod_applied(p),
        |s, p| s.pod_deleted(&key_of(p)),
        |s, seen| s.pods_relisted(seen),
    )));
    let _ = ready.recv().await;
}

/// Watches Services, ReplicationControllers, ReplicaSets and StatefulSets (the selectors
/// behind PodTopologySpread's system defaults) and Namespaces (pod affinity terms'
/// `namespaceSelector`).
fn spawn_workload_watches(
    client: &Client,
    scheduler: &Arc<Scheduler>,
    synced: &mpsc::Sender<()>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) {
    use kube::runtime::WatchStreamExt as _;
    let services =
        watcher::watcher(Api::<Service>::all(client.clone()), config()).default_backoff();
    tasks.push(tokio::spawn(drive(
        services,
        scheduler.clone(),
        synced.clone(),
        |s, o| s.with_workloads(|w| w.upsert_service(&o)),
        |s, o| s.with_workloads(|w| w.remove("Service", &key_of(o))),
        |_, _| {},
    )));
    let rcs = watcher::watcher(Api::<ReplicationController>::all(client.clone()), config())
        .default_backoff();
    tasks.push(tokio::spawn(drive(
        rcs,
        scheduler.clone(),
        synced.clone(),
        |s, o| s.with_workloads(|w| w.upsert_controller(&o)),
        |s, o| s.with_workloads(|w| w.remove("ReplicationController", &key_of(o))),
        |_, _| {},
    )));
    let rss = watcher::watcher(Api::<ReplicaSet>::all(client.clone()), config()).default_backoff();
    tasks.push(tokio::spawn(drive(
        rss,
        scheduler.clone(),
        synced.clone(),
        |s, o| s.with_workloads(|w| w.upsert_replica_set(&o)),
        |s, o| s.with_workloads(|w| w.remove("ReplicaSet", &key_of(o))),
        |_, _| {},
    )));
    let namespaces =
        watcher::watcher(Api::<Namespace>::all(client.clone()), config()).default_backoff();
    tasks.push(tokio::spawn(drive(
        namespaces,
        scheduler.clone(),
        synced.clone(),
        |s, o| s.namespace_applied(o.name_any(), o.labels().clone()),
        |s, o| s.namespace_deleted(&o.name_any()),
        |_, _| {},
    )));
    let sets =
        watcher::watcher(Api::<StatefulSet>::all(client.clone()), config()).default_backoff();
    tasks.push(tokio::spawn(drive(
        sets,
        scheduler.clone(),
        synced.clone(),
        |s, o| s.with_workloads(|w| w.upsert_stateful_set(&o)),
        |s, o| s.with_workloads(|w| w.remove("StatefulSet", &key_of(o))),
        |_, _| {},
    )));
}

/// Watches PersistentVolumeClaims, PersistentVolumes and StorageClasses (VolumeBinding).
fn spawn_volume_watches(
    client: &Client,
    scheduler: &Arc<Scheduler>,
    synced: &mpsc::Sender<()>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) {
    use kube::runtime::WatchStreamExt as _;
    let claims = watcher::watcher(Api::<PersistentVolumeClaim>::all(client.clone()), config())
        .default_backoff();
    tasks.push(tokio::spawn(drive(
        claims,
        scheduler.clone(),
        synced.clone(),
        |s, o| {
            s.with_volumes("PersistentVolumeClaimUpdate", |v| {
                v.claims.insert(key_of(&o), Arc::new(o));
            });
        },
        |s, o| {
            s.with_volumes("PersistentVolumeClaimDelete", |v| {
                v.claims.remove(&key_of(o));
            })
        },
        |_, _| {},
    )));
    let volumes =
        watcher::watcher(Api::<PersistentVolume>::all(client.clone()), config()).default_backoff();
    tasks.push(tokio::spawn(drive(
        volumes,
        scheduler.clone(),
        synced.clone(),
        |s, o| {
            s.with_volumes("PersistentVolumeUpdate", |v| {
                v.volumes.insert(o.name_any(), Arc::new(o));
            });
        },
        |s, o| {
            s.with_volumes("PersistentVolumeDelete", |v| {
                v.volumes.remove(&o.name_any());
            })
        },
        |_, _| {},
    )));
    let classes =
        watcher::watcher(Api::<StorageClass>::all(client.clone()), config()).default_backoff();
    tasks.push(tokio::spawn(drive(
        classes,
        scheduler.clone(),
        synced.clone(),
        |s, o| {
            s.with_volumes("StorageClassUpdate", |v| {
                if o.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer") {
                    v.delayed_classes.insert(o.name_any());
                } else {
                    v.delayed_classes.remove(&o.name_any());
                }
            });
        },
        |s, o| {
            s.with_volumes("StorageClassDelete", |v| {
                v.delayed_classes.remove(&o.name_any());
            })
        },
        |_, _| {},
    )));
}
