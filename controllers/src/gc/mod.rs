//! The garbage collector, after upstream's `pkg/controller/garbagecollector`: a graph of
//! owner references over every resource that can be listed, watched and deleted (found
//! through discovery, again every 30 seconds and when an unknown kind turns up), built from
//! one watch per resource; workers delete objects whose owners are all gone (background),
//! delete the dependents of owners deleted in the foreground before releasing them, and
//! strip owner references for owners deleted with `orphan`.

mod api;
mod builder;
mod collector;
mod error;
mod graph;
mod identity;
mod monitors;
mod orphan;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::Notify;

use crate::api_resources::{Discovered, ServedResource};
use crate::workqueue::WorkQueue;
use crate::Shared;

use api::Objects;
use builder::{Effect, GraphEvent};
use collector::Outcome;
use error::GcError;
use graph::{Graph, Node};
use identity::Identity;
use monitors::Monitors;

/// The finalizer of foreground deletion (`metav1.FinalizerDeleteDependents`).
pub(crate) const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
/// The finalizer of orphaning deletion (`metav1.FinalizerOrphanDependents`).
pub(crate) const ORPHAN_FINALIZER: &str = "orphan";

/// How often discovery is read again for new or removed resources.
const RESYNC_PERIOD: Duration = Duration::from_secs(30);
/// The least time between two discoveries (one asked for by a failing lookup included).
const MIN_RESYNC_GAP: Duration = Duration::from_secs(1);
/// How long the workers wait for the first listing of every resource.
const INITIAL_SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Workers per queue (kube-controller-manager's `--concurrent-gc-syncs`).
const WORKERS: usize = 20;
/// Resources never watched (upstream's `DefaultIgnoredResources`).
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

/// The name events are reported under.
const COMPONENT: &str = "garbage-collector-controller";

/// What the graph builder and the workers share.
pub(crate) struct Collector {
    graph: Mutex<Graph>,
    objects: Objects,
    attempt_to_delete_queue: Arc<WorkQueue<String>>,
    attempt_to_orphan_queue: Arc<WorkQueue<String>>,
    changes: UnboundedSender<GraphEvent>,
}

impl Collector {
    fn with_graph<T>(&self, read: impl FnOnce(&mut Graph) -> T) -> T {
        let mut graph = self
            .graph
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        read(&mut graph)
    }

    fn node(&self, uid: &str) -> Option<Node> {
        self.with_graph(|graph| graph.node(uid))
    }

    /// Tells the graph builder that the object behind `identity` does not exist.
    fn verified_absent(&self, identity: &Identity) {
        tracing::debug!(item = %identity, "item not found, generating a virtual delete event");
        let _ = self
            .changes
            .send(GraphEvent::VirtualDelete(identity.clone()));
    }
}

/// The garbage collector loop: discovery and monitors, the graph builder, and the workers.
pub fn build(shared: Shared) -> BoxFuture<'static, ()> {
    let (changes, receiver) = mpsc::unbounded_channel();
    let discovered = Arc::new(RwLock::new(Arc::new(Discovered::default())));
    let rediscover = Arc::new(Notify::new());
    let collector = Arc::new(Collector {
        graph: Mutex::new(Graph::default()),
        objects: Objects::new(
            shared.client.clone(),
            Arc::clone(&discovered),
            Arc::clone(&rediscover),
        ),
        attempt_to_delete_queue: WorkQueue::new(),
        attempt_to_orphan_queue: WorkQueue::new(),
        changes: changes.clone(),
    });
    let monitors = Arc::new(Mutex::new(Monitors::new(shared.client.clone(), changes)));
    let recorder = shared.recorder(COMPONENT);
    async move {
        futures::join!(
            build_graph(Arc::clone(&collector), receiver, recorder),
            resync(shared, discovered, rediscover, Arc::clone(&monitors)),
            run_workers(collector, monitors),
        );
    }
    .boxed()
}

/// Applies the monitors' (and workers') changes to the graph, in order, and queues what
/// they call for.
async fn build_graph(
    collector: Arc<Collector>,
    mut receiver: UnboundedReceiver<GraphEvent>,
    recorder: Recorder,
) {
    while let Some(event) = receiver.recv().await {
        let effects = collector.with_graph(|graph| graph.process(event));
        for effect in effects {
            match effect {
                Effect::AttemptToDelete(uid) => collector.attempt_to_delete_queue.add(uid),
                Effect::AttemptToDeleteLater(uid) => {
                    collector.attempt_to_delete_queue.add_rate_limited(uid);
                }
                Effect::AttemptToOrphan(uid) => collector.attempt_to_orphan_queue.add(uid),
                Effect::InvalidNamespace { dependent, owner } => {
                    report_invalid_namespace(&recorder, &dependent, &owner).await;
                }
            }
        }
    }
}

