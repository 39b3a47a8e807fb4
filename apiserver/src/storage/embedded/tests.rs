//! Behaviour only the embedded backend has: its directory, its lock, its file size.
//! The shared contract is checked by `tests/storage_suite.rs` on every backend.

use bytes::Bytes;

use super::EmbeddedStore;
use crate::storage::{StorageError, Store};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn history_rows(dir: &std::path::Path) -> Result<i64, rusqlite::Error> {
    let conn = rusqlite::Connection::open(dir.join(super::schema::DB_FILE))?;
    conn.query_row("SELECT COUNT(*) FROM history", [], |row| row.get(0))
}

#[tokio::test]
async fn reopening_keeps_data_and_revision() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (kept, revision) = {
        let store = EmbeddedStore::open(dir.path())?;
        let kept = store.create("/a", Bytes::from_static(b"1")).await?;
        store.create("/b", Bytes::from_static(b"2")).await?;
        let deleted = store.delete("/b", None).await?;
        (kept, deleted.revision)
    };
    let store = EmbeddedStore::open(dir.path())?;
    assert_eq!(store.current_revision().await?, revision);
    assert_eq!(store.get("/a", None).await?, Some(kept));
    assert_eq!(store.get("/b", None).await?, None);
    let next = store.create("/c", Bytes::from_static(b"3")).await?;
    assert_eq!(next.mod_revision, revision + 1);
    Ok(())
}

#[tokio::test]
async fn a_second_opener_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let _first = EmbeddedStore::open(dir.path())?;
    match EmbeddedStore::open(dir.path()) {
        Err(StorageError::Locked(path)) => assert_eq!(path, dir.path()),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("two stores opened one directory"),
    }
    Ok(())
}

#[tokio::test]
async fn compaction_bounds_history() -> TestResult {
    let dir = tempfile::tempdir()?;
    let revision = {
        let store = EmbeddedStore::open(dir.path())?;
        let mut kv = store.create("/churn", Bytes::from_static(b"0")).await?;
        for round in 0..5000u32 {
            kv = store
                .update("/churn", Bytes::from(round.to_string()), kv.mod_revision)
                .await?;
            if round % 1000 == 999 {
                store.compact(kv.mod_revision).await?;
            }
        }
        // A deleted key leaves no tombstone behind once compacted.
        store.create("/gone", Bytes::from_static(b"x")).await?;
        let deleted = store.delete("/gone", None).await?;
        store.compact(deleted.revision).await?;
        deleted.revision
    };
    assert_eq!(
        history_rows(dir.path())?,
        1,
        "only the live version should remain"
    );
    let store = EmbeddedStore::open(dir.path())?;
    assert_eq!(store.current_revision().await?, revision);
    let churn = store.get("/churn", None).await?.ok_or("churn lost")?;
    assert_eq!(churn.value, Bytes::from_static(b"4999"));
    Ok(())
}

#[tokio::test]
async fn progress_watches_report_changes_outside_their_prefix() -> TestResult {
    use crate::storage::EventKind;

    let dir = tempfile::tempdir()?;
    let store = EmbeddedStore::open(dir.path())?;
    assert!(store.reports_progress());
    let start = store.current_revision().await?;
    let mut plain = store.watch("/a/", start).await?;
    let mut progress = store.watch_progress("/a/", start).await?;
    // Caught up from the start: progress at the current revision.
    let first = next(&mut progress).await?.ok_or("stream ended")??;
    assert_eq!((first.kind, first.revision()), (EventKind::Progress, start));
    // A change elsewhere is progress; a change under the prefix is itself.
    let elsewhere = store.create("/b/x", Bytes::from_static(b"1")).await?;
    let event = next(&mut progress).await?.ok_or("stream ended")??;
    assert_eq!(
        (event.kind, event.revision(), event.kv.key.as_str()),
        (EventKind::Progress, elsewhere.mod_revision, "")
    );
    let inside = store.create("/a/x", Bytes::from_static(b"2")).await?;
    let event = next(&mut progress).await?.ok_or("stream ended")??;
    assert_eq!(
        (event.kind, event.revision()),
        (EventKind::Created, inside.mod_revision)
    );
    // The plain watch only ever sees the change under its prefix.
    let event = next(&mut plain).await?.ok_or("stream ended")??;
    assert_eq!(
        (event.kind, event.revision()),
        (EventKind::Created, inside.mod_revision)
    );
    Ok(())
}

/// The next item of a watch, or an error if none comes within five seconds.
async fn next(
    stream: &mut crate::storage::WatchStream,
) -> Result<Option<Result<crate::storage::Event, StorageError>>, tokio::time::error::Elapsed> {
    use futures::StreamExt;
    tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await
}
