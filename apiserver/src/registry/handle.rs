//! The registry as requests see it: one snapshot per request, replaced whole when custom
//! resources come and go, with a change signal for what is derived from it (OpenAPI).

use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use super::Registry;

/// The current registry and its generation.
pub struct RegistryHandle {
    current: RwLock<Arc<Registry>>,
    generation: watch::Sender<u64>,
}

impl RegistryHandle {
    /// A handle on `registry`.
    pub fn new(registry: Registry) -> Self {
        Self {
            current: RwLock::new(Arc::new(registry)),
            generation: watch::channel(0).0,
        }
    }

    /// The registry now (a request keeps using the snapshot it started with).
    pub fn current(&self) -> Arc<Registry> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Replaces the registry and tells subscribers.
    pub fn replace(&self, registry: Registry) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(registry);
        self.generation.send_modify(|generation| *generation += 1);
    }

    /// How many times the registry was replaced.
    pub fn generation(&self) -> u64 {
        *self.generation.borrow()
    }

    /// Wakes on every replacement.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }
}
