//! The single writer: one thread owns the write connection and commits every write queued
//! meanwhile in one transaction (group commit), so one fsync acknowledges many writes.
//! Revisions are assigned here, in commit order, and only to writes that succeed.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::schema::Marks;
use crate::storage::{Deleted, Event, EventKind, KeyValue, Revision, StorageError};

/// Most writes committed together; bounds the latency one commit adds.
const MAX_GROUP: usize = 1024;
/// History rows examined per compaction step, so writes interleave with a long compaction.
const COMPACTION_STEP: i64 = 2048;

/// A write as the store's callers ask for it.
pub(super) enum WriteOp {
    Create {
        key: String,
        value: Bytes,
    },
    Update {
        key: String,
        value: Bytes,
        expected: Revision,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
    },
}

/// What a successful write produced.
pub(super) enum Written {
    Put(KeyValue),
    Deleted(Deleted),
}

/// Work for the writer thread.
pub(super) enum Command {
    Write {
        op: WriteOp,
        reply: oneshot::Sender<Result<Written, StorageError>>,
    },
    Compact {
        revision: Revision,
        reply: oneshot::Sender<Result<(), StorageError>>,
    },
}

/// State the writer publishes to readers after each commit.
pub(super) struct Published {
    pub revision: AtomicI64,
    pub events: broadcast::Sender<Arc<[Event]>>,
}

/// Compaction in progress: rows below `next` are done.
struct Compaction {
    target: Revision,
    next: Revision,
    replies: Vec<oneshot::Sender<Result<(), StorageError>>>,
}

pub(super) struct Writer {
    conn: Connection,
    marks: Marks,
    published: Arc<Published>,
    compaction: Option<Compaction>,
}

impl Writer {
    pub(super) fn new(conn: Connection, published: Arc<Published>) -> Result<Self, StorageError> {
        let marks = Marks::read(&conn)?;
        published.revision.store(marks.revision, Ordering::Release);
        Ok(Self {
            conn,
            marks,
            published,
            compaction: None,
        })
    }

