//! Scenario 1: `count` pod creates by `writers` concurrent writers, each waiting for its
//! answer (201, i.e. durably stored) before sending the next.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};

use super::{pod_name, pods_path, unix_nanos};
use crate::{LoadError, Percentiles, PodTemplate, Pool};

/// Figures of the create scenario.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CreateReport {
    /// Pods created.
    pub pods: usize,
    /// Concurrent writers.
    pub writers: usize,
    /// Bytes of each request body.
    pub body_bytes: usize,
    /// Wall time of the whole phase.
    pub seconds: f64,
    /// Creates per second.
    pub rate: f64,
    /// Per-request latency.
    pub latency: Percentiles,
}

impl std::fmt::Display for CreateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "creates: {} pods ({} B each), {} writers: {:.0} creates/s  {}",
            self.pods, self.body_bytes, self.writers, self.rate, self.latency
        )
    }
}

/// Creates pods `pod_name(0..count)` in `namespace`.
pub async fn run(
    pool: &Pool,
    template: Arc<PodTemplate>,
    namespace: &str,
    count: usize,
    writers: usize,
) -> Result<CreateReport, LoadError> {
    let writers = writers.clamp(1, count.max(1));
    let mut clients = Vec::with_capacity(writers);
    for writer in 0..writers {
        clients.push(pool.client(writer).await?);
    }
    let path = Arc::new(pods_path(namespace));
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(writer, mut client)| {
            let template = Arc::clone(&template);
            let path = Arc::clone(&path);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count / writers + 1);
                for index in (writer..count).step_by(writers) {
                    let body = template.render(&pod_name(index), index as u64, unix_nanos());
                    let begun = Instant::now();
                    client
                        .call(
                            "create pod",
                            Method::POST,
                            &path,
                            Some(body),
                            &[StatusCode::CREATED],
                        )
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
    let body_bytes = template.render(&pod_name(0), 0, unix_nanos()).len();
    Ok(CreateReport {
        pods: latencies.len(),
        writers,
        body_bytes,
        seconds,
        rate: latencies.len() as f64 / seconds,
        latency: Percentiles::of(latencies),
    })
}
