//! The whole run's figures (printed line by line as scenarios finish, and optionally saved
//! as JSON), and the targets checked against them.

use crate::rss::Memory;
use crate::scenario::{
    create::CreateReport, etcd::EtcdReport, get::GetReport, list::ListReport, watch::WatchReport,
};
use crate::Protocol;

/// Everything one run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The server URL.
    pub server: String,
    /// `embedded` or `etcd` (the latter when an etcd endpoint was given).
    pub backend: String,
    /// HTTP version used.
    pub protocol: Protocol,
    /// Shared HTTP/2 connections.
    pub connections: usize,
    /// Server memory before the load (after its idle period).
    pub idle_memory: Option<Memory>,
    /// Server memory after the load.
    pub final_memory: Option<Memory>,
    /// Scenario 1.
    pub create: Option<CreateReport>,
    /// Scenario 2.
    pub get: Option<GetReport>,
    /// Scenario 3.
    pub list: Option<ListReport>,
    /// Scenario 4.
    pub watch: Option<WatchReport>,
    /// Scenario 5.
    pub etcd: Option<EtcdReport>,
}

/// One target of the issue and whether this run met it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Target {
    /// What is measured, with its threshold.
    pub name: String,
    /// The measured value, formatted.
    pub measured: String,
    /// Whether it meets the threshold.
    pub met: bool,
}

impl Report {
    /// The targets that this run's figures can be checked against.
    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        let mut check = |name: &str, measured: String, met: bool| {
            targets.push(Target {
                name: name.to_owned(),
                measured,
                met,
            });
        };
        if let Some(memory) = self.idle_memory {
            let mb = memory.rss_kib as f64 / 1024.0;
            check("idle server RSS < 64 MB", format!("{mb:.1} MB"), mb < 64.0);
        }
        match (&self.create, &self.etcd) {
            (Some(create), Some(etcd)) => {
                let ratio = create.rate / etcd.rate.max(f64::MIN_POSITIVE);
                check(
                    "etcd: creates/s ≥ 2/3 of raw etcd puts/s",
                    format!("{:.0} / {:.0} = {ratio:.2}", create.rate, etcd.rate),
                    ratio >= 2.0 / 3.0,
                );
            }
            (Some(create), None) => {
                check(
                    "embedded: durable pod creates ≥ 3,000/s",
                    format!("{:.0}/s", create.rate),
                    create.rate >= 3000.0,
                );
                check(
                    "embedded: create p99 < 50 ms",
                    format!("{:.2} ms", create.latency.p99_ms),
                    create.latency.p99_ms < 50.0,
                );
            }
            _ => {}
        }
        if let (Some(get), None) = (&self.get, &self.etcd) {
            check(
                "embedded: gets ≥ 20,000/s",
                format!("{:.0}/s", get.rate),
                get.rate >= 20_000.0,
            );
        }
        if let Some(watch) = &self.watch {
            check(
                "watch: every watcher receives every event",
                format!("{} missed of {}", watch.missed, watch.expected),
                watch.missed == 0 && watch.broken_streams == 0,
            );
            check(
                "watch: event p99 < 50 ms (from the write)",
                format!("{:.2} ms", watch.from_write.p99_ms),
                watch.from_write.p99_ms < 50.0,
            );
        }
        targets
    }
}