    /// Serves commands until every sender is gone. A compaction cut short is harmless: the
    /// next one starts from the oldest row and removes what this one left.
    pub(super) fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            let first = if self.compaction.is_some() {
                match commands.try_recv() {
                    Ok(command) => Some(command),
                    Err(mpsc::error::TryRecvError::Empty) => None,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            } else {
                match commands.blocking_recv() {
                    Some(command) => Some(command),
                    None => break,
                }
            };
            if let Some(first) = first {
                let mut group = Vec::new();
                self.take(first, &mut group);
                while group.len() < MAX_GROUP {
                    match commands.try_recv() {
                        Ok(command) => self.take(command, &mut group),
                        Err(_) => break,
                    }
                }
                if !group.is_empty() {
                    self.commit_group(group);
                }
            }
            self.compaction_step();
        }
    }

    /// Queues a write into the group, or starts (or joins) a compaction.
    fn take(
        &mut self,
        command: Command,
        group: &mut Vec<(WriteOp, oneshot::Sender<Result<Written, StorageError>>)>,
    ) {
        match command {
            Command::Write { op, reply } => group.push((op, reply)),
            Command::Compact { revision, reply } => self.start_compaction(revision, reply),
        }
    }

    fn commit_group(
        &mut self,
        group: Vec<(WriteOp, oneshot::Sender<Result<Written, StorageError>>)>,
    ) {
        let start_revision = self.marks.revision;
        match self.apply_group(&group) {
            Ok((outcomes, events)) => {
                self.published
                    .revision
                    .store(self.marks.revision, Ordering::Release);
                if !events.is_empty() {
                    // No receivers is fine: nobody is watching.
                    let _ = self.published.events.send(events.into());
                }
                for ((_, reply), outcome) in group.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                self.marks.revision = start_revision;
                tracing::error!(%error, writes = group.len(), "group commit failed");
                let error = Arc::new(error);
                for (_, reply) in group {
                    let _ = reply.send(Err(StorageError::Sqlite(Arc::clone(&error))));
                }
            }
        }
    }

    /// Applies the group in one transaction. The outer error aborts the whole group; the
    /// inner results are each write's own outcome (a failed precondition takes no revision).
    #[allow(clippy::type_complexity)]
    fn apply_group(
        &mut self,
        group: &[(WriteOp, oneshot::Sender<Result<Written, StorageError>>)],
    ) -> Result<(Vec<Result<Written, StorageError>>, Vec<Event>), rusqlite::Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut revision = self.marks.revision;
        let mut outcomes = Vec::with_capacity(group.len());
        let mut events = Vec::with_capacity(group.len());
        for (op, _) in group {
            match apply(&tx, &mut revision, op)? {
                Ok((written, event)) => {
                    outcomes.push(Ok(written));
                    events.push(event);
                }
                Err(error) => outcomes.push(Err(error)),
            }
        }
        if revision != self.marks.revision {
            tx.prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'revision'")?
                .execute([revision])?;
        }
        tx.commit()?;
        self.marks.revision = revision;
        Ok((outcomes, events))
    }

    fn start_compaction(
        &mut self,
        target: Revision,
        reply: oneshot::Sender<Result<(), StorageError>>,
    ) {
        if target > self.marks.revision {
            let _ = reply.send(Err(StorageError::FutureRevision {
                requested: target,
                current: self.marks.revision,
            }));
            return;
        }
        if target <= self.marks.compacted {
            // Already compacted that far: wait for a running compaction, else done.
            match &mut self.compaction {
                Some(running) => running.replies.push(reply),
                None => {
                    let _ = reply.send(Ok(()));
                }
            }
            return;
        }
        let set_mark = self
            .conn
            .prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'compacted'")
            .and_then(|mut stmt| stmt.execute([target]));
        if let Err(error) = set_mark {
            let _ = reply.send(Err(error.into()));
            return;
        }
        self.marks.compacted = target;
        let mut replies = vec![reply];
        let next = match self.compaction.take() {
            Some(running) => {
                replies.extend(running.replies);
                running.next
            }
            None => 0,
        };
        self.compaction = Some(Compaction {
            target,
            next,
            replies,
        });
    }

    /// Deletes one step of superseded history: rows at or below the target that a later row
    /// at or below it replaces, and tombstones. Steps go oldest first, so no read at or after
    /// the target ever sees an older version resurface.
    fn compaction_step(&mut self) {
        let Some(compaction) = &mut self.compaction else {
            return;
        };
        let end = (compaction.next + COMPACTION_STEP).min(compaction.target + 1);
        let result = self
            .conn
            .prepare_cached(
                "DELETE FROM history WHERE rev >= ?1 AND rev < ?2 AND (deleted = 1 OR EXISTS ( \
             SELECT 1 FROM history later WHERE later.key = history.key \
             AND later.rev > history.rev AND later.rev <= ?3))",
            )
            .and_then(|mut stmt| {
                stmt.execute(rusqlite::params![compaction.next, end, compaction.target])
            });
        match result {
            Ok(_) => compaction.next = end,
            Err(error) => {
                tracing::error!(%error, target = compaction.target, "compaction step failed");
                if let Some(compaction) = self.compaction.take() {
                    let error = Arc::new(error);
                    for reply in compaction.replies {
                        let _ = reply.send(Err(StorageError::Sqlite(Arc::clone(&error))));
                    }
                }
                return;
            }
        }
        if compaction.next > compaction.target {
            if let Some(done) = self.compaction.take() {
                tracing::debug!(revision = done.target, "compaction finished");
                for reply in done.replies {
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }
}

/// The live state of a key inside the transaction.
struct Current {
    rev: Revision,
    create_rev: Revision,
}

fn current(tx: &Transaction<'_>, key: &str) -> Result<Option<Current>, rusqlite::Error> {
    tx.prepare_cached("SELECT rev, create_rev FROM current WHERE key = ?1")?
        .query_row([key.as_bytes()], |row| {
            Ok(Current {
                rev: row.get(0)?,
                create_rev: row.get(1)?,
            })
        })
        .optional()
}

/// The value a key had at `rev`, for prev values and conflicts.
fn stored(tx: &Transaction<'_>, key: &str, rev: Revision) -> Result<KeyValue, rusqlite::Error> {
    tx.prepare_cached("SELECT create_rev, value FROM history WHERE rev = ?1")?
        .query_row([rev], |row| {
            Ok(KeyValue {
                key: key.to_owned(),
                value: Bytes::from(row.get::<_, Vec<u8>>(1)?),
                create_revision: row.get(0)?,
                mod_revision: rev,
            })
        })
}

fn insert_history(
    tx: &Transaction<'_>,
    rev: Revision,
    key: &str,
    create_rev: Revision,
    prev_rev: Revision,
    value: Option<&[u8]>,
) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "INSERT INTO history (rev, key, create_rev, prev_rev, deleted, value) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(rusqlite::params![
        rev,
        key.as_bytes(),
        create_rev,
        prev_rev,
        value.is_none(),
        value.unwrap_or_default()
    ])?;
    Ok(())
}

