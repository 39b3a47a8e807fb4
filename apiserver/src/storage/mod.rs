//! Storage with etcd v3 semantics: the API server's guarantees (resourceVersion, optimistic
//! concurrency, consistent paginated lists, resumable watches) are built on these.
//!
//! Two backends implement [`Store`]: [`embedded::EmbeddedStore`] (the default: SQLite in one
//! directory, group-committed) and [`etcd::EtcdStore`] (a real etcd v3 cluster).

mod compactor;
mod datastore;
pub mod embedded;
mod error;
pub mod etcd;
mod keys;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

pub use compactor::Compactor;
pub use datastore::Datastore;
pub use error::StorageError;
pub use keys::prefix_end;

/// A store revision: cluster-wide, strictly increasing, one per successful write. The API
/// server exposes it as `resourceVersion`.
pub type Revision = i64;

/// One key as stored at some revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The full key, e.g. `/registry/pods/default/web-0`.
    pub key: String,
    /// The stored bytes (JSON of the object, for the API server).
    pub value: Bytes,
    /// The revision at which the key was created (0 in a deletion event).
    pub create_revision: Revision,
    /// The revision of the last change to the key.
    pub mod_revision: Revision,
}

/// What a change did to a key, as a watcher sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The key did not exist before.
    Created,
    /// The key existed and got a new value.
    Updated,
    /// The key was removed.
    Deleted,
    /// Nothing under the watched prefix changed up to `kv.mod_revision` (the key is empty):
    /// sent only by [`Store::watch_progress`], so that a cache knows it is current.
    Progress,
}

/// One change, delivered in revision order by [`Store::watch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The key after the change. For a deletion: the key, an empty value, create revision 0
    /// and the deletion's revision as `mod_revision` (as etcd reports it).
    pub kv: KeyValue,
    /// The key before the change, for updates and deletions.
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// The revision this change was written at.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// The outcome of a successful delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted {
    /// The key's last value before the deletion.
    pub prev: KeyValue,
    /// The revision of the deletion itself.
    pub revision: Revision,
}

/// A range read over every key under a prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Keys starting with this prefix are listed, in byte order.
    pub prefix: String,
    /// Continue after this key (exclusive): the last key of the previous page.
    pub after_key: Option<String>,
    /// Read as of this revision (`None`: the latest). Every page of one list passes the
    /// revision of the first page, so the pages form one consistent snapshot.
    pub revision: Option<Revision>,
    /// At most this many items (`None`: no limit).
    pub limit: Option<usize>,
}

/// One page of a range read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPage {
    /// The keys of this page in byte order.
    pub items: Vec<KeyValue>,
    /// The revision the page was read at.
    pub revision: Revision,
    /// How many keys under the prefix follow this page at that revision.
    pub remaining: u64,
}

impl ListPage {
    /// Whether another page follows.
    pub fn more(&self) -> bool {
        self.remaining > 0
    }
}

/// A stream of changes in revision order. It ends with `Err` when the watch cannot go on
/// (its start revision was compacted, the backend failed, the store closed).
pub type WatchStream = BoxStream<'static, Result<Event, StorageError>>;

/// The storage contract both backends meet; one behavioural test suite checks it on each.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Writes `value` under `key` if the key does not exist.
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError>;

    /// Replaces the value of `key` if its `mod_revision` is still `expected` (compare and swap).
    /// A mismatch fails with [`StorageError::Conflict`], carrying the current value so the
    /// caller can retry without another read.
    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> Result<KeyValue, StorageError>;

    /// Removes `key`, if `expected` is given only while its `mod_revision` still matches.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted, StorageError>;

    /// Reads one key at the latest revision or at a past one.
    async fn get(
        &self,
        key: &str,
        revision: Option<Revision>,
    ) -> Result<Option<KeyValue>, StorageError>;

    /// Reads a page of keys under a prefix (see [`ListRequest`]).
    async fn list(&self, request: ListRequest) -> Result<ListPage, StorageError>;

    /// Counts the live keys under a prefix at the latest revision.
    async fn count(&self, prefix: &str) -> Result<u64, StorageError>;

    /// The latest revision written.
    async fn current_revision(&self) -> Result<Revision, StorageError>;

    /// Streams every change under `prefix` with a revision above `after`, in order, none
    /// missing. A compacted `after` fails with [`StorageError::Compacted`], from this call or
    /// as the stream's first item.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError>;

    /// [`Store::watch`], plus [`EventKind::Progress`] events when the store has committed
    /// changes past the last event sent that were all outside `prefix`. Backends that cannot
    /// tell send none (this default) and answer false to [`Store::reports_progress`].
    async fn watch_progress(
        &self,
        prefix: &str,
        after: Revision,
    ) -> Result<WatchStream, StorageError> {
        self.watch(prefix, after).await
    }

    /// Whether [`Store::watch_progress`] reports progress: then a watch cache that has seen
    /// the store's current revision is known to be current.
    fn reports_progress(&self) -> bool {
        false
    }

    /// Drops history older than `revision`: reads and watches from before it then fail with
    /// [`StorageError::Compacted`]. Compacting to an already compacted revision is a no-op.
    async fn compact(&self, revision: Revision) -> Result<(), StorageError>;
}
