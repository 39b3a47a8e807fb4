//! The watch cache of one resource: its current objects and a window of recent events, fed
//! by ONE store watch, so any number of watchers cost one store watch and each event is
//! decoded and encoded once.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::event::{EventType, WatchEvent};
use crate::object::{self, Object};
use crate::storage::{self, ListRequest, Revision, StorageError, Store};

/// Recent events kept for watchers resuming from a resourceVersion.
const HISTORY: usize = 4096;
/// Live events a watcher may fall behind by before it is closed (it then resumes from its
/// last resourceVersion, as clients do after any closed watch).
const LIVE_BUFFER: usize = 1024;
/// Objects read per page when (re)loading the cache.
const LOAD_PAGE: usize = 1000;
/// Pause before reloading after the store watch failed.
const RELOAD_BACKOFF: Duration = Duration::from_millis(500);

/// Where a watcher starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// With the current state as synthetic ADDED events, then every change.
    WithState,
    /// With every change after this revision.
    After(Revision),
}

/// What a new watcher gets: events to send first, then the live feed.
pub struct Subscription {
    /// Events to send before the live ones (state or replayed history).
    pub initial: Vec<Arc<WatchEvent>>,
    /// Live events; those at or below `after` must be skipped.
    pub live: broadcast::Receiver<Arc<WatchEvent>>,
    /// Every event up to this revision is covered by `initial` (or was asked to be skipped).
    pub after: Revision,
}

/// Objects of a cache as of one revision, in key order.
#[derive(Clone)]
pub struct Snapshot {
    /// Storage key and object.
    pub items: Arc<[(String, Arc<Object>)]>,
    /// The revision the objects are current at.
    pub revision: Revision,
}

/// Snapshots kept for the later pages of paged lists (upstream keeps cache snapshots for
/// continuations too): a handful, briefly; an expired one sends the page to the store.
const KEPT_SNAPSHOTS: usize = 8;
/// How long a kept snapshot serves continuations.
const KEPT_FOR: Duration = Duration::from_secs(60);

/// A snapshot kept for continuations, with the prefix it covers.
struct Kept {
    prefix: String,
    taken: std::time::Instant,
    snapshot: Snapshot,
}

/// Why a watcher cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The requested revision is older than the cache's window.
    #[error("too old resource version: {requested} ({oldest})")]
    TooOld {
        /// Asked for.
        requested: Revision,
        /// The oldest revision a watch can start after.
        oldest: Revision,
    },
    /// The cache has not loaded yet (or failed to).
    #[error("the watch cache is not ready")]
    NotReady,
}

struct State {
    objects: BTreeMap<String, Arc<Object>>,
    history: VecDeque<Arc<WatchEvent>>,
    /// The last revision applied.
    revision: Revision,
    /// A watch may start after any revision at or above this one.
    oldest: Revision,
    ready: bool,
    live: broadcast::Sender<Arc<WatchEvent>>,
    /// `revision` (once ready), for readers waiting for the cache to catch up.
    reached: tokio::sync::watch::Sender<Revision>,
}

/// The cache of one storage prefix.
pub struct WatchCache {
    state: Arc<RwLock<State>>,
    feeder: JoinHandle<()>,
    kept: std::sync::Mutex<VecDeque<Kept>>,
}

