//! The storage layer's errors: each maps to one API status (see the variants).

use super::{KeyValue, Revision};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A create found the key present (the API server answers 409 AlreadyExists).
    #[error("key {key:?} already exists")]
    AlreadyExists {
        /// The key.
        key: String,
    },
    /// The key does not exist (404 NotFound).
    #[error("key {key:?} not found")]
    NotFound {
        /// The key.
        key: String,
    },
    /// A compare-and-swap found another revision (409 Conflict, or a retry).
    #[error("key {key:?} changed: expected revision {expected}, found {}", current.mod_revision)]
    Conflict {
        /// The key.
        key: String,
        /// The revision the caller expected.
        expected: Revision,
        /// The key's current value.
        current: Box<KeyValue>,
    },
    /// The requested revision's history was compacted away (410 Gone, reason Expired).
    #[error("required revision {requested} has been compacted (compacted to {compacted})")]
    Compacted {
        /// The revision asked for.
        requested: Revision,
        /// The oldest revision still readable, if known.
        compacted: Revision,
    },
    /// The requested revision was not written yet (504 Timeout in upstream, "too large
    /// resource version").
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The latest revision.
        current: Revision,
    },
    /// The store has shut down.
    #[error("store is closed")]
    Closed,
    /// The embedded database failed. Shared because one failed group commit fails every
    /// write in the group.
    #[error("embedded database: {0}")]
    Sqlite(std::sync::Arc<rusqlite::Error>),
    /// The data directory is held by another running process.
    #[error("data directory {0:?} is in use by another process")]
    Locked(std::path::PathBuf),
    /// The etcd cluster failed or answered something unexpected.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// Stored data could not be read back (e.g. a non-UTF-8 key).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The datastore flags name something we cannot use.
    #[error("invalid datastore: {0}")]
    InvalidDatastore(String),
    /// An I/O error opening or preparing the store.
    #[error("storage i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(std::sync::Arc::new(error))
    }
}
