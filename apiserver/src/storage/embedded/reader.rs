//! Reads: a small pool of read-only connections, each read in one snapshot (a WAL read
//! transaction), so a page and its revision always agree.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::schema::{self, Marks};
use crate::storage::{
    prefix_end, Event, EventKind, KeyValue, ListPage, ListRequest, Revision, StorageError,
};

/// Connections for concurrent reads; SQLite connections are not shareable across threads,
/// so each sits behind its own lock and reads run on the blocking pool.
pub(super) struct ReaderPool {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl ReaderPool {
    pub(super) fn open(path: &Path, size: usize) -> Result<Arc<Self>, StorageError> {
        let connections = (0..size.max(1))
            .map(|_| schema::open(path).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(Arc::new(Self {
            connections,
            next: AtomicUsize::new(0),
        }))
    }

    /// Runs `read` inside one read transaction on a free connection.
    pub(super) async fn read<T, F>(self: &Arc<Self>, read: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || pool.read_blocking(read))
            .await
            .map_err(|_| StorageError::Closed)?
    }

    fn read_blocking<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut guard = None;
        for offset in 0..count {
            if let Ok(conn) = self.connections[(start + offset) % count].try_lock() {
                guard = Some(conn);
                break;
            }
        }
        let mut conn = match guard {
            Some(conn) => conn,
            None => self.connections[start % count]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let result = read(&tx);
        tx.finish()?;
        result
    }
}

/// The half-open byte range `[start, end)` of keys under a prefix.
#[derive(Clone, Debug)]
pub(super) struct KeyRange {
    pub start: Vec<u8>,
    pub end: Vec<u8>,
}

impl KeyRange {
    pub(super) fn prefix(prefix: &str) -> Self {
        // UTF-8 never contains 0xff, so a lone 0xff bounds every key.
        let end = prefix_end(prefix.as_bytes()).unwrap_or_else(|| vec![0xff]);
        Self {
            start: prefix.as_bytes().to_vec(),
            end,
        }
    }

    /// The range left after `after_key` (exclusive).
    fn after(mut self, after_key: Option<&str>) -> Self {
        if let Some(key) = after_key {
            let mut next = key.as_bytes().to_vec();
            next.push(0);
            if next > self.start {
                self.start = next;
            }
        }
        self
    }