impl WatchCache {
    /// Starts loading and following `prefix`.
    pub fn start(store: Arc<dyn Store>, prefix: String) -> Self {
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let state = Arc::new(RwLock::new(State {
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            revision: 0,
            oldest: 0,
            ready: false,
            live,
            reached: tokio::sync::watch::channel(0).0,
        }));
        let feeder = tokio::spawn(feed(store, prefix, Arc::clone(&state)));
        Self {
            state,
            feeder,
            kept: std::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// The revision the cache has reached (0 until loaded).
    pub fn revision(&self) -> Revision {
        self.read().revision
    }

    /// Whether the initial load finished.
    pub fn is_ready(&self) -> bool {
        self.read().ready
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits (up to `timeout`) until the cache has applied every change up to `revision`,
    /// as upstream's consistent reads from the cache do; false if it did not get there.
    pub async fn wait_for(&self, revision: Revision, timeout: Duration) -> bool {
        let mut reached = {
            let state = self.read();
            if !state.ready {
                return false;
            }
            state.reached.subscribe()
        };
        let caught_up = tokio::time::timeout(timeout, reached.wait_for(|at| *at >= revision)).await;
        matches!(caught_up, Ok(Ok(_)))
    }

    /// The cached objects whose keys start with `prefix` (the cache's own prefix or a
    /// namespace under it) and sort after `after_key`, with the revision they are current
    /// at: a consistent snapshot taken under the lock the feeder applies events with.
    pub fn snapshot(&self, prefix: &str) -> Option<Snapshot> {
        use std::ops::Bound;
        let state = self.read();
        if !state.ready {
            return None;
        }
        let items = state
            .objects
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, object)| (key.clone(), Arc::clone(object)))
            .collect();
        Some(Snapshot {
            items,
            revision: state.revision,
        })
    }

    /// The cached object under `key` (`None`: absent at the cache's revision).
    pub fn object(&self, key: &str) -> Option<Arc<Object>> {
        self.read().objects.get(key).cloned()
    }

    /// Keeps `snapshot` of `prefix` for the continuations of a paged list.
    pub fn keep(&self, prefix: &str, snapshot: &Snapshot) {
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept
            .iter()
            .any(|k| k.prefix == prefix && k.snapshot.revision == snapshot.revision)
        {
            return;
        }
        kept.retain(|k| k.taken.elapsed() < KEPT_FOR);
        while kept.len() >= KEPT_SNAPSHOTS {
            kept.pop_front();
        }
        kept.push_back(Kept {
            prefix: prefix.to_owned(),
            taken: std::time::Instant::now(),
            snapshot: snapshot.clone(),
        });
    }

    /// A kept snapshot of `prefix` at `revision`, if still kept.
    pub fn kept(&self, prefix: &str, revision: Revision) -> Option<Snapshot> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.iter()
            .find(|k| {
                k.prefix == prefix
                    && k.snapshot.revision == revision
                    && k.taken.elapsed() < KEPT_FOR
            })
            .map(|k| k.snapshot.clone())
    }

    /// Registers a watcher. Under the lock the feeder holds while applying an event, so every
    /// event is either in `initial` or arrives on `live`.
    pub fn subscribe(&self, start: Start) -> Result<Subscription, SubscribeError> {
        let state = self.read();
        if !state.ready {
            return Err(SubscribeError::NotReady);
        }
        let live = state.live.subscribe();
        match start {
            Start::WithState => Ok(Subscription {
                initial: state
                    .objects
                    .iter()
                    .map(|(key, object)| {
                        Arc::new(WatchEvent::new(
                            EventType::Added,
                            key.clone(),
                            object_revision(object),
                            Arc::clone(object),
                            None,
                        ))
                    })
                    .collect(),
                live,
                after: state.revision,
            }),
            Start::After(requested) => {
                if requested < state.oldest {
                    return Err(SubscribeError::TooOld {
                        requested,
                        oldest: state.oldest,
                    });
                }
                Ok(Subscription {
                    initial: state
                        .history
                        .iter()
                        .filter(|event| event.revision > requested)
                        .cloned()
                        .collect(),
                    live,
                    after: requested.max(state.revision),
                })
            }
        }
    }
}

impl Drop for WatchCache {
    fn drop(&mut self) {
        self.feeder.abort();
    }
}

fn object_revision(object: &Object) -> Revision {
    object
        .meta_str("resourceVersion")
        .and_then(|text| text.parse().ok())
        .unwrap_or(0)
}

