//! The embedded store: the default backend, zero set-up, durable in one directory.
//!
//! SQLite (bundled) in WAL mode holds the data; one writer thread group-commits every write
//! queued while the previous commit was syncing, so durability costs one fsync per group,
//! not per write. Nothing is acknowledged before its commit is on disk.

mod reader;
mod schema;
mod watch;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, oneshot};

use self::reader::{KeyRange, ReaderPool};
use self::writer::{Command, Published, WriteOp, Writer, Written};
use super::{Deleted, KeyValue, ListPage, ListRequest, Revision, StorageError, Store, WatchStream};

/// Commits published to watchers that a slow watcher may fall behind by before it replays
/// the log instead.
const PUBLISHED_BATCHES: usize = 1024;
/// Writes that may wait for the writer before callers are slowed down.
const QUEUED_WRITES: usize = 16 * 1024;

/// Settings for [`EmbeddedStore::open`].
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Connections serving reads concurrently.
    pub readers: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self { readers: 4 }
    }
}

/// The embedded backend. Cheap to share behind an `Arc`; the writer thread stops once the
/// store is dropped and the queued writes are committed.
pub struct EmbeddedStore {
    /// `None` only while dropping.
    commands: Option<mpsc::Sender<Command>>,
    writer: Option<std::thread::JoinHandle<()>>,
    readers: Arc<ReaderPool>,
    published: Arc<Published>,
    dir: PathBuf,
}

impl EmbeddedStore {
    async fn start_watch(
        &self,
        prefix: &str,
        after: Revision,
        progress: bool,
    ) -> Result<WatchStream, StorageError> {
        let marks = self.readers.read(schema::Marks::read).await?;
        if after < marks.compacted {
            return Err(StorageError::Compacted {
                requested: after,
                compacted: marks.compacted,
            });
        }
        Ok(watch::spawn(
            Arc::clone(&self.readers),
            &self.published.events,
            watch::Scope {
                prefix,
                after,
                progress,
            },
        ))
    }

    /// Opens (or creates) the store in `dir` with default options.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        Self::open_with(dir, EmbeddedOptions::default())
    }

    /// Opens (or creates) the store in `dir`. Fails if another process has it open: two
    /// writers would hand out the same revisions.
    pub fn open_with(
        dir: impl AsRef<Path>,
        options: EmbeddedOptions,
    ) -> Result<Self, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let lock = File::create(dir.join("lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StorageError::Locked(dir)),
            Err(std::fs::TryLockError::Error(error)) => return Err(error.into()),
        }
        let path = dir.join(schema::DB_FILE);
        let conn = schema::open(&path)?;
        schema::create(&conn)?;
        let readers = ReaderPool::open(&path, options.readers)?;
        let (events, _) = broadcast::channel(PUBLISHED_BATCHES);
        let published = Arc::new(Published {
            revision: AtomicI64::new(0),
            events,
        });
        let writer = Writer::new(conn, Arc::clone(&published))?;
        let (commands, receiver) = mpsc::channel(QUEUED_WRITES);
        let writer = std::thread::Builder::new()
            .name("ferrokube-store-writer".into())
            .spawn(move || {
                // The lock lives as long as the writer: released only after the last commit.
                let _lock = lock;
                writer.run(receiver);
            })?;
        tracing::info!(dir = %dir.display(), revision = published.revision.load(Ordering::Acquire), "embedded store open");
        Ok(Self {
            commands: Some(commands),
            writer: Some(writer),
            readers,
            published,
            dir,
        })
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn write(&self, op: WriteOp) -> Result<Written, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Write { op, reply }).await?;
        answer.await.map_err(|_| StorageError::Closed)?
    }

    async fn send(&self, command: Command) -> Result<(), StorageError> {
        let commands = self.commands.as_ref().ok_or(StorageError::Closed)?;
        commands
            .send(command)
            .await
            .map_err(|_| StorageError::Closed)
    }
}

impl Drop for EmbeddedStore {
    /// Waits for the writer to commit what is queued and release the directory, so the
    /// same directory can be opened again as soon as this returns.
    fn drop(&mut self) {
        self.commands = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn put(written: Written) -> Result<KeyValue, StorageError> {
    match written {
        Written::Put(kv) => Ok(kv),
        Written::Deleted(deleted) => Err(StorageError::Corrupt(format!(
            "writer answered a put with a delete of {:?}",
            deleted.prev.key
        ))),
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        put(self
            .write(WriteOp::Create {
                key: key.to_owned(),
                value,
            })
            .await?)
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> Result<KeyValue, StorageError> {
        put(self
            .write(WriteOp::Update {
                key: key.to_owned(),
                value,
                expected,
            })
            .await?)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted, StorageError> {
        match self
            .write(WriteOp::Delete {
                key: key.to_owned(),
                expected,
            })
            .await?
        {
            Written::Deleted(deleted) => Ok(deleted),
            Written::Put(kv) => Err(StorageError::Corrupt(format!(
                "writer answered a delete with a put of {:?}",
                kv.key
            ))),
        }
    }

    async fn get(
        &self,
        key: &str,
        revision: Option<Revision>,
    ) -> Result<Option<KeyValue>, StorageError> {
        let key = key.to_owned();
        self.readers
            .read(move |conn| reader::get(conn, &key, revision))
            .await
    }

    async fn list(&self, request: ListRequest) -> Result<ListPage, StorageError> {
        self.readers
            .read(move |conn| reader::list(conn, &request))
            .await
    }

    async fn count(&self, prefix: &str) -> Result<u64, StorageError> {
        let range = KeyRange::prefix(prefix);
        self.readers
            .read(move |conn| reader::count_in(conn, &range, None))
            .await
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        Ok(self.published.revision.load(Ordering::Acquire))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError> {
        self.start_watch(prefix, after, false).await
    }

    async fn watch_progress(
        &self,
        prefix: &str,
        after: Revision,
    ) -> Result<WatchStream, StorageError> {
        self.start_watch(prefix, after, true).await
    }

    fn reports_progress(&self) -> bool {
        true
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Compact { revision, reply }).await?;
        answer.await.map_err(|_| StorageError::Closed)?
    }
}

#[cfg(test)]
mod tests;
