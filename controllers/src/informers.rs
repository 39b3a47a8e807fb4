//! Shared informers: each resource type is watched once and its objects cached once, however
//! many control loops read it, and every change (deletions included) is broadcast to the
//! loops that subscribed. Loops subscribe while the manager is being built; then `start`
//! runs one watcher per type.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use kube::api::Api;
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;
use kube::runtime::WatchStreamExt;
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};

/// How many changes a slow subscriber may lag behind before it is resynced from the cache.
const BUFFER: usize = 4096;

/// One change to one object.
#[derive(Debug)]
pub enum Change<K> {
    /// Created or modified (or seen in a relist).
    Applied(Arc<K>),
    /// Deleted; the object as last seen.
    Deleted(Arc<K>),
}

impl<K> Clone for Change<K> {
    fn clone(&self) -> Self {
        match self {
            Self::Applied(object) => Self::Applied(Arc::clone(object)),
            Self::Deleted(object) => Self::Deleted(Arc::clone(object)),
        }
    }
}

impl<K> Change<K> {
    /// The object the change is about.
    pub fn object(&self) -> &Arc<K> {
        match self {
            Self::Applied(object) | Self::Deleted(object) => object,
        }
    }
}

/// The bound every watched type meets.
pub trait Watched:
    Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}

impl<K> Watched for K where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}

/// Whether a shared cache has been filled by its first list, for any number of waiters.
/// kube-runtime's `Store::wait_until_ready` wakes only the last of several tasks awaiting the
/// same store, so loops sharing a cache wait on this instead.
#[derive(Clone, Debug)]
pub struct Ready(watch::Receiver<bool>);

impl Ready {
    /// Waits until the cache is filled; false if it never will be (its watcher is gone).
    pub async fn wait(&self) -> bool {
        let mut filled = self.0.clone();
        let outcome = filled.wait_for(|ready| *ready).await.is_ok();
        outcome
    }
}

/// A loop's view of one resource: the shared cache and the changes after subscribing.
pub struct Subscription<K: Watched> {
    /// Every object of the type, kept current by the shared watcher.
    pub store: Store<K>,
    /// Resolves once `store` holds the first full list.
    pub ready: Ready,
    changes: broadcast::Receiver<Change<K>>,
}