/// Loads the prefix, then follows it; reloads (closing current watchers) if following fails.
async fn feed(store: Arc<dyn Store>, prefix: String, state: Arc<RwLock<State>>) {
    loop {
        match load(store.as_ref(), &prefix).await {
            Ok((objects, revision)) => {
                {
                    let mut state = state
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let reloaded = state.ready;
                    state.objects = objects;
                    state.history.clear();
                    state.revision = revision;
                    state.oldest = revision;
                    state.ready = true;
                    state.reached.send_replace(revision);
                    if reloaded {
                        // Watchers of the old feed cannot be continued without a gap.
                        state.live = broadcast::channel(LIVE_BUFFER).0;
                    }
                }
                tracing::debug!(%prefix, revision, "watch cache loaded");
                match follow(store.as_ref(), &prefix, revision, &state).await {
                    Ok(()) => tracing::info!(%prefix, "store watch ended; reloading"),
                    Err(error) => tracing::warn!(%prefix, %error, "store watch failed; reloading"),
                }
            }
            Err(error) => tracing::warn!(%prefix, %error, "cannot load the watch cache"),
        }
        tokio::time::sleep(RELOAD_BACKOFF).await;
    }
}

async fn load(
    store: &dyn Store,
    prefix: &str,
) -> Result<(BTreeMap<String, Arc<Object>>, Revision), StorageError> {
    let mut objects = BTreeMap::new();
    let mut revision = None;
    let mut after_key = None;
    loop {
        let page = store
            .list(ListRequest {
                prefix: prefix.to_owned(),
                after_key: after_key.take(),
                revision,
                limit: Some(LOAD_PAGE),
            })
            .await?;
        revision = Some(page.revision);
        let more = page.more();
        after_key = page.items.last().map(|kv| kv.key.clone());
        for kv in page.items {
            match object::from_storage(&kv.value, kv.mod_revision) {
                Ok(object) => {
                    objects.insert(kv.key, Arc::new(object));
                }
                Err(error) => tracing::warn!(key = %kv.key, %error, "skipping undecodable object"),
            }
        }
        if !more {
            return Ok((objects, revision.unwrap_or(0)));
        }
    }
}

async fn follow(
    store: &dyn Store,
    prefix: &str,
    after: Revision,
    state: &RwLock<State>,
) -> Result<(), StorageError> {
    let mut stream = store.watch_progress(prefix, after).await?;
    while let Some(event) = stream.next().await {
        let event = event?;
        if event.kind == storage::EventKind::Progress {
            advance(state, event.revision());
        } else if let Some(event) = convert(event) {
            apply(state, event);
        }
    }
    Ok(())
}

/// A store event as the API reports it.
fn convert(event: storage::Event) -> Option<WatchEvent> {
    let revision = event.revision();
    let decode = |kv: &storage::KeyValue, revision| match object::from_storage(&kv.value, revision)
    {
        Ok(object) => Some(Arc::new(object)),
        Err(error) => {
            tracing::warn!(key = %kv.key, %error, "skipping undecodable object");
            None
        }
    };
    // The previous object is the cached one (`apply` fills it in), not decoded again.
    let prev = None;
    let (kind, object) = match event.kind {
        storage::EventKind::Created => (EventType::Added, decode(&event.kv, revision)?),
        storage::EventKind::Updated => (EventType::Modified, decode(&event.kv, revision)?),
        storage::EventKind::Progress => return None,
        storage::EventKind::Deleted => {
            // Upstream reports a deleted object as it last was, at the deletion's revision.
            let last = event.prev_kv.as_ref()?;
            (EventType::Deleted, decode(last, revision)?)
        }
    };
    Some(WatchEvent::new(kind, event.kv.key, revision, object, prev))
}

/// The store is past `revision` with no change under the prefix: the cache is current there.
fn advance(state: &RwLock<State>, revision: Revision) {
    let mut state = state
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if revision > state.revision {
        state.revision = revision;
        state.reached.send_replace(revision);
    }
}

fn apply(state: &RwLock<State>, mut event: WatchEvent) {
    let mut state = state
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if event.kind != EventType::Added {
        event.prev = state.objects.get(&event.key).cloned();
    }
    let event = Arc::new(event);
    match event.kind {
        EventType::Deleted => {
            state.objects.remove(&event.key);
        }
        _ => {
            state
                .objects
                .insert(event.key.clone(), Arc::clone(&event.object));
        }
    }
    state.revision = event.revision;
    state.reached.send_replace(event.revision);
    state.history.push_back(Arc::clone(&event));
    while state.history.len() > HISTORY {
        if let Some(dropped) = state.history.pop_front() {
            state.oldest = dropped.revision;
        }
    }
    // No receivers is fine.
    let _ = state.live.send(event);
}
