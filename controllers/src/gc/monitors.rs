//! One watch per deletable resource, feeding the graph builder: the garbage collector's
//! monitors. The set follows discovery (CRDs come and go), so watches start and stop at run
//! time; a watch that relists reports the objects gone meanwhile as deleted.
//!
//! These are dynamic (`DynamicObject`) watches of every resource, which the typed shared
//! informers cannot serve; only the metadata of each object is kept.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, watcher};
use kube::runtime::WatchStreamExt;
use kube::Client;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{AbortHandle, JoinSet};

use super::builder::{GraphEvent, Observed};
use super::graph::Lifecycle;
use super::identity::Identity;
use super::{FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
use crate::api_resources::ServedResource;

struct Running {
    resource: ServedResource,
    synced: Arc<AtomicBool>,
    handle: AbortHandle,
}

/// The running watches, by `group/version/plural`.
pub struct Monitors {
    client: Client,
    changes: UnboundedSender<GraphEvent>,
    running: HashMap<String, Running>,
    tasks: JoinSet<()>,
}

fn key(resource: &ServedResource) -> String {
    format!("{}/{}", resource.api_version(), resource.plural)
}

impl Monitors {
    /// No watches yet; events will go to `changes`.
    pub fn new(client: Client, changes: UnboundedSender<GraphEvent>) -> Self {
        Self {
            client,
            changes,
            running: HashMap::new(),
            tasks: JoinSet::new(),
        }
    }

    /// Watches exactly `wanted`: new resources start, vanished ones stop.
    pub fn sync(&mut self, wanted: Vec<ServedResource>) {
        while self.tasks.try_join_next().is_some() {}
        let wanted: HashMap<String, ServedResource> =
            wanted.into_iter().map(|r| (key(&r), r)).collect();
        let stale: Vec<String> = self
            .running
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        let (mut added, removed) = (0usize, stale.len());
        for stale in stale {
            if let Some(running) = self.running.remove(&stale) {
                running.handle.abort();
            }
        }
        for (key, resource) in wanted {
            if self.running.contains_key(&key) {
                continue;
            }
            let synced = Arc::new(AtomicBool::new(false));
            let handle = self.tasks.spawn(watch(
                self.client.clone(),
                resource.clone(),
                self.changes.clone(),
                Arc::clone(&synced),
            ));
            self.running.insert(
                key,
                Running {
                    resource,
                    synced,
                    handle,
                },
            );
            added += 1;
        }
        if added + removed > 0 {
            tracing::info!(
                added,
                removed,
                current = self.running.len(),
                "garbage collector monitors synced"
            );
        }
    }

    /// The watched resources of the given group versions.
    pub fn watched_in(&self, group_versions: &HashSet<&str>) -> Vec<ServedResource> {
        self.running
            .values()
            .filter(|running| group_versions.contains(running.resource.api_version().as_str()))
            .map(|running| running.resource.clone())
            .collect()
    }

    /// Whether there are watches and each has listed its resource once.
    pub fn synced(&self) -> bool {
        !self.running.is_empty()
            && self
                .running
                .values()
                .all(|running| running.synced.load(Ordering::Relaxed))
    }
}

impl Drop for Monitors {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// What the graph needs of an object.
fn observe(resource: &ServedResource, object: &DynamicObject) -> Option<Observed> {
    let meta = &object.metadata;
    let uid = meta.uid.clone()?;
    let finalizers = meta.finalizers.as_deref().unwrap_or_default();
    Some(Observed {
        identity: Identity {
            kind: resource.kind.clone(),
            api_version: resource.api_version(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid,
        },
        owners: meta.owner_references.clone().unwrap_or_default(),
        lifecycle: Lifecycle {
            being_deleted: meta.deletion_timestamp.is_some(),
            orphan: finalizers.iter().any(|f| f == ORPHAN_FINALIZER),
            foreground: finalizers.iter().any(|f| f == FOREGROUND_FINALIZER),
        },
    })
}

/// Watches one resource until aborted.
async fn watch(
    client: Client,
    resource: ServedResource,
    changes: UnboundedSender<GraphEvent>,
    synced: Arc<AtomicBool>,
) {
    let api: Api<DynamicObject> = Api::all_with(client, &resource.api_resource());
    // Objects reported so far (by UID), to report those a relist no longer shows.
    let mut known: HashMap<String, Identity> = HashMap::new();
    let mut relisted: HashSet<String> = HashSet::new();
    let mut stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::debug!(%error, resource = %key(&resource), "garbage collector watch restarting");
                continue;
            }
        };
        let send = |event: GraphEvent| {
            // The graph builder outlives the monitors; a closed channel means shutdown.
            let _ = changes.send(event);
        };
        let initial = matches!(event, watcher::Event::InitApply(_));
        match event {
            watcher::Event::Init => relisted.clear(),
            watcher::Event::InitApply(object) | watcher::Event::Apply(object) => {
                if let Some(observed) = observe(&resource, &object) {
                    if initial {
                        relisted.insert(observed.identity.uid.clone());
                    }
                    known.insert(observed.identity.uid.clone(), observed.identity.clone());
                    send(GraphEvent::Upsert(observed));
                }
            }
            watcher::Event::Delete(object) => {
                if let Some(observed) = observe(&resource, &object) {
                    known.remove(&observed.identity.uid);
                    send(GraphEvent::Delete(observed));
                }
            }
            watcher::Event::InitDone => {
                let vanished: Vec<String> = known
                    .keys()
                    .filter(|uid| !relisted.contains(*uid))
                    .cloned()
                    .collect();
                for uid in vanished {
                    if let Some(identity) = known.remove(&uid) {
                        send(GraphEvent::Delete(Observed {
                            identity,
                            owners: Vec::new(),
                            lifecycle: Lifecycle::default(),
                        }));
                    }
                }
                relisted.clear();
                synced.store(true, Ordering::Relaxed);
            }
        }
    }
}
