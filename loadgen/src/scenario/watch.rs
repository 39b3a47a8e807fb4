//! Scenario 4: watch fan-out. `watchers` clients watch the pods of an empty namespace from
//! its current resourceVersion while writers create pods there at a steady rate; every
//! watcher must receive every creation. Each pod carries its sequence number and the
//! wall-clock time it was sent in annotations, so latency is measured end to end (write
//! sent → event received by each watcher), and also from the write's acknowledgement.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use memchr::memmem;
use tokio::sync::watch;

use super::event_line::Finders;
use super::{pods_path, unix_nanos};
use crate::{Client, LoadError, Percentiles, PodTemplate, Pool};

/// How the watch scenario runs.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Concurrent watchers.
    pub watchers: usize,
    /// Writes per second while they watch.
    pub rate: f64,
    /// How long the writes go on.
    pub duration: Duration,
    /// Concurrent writers sharing the schedule (so one slow write does not stall the rate).
    pub writers: usize,
    /// Give every watcher a connection of its own (as separate clients have) instead of
    /// streams on the shared connections.
    pub dedicated_connections: bool,
    /// How long watchers may take to catch up once the writes are done.
    pub drain: Duration,
}

/// Figures of the watch scenario.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct WatchReport {
    /// Watchers.
    pub watchers: usize,
    /// Writes done (each one event per watcher).
    pub writes: usize,
    /// Writes per second achieved.
    pub write_rate: f64,
    /// Latency of the writes themselves.
    pub write_latency: Percentiles,
    /// watchers × writes.
    pub expected: usize,
    /// Distinct (watcher, write) events received.
    pub received: usize,
    /// expected − received.
    pub missed: usize,
    /// Events received twice by the same watcher.
    pub duplicates: usize,
    /// Events other than the expected ADDED ones.
    pub unexpected: usize,
    /// Watch streams that ended or failed before the end.
    pub broken_streams: usize,
    /// The first stream failure, if any.
    pub first_error: Option<String>,
    /// Event latency from the write being sent (annotation timestamp) to receipt.
    pub from_write: Percentiles,
    /// Event latency from the write's acknowledgement to receipt (0 when the event came
    /// first).
    pub from_ack: Percentiles,
    /// Events that arrived before their write was acknowledged.
    pub before_ack: usize,
}

impl std::fmt::Display for WatchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "watch: {} watchers, {} writes at {:.0}/s (write {}): received {}/{} events, \
             missed {}, duplicates {}, unexpected {}, broken streams {}; \
             latency from write {};  from ack {}",
            self.watchers,
            self.writes,
            self.write_rate,
            self.write_latency,
            self.received,
            self.expected,
            self.missed,
            self.duplicates,
            self.unexpected,
            self.broken_streams,
            self.from_write,
            self.from_ack
        )?;
        if let Some(error) = &self.first_error {
            write!(f, "; first stream error: {error}")?;
        }
        Ok(())
    }
}

/// Where the run is, as watchers see it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Writing,
    /// Writes are over; this many were made.
    WritesDone(usize),
    /// Stop now, whatever is missing.
    Stop,
}

/// What one watcher saw.
#[derive(Default)]
struct Seen {
    /// (sequence number, sent at, received at), Unix nanoseconds.
    events: Vec<(u64, u64, u64)>,
    duplicates: usize,
    unexpected: usize,
    error: Option<String>,
}

