//! Automatic history compaction, the same for every backend.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::{Revision, Store};

/// Keeps history from growing without bound, as kube-apiserver does for etcd: at each tick
/// it compacts to the revision it saw at the previous tick, so every watcher gets at least one
/// whole interval to catch up before its start revision goes away. Stops when dropped.
pub struct Compactor {
    task: JoinHandle<()>,
}

impl Compactor {
    /// Starts compacting `store` every `interval` (kube-apiserver's default is 5 minutes).
    pub fn spawn(store: Arc<dyn Store>, interval: Duration) -> Self {
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut previous: Option<Revision> = None;
            loop {
                ticker.tick().await;
                if let Some(target) = previous {
                    match store.compact(target).await {
                        Ok(()) => tracing::debug!(revision = target, "compacted history"),
                        Err(error) => {
                            tracing::warn!(revision = target, %error, "compaction failed")
                        }
                    }
                }
                match store.current_revision().await {
                    Ok(revision) => previous = Some(revision),
                    Err(error) => tracing::warn!(%error, "cannot read the current revision"),
                }
            }
        });
        Self { task }
    }
}

impl Drop for Compactor {
    fn drop(&mut self) {
        self.task.abort();
    }
}
