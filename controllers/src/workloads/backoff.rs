//! Per-object retry delays, as upstream's default controller rate limiter: 5 ms doubling on
//! each consecutive failure, up to 1000 s, reset by a success.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

const BASE: Duration = Duration::from_millis(5);
const MAX: Duration = Duration::from_secs(1000);

/// Consecutive failures by object key.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// The delay before retrying `key` after one more failure.
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let count = failures.entry(key.to_owned()).or_insert(0);
        let delay = BASE.saturating_mul(2u32.saturating_pow(*count)).min(MAX);
        *count = count.saturating_add(1);
        delay
    }

    /// `key` synced: its next failure starts over.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Backoff;

    #[test]
    fn doubles_and_resets() {
        let backoff = Backoff::default();
        assert_eq!(backoff.failed("a"), Duration::from_millis(5));
        assert_eq!(backoff.failed("a"), Duration::from_millis(10));
        assert_eq!(backoff.failed("a"), Duration::from_millis(20));
        assert_eq!(backoff.failed("b"), Duration::from_millis(5));
        backoff.succeeded("a");
        assert_eq!(backoff.failed("a"), Duration::from_millis(5));
        for _ in 0..40 {
            backoff.failed("c");
        }
        assert_eq!(backoff.failed("c"), Duration::from_secs(1000));
    }
}