/// Runs the scenario in `namespace` (which must be empty).
pub async fn run(
    pool: &Pool,
    template: Arc<PodTemplate>,
    namespace: &str,
    options: &WatchOptions,
) -> Result<WatchReport, LoadError> {
    let path = pods_path(namespace);
    let mut control = pool.client(0).await?;
    let revision = current_revision(&mut control, &path).await?;
    let watch_path = format!("{path}?watch=1&resourceVersion={revision}");

    let (phase_tx, phase_rx) = watch::channel(Phase::Writing);
    let mut watchers = Vec::with_capacity(options.watchers);
    for index in 0..options.watchers {
        let mut client = if options.dedicated_connections {
            pool.dedicated().await?
        } else {
            pool.client(index).await?
        };
        let response = tokio::time::timeout(
            Duration::from_secs(30),
            client.send(Method::GET, &watch_path, None),
        )
        .await
        .map_err(|_| LoadError::Timeout(format!("watch {index} response head")))??;
        if response.status() != StatusCode::OK {
            return Err(LoadError::Status {
                what: format!("watch {index}"),
                status: response.status(),
                body: String::new(),
            });
        }
        let phase = phase_rx.clone();
        watchers.push(tokio::spawn(async move {
            let seen = receive(response.into_body(), phase).await;
            drop(client);
            seen
        }));
    }

    let writes = (options.rate * options.duration.as_secs_f64()).round() as usize;
    let acks: Arc<Vec<AtomicU64>> = Arc::new((0..writes).map(|_| AtomicU64::new(0)).collect());
    let writers = options.writers.clamp(1, writes.max(1));
    let mut writer_clients = Vec::with_capacity(writers);
    for writer in 0..writers {
        writer_clients.push(pool.client(writer).await?);
    }
    let started = tokio::time::Instant::now();
    let interval = Duration::from_secs_f64(1.0 / options.rate.max(0.001));
    let path = Arc::new(path);
    let writer_tasks: Vec<_> = writer_clients
        .into_iter()
        .enumerate()
        .map(|(writer, mut client)| {
            let template = Arc::clone(&template);
            let path = Arc::clone(&path);
            let acks = Arc::clone(&acks);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for seq in (writer..writes).step_by(writers) {
                    tokio::time::sleep_until(started + interval.mul_f64(seq as f64)).await;
                    let sent = unix_nanos();
                    let body = template.render(&format!("w-{seq:06}"), seq as u64, sent);
                    let begun = Instant::now();
                    client
                        .call(
                            "create watched pod",
                            Method::POST,
                            &path,
                            Some(body),
                            &[StatusCode::CREATED],
                        )
                        .await?;
                    latencies.push(begun.elapsed());
                    if let Some(ack) = acks.get(seq) {
                        ack.store(unix_nanos(), Ordering::Relaxed);
                    }
                }
                Ok::<_, LoadError>(latencies)
            })
        })
        .collect();
    let mut write_latencies = Vec::with_capacity(writes);
    let mut writer_error = None;
    for task in writer_tasks {
        match task.await? {
            Ok(latencies) => write_latencies.extend(latencies),
            Err(error) => writer_error = writer_error.or(Some(error)),
        }
    }
    let write_seconds = started.elapsed().as_secs_f64();
    if let Some(error) = writer_error {
        let _ = phase_tx.send(Phase::Stop);
        return Err(error);
    }

    let _ = phase_tx.send(Phase::WritesDone(writes));
    let drain = options.drain;
    let stopper = {
        let phase_tx = phase_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(drain).await;
            let _ = phase_tx.send(Phase::Stop);
        })
    };
    let mut report = WatchReport {
        watchers: options.watchers,
        writes,
        write_rate: writes as f64 / write_seconds,
        write_latency: Percentiles::of(write_latencies),
        expected: options.watchers * writes,
        ..WatchReport::default()
    };
    let mut from_write = Vec::with_capacity(report.expected);
    let mut from_ack = Vec::with_capacity(report.expected);
    for watcher in watchers {
        let seen = watcher.await?;
        report.received += seen.events.len();
        report.duplicates += seen.duplicates;
        report.unexpected += seen.unexpected;
        if seen.error.is_some() {
            report.broken_streams += 1;
            report.first_error = report.first_error.or(seen.error);
        }
        for (seq, sent, received) in seen.events {
            from_write.push(Duration::from_nanos(received.saturating_sub(sent)));
            let ack = usize::try_from(seq)
                .ok()
                .and_then(|seq| acks.get(seq))
                .map_or(0, |ack| ack.load(Ordering::Relaxed));
            if received < ack {
                report.before_ack += 1;
            }
            from_ack.push(Duration::from_nanos(received.saturating_sub(ack)));
        }
    }
    stopper.abort();
    report.missed = report.expected.saturating_sub(report.received);
    report.from_write = Percentiles::of(from_write);
    report.from_ack = Percentiles::of(from_ack);
    Ok(report)
}

/// The namespace's current resourceVersion, from a one-item list.
async fn current_revision(client: &mut Client, path: &str) -> Result<String, LoadError> {
    let body = client
        .call(
            "list for resourceVersion",
            Method::GET,
            &format!("{path}?limit=1"),
            None,
            &[StatusCode::OK],
        )
        .await?;
    let list: serde_json::Value =
        serde_json::from_slice(&body).map_err(|source| LoadError::Json {
            what: "list for resourceVersion".into(),
            source,
        })?;
    list["metadata"]["resourceVersion"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| LoadError::Check("list without metadata.resourceVersion".into()))
}

/// Reads one watch stream until every write has been seen (once the writes are done) or
/// it is told to stop.
async fn receive(mut body: Incoming, mut phase: watch::Receiver<Phase>) -> Seen {
    let mut seen = Seen::default();
    let mut received_at: Vec<bool> = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let finders = Finders::new();
    loop {
        match *phase.borrow_and_update() {
            Phase::Stop => break,
            Phase::WritesDone(total) if seen.events.len() >= total => break,
            _ => {}
        }
        tokio::select! {
            frame = body.frame() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    Some(Err(error)) => {
                        seen.error = Some(error.to_string());
                        break;
                    }
                    None => {
                        seen.error = Some("watch stream ended".into());
                        break;
                    }
                };
                let Ok(data) = frame.into_data() else { continue };
                let now = unix_nanos();
                pending.extend_from_slice(&data);
                let mut start = 0;
                while let Some(end) = memchr::memchr(b'\n', &pending[start..]) {
                    let line = &pending[start..start + end];
                    start += end + 1;
                    if line.is_empty() {
                        continue;
                    }
                    match finders.event(line) {
                        Some((seq, sent)) => {
                            let index = usize::try_from(seq).unwrap_or(usize::MAX);
                            if index >= received_at.len() {
                                received_at.resize(index.saturating_add(1).min(1 << 24), false);
                            }
                            match received_at.get_mut(index) {
                                Some(slot) if *slot => seen.duplicates += 1,
                                Some(slot) => {
                                    *slot = true;
                                    seen.events.push((seq, sent, now));
                                }
                                None => seen.unexpected += 1,
                            }
                        }
                        None => {
                            seen.unexpected += 1;
                            if seen.error.is_none() && memmem::find(line, b"\"ERROR\"").is_some() {
                                seen.error = Some(String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned());
                            }
                        }
                    }
                }
                pending.drain(..start);
            }
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    seen
}
