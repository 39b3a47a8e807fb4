//! The scenarios, one module each; every one returns a report the binary prints as a line.

pub mod create;
pub mod etcd;
mod event_line;
pub mod get;
pub mod list;
pub mod namespace;
pub mod watch;

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time in Unix nanoseconds: what the writer stamps into annotations and what
/// watchers compare receipts with (same host, same clock).
pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The collection path of pods in `namespace`.
pub fn pods_path(namespace: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/pods")
}

/// The name of bulk pod number `index` (ReplicaSet-style: name, template hash, suffix).
pub fn pod_name(index: usize) -> String {
    format!("checkout-7d9f8c6b5d-{index:05}")
}
