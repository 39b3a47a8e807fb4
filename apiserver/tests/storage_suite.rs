//! One behavioural suite for the storage contract, run unchanged against every backend:
//! the embedded store in a temp dir and a real etcd on loopback.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use ferrokube_apiserver::storage::{
    Compactor, EventKind, ListRequest, Revision, StorageError, Store,
};
use futures::future::try_join_all;
use support::{assert_quiet, bytes, next_event, next_events, watch_error};

/// Instantiates every suite function once per backend.
macro_rules! for_each_backend {
    ($($test:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() -> anyhow::Result<()> {
                    let harness = crate::support::Harness::embedded().await?;
                    crate::$test(harness.store.clone()).await
                }
            )*
        }
        mod etcd {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() -> anyhow::Result<()> {
                    let harness = crate::support::Harness::etcd().await?;
                    crate::$test(harness.store.clone()).await
                }
            )*
        }
    };
}

for_each_backend!(
    create_then_get,
    create_of_existing_key_fails_without_a_revision,
    revisions_strictly_increase,
    update_is_compare_and_swap,
    delete_honours_preconditions,
    get_at_past_revisions,
    list_is_ordered_and_bounded_by_prefix,
    pages_read_one_snapshot,
    count_counts_live_keys,
    watch_replays_history_then_follows,
    watch_filters_by_prefix,
    watch_resumes_without_gaps_or_duplicates,
    slow_watcher_misses_nothing,
    compaction_expires_old_revisions,
    compactor_compacts_automatically,
    concurrent_compare_and_swap_loses_no_update,
    watch_sees_every_concurrent_write,
);

async fn create_then_get(store: Arc<dyn Store>) -> Result<()> {
    let before = store.current_revision().await?;
    let kv = store
        .create("/registry/pods/default/a", bytes("one"))
        .await?;
    ensure!(
        kv.mod_revision > before,
        "revision must grow: {kv:?} after {before}"
    );
    ensure!(kv.create_revision == kv.mod_revision);
    ensure!(kv.value == bytes("one"));
    let got = store.get("/registry/pods/default/a", None).await?;
    ensure!(
        got.as_ref() == Some(&kv),
        "get returned {got:?}, want {kv:?}"
    );
    ensure!(store.get("/registry/pods/default/b", None).await?.is_none());
    ensure!(store.current_revision().await? == kv.mod_revision);
    Ok(())
}

async fn create_of_existing_key_fails_without_a_revision(store: Arc<dyn Store>) -> Result<()> {
    let kv = store.create("/k", bytes("one")).await?;
    let error = store
        .create("/k", bytes("two"))
        .await
        .err()
        .context("second create")?;
    ensure!(
        matches!(error, StorageError::AlreadyExists { ref key } if key == "/k"),
        "{error:?}"
    );
    ensure!(
        store.current_revision().await? == kv.mod_revision,
        "a failed write took a revision"
    );
    ensure!(store.get("/k", None).await?.map(|kv| kv.value) == Some(bytes("one")));
    Ok(())
}

async fn revisions_strictly_increase(store: Arc<dyn Store>) -> Result<()> {
    let mut last = store.current_revision().await?;
    for index in 0..20 {
        let kv = store
            .create(&format!("/seq/{index:02}"), bytes("x"))
            .await?;
        ensure!(
            kv.mod_revision == last + 1,
            "revision {} after {last}",
            kv.mod_revision
        );
        last = kv.mod_revision;
        let updated = store.update(&kv.key, bytes("y"), kv.mod_revision).await?;
        ensure!(updated.mod_revision == last + 1);
        last = updated.mod_revision;
    }
    ensure!(store.current_revision().await? == last);
    Ok(())
}