/// The key's live state and value, if it exists and (when `expected` is given) still has
/// that revision.
fn precondition(
    tx: &Transaction<'_>,
    key: &str,
    expected: Option<Revision>,
) -> Result<Result<(Current, KeyValue), StorageError>, rusqlite::Error> {
    let Some(now) = current(tx, key)? else {
        return Ok(Err(StorageError::NotFound {
            key: key.to_owned(),
        }));
    };
    let prev = stored(tx, key, now.rev)?;
    match expected {
        Some(expected) if expected != now.rev => Ok(Err(StorageError::Conflict {
            key: key.to_owned(),
            expected,
            current: Box::new(prev),
        })),
        _ => Ok(Ok((now, prev))),
    }
}

/// Applies one write. The outer error is the database failing; the inner one is the write's
/// precondition failing.
fn apply(
    tx: &Transaction<'_>,
    revision: &mut Revision,
    op: &WriteOp,
) -> Result<Result<(Written, Event), StorageError>, rusqlite::Error> {
    match op {
        WriteOp::Create { key, value } => {
            if current(tx, key)?.is_some() {
                return Ok(Err(StorageError::AlreadyExists { key: key.clone() }));
            }
            let rev = *revision + 1;
            insert_history(tx, rev, key, rev, 0, Some(value))?;
            tx.prepare_cached("INSERT INTO current (key, rev, create_rev) VALUES (?1, ?2, ?2)")?
                .execute(rusqlite::params![key.as_bytes(), rev])?;
            *revision = rev;
            let kv = KeyValue {
                key: key.clone(),
                value: value.clone(),
                create_revision: rev,
                mod_revision: rev,
            };
            let event = Event {
                kind: EventKind::Created,
                kv: kv.clone(),
                prev_kv: None,
            };
            Ok(Ok((Written::Put(kv), event)))
        }
        WriteOp::Update {
            key,
            value,
            expected,
        } => {
            let (now, prev) = match precondition(tx, key, Some(*expected))? {
                Ok(found) => found,
                Err(error) => return Ok(Err(error)),
            };
            let rev = *revision + 1;
            insert_history(tx, rev, key, now.create_rev, now.rev, Some(value))?;
            tx.prepare_cached("UPDATE current SET rev = ?2 WHERE key = ?1")?
                .execute(rusqlite::params![key.as_bytes(), rev])?;
            *revision = rev;
            let kv = KeyValue {
                key: key.clone(),
                value: value.clone(),
                create_revision: now.create_rev,
                mod_revision: rev,
            };
            let event = Event {
                kind: EventKind::Updated,
                kv: kv.clone(),
                prev_kv: Some(prev),
            };
            Ok(Ok((Written::Put(kv), event)))
        }
        WriteOp::Delete { key, expected } => {
            let (now, prev) = match precondition(tx, key, *expected)? {
                Ok(found) => found,
                Err(error) => return Ok(Err(error)),
            };
            let rev = *revision + 1;
            insert_history(tx, rev, key, 0, now.rev, None)?;
            tx.prepare_cached("DELETE FROM current WHERE key = ?1")?
                .execute([key.as_bytes()])?;
            *revision = rev;
            let event = Event {
                kind: EventKind::Deleted,
                kv: KeyValue {
                    key: key.clone(),
                    value: Bytes::new(),
                    create_revision: 0,
                    mod_revision: rev,
                },
                prev_kv: Some(prev.clone()),
            };
            Ok(Ok((
                Written::Deleted(Deleted {
                    prev,
                    revision: rev,
                }),
                event,
            )))
        }
    }
}
