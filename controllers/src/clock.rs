//! Time as the loops read it. Upstream injects a clock into the Job, CronJob and TTL loops
//! so their tests can jump over back-offs, deadlines and schedules; the manager does the
//! same: the system clock by default, a [`TestClock`] that tests set and advance.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

/// A source of the current time for the loops that act on time (schedules, deadlines, TTLs).
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> Timestamp;

    /// A receiver that changes whenever time jumps (a test clock being set); `None` for a
    /// clock that only moves on its own, whose waits the loops leave to timers.
    fn jumps(&self) -> Option<watch::Receiver<Timestamp>>;
}

/// The clock the manager shares with its loops.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn jumps(&self) -> Option<watch::Receiver<Timestamp>> {
        None
    }
}

/// A clock that stands still until told otherwise; every change wakes the loops that act on
/// time, so a test can advance a minute and see a CronJob fire at once.
#[derive(Debug)]
pub struct TestClock {
    sender: watch::Sender<Timestamp>,
}

impl TestClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            sender: watch::channel(start).0,
        }
    }

    /// Sets the time (backwards too).
    pub fn set(&self, now: Timestamp) {
        self.sender.send_replace(now);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: SignedDuration) {
        self.sender.send_modify(|now| {
            *now = now.checked_add(by).unwrap_or(*now);
        });
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.sender.borrow()
    }

    fn jumps(&self) -> Option<watch::Receiver<Timestamp>> {
        Some(self.sender.subscribe())
    }
}

/// A `reconcile_all_on` trigger: one item per jump of `clock` (never, for the system clock).
pub fn jumps(clock: &dyn Clock) -> BoxStream<'static, ()> {
    match clock.jumps() {
        Some(receiver) => futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.changed().await.ok().map(|()| ((), receiver))
        })
        .boxed(),
        None => futures::stream::pending().boxed(),
    }
}

/// How long from `now` until `then`, zero if it has passed: a requeue delay.
pub fn until(now: Timestamp, then: Timestamp) -> Duration {
    Duration::try_from(then.duration_since(now)).unwrap_or(Duration::ZERO)
}

/// `now` without its fraction of a second: API times have whole seconds, and a condition
/// time compared with a stored one must be what the server keeps.
pub fn whole_seconds(now: Timestamp) -> Timestamp {
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::{until, whole_seconds, Clock, TestClock};

    #[test]
    fn test_clock_moves_only_when_told() {
        let start = Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let clock = TestClock::new(start);
        let mut jumps = clock.jumps();
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(clock.now().as_second(), 1_700_000_090);
        assert!(jumps
            .as_mut()
            .is_some_and(|receiver| receiver.has_changed().unwrap_or(false)));
    }

    #[test]
    fn until_is_never_negative() {
        let now = Timestamp::from_second(100).unwrap_or(Timestamp::UNIX_EPOCH);
        let past = Timestamp::from_second(50).unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(until(now, past).as_secs(), 0);
        assert_eq!(until(past, now).as_secs(), 50);
        let fractional = Timestamp::from_millisecond(1_500).unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(whole_seconds(fractional).as_second(), 1);
    }
}