async fn update_is_compare_and_swap(store: Arc<dyn Store>) -> Result<()> {
    let created = store.create("/cas", bytes("v1")).await?;
    let updated = store
        .update("/cas", bytes("v2"), created.mod_revision)
        .await?;
    ensure!(updated.create_revision == created.create_revision);
    ensure!(updated.mod_revision > created.mod_revision);
    ensure!(updated.value == bytes("v2"));

    let stale = store
        .update("/cas", bytes("v3"), created.mod_revision)
        .await;
    match stale {
        Err(StorageError::Conflict {
            key,
            expected,
            current,
        }) => {
            ensure!(key == "/cas" && expected == created.mod_revision);
            ensure!(
                *current == updated,
                "conflict carries {current:?}, want {updated:?}"
            );
        }
        other => anyhow::bail!("stale update gave {other:?}"),
    }
    ensure!(store.current_revision().await? == updated.mod_revision);
    ensure!(store.get("/cas", None).await? == Some(updated));

    let missing = store.update("/nope", bytes("x"), 1).await;
    ensure!(
        matches!(missing, Err(StorageError::NotFound { .. })),
        "{missing:?}"
    );
    Ok(())
}

async fn delete_honours_preconditions(store: Arc<dyn Store>) -> Result<()> {
    let created = store.create("/del", bytes("v1")).await?;
    let updated = store
        .update("/del", bytes("v2"), created.mod_revision)
        .await?;
    let stale = store.delete("/del", Some(created.mod_revision)).await;
    match stale {
        Err(StorageError::Conflict { current, .. }) => ensure!(*current == updated),
        other => anyhow::bail!("stale delete gave {other:?}"),
    }
    let deleted = store.delete("/del", Some(updated.mod_revision)).await?;
    ensure!(deleted.prev == updated, "{deleted:?}");
    ensure!(deleted.revision == updated.mod_revision + 1);
    ensure!(store.get("/del", None).await?.is_none());
    let again = store.delete("/del", None).await;
    ensure!(
        matches!(again, Err(StorageError::NotFound { .. })),
        "{again:?}"
    );

    let recreated = store.create("/del", bytes("v3")).await?;
    ensure!(recreated.create_revision == deleted.revision + 1);
    let unconditional = store.delete("/del", None).await?;
    ensure!(unconditional.prev == recreated);
    Ok(())
}

async fn get_at_past_revisions(store: Arc<dyn Store>) -> Result<()> {
    let v1 = store.create("/past", bytes("v1")).await?;
    let v2 = store.update("/past", bytes("v2"), v1.mod_revision).await?;
    store.create("/other", bytes("x")).await?;
    let deleted = store.delete("/past", None).await?;
    ensure!(store.get("/past", Some(v1.mod_revision)).await? == Some(v1.clone()));
    ensure!(store.get("/past", Some(v2.mod_revision)).await? == Some(v2.clone()));
    ensure!(store.get("/past", Some(v2.mod_revision + 1)).await? == Some(v2));
    ensure!(store.get("/past", Some(deleted.revision)).await?.is_none());
    ensure!(store
        .get("/past", Some(v1.mod_revision - 1))
        .await?
        .is_none());
    let future = store.get("/past", Some(deleted.revision + 100)).await;
    ensure!(
        matches!(future, Err(StorageError::FutureRevision { .. })),
        "{future:?}"
    );
    Ok(())
}

async fn list_is_ordered_and_bounded_by_prefix(store: Arc<dyn Store>) -> Result<()> {
    for key in [
        "/registry/pods/ns/b",
        "/registry/pods/ns/a",
        "/registry/pods/ns/c",
    ] {
        store.create(key, bytes(key)).await?;
    }
    store.create("/registry/pods/ns2/a", bytes("x")).await?;
    store.create("/registry/podsecurity/x", bytes("x")).await?;
    store.create("/registry/pods/nr/z", bytes("x")).await?;
    let page = store
        .list(ListRequest {
            prefix: "/registry/pods/ns/".into(),
            ..Default::default()
        })
        .await?;
    let keys: Vec<_> = page.items.iter().map(|kv| kv.key.as_str()).collect();
    ensure!(
        keys == [
            "/registry/pods/ns/a",
            "/registry/pods/ns/b",
            "/registry/pods/ns/c"
        ],
        "{keys:?}"
    );
    ensure!(page.revision == store.current_revision().await?);
    ensure!(!page.more());
    for kv in &page.items {
        ensure!(kv.value == bytes(&kv.key));
    }
    let all = store
        .list(ListRequest {
            prefix: "/registry/pods/".into(),
            ..Default::default()
        })
        .await?;
    ensure!(all.items.len() == 5, "{:?}", all.items);
    Ok(())
}

