//! What the storage tests share: a harness that opens a real backend, and small helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use ferrokube_apiserver::storage::embedded::EmbeddedStore;
use ferrokube_apiserver::storage::etcd::EtcdStore;
use ferrokube_apiserver::storage::{Event, Revision, StorageError, Store, WatchStream};
use ferrokube_testkit::EtcdServer;
use futures::StreamExt;

/// A backend under test, with whatever keeps it alive (a temp dir, an etcd process).
pub struct Harness {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _etcd: Option<EtcdServer>,
}

impl Harness {
    pub async fn embedded() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let store = EmbeddedStore::open(dir.path())?;
        Ok(Self {
            store: Arc::new(store),
            _dir: Some(dir),
            _etcd: None,
        })
    }

    pub async fn etcd() -> Result<Self> {
        let server = tokio::task::spawn_blocking(EtcdServer::start).await??;
        let store = EtcdStore::connect(&[server.endpoint()]).await?;
        Ok(Self {
            store: Arc::new(store),
            _dir: None,
            _etcd: Some(server),
        })
    }
}

pub fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// Waits for the next event, failing after a generous timeout instead of hanging.
pub async fn next_event(stream: &mut WatchStream) -> Result<Event> {
    match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
        Ok(Some(Ok(event))) => Ok(event),
        Ok(Some(Err(error))) => bail!("watch failed: {error}"),
        Ok(None) => bail!("watch ended"),
        Err(_) => bail!("no event within 20s"),
    }
}

/// Collects exactly `count` events.
pub async fn next_events(stream: &mut WatchStream, count: usize) -> Result<Vec<Event>> {
    let mut events = Vec::with_capacity(count);
    for index in 0..count {
        events.push(
            next_event(stream)
                .await
                .with_context(|| format!("waiting for event {} of {count}", index + 1))?,
        );
    }
    Ok(events)
}

/// Asserts nothing more arrives for a short while.
pub async fn assert_quiet(stream: &mut WatchStream) -> Result<()> {
    match tokio::time::timeout(Duration::from_millis(300), stream.next()).await {
        Err(_) => Ok(()),
        Ok(Some(Ok(event))) => bail!("unexpected event {event:?}"),
        Ok(Some(Err(error))) => bail!("unexpected error {error}"),
        Ok(None) => bail!("watch ended"),
    }
}

/// The error a watch from a compacted revision reports: from the call or as its first item.
pub async fn watch_error(store: &dyn Store, prefix: &str, after: Revision) -> Result<StorageError> {
    match store.watch(prefix, after).await {
        Err(error) => Ok(error),
        Ok(mut stream) => {
            match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
                Ok(Some(Err(error))) => Ok(error),
                Ok(Some(Ok(event))) => bail!("expected an error, got {event:?}"),
                Ok(None) => bail!("watch ended without an error"),
                Err(_) => bail!("no error within 20s"),
            }
        }
    }
}
