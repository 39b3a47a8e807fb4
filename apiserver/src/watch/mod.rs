//! Watch caches: one per resource, started on first use and shared by every watcher of
//! that resource.

mod cache;
mod event;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use cache::{Start, SubscribeError, Subscription, WatchCache};
pub use event::{bookmark, encode_line, error_line, EventType, WatchEvent};

use crate::storage::Store;

/// How long a first watcher waits for a new cache to load.
const LOAD_WAIT: Duration = Duration::from_secs(10);

/// The caches of every watched resource, by storage prefix.
pub struct WatchCaches {
    store: Arc<dyn Store>,
    caches: Mutex<HashMap<String, Arc<WatchCache>>>,
}

impl WatchCaches {
    /// No caches yet; each starts when its resource is first watched.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            caches: Mutex::new(HashMap::new()),
        }
    }

    /// Starts the cache of every prefix now, as kube-apiserver starts its watch caches at
    /// start-up: a cache started only on first watch would refuse (410) resourceVersions
    /// that clients got from lists made before it existed.
    pub fn start_all<'a>(&self, prefixes: impl IntoIterator<Item = &'a str>) {
        let mut caches = self
            .caches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for prefix in prefixes {
            caches.entry(prefix.to_owned()).or_insert_with(|| {
                Arc::new(WatchCache::start(
                    Arc::clone(&self.store),
                    prefix.to_owned(),
                ))
            });
        }
    }

    /// The cache of `prefix`, started if needed, once it has loaded.
    pub async fn get(&self, prefix: &str) -> Result<Arc<WatchCache>, SubscribeError> {
        let cache = {
            let mut caches = self
                .caches
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(caches.entry(prefix.to_owned()).or_insert_with(|| {
                Arc::new(WatchCache::start(
                    Arc::clone(&self.store),
                    prefix.to_owned(),
                ))
            }))
        };
        let deadline = tokio::time::Instant::now() + LOAD_WAIT;
        while !cache.is_ready() {
            if tokio::time::Instant::now() >= deadline {
                return Err(SubscribeError::NotReady);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(cache)
    }
}