async fn pages_read_one_snapshot(store: Arc<dyn Store>) -> Result<()> {
    let mut original = BTreeMap::new();
    for index in 0..25 {
        let kv = store
            .create(&format!("/page/{index:03}"), bytes(&format!("v{index}")))
            .await?;
        original.insert(kv.key.clone(), kv);
    }
    let first = store
        .list(ListRequest {
            prefix: "/page/".into(),
            limit: Some(10),
            ..Default::default()
        })
        .await?;
    ensure!(
        first.items.len() == 10 && first.remaining == 15,
        "{} {}",
        first.items.len(),
        first.remaining
    );
    let snapshot = first.revision;

    // Change the keyspace between pages: later pages must still show the first page's snapshot.
    store.delete("/page/015", None).await?;
    store.create("/page/0155", bytes("new")).await?;
    let kv = &original["/page/020"];
    store
        .update(&kv.key, bytes("changed"), kv.mod_revision)
        .await?;

    let mut seen: Vec<_> = first.items.clone();
    let mut after = first.items.last().map(|kv| kv.key.clone());
    let mut pages = 1;
    while let Some(last) = after.take() {
        let page = store
            .list(ListRequest {
                prefix: "/page/".into(),
                after_key: Some(last),
                revision: Some(snapshot),
                limit: Some(10),
            })
            .await?;
        ensure!(
            page.revision == snapshot,
            "page read at {} not {snapshot}",
            page.revision
        );
        pages += 1;
        seen.extend(page.items.iter().cloned());
        if page.more() {
            after = page.items.last().map(|kv| kv.key.clone());
        }
    }
    ensure!(pages == 3, "{pages} pages");
    let seen: BTreeMap<_, _> = seen.into_iter().map(|kv| (kv.key.clone(), kv)).collect();
    ensure!(seen == original, "paged list differs from the snapshot");

    let latest = store
        .list(ListRequest {
            prefix: "/page/".into(),
            ..Default::default()
        })
        .await?;
    ensure!(latest.items.len() == 25);
    ensure!(latest.items.iter().any(|kv| kv.key == "/page/0155"));
    ensure!(!latest.items.iter().any(|kv| kv.key == "/page/015"));
    Ok(())
}

async fn count_counts_live_keys(store: Arc<dyn Store>) -> Result<()> {
    for index in 0..7 {
        store
            .create(&format!("/count/a/{index}"), bytes("x"))
            .await?;
    }
    store.create("/count/b/0", bytes("x")).await?;
    store.delete("/count/a/3", None).await?;
    ensure!(store.count("/count/a/").await? == 6);
    ensure!(store.count("/count/").await? == 7);
    ensure!(store.count("/nothing/").await? == 0);
    Ok(())
}

async fn watch_replays_history_then_follows(store: Arc<dyn Store>) -> Result<()> {
    let start = store.current_revision().await?;
    let a = store.create("/w/a", bytes("a1")).await?;
    let a2 = store.update("/w/a", bytes("a2"), a.mod_revision).await?;
    let b = store.create("/w/b", bytes("b1")).await?;
    let deleted = store.delete("/w/a", None).await?;

    let mut stream = store.watch("/w/", start).await?;
    let events = next_events(&mut stream, 4).await?;
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    ensure!(
        kinds
            == [
                EventKind::Created,
                EventKind::Updated,
                EventKind::Created,
                EventKind::Deleted
            ],
        "{kinds:?}"
    );
    ensure!(events[0].kv == a && events[0].prev_kv.is_none());
    ensure!(events[1].kv == a2 && events[1].prev_kv.as_ref() == Some(&a));
    ensure!(events[2].kv == b);
    ensure!(events[3].kv.key == "/w/a" && events[3].revision() == deleted.revision);
    ensure!(events[3].prev_kv.as_ref() == Some(&a2));

    let live = store.update("/w/b", bytes("b2"), b.mod_revision).await?;
    let event = next_event(&mut stream).await?;
    ensure!(event.kind == EventKind::Updated && event.kv == live);
    assert_quiet(&mut stream).await?;

    // A watch from a middle revision starts right after it.
    let mut from_middle = store.watch("/w/", a2.mod_revision).await?;
    let first = next_event(&mut from_middle).await?;
    ensure!(first.kv == b, "{first:?}");
    Ok(())
}

