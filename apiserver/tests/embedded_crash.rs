//! Crash safety of the embedded store: a child process writes under load and is killed with
//! SIGKILL; after reopening, every write it acknowledged is there, at the revision it was
//! acknowledged with, and revisions go on from where they were.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use bytes::Bytes;
use ferrokube_apiserver::storage::embedded::EmbeddedStore;
use ferrokube_apiserver::storage::{ListRequest, StorageError, Store};

const CHILD_DIR_VAR: &str = "FERROKUBE_CRASH_CHILD_DIR";
const WRITERS: usize = 64;

/// Entry point of the child process (the parent re-runs this test binary with only this test
/// selected and the variable set); without the variable it has nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child_entry() -> Result<()> {
    let Some(dir) = std::env::var_os(CHILD_DIR_VAR) else {
        return Ok(());
    };
    let store = Arc::new(EmbeddedStore::open(&dir)?);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let round = std::env::var("FERROKUBE_CRASH_ROUND").unwrap_or_default();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = Arc::clone(&store);
            let out = Arc::clone(&out);
            let round = round.clone();
            tokio::spawn(async move { write_forever(store, out, writer, round).await })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// Creates keys and bumps a counter, printing an `ack` line after each acknowledged write.
async fn write_forever(
    store: Arc<EmbeddedStore>,
    out: Arc<Mutex<std::io::Stdout>>,
    writer: usize,
    round: String,
) -> Result<()> {
    let counter_key = format!("/crash/counter/{writer}");
    let mut counter = match store.get(&counter_key, None).await? {
        Some(kv) => kv,
        None => store.create(&counter_key, Bytes::from_static(b"0")).await?,
    };
    for index in 0u64.. {
        let key = format!("/crash/keys/{round}/{writer}/{index}");
        let kv = store.create(&key, Bytes::from(key.clone())).await?;
        ack(&out, &format!("create {key} {}", kv.mod_revision))?;
        let value: u64 = std::str::from_utf8(&counter.value)?.parse()?;
        match store
            .update(
                &counter_key,
                Bytes::from((value + 1).to_string()),
                counter.mod_revision,
            )
            .await
        {
            Ok(kv) => {
                ack(
                    &out,
                    &format!("counter {counter_key} {} {}", kv.mod_revision, value + 1),
                )?;
                counter = kv;
            }
            Err(StorageError::Conflict { current, .. }) => counter = *current,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

fn ack(out: &Mutex<std::io::Stdout>, line: &str) -> Result<()> {
    let out = out
        .lock()
        .map_err(|_| anyhow::anyhow!("stdout lock poisoned"))?;
    let mut out = out.lock();
    writeln!(out, "ack {line}")?;
    out.flush()?;
    Ok(())
}

/// What the child acknowledged before it died.
#[derive(Default)]
struct Acks {
    creates: Vec<(String, i64)>,
    counters: BTreeMap<String, (i64, u64)>,
}

fn run_child_until_killed(dir: &std::path::Path, round: usize) -> Result<Acks> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_VAR, dir)
        .env("FERROKUBE_CRASH_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("child stdout")?;
    let lines = BufReader::new(stdout).lines();
    let mut acks = Acks::default();
    let started = Instant::now();
    let mut killed = false;
    for line in lines {
        let line = line?;
        if let Some(rest) = line.strip_prefix("ack ") {
            let parts: Vec<&str> = rest.split(' ').collect();
            match parts.as_slice() {
                ["create", key, rev] => acks.creates.push((key.to_string(), rev.parse()?)),
                ["counter", key, rev, value] => {
                    let entry = (rev.parse()?, value.parse()?);
                    let slot = acks.counters.entry(key.to_string()).or_insert(entry);
                    if entry.0 > slot.0 {
                        *slot = entry;
                    }
                }
                _ => bail!("bad ack line {line:?}"),
            }
        }
        if !killed && (acks.creates.len() >= 3000 || started.elapsed() > Duration::from_secs(20)) {
            // SIGKILL: no destructor, no flush, no orderly shutdown.
            child.kill()?;
            killed = true;
        }
    }
    let status = child.wait()?;
    ensure!(killed, "the child stopped by itself: {status}");
    ensure!(
        acks.creates.len() >= 100,
        "too few writes before the kill: {}",
        acks.creates.len()
    );
    Ok(acks)
}

async fn verify(dir: &std::path::Path, acks: &Acks) -> Result<()> {
    let store = EmbeddedStore::open(dir)?;
    let mut revisions = std::collections::HashSet::new();
    for (key, rev) in &acks.creates {
        let kv = store
            .get(key, None)
            .await?
            .with_context(|| format!("acknowledged {key} lost"))?;
        ensure!(
            kv.mod_revision == *rev,
            "{key}: revision {} not {rev}",
            kv.mod_revision
        );
        ensure!(kv.value == key.as_bytes(), "{key}: wrong value");
        ensure!(revisions.insert(*rev), "revision {rev} acknowledged twice");
    }
    for (key, (rev, value)) in &acks.counters {
        let kv = store
            .get(key, None)
            .await?
            .with_context(|| format!("{key} lost"))?;
        let stored: u64 = std::str::from_utf8(&kv.value)?.parse()?;
        ensure!(
            kv.mod_revision >= *rev && stored >= *value,
            "{key}: {stored}@{} < {value}@{rev}",
            kv.mod_revision
        );
        ensure!(revisions.insert(*rev), "revision {rev} acknowledged twice");
    }
    let newest = revisions.iter().max().copied().unwrap_or(0);
    let current = store.current_revision().await?;
    ensure!(
        current >= newest,
        "revision went back: {current} < {newest}"
    );
    let listed = store
        .list(ListRequest {
            prefix: "/crash/".into(),
            ..Default::default()
        })
        .await?;
    ensure!(listed.revision == current);
    ensure!(listed.items.iter().all(|kv| kv.mod_revision <= current));
    let after = store
        .create("/crash/after-restart", Bytes::from_static(b"x"))
        .await?;
    ensure!(
        after.mod_revision == current + 1,
        "{} after {current}",
        after.mod_revision
    );
    store.delete("/crash/after-restart", None).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() -> Result<()> {
    if std::env::var_os(CHILD_DIR_VAR).is_some() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    for round in 0..2 {
        let path = dir.path().to_path_buf();
        let acks =
            tokio::task::spawn_blocking(move || run_child_until_killed(&path, round)).await??;
        verify(dir.path(), &acks)
            .await
            .with_context(|| format!("round {round}"))?;
    }
    Ok(())
}