/// The warning upstream records on a dependent naming an owner in another namespace.
async fn report_invalid_namespace(recorder: &Recorder, dependent: &Identity, owner: &Identity) {
    tracing::info!(item = %dependent, owner = %owner, "item references an owner but does not match namespaces");
    let reference = ObjectReference {
        api_version: Some(dependent.api_version.clone()),
        kind: Some(dependent.kind.clone()),
        name: Some(dependent.name.clone()),
        namespace: Some(dependent.namespace.clone()).filter(|ns| !ns.is_empty()),
        uid: Some(dependent.uid.clone()),
        ..ObjectReference::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "OwnerRefInvalidNamespace".to_owned(),
        note: Some(format!(
            "ownerRef {owner} does not exist in namespace {:?}",
            dependent.namespace
        )),
        action: "GarbageCollect".to_owned(),
        secondary: None,
    };
    if let Err(error) = recorder.publish(&event, &reference).await {
        tracing::debug!(%error, "recording OwnerRefInvalidNamespace failed");
    }
}

/// Whether the garbage collector watches `resource`.
fn deletable(resource: &ServedResource) -> bool {
    resource.supports(&["delete", "list", "watch"])
        && !IGNORED
            .iter()
            .any(|(group, plural)| resource.group == *group && resource.plural == *plural)
}

/// Reads discovery now, every 30 seconds, and soon after a lookup of an unknown kind;
/// the monitors follow it.
async fn resync(
    shared: Shared,
    discovered: Arc<RwLock<Arc<Discovered>>>,
    rediscover: Arc<Notify>,
    monitors: Arc<Mutex<Monitors>>,
) {
    loop {
        match Discovered::fetch(&shared.client).await {
            Ok(found) => {
                if let Some(failure) = found.failure() {
                    tracing::info!(%failure, "failed to discover some groups");
                }
                let mut wanted: Vec<ServedResource> = found
                    .preferred()
                    .into_iter()
                    .filter(|resource| deletable(resource))
                    .cloned()
                    .collect();
                if !wanted.is_empty() {
                    let mut monitors = monitors
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    // Groups that failed this time keep the watches they had.
                    let failed = found.failed_group_versions();
                    for kept in monitors.watched_in(&failed) {
                        if !wanted.contains(&kept) {
                            wanted.push(kept);
                        }
                    }
                    monitors.sync(wanted);
                }
                if let Ok(mut current) = discovered.write() {
                    *current = Arc::new(found);
                }
            }
            Err(error) => tracing::warn!(%error, "garbage collector discovery failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(RESYNC_PERIOD) => {}
            () = rediscover.notified() => {}
        }
        tokio::time::sleep(MIN_RESYNC_GAP).await;
    }
}

/// Waits (a while) for every monitor to list its resource, then runs the workers.
async fn run_workers(collector: Arc<Collector>, monitors: Arc<Mutex<Monitors>>) {
    let deadline = tokio::time::Instant::now() + INITIAL_SYNC_TIMEOUT;
    loop {
        let synced = monitors
            .lock()
            .map(|monitors| monitors.synced())
            .unwrap_or(false);
        if synced {
            tracing::info!("garbage collector: all resource monitors have synced");
            break;
        }
        if tokio::time::Instant::now() > deadline {
            tracing::info!(
                "garbage collector: not all resource monitors could be synced, proceeding anyways"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deleters = (0..WORKERS).map(|_| delete_worker(Arc::clone(&collector)));
    let orphaners = (0..WORKERS).map(|_| orphan_worker(Arc::clone(&collector)));
    futures::join!(join_all(deleters), join_all(orphaners));
}

async fn delete_worker(collector: Arc<Collector>) {
    let queue = Arc::clone(&collector.attempt_to_delete_queue);
    loop {
        let uid = queue.get().await;
        match collector.attempt_to_delete(&uid).await {
            Ok(Outcome::VerifiedAbsent) | Err(GcError::NamespacedOwnerOfClusterScopedObject) => {
                queue.forget(&uid);
            }
            Ok(Outcome::Done) => {
                // A virtual node is looked at again until a watch reports it (or it is
                // verified absent).
                match collector.node(&uid) {
                    Some(node) if !node.is_observed() => queue.add_rate_limited(uid.clone()),
                    _ => queue.forget(&uid),
                }
            }
            Err(error) => {
                tracing::info!(%error, uid, "error syncing item");
                queue.add_rate_limited(uid.clone());
            }
        }
        queue.done(&uid);
    }
}

async fn orphan_worker(collector: Arc<Collector>) {
    let queue = Arc::clone(&collector.attempt_to_orphan_queue);
    loop {
        let uid = queue.get().await;
        match collector.attempt_to_orphan(&uid).await {
            Ok(()) => queue.forget(&uid),
            Err(error) => {
                tracing::info!(%error, uid, "orphaning dependents failed");
                queue.add_rate_limited(uid.clone());
            }
        }
        queue.done(&uid);
    }
}