async fn watch_filters_by_prefix(store: Arc<dyn Store>) -> Result<()> {
    let start = store.current_revision().await?;
    let mut stream = store.watch("/registry/pods/", start).await?;
    store.create("/registry/podsx/a", bytes("x")).await?;
    store.create("/registry/services/a", bytes("x")).await?;
    let pod = store.create("/registry/pods/ns/a", bytes("x")).await?;
    let event = next_event(&mut stream).await?;
    ensure!(event.kv == pod, "{event:?}");
    assert_quiet(&mut stream).await?;
    Ok(())
}

async fn watch_resumes_without_gaps_or_duplicates(store: Arc<dyn Store>) -> Result<()> {
    let start = store.current_revision().await?;
    let mut stream = store.watch("/r/", start).await?;
    for index in 0..10 {
        store.create(&format!("/r/{index}"), bytes("x")).await?;
    }
    let first = next_events(&mut stream, 4).await?;
    drop(stream);
    let resume_from = first.last().context("no events")?.revision();
    for index in 10..15 {
        store.create(&format!("/r/{index}"), bytes("x")).await?;
    }
    let mut resumed = store.watch("/r/", resume_from).await?;
    let rest = next_events(&mut resumed, 11).await?;
    let keys: Vec<_> = first
        .iter()
        .chain(&rest)
        .map(|e| e.kv.key.clone())
        .collect();
    let want: Vec<_> = (0..15).map(|index| format!("/r/{index}")).collect();
    ensure!(keys == want, "{keys:?}");
    assert_quiet(&mut resumed).await?;
    Ok(())
}

async fn slow_watcher_misses_nothing(store: Arc<dyn Store>) -> Result<()> {
    let start = store.current_revision().await?;
    let mut stream = store.watch("/slow/", start).await?;
    // One commit per write and nobody reading: far more than any buffer holds.
    let total = 3000;
    for index in 0..total {
        store
            .create(&format!("/slow/{index:05}"), bytes("x"))
            .await?;
        store
            .create(&format!("/noise/{index:05}"), bytes("x"))
            .await?;
    }
    let events = next_events(&mut stream, total).await?;
    let mut last = start;
    for (index, event) in events.iter().enumerate() {
        ensure!(
            event.kv.key == format!("/slow/{index:05}"),
            "event {index}: {}",
            event.kv.key
        );
        ensure!(event.revision() > last);
        last = event.revision();
    }
    assert_quiet(&mut stream).await?;
    Ok(())
}

async fn compaction_expires_old_revisions(store: Arc<dyn Store>) -> Result<()> {
    let v1 = store.create("/c/a", bytes("v1")).await?;
    let gone = store.create("/c/gone", bytes("x")).await?;
    store.delete("/c/gone", None).await?;
    let v2 = store.update("/c/a", bytes("v2"), v1.mod_revision).await?;
    let kept = store.create("/c/b", bytes("b")).await?;
    let target = kept.mod_revision;
    let v3 = store.update("/c/a", bytes("v3"), v2.mod_revision).await?;
    store.compact(target).await?;

    let old = store.get("/c/a", Some(v1.mod_revision)).await;
    ensure!(
        matches!(old, Err(StorageError::Compacted { .. })),
        "{old:?}"
    );
    let old_list = store
        .list(ListRequest {
            prefix: "/c/".into(),
            revision: Some(gone.mod_revision),
            ..Default::default()
        })
        .await;
    ensure!(
        matches!(old_list, Err(StorageError::Compacted { .. })),
        "{old_list:?}"
    );
    let error = watch_error(store.as_ref(), "/c/", v1.mod_revision - 1).await?;
    ensure!(matches!(error, StorageError::Compacted { .. }), "{error:?}");

    // The snapshot at the compaction revision and everything after it stay readable.
    ensure!(store.get("/c/a", Some(target)).await? == Some(v2.clone()));
    ensure!(store.get("/c/gone", Some(target)).await?.is_none());
    let at_target = store
        .list(ListRequest {
            prefix: "/c/".into(),
            revision: Some(target),
            ..Default::default()
        })
        .await?;
    ensure!(at_target.items == vec![v2, kept], "{:?}", at_target.items);
    ensure!(store.get("/c/a", None).await? == Some(v3.clone()));
    let mut stream = store.watch("/c/", target).await?;
    ensure!(next_event(&mut stream).await?.kv == v3);

    store.compact(target).await?;
    store.compact(target - 1).await?;
    let future = store.compact(v3.mod_revision + 10).await;
    ensure!(
        matches!(future, Err(StorageError::FutureRevision { .. })),
        "{future:?}"
    );
    Ok(())
}

