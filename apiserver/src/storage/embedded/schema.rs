//! The on-disk layout of the embedded store and the row decoding shared by readers and the
//! writer.
//!
//! `history` holds one row per revision (the log: every version of every key, deletions as
//! tombstones); `current` points each live key at its latest row, so latest reads are one
//! index lookup; `meta` keeps the revision counter and the compaction mark, which must
//! survive even when the rows that carried them are compacted away.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{Connection, OpenFlags, Row};

use crate::storage::{KeyValue, Revision, StorageError};

/// The database file inside the data directory.
pub(super) const DB_FILE: &str = "state.db";

const DDL: &str = "
CREATE TABLE IF NOT EXISTS history (
    rev        INTEGER PRIMARY KEY,
    key        BLOB    NOT NULL,
    create_rev INTEGER NOT NULL,
    prev_rev   INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    value      BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS history_key_rev ON history (key, rev);
CREATE TABLE IF NOT EXISTS current (
    key        BLOB    PRIMARY KEY,
    rev        INTEGER NOT NULL,
    create_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
";

/// Opens a connection with the settings every connection needs: WAL so readers never block
/// the writer, and `synchronous = FULL` so a commit is on disk before it is acknowledged.
pub(super) fn open(path: &Path) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // A small page cache per connection keeps the idle footprint low; the OS page cache
    // serves the rest.
    conn.pragma_update(None, "cache_size", -4096)?;
    Ok(conn)
}

/// Creates the tables if this is a new database.
pub(super) fn create(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch(DDL)?;
    Ok(())
}

/// The revision counter and compaction mark as of the connection's current snapshot.
#[derive(Clone, Copy, Debug)]
pub(super) struct Marks {
    pub revision: Revision,
    pub compacted: Revision,
}

impl Marks {
    /// Reads both marks; inside a read transaction they match the rows it sees.
    pub(super) fn read(conn: &Connection) -> Result<Self, StorageError> {
        let mut stmt = conn.prepare_cached("SELECT name, value FROM meta")?;
        let mut marks = Marks {
            revision: 0,
            compacted: 0,
        };
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            let value: i64 = row.get(1)?;
            match name.as_str() {
                "revision" => marks.revision = value,
                "compacted" => marks.compacted = value,
                _ => {}
            }
        }
        Ok(marks)
    }

    /// Checks that `requested` can be read: not compacted, not in the future. `None` (and
    /// a revision of 0 or less, as etcd treats it) means the latest.
    pub(super) fn readable(&self, requested: Option<Revision>) -> Result<Revision, StorageError> {
        match requested {
            Some(rev) if rev > 0 => {
                if rev < self.compacted {
                    Err(StorageError::Compacted {
                        requested: rev,
                        compacted: self.compacted,
                    })
                } else if rev > self.revision {
                    Err(StorageError::FutureRevision {
                        requested: rev,
                        current: self.revision,
                    })
                } else {
                    Ok(rev)
                }
            }
            _ => Ok(self.revision),
        }
    }
}

/// Decodes a stored key; keys are written from `&str`, so anything else is corruption.
pub(super) fn key_from(bytes: Vec<u8>) -> Result<String, StorageError> {
    String::from_utf8(bytes).map_err(|e| StorageError::Corrupt(format!("non-UTF-8 key: {e}")))
}

/// Decodes a row whose columns are `key, create_rev, rev, value`.
pub(super) fn key_value(row: &Row<'_>) -> rusqlite::Result<(Vec<u8>, Revision, Revision, Vec<u8>)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

/// Builds a [`KeyValue`] from [`key_value`]'s columns.
pub(super) fn to_key_value(
    (key, create_revision, mod_revision, value): (Vec<u8>, Revision, Revision, Vec<u8>),
) -> Result<KeyValue, StorageError> {
    Ok(KeyValue {
        key: key_from(key)?,
        value: Bytes::from(value),
        create_revision,
        mod_revision,
    })
}

/// The value of one history row, for prev values and conflicts.
pub(super) fn row_at(conn: &Connection, rev: Revision) -> Result<KeyValue, StorageError> {
    let mut stmt =
        conn.prepare_cached("SELECT key, create_rev, rev, value FROM history WHERE rev = ?1")?;
    let row = stmt.query_row([rev], key_value)?;
    to_key_value(row)
}
