//! Scenario 5: etcd's own put rate, with etcd-client directly, for values the size of a
//! stored pod and with the create scenario's concurrency: the reference the etcd-backed
//! server's create rate is judged against.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{LoadError, Percentiles};

/// Figures of the raw etcd scenario.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EtcdReport {
    /// Puts done.
    pub puts: usize,
    /// Concurrent writers.
    pub writers: usize,
    /// Bytes of each value.
    pub value_bytes: usize,
    /// Puts per second.
    pub rate: f64,
    /// Per-put latency.
    pub latency: Percentiles,
}

impl std::fmt::Display for EtcdReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "etcd raw: {} puts ({} B each), {} writers: {:.0} puts/s  {}",
            self.puts, self.value_bytes, self.writers, self.rate, self.latency
        )
    }
}

/// Puts `count` values of `value_bytes` under `/loadgen-raw/<run>/` with `writers` writers.
pub async fn run(
    endpoint: &str,
    run: &str,
    count: usize,
    writers: usize,
    value_bytes: usize,
) -> Result<EtcdReport, LoadError> {
    let client = etcd_client::Client::connect([endpoint], None).await?;
    let value: Arc<Vec<u8>> = Arc::new(vec![b'x'; value_bytes]);
    let writers = writers.clamp(1, count.max(1));
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let mut client = client.clone();
            let value = Arc::clone(&value);
            let prefix = format!("/loadgen-raw/{run}/");
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count / writers + 1);
                for index in (writer..count).step_by(writers) {
                    let begun = Instant::now();
                    client
                        .put(format!("{prefix}{index:06}"), value.as_slice(), None)
                        .await?;
                    latencies.push(begun.elapsed());
                }
                Ok::<_, LoadError>(latencies)
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(count);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    // Leave etcd as we found it (the server under test shares it).
    let mut cleaner = client.clone();
    let delete = etcd_client::DeleteOptions::new().with_prefix();
    cleaner
        .delete(format!("/loadgen-raw/{run}/"), Some(delete))
        .await?;
    Ok(EtcdReport {
        puts: latencies.len(),
        writers,
        value_bytes,
        rate: latencies.len() as f64 / seconds,
        latency: Percentiles::of(latencies),
    })
}
