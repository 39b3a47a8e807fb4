//! Per-pod back-off after failed attempts: upstream's 1 s initial, doubling, 10 s maximum.

use std::time::Duration;

/// Upstream's `podInitialBackoffDuration`.
pub const INITIAL: Duration = Duration::from_secs(1);
/// Upstream's `podMaxBackoffDuration`.
pub const MAX: Duration = Duration::from_secs(10);

/// How long a pod waits after its `attempts`-th failed attempt.
pub fn duration(attempts: u32) -> Duration {
    let mut wait = INITIAL;
    for _ in 1..attempts {
        wait = wait.saturating_mul(2);
        if wait >= MAX {
            return MAX;
        }
    }
    wait.min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        assert_eq!(duration(0), INITIAL);
        assert_eq!(duration(1), Duration::from_secs(1));
        assert_eq!(duration(2), Duration::from_secs(2));
        assert_eq!(duration(4), Duration::from_secs(8));
        assert_eq!(duration(5), Duration::from_secs(10));
        assert_eq!(duration(50), Duration::from_secs(10));
    }
}