    pub(super) fn contains(&self, key: &str) -> bool {
        let key = key.as_bytes();
        key >= self.start.as_slice() && key < self.end.as_slice()
    }
}

/// One key at the latest or a past revision.
pub(super) fn get(
    conn: &Connection,
    key: &str,
    revision: Option<Revision>,
) -> Result<Option<KeyValue>, StorageError> {
    let marks = Marks::read(conn)?;
    let at = marks.readable(revision)?;
    let row = if at == marks.revision {
        conn.prepare_cached(
            "SELECT c.key, c.create_rev, c.rev, h.value FROM current c \
             JOIN history h ON h.rev = c.rev WHERE c.key = ?1",
        )?
        .query_row([key.as_bytes()], schema::key_value)
        .optional()?
    } else {
        conn.prepare_cached(
            "SELECT key, create_rev, rev, value FROM history \
             WHERE key = ?1 AND rev <= ?2 AND deleted = 0 \
             AND rev = (SELECT MAX(rev) FROM history WHERE key = ?1 AND rev <= ?2)",
        )?
        .query_row(rusqlite::params![key.as_bytes(), at], schema::key_value)
        .optional()?
    };
    row.map(schema::to_key_value).transpose()
}

const LIST_LATEST: &str = "SELECT c.key, c.create_rev, c.rev, h.value FROM current c \
     JOIN history h ON h.rev = c.rev WHERE c.key >= ?1 AND c.key < ?2 ORDER BY c.key LIMIT ?3";
const COUNT_LATEST: &str = "SELECT COUNT(*) FROM current WHERE key >= ?1 AND key < ?2";
/// The latest row of each key at or below a revision (SQLite takes the bare columns from
/// the row holding the MAX), keeping the keys whose latest row is not a tombstone.
const LIST_AT: &str = "SELECT key, create_rev, rev, value FROM ( \
     SELECT key, create_rev, MAX(rev) AS rev, deleted, value FROM history \
     WHERE key >= ?1 AND key < ?2 AND rev <= ?4 GROUP BY key) \
     WHERE deleted = 0 ORDER BY key LIMIT ?3";
const COUNT_AT: &str = "SELECT COUNT(*) FROM ( \
     SELECT MAX(rev) AS rev, deleted FROM history \
     WHERE key >= ?1 AND key < ?2 AND rev <= ?3 GROUP BY key) WHERE deleted = 0";

/// A page of keys; latest reads use `current`, past ones the history log.
pub(super) fn list(conn: &Connection, request: &ListRequest) -> Result<ListPage, StorageError> {
    let marks = Marks::read(conn)?;
    let at = marks.readable(request.revision)?;
    let range = KeyRange::prefix(&request.prefix).after(request.after_key.as_deref());
    let limit = request
        .limit
        .filter(|limit| *limit > 0)
        .map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
    let latest = at == marks.revision;
    let mut stmt = conn.prepare_cached(if latest { LIST_LATEST } else { LIST_AT })?;
    let rows = if latest {
        stmt.query_map(
            rusqlite::params![range.start, range.end, limit],
            schema::key_value,
        )?
        .collect::<Result<Vec<_>, _>>()?
    } else {
        stmt.query_map(
            rusqlite::params![range.start, range.end, limit, at],
            schema::key_value,
        )?
        .collect::<Result<Vec<_>, _>>()?
    };
    let items = rows
        .into_iter()
        .map(schema::to_key_value)
        .collect::<Result<Vec<_>, _>>()?;
    let full = limit >= 0 && items.len() as i64 == limit;
    let remaining = match items.last() {
        Some(last) if full => {
            let rest = KeyRange::prefix(&request.prefix).after(Some(&last.key));
            count_in(conn, &rest, if latest { None } else { Some(at) })?
        }
        _ => 0,
    };
    Ok(ListPage {
        items,
        revision: at,
        remaining,
    })
}

/// Live keys in a range, at the latest revision (`None`) or a past one.
pub(super) fn count_in(
    conn: &Connection,
    range: &KeyRange,
    at: Option<Revision>,
) -> Result<u64, StorageError> {
    let count: i64 = match at {
        None => conn
            .prepare_cached(COUNT_LATEST)?
            .query_row(rusqlite::params![range.start, range.end], |row| row.get(0))?,
        Some(at) => conn
            .prepare_cached(COUNT_AT)?
            .query_row(rusqlite::params![range.start, range.end, at], |row| {
                row.get(0)
            })?,
    };
    Ok(u64::try_from(count).unwrap_or(0))
}

/// A slice of the change log for a watcher catching up.
pub(super) struct HistoryPage {
    pub events: Vec<Event>,
    /// The snapshot's revision: with a short page, every change up to it was returned.
    pub revision: Revision,
    pub full: bool,
}

/// Changes in `range` after `after`, oldest first, at most `limit`.
pub(super) fn history(
    conn: &Connection,
    range: &KeyRange,
    after: Revision,
    limit: usize,
) -> Result<HistoryPage, StorageError> {
    let marks = Marks::read(conn)?;
    if after < marks.compacted {
        return Err(StorageError::Compacted {
            requested: after,
            compacted: marks.compacted,
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT rev, key, create_rev, prev_rev, deleted, value FROM history \
         WHERE rev > ?1 AND key >= ?2 AND key < ?3 ORDER BY rev LIMIT ?4",
    )?;
    let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(
            rusqlite::params![after, range.start, range.end, limit_sql],
            |row| {
                Ok((
                    row.get::<_, Revision>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, Revision>(2)?,
                    row.get::<_, Revision>(3)?,
                    row.get::<_, bool>(4)?,
                    row.get::<_, Vec<u8>>(5)?,
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let full = rows.len() >= limit;
    let mut events = Vec::with_capacity(rows.len());
    for (rev, key, create_rev, prev_rev, deleted, value) in rows {
        let prev_kv = if prev_rev > 0 {
            Some(schema::row_at(conn, prev_rev)?)
        } else {
            None
        };
        let kind = match (deleted, prev_kv.is_some()) {
            (true, _) => EventKind::Deleted,
            (false, true) => EventKind::Updated,
            (false, false) => EventKind::Created,
        };
        let kv = schema::to_key_value((key, create_rev, rev, value))?;
        events.push(Event { kind, kv, prev_kv });
    }
    Ok(HistoryPage {
        events,
        revision: marks.revision,
        full,
    })
}
