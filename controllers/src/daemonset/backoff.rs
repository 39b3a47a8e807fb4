//! The backoff on deleting failed daemon pods (upstream's `failedPodsBackoff`, a
//! `flowcontrol.Backoff` of 1 s doubling to 15 min): a kubelet that keeps rejecting a pod
//! must not make the controller delete and recreate it in a hot loop.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

const INITIAL: Duration = Duration::from_secs(1);
const MAX: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    backoff: Duration,
    last_update: Instant,
}

/// Backoff per key (`<ds uid>/<observed generation>/<node>`, as upstream).
#[derive(Debug, Default)]
pub struct FailedPods {
    entries: Mutex<HashMap<String, Entry>>,
}

fn expired(entry: &Entry, now: Instant) -> bool {
    now.saturating_duration_since(entry.last_update) > MAX * 2
}

impl FailedPods {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Upstream's `IsInBackOffSinceUpdate`: the remaining wait if `key` is still backing
    /// off at `now`.
    pub fn waiting(&self, key: &str, now: Instant) -> Option<Duration> {
        let entries = self.lock();
        let entry = entries.get(key)?;
        if expired(entry, now) {
            return None;
        }
        let since = now.saturating_duration_since(entry.last_update);
        (since < entry.backoff).then_some(entry.backoff)
    }

    /// Upstream's `Next`: starts or doubles the backoff of `key`.
    pub fn next(&self, key: &str, now: Instant) {
        let mut entries = self.lock();
        entries.retain(|_, entry| !expired(entry, now));
        let backoff = match entries.get(key) {
            Some(entry) => (entry.backoff * 2).min(MAX),
            None => INITIAL,
        };
        entries.insert(
            key.to_owned(),
            Entry {
                backoff,
                last_update: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::FailedPods;

    #[test]
    fn doubles_while_failures_repeat() {
        let backoff = FailedPods::default();
        let start = Instant::now();
        assert_eq!(backoff.waiting("k", start), None);
        backoff.next("k", start);
        assert_eq!(backoff.waiting("k", start), Some(Duration::from_secs(1)));
        let later = start + Duration::from_secs(2);
        assert_eq!(backoff.waiting("k", later), None);
        backoff.next("k", later);
        assert_eq!(backoff.waiting("k", later), Some(Duration::from_secs(2)));
    }
}
