//! The delay before a Job replaces failed pods: 10s after the first failure since the last
//! success, doubling with each further one up to 10 minutes (upstream's
//! `DefaultJobPodFailureBackOff` and `MaxJobPodFailureBackOff`), counted from the time the
//! last pod failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;

use super::pods::finished_time;

/// The first delay.
pub const DEFAULT_BACKOFF: SignedDuration = SignedDuration::from_secs(10);
/// The longest delay.
pub const MAX_BACKOFF: SignedDuration = SignedDuration::from_secs(600);

/// Failures since the last success, per Job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Consecutive failures since the last success.
    pub failures_after_last_success: i32,
    /// When the latest of them happened.
    pub last_failure: Option<Timestamp>,
}

/// The records of every Job, keyed by `namespace/name`.
#[derive(Debug, Default)]
pub struct Store {
    records: HashMap<String, Record>,
}

impl Store {
    /// The record `key` would have after counting the newly finished pods.
    pub fn next_record(&self, key: &str, succeeded: &[Arc<Pod>], failed: &[Arc<Pod>]) -> Record {
        let old = self.records.get(key).copied().unwrap_or_default();
        next_record(old, succeeded, failed)
    }

    /// Keeps `record` for `key` (once the counts it was computed from are stored).
    pub fn update(&mut self, key: &str, record: Record) {
        self.records.insert(key.to_owned(), record);
    }

    /// Forgets `key` (a finished or deleted Job).
    pub fn remove(&mut self, key: &str) {
        self.records.remove(key);
    }
}

fn next_record(old: Record, succeeded: &[Arc<Pod>], failed: &[Arc<Pod>]) -> Record {
    let mut failed_times: Vec<Timestamp> = failed.iter().map(|pod| finished_time(pod)).collect();
    failed_times.sort();
    let last_success = succeeded.iter().map(|pod| finished_time(pod)).max();
    match last_success {
        None => match failed_times.last() {
            None => old,
            Some(last) => Record {
                failures_after_last_success: old.failures_after_last_success
                    + i32::try_from(failed_times.len()).unwrap_or(i32::MAX),
                last_failure: Some(*last),
            },
        },
        Some(success) => {
            let after: Vec<&Timestamp> = failed_times.iter().filter(|t| **t > success).collect();
            Record {
                failures_after_last_success: i32::try_from(after.len()).unwrap_or(i32::MAX),
                last_failure: after.last().map(|t| **t),
            }
        }
    }
}

/// How long until pods may be created again after `failures` consecutive failures, the
/// last at `last_failure`.
pub fn remaining(now: Timestamp, failures: i32, last_failure: Option<Timestamp>) -> Duration {
    let Some(last) = last_failure.filter(|_| failures > 0) else {
        return Duration::ZERO;
    };
    let mut delay = DEFAULT_BACKOFF;
    for _ in 1..failures {
        delay = delay.checked_mul(2).unwrap_or(MAX_BACKOFF);
        if delay >= MAX_BACKOFF {
            delay = MAX_BACKOFF;
            break;
        }
    }
    let elapsed = now.duration_since(last);
    if delay < elapsed {
        return Duration::ZERO;
    }
    Duration::try_from(delay - elapsed).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::Timestamp;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    use super::{next_record, remaining, Record};

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn finished(second: i64) -> Arc<Pod> {
        let time = at(second).to_string();
        Arc::new(
            serde_json::from_value(json!({"status": {"containerStatuses": [{
                "name": "c", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 1, "finishedAt": time}}
            }]}}))
            .unwrap_or_default(),
        )
    }

    #[test]
    fn delays_double_up_to_ten_minutes() {
        let last = Some(at(1000));
        assert_eq!(remaining(at(1000), 1, last).as_secs(), 10);
        assert_eq!(remaining(at(1004), 1, last).as_secs(), 6);
        assert_eq!(remaining(at(1000), 2, last).as_secs(), 20);
        assert_eq!(remaining(at(1000), 3, last).as_secs(), 40);
        assert_eq!(remaining(at(1000), 12, last).as_secs(), 600);
        assert_eq!(remaining(at(2000), 2, last).as_secs(), 0);
        assert_eq!(remaining(at(1000), 0, last).as_secs(), 0);
    }

    #[test]
    fn a_success_resets_the_count() {
        let old = Record {
            failures_after_last_success: 2,
            last_failure: Some(at(50)),
        };
        let record = next_record(old, &[], &[finished(100), finished(90)]);
        assert_eq!(record.failures_after_last_success, 4);
        assert_eq!(record.last_failure, Some(at(100)));
        let record = next_record(old, &[finished(95)], &[finished(100), finished(90)]);
        assert_eq!(record.failures_after_last_success, 1);
        assert_eq!(record.last_failure, Some(at(100)));
        let record = next_record(old, &[finished(95)], &[]);
        assert_eq!(record, Record::default());
    }
}
