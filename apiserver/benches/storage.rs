//! Storage benchmark: prints throughput and latency figures for the embedded store and for a
//! real etcd (started on loopback), with etcd's own raw put rate as the reference.
//!
//! `cargo bench -p ferrokube-apiserver --bench storage` (set `FERROKUBE_BENCH_SECONDS` to
//! change the length of each timed phase; default 3).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use ferrokube_apiserver::storage::embedded::EmbeddedStore;
use ferrokube_apiserver::storage::etcd::EtcdStore;
use ferrokube_apiserver::storage::{ListRequest, Store};
use ferrokube_testkit::EtcdServer;
use futures::StreamExt;

/// A pod-sized value (about the 4.4 KB of a typical Pod's JSON).
fn value() -> Bytes {
    Bytes::from(vec![b'x'; 4400])
}

fn phase_length() -> Duration {
    let seconds = std::env::var("FERROKUBE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(seconds)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs `writers` tasks calling `op` until the phase ends; returns ops/s and latencies.
async fn run_concurrent<F, Fut>(writers: usize, op: F) -> Result<(f64, Vec<Duration>)>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let op = Arc::new(op);
    let deadline = Instant::now() + phase_length();
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let op = Arc::clone(&op);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    op(writer, n).await?;
                    latencies.push(begun.elapsed());
                    n += 1;
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Ok((all.len() as f64 / elapsed, all))
}

async fn bench_store(name: &str, store: Arc<dyn Store>) -> Result<()> {
    let value = value();
    for writers in [1usize, 64] {
        let s = Arc::clone(&store);
        let v = value.clone();
        let (rate, latencies) = run_concurrent(writers, move |writer, n| {
            let s = Arc::clone(&s);
            let v = v.clone();
            async move {
                s.create(&format!("/bench/create{writers}/{writer}/{n}"), v)
                    .await?;
                Ok(())
            }
        })
        .await?;
        println!(
            "{name}: creates, {writers:>2} writers: {rate:>9.0}/s  p50 {}  p99 {}",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99))
        );
    }

    // A 10,000-key prefix for reads.
    let keys = 10_000usize;
    let s = Arc::clone(&store);
    let v = value.clone();
    let fill: Vec<_> = (0..64)
        .map(|writer| {
            let s = Arc::clone(&s);
            let v = v.clone();
            tokio::spawn(async move {
                for index in (writer..keys).step_by(64) {
                    s.create(&format!("/bench/range/{index:06}"), v.clone())
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in fill {
        task.await??;
    }

    let s = Arc::clone(&store);
    let (rate, latencies) = run_concurrent(64, move |writer, n| {
        let s = Arc::clone(&s);
        async move {
            let index = (writer as u64 * 7919 + n * 104_729) % keys as u64;
            s.get(&format!("/bench/range/{index:06}"), None)
                .await?
                .context("missing key")?;
            Ok(())
        }
    })
    .await?;
    println!(
        "{name}: gets,    64 readers: {rate:>9.0}/s  p50 {}  p99 {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );

    for page_size in [500usize, 10_000] {
        let mut timings = Vec::new();
        for _ in 0..5 {
            let begun = Instant::now();
            let mut after = None;
            let mut revision = None;
            let mut total = 0;
            loop {
                let page = store
                    .list(ListRequest {
                        prefix: "/bench/range/".into(),
                        after_key: after.take(),
                        revision,
                        limit: Some(page_size),
                    })
                    .await?;
                total += page.items.len();
                revision = Some(page.revision);
                if !page.more() {
                    break;
                }
                after = page.items.last().map(|kv| kv.key.clone());
            }
            anyhow::ensure!(total == keys, "listed {total} keys");
            timings.push(begun.elapsed());
        }
        timings.sort_unstable();
        println!(
            "{name}: list of 10,000 keys in pages of {page_size:>5}: median {}",
            ms(percentile(&timings, 0.5))
        );
    }

    // Watch delivery: time from the write call to the event reaching a watcher, at a steady
    // 200 writes/s.
    let start = store.current_revision().await?;
    let mut stream = store.watch("/bench/watch/", start).await?;
    let sent: Arc<std::sync::Mutex<Vec<Instant>>> = Arc::default();
    let writes = (phase_length().as_secs_f64() * 200.0) as usize;
    let s = Arc::clone(&store);
    let sent_by_writer = Arc::clone(&sent);
    let v = value.clone();
    let writer = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(5));
        for index in 0..writes {
            ticker.tick().await;
            if let Ok(mut sent) = sent_by_writer.lock() {
                sent.push(Instant::now());
            }
            s.create(&format!("/bench/watch/{index:06}"), v.clone())
                .await?;
        }
        anyhow::Ok(())
    });
    let mut latencies = Vec::with_capacity(writes);
    for index in 0..writes {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .context("watch stalled")?
            .context("watch ended")??;
        let received = Instant::now();
        anyhow::ensure!(event.kv.key == format!("/bench/watch/{index:06}"));
        let at = sent
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .get(index)
            .copied()
            .context("event before its write")?;
        latencies.push(received - at);
    }
    writer.await??;
    latencies.sort_unstable();
    println!(
        "{name}: watch delivery at 200 writes/s: p50 {}  p99 {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    Ok(())
}

/// etcd's own rate for plain puts of the same values, without our layer: the reference.
async fn bench_raw_etcd(endpoint: &str) -> Result<()> {
    let client = etcd_client::Client::connect([endpoint], None).await?;
    let value = value();
    for writers in [1usize, 64] {
        let c = client.clone();
        let v = value.clone();
        let (rate, latencies) = run_concurrent(writers, move |writer, n| {
            let mut c = c.clone();
            let v = v.clone();
            async move {
                c.put(format!("/raw/{writers}/{writer}/{n}"), v.to_vec(), None)
                    .await?;
                Ok(())
            }
        })
        .await?;
        println!(
            "etcd raw: puts,  {writers:>2} writers: {rate:>9.0}/s  p50 {}  p99 {}",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99))
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let embedded: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path())?);
        bench_store("embedded", embedded).await?;

        let etcd = tokio::task::spawn_blocking(EtcdServer::start).await??;
        bench_raw_etcd(&etcd.endpoint()).await?;
        let store: Arc<dyn Store> = Arc::new(EtcdStore::connect(&[etcd.endpoint()]).await?);
        bench_store("etcd", store).await?;
        anyhow::Ok(())
    })
}
