//! Scenario 2: gets of existing pods by name, `readers` concurrent readers picking names at
//! random, for a fixed time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};

use super::{pod_name, pods_path};
use crate::{LoadError, Percentiles, Pool};

/// Figures of the get scenario.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GetReport {
    /// Concurrent readers.
    pub readers: usize,
    /// Gets done.
    pub gets: usize,
    /// Size of the last answer (one pod, as the server returns it).
    pub response_bytes: usize,
    /// Wall time of the phase.
    pub seconds: f64,
    /// Gets per second.
    pub rate: f64,
    /// Per-request latency.
    pub latency: Percentiles,
}

impl std::fmt::Display for GetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gets: {} pods of {} B over {:.1} s, {} readers: {:.0} gets/s  {}",
            self.gets, self.response_bytes, self.seconds, self.readers, self.rate, self.latency
        )
    }
}

/// Gets random pods among `pod_name(0..pods)` in `namespace` for `duration`.
pub async fn run(
    pool: &Pool,
    namespace: &str,
    pods: usize,
    readers: usize,
    duration: Duration,
) -> Result<GetReport, LoadError> {
    if pods == 0 {
        return Err(LoadError::Check("gets need pods to exist".into()));
    }
    let readers = readers.max(1);
    let mut clients = Vec::with_capacity(readers);
    for reader in 0..readers {
        clients.push(pool.client(reader).await?);
    }
    let base = Arc::new(pods_path(namespace));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let base = Arc::clone(&base);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut size = 0;
                let mut rng = fastrand::Rng::new();
                while Instant::now() < deadline {
                    let path = format!("{base}/{}", pod_name(rng.usize(..pods)));
                    let begun = Instant::now();
                    let body = client
                        .call("get pod", Method::GET, &path, None, &[StatusCode::OK])
                        .await?;
                    latencies.push(begun.elapsed());
                    size = body.len();
                }
                Ok::<_, LoadError>((latencies, size))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut response_bytes = 0;
    for task in tasks {
        let (mine, size) = task.await??;
        latencies.extend(mine);
        response_bytes = response_bytes.max(size);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(GetReport {
        readers,
        gets: latencies.len(),
        response_bytes,
        seconds,
        rate: latencies.len() as f64 / seconds,
        latency: Percentiles::of(latencies),
    })
}