impl<K: Watched> Subscription<K> {
    /// Every change, in order; a subscriber that falls behind gets every cached object again
    /// (as `Applied`) instead of the changes it missed.
    pub fn changes(self) -> BoxStream<'static, Change<K>> {
        let store = self.store;
        futures::stream::unfold(self.changes, move |mut changes| {
            let store = store.clone();
            async move {
                match changes.recv().await {
                    Ok(change) => Some((vec![change], changes)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let all = store.state().into_iter().map(Change::Applied).collect();
                        Some((all, changes))
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            }
        })
        .flat_map(futures::stream::iter)
        .boxed()
    }

    /// The objects as they are created or modified: the trigger of a controller for `K`.
    pub fn applied(self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        self.changes().filter_map(|change| async move {
            match change {
                Change::Applied(object) => Some(object),
                Change::Deleted(_) => None,
            }
        })
    }

    /// Every change mapped to the objects of another kind it concerns (e.g. a pod to its
    /// owning ReplicaSet): a `reconcile_on` trigger that sees deletions too.
    pub fn map_to<P, F, I>(self, mapper: F) -> impl Stream<Item = ObjectRef<P>> + Send + 'static
    where
        P: Resource<DynamicType = ()> + 'static,
        F: Fn(&Change<K>) -> I + Send + 'static,
        I: IntoIterator<Item = ObjectRef<P>>,
        I::IntoIter: Send + 'static,
    {
        self.changes()
            .flat_map(move |change| futures::stream::iter(mapper(&change)))
    }
}

/// What the manager needs of one type's watcher without knowing the type.
trait Informer: Send {
    fn as_any(&mut self) -> &mut dyn Any;
    fn start(self: Box<Self>, client: Client) -> BoxFuture<'static, ()>;
}

struct Entry<K: Watched> {
    store: Store<K>,
    writer: Writer<K>,
    sender: broadcast::Sender<Change<K>>,
    filled: watch::Sender<bool>,
}

impl<K: Watched> Entry<K> {
    fn new() -> Self {
        let (store, writer) = reflector::store();
        Self {
            store,
            writer,
            sender: broadcast::channel(BUFFER).0,
            filled: watch::channel(false).0,
        }
    }
}

impl<K: Watched> Informer for Entry<K> {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn start(self: Box<Self>, client: Client) -> BoxFuture<'static, ()> {
        let Entry {
            store,
            mut writer,
            sender,
            filled,
        } = *self;
        let api: Api<K> = Api::all(client);
        let mut relisted: Vec<ObjectRef<K>> = Vec::new();
        watcher(api, watcher::Config::default())
            .default_backoff()
            .for_each(move |event| {
                match event {
                    Ok(event) => {
                        if matches!(event, watcher::Event::Init) {
                            relisted.clear();
                        }
                        if let watcher::Event::InitApply(object) = &event {
                            relisted.push(ObjectRef::from_obj(object));
                        }
                        // Objects gone while the watch was down are deletions too.
                        let vanished: Vec<Arc<K>> = if matches!(event, watcher::Event::InitDone) {
                            store
                                .state()
                                .into_iter()
                                .filter(|object| {
                                    !relisted.contains(&ObjectRef::from_obj(&**object))
                                })
                                .collect()
                        } else {
                            Vec::new()
                        };
                        writer.apply_watcher_event(&event);
                        if matches!(event, watcher::Event::InitDone) {
                            filled.send_replace(true);
                        }
                        let _ = match event {
                            watcher::Event::Apply(object) | watcher::Event::InitApply(object) => {
                                sender.send(Change::Applied(Arc::new(object)))
                            }
                            watcher::Event::Delete(object) => {
                                sender.send(Change::Deleted(Arc::new(object)))
                            }
                            watcher::Event::Init | watcher::Event::InitDone => Ok(0),
                        };
                        for object in vanished {
                            let _ = sender.send(Change::Deleted(object));
                        }
                    }
                    Err(error) => tracing::debug!(%error, kind = %K::kind(&()), "watch restarting"),
                }
                futures::future::ready(())
            })
            .boxed()
    }
}

/// The watchers of a manager, by resource type.
pub struct Informers {
    client: Client,
    entries: HashMap<TypeId, Box<dyn Informer>>,
}

impl Informers {
    /// No watchers yet.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            entries: HashMap::new(),
        }
    }

    fn with_entry<K: Watched, T>(&mut self, use_entry: impl FnOnce(&Entry<K>) -> T) -> T {
        let slot = self
            .entries
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(Entry::<K>::new()));
        if let Some(entry) = slot.as_any().downcast_mut::<Entry<K>>() {
            return use_entry(entry);
        }
        // Keyed by type, so the slot holds this type; rebuild it should that ever fail.
        let entry = Entry::<K>::new();
        let result = use_entry(&entry);
        *slot = Box::new(entry);
        result
    }

    /// A subscription to every object of type `K` (all namespaces).
    pub fn subscribe<K: Watched>(&mut self) -> Subscription<K> {
        self.with_entry(|entry: &Entry<K>| Subscription {
            store: entry.store.clone(),
            ready: Ready(entry.filled.subscribe()),
            changes: entry.sender.subscribe(),
        })
    }

    /// Whether the cache of type `K` has been filled, for loops that only read it.
    pub fn ready<K: Watched>(&mut self) -> Ready {
        self.with_entry(|entry: &Entry<K>| Ready(entry.filled.subscribe()))
    }

    /// The cache of type `K` only, for loops that read it without reacting to it.
    pub fn store<K: Watched>(&mut self) -> Store<K> {
        self.with_entry(|entry: &Entry<K>| entry.store.clone())
    }

    /// The watcher tasks, one per type; subscriptions must all be made before.
    pub fn start(self) -> Vec<BoxFuture<'static, ()>> {
        let client = self.client;
        self.entries
            .into_values()
            .map(|entry| entry.start(client.clone()))
            .collect()
    }
}