async fn compactor_compacts_automatically(store: Arc<dyn Store>) -> Result<()> {
    let first = store.create("/auto/key", bytes("0")).await?;
    let _compactor = Compactor::spawn(Arc::clone(&store), Duration::from_millis(200));
    let mut current = first.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        current = store
            .update("/auto/key", bytes("n"), current.mod_revision)
            .await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Err(StorageError::Compacted { .. }) =
            store.get("/auto/key", Some(first.mod_revision)).await
        {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "history was never compacted"
        );
    }
    ensure!(store.get("/auto/key", None).await? == Some(current));
    Ok(())
}

async fn concurrent_compare_and_swap_loses_no_update(store: Arc<dyn Store>) -> Result<()> {
    store.create("/counter", bytes("0")).await?;
    let workers = 8;
    let increments = 25;
    let tasks = (0..workers).map(|_| {
        let store = store.clone();
        async move {
            let mut revisions = Vec::new();
            for _ in 0..increments {
                let mut current = store.get("/counter", None).await?.context("counter")?;
                loop {
                    let value: u64 = std::str::from_utf8(&current.value)?.parse()?;
                    match store
                        .update(
                            "/counter",
                            bytes(&(value + 1).to_string()),
                            current.mod_revision,
                        )
                        .await
                    {
                        Ok(kv) => {
                            revisions.push(kv.mod_revision);
                            break;
                        }
                        Err(StorageError::Conflict { current: now, .. }) => current = *now,
                        Err(error) => return Err(error.into()),
                    }
                }
            }
            anyhow::Ok(revisions)
        }
    });
    let mut revisions: Vec<Revision> = try_join_all(tasks).await?.into_iter().flatten().collect();
    let counter = store.get("/counter", None).await?.context("counter")?;
    ensure!(
        counter.value == bytes(&(workers * increments).to_string()),
        "{:?}",
        counter.value
    );
    revisions.sort_unstable();
    revisions.dedup();
    ensure!(
        revisions.len() == workers * increments,
        "revisions were reused"
    );
    Ok(())
}

async fn watch_sees_every_concurrent_write(store: Arc<dyn Store>) -> Result<()> {
    let start = store.current_revision().await?;
    let mut stream = store.watch("/cw/", start).await?;
    let writers = 4;
    let per_writer = 50;
    let tasks = (0..writers).map(|writer| {
        let store = store.clone();
        async move {
            for index in 0..per_writer {
                store
                    .create(&format!("/cw/{writer}/{index}"), bytes("x"))
                    .await?;
            }
            anyhow::Ok(())
        }
    });
    try_join_all(tasks).await?;
    let events = next_events(&mut stream, writers * per_writer).await?;
    let mut last = start;
    for event in &events {
        ensure!(event.kind == EventKind::Created);
        ensure!(
            event.revision() > last,
            "out of order at {}",
            event.revision()
        );
        last = event.revision();
    }
    ensure!(last == store.current_revision().await?);
    assert_quiet(&mut stream).await?;
    Ok(())
}
