//! A work queue with client-go's workqueue semantics, for loops whose keys are not one typed
//! object (the garbage collector's graph nodes) or that need upstream's exact timing (the
//! namespace controller's delayed adds): an item is queued at most once, is never handed to
//! two workers at once (an add while it is processed queues it again once done), may be
//! added after a delay (the earliest wins), and is retried with per-item exponential
//! backoff until forgotten.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The first retry delay of a failing item (client-go's default controller rate limiter).
const BASE_DELAY: Duration = Duration::from_millis(5);
/// The longest retry delay.
const MAX_DELAY: Duration = Duration::from_secs(1000);

struct State<T> {
    queue: VecDeque<T>,
    dirty: HashSet<T>,
    processing: HashSet<T>,
    /// Items waiting for their delay, by deadline (with a sequence number to keep equal
    /// deadlines apart), and each waiting item's deadline.
    waiting: BTreeMap<(Instant, u64), T>,
    deadlines: HashMap<T, (Instant, u64)>,
    sequence: u64,
    failures: HashMap<T, u32>,
}

/// A deduplicating, delaying, rate-limited queue shared by a loop's workers.
pub struct WorkQueue<T> {
    state: Mutex<State<T>>,
    ready: Notify,
}

impl<T: Clone + Eq + Hash> WorkQueue<T> {
    /// An empty queue.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                waiting: BTreeMap::new(),
                deadlines: HashMap::new(),
                sequence: 0,
                failures: HashMap::new(),
            }),
            ready: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A worker that panicked while holding the lock left the state consistent (every
        // mutation is a single step), so keep going with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `item` now, unless it is queued already.
    pub fn add(&self, item: T) {
        let mut state = self.lock();
        if Self::push(&mut state, item) {
            drop(state);
            self.ready.notify_one();
        }
    }

    fn push(state: &mut State<T>, item: T) -> bool {
        if let Some(key) = state.deadlines.remove(&item) {
            state.waiting.remove(&key);
        }
        if !state.dirty.insert(item.clone()) {
            return false;
        }
        if state.processing.contains(&item) {
            return false;
        }
        state.queue.push_back(item);
        true
    }

    /// Queues `item` once `delay` has passed (or sooner, if it is already waiting for an
    /// earlier time).
    pub fn add_after(&self, item: T, delay: Duration) {
        if delay.is_zero() {
            self.add(item);
            return;
        }
        let deadline = Instant::now() + delay;
        let mut state = self.lock();
        if let Some((current, _)) = state.deadlines.get(&item) {
            if *current <= deadline {
                return;
            }
        }
        if let Some(key) = state.deadlines.remove(&item) {
            state.waiting.remove(&key);
        }
        state.sequence += 1;
        let key = (deadline, state.sequence);
        state.waiting.insert(key, item.clone());
        state.deadlines.insert(item, key);
        drop(state);
        // Wake a worker so that it sleeps until the new (possibly earliest) deadline.
        self.ready.notify_one();
    }

    /// Queues `item` again after its backoff, which doubles with each failure.
    pub fn add_rate_limited(&self, item: T) {
        let failures = {
            let mut state = self.lock();
            let count = state.failures.entry(item.clone()).or_insert(0);
            *count += 1;
            *count
        };
        self.add_after(item, backoff(failures));
    }

    /// Resets the backoff of `item` (it succeeded).
    pub fn forget(&self, item: &T) {
        self.lock().failures.remove(item);
    }

    /// Waits for the next item; the caller must call [`WorkQueue::done`] with it.
    pub async fn get(&self) -> T {
        loop {
            let notified = self.ready.notified();
            let next_deadline = {
                let mut state = self.lock();
                let now = Instant::now();
                while let Some((&key, _)) = state.waiting.first_key_value() {
                    if key.0 > now {
                        break;
                    }
                    if let Some(item) = state.waiting.remove(&key) {
                        state.deadlines.remove(&item);
                        Self::push(&mut state, item);
                    }
                }
                if let Some(item) = state.queue.pop_front() {
                    state.dirty.remove(&item);
                    state.processing.insert(item.clone());
                    // Another worker may be able to take the next one.
                    if !state.queue.is_empty() {
                        self.ready.notify_one();
                    }
                    return item;
                }
                state.waiting.first_key_value().map(|(key, _)| key.0)
            };
            match next_deadline {
                Some(deadline) => {
                    tokio::select! {
                        () = notified => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks `item` processed; if it was added meanwhile it is queued again.
    pub fn done(&self, item: &T) {
        let mut state = self.lock();
        state.processing.remove(item);
        if state.dirty.contains(item) {
            state.queue.push_back(item.clone());
            drop(state);
            self.ready.notify_one();
        }
    }
}

/// client-go's per-item exponential backoff: 5ms, 10ms, 20ms, ... up to 1000s.
fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(30);
    BASE_DELAY
        .checked_mul(1u32 << exponent)
        .map_or(MAX_DELAY, |delay| delay.min(MAX_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_millis(5));
        assert_eq!(backoff(2), Duration::from_millis(10));
        assert_eq!(backoff(5), Duration::from_millis(80));
        assert_eq!(backoff(40), MAX_DELAY);
    }

    #[tokio::test]
    async fn items_are_deduplicated_and_never_processed_twice_at_once() {
        let queue = WorkQueue::new();
        queue.add("a");
        queue.add("a");
        queue.add("b");
        let first = queue.get().await;
        assert_eq!(first, "a");
        // Added while processed: held back until done.
        queue.add("a");
        assert_eq!(queue.get().await, "b");
        queue.done(&"b");
        queue.done(&"a");
        assert_eq!(queue.get().await, "a");
    }

    #[tokio::test]
    async fn delayed_items_wait_and_the_earliest_deadline_wins() {
        let queue = WorkQueue::new();
        let start = Instant::now();
        queue.add_after("late", Duration::from_secs(10));
        queue.add_after("late", Duration::from_millis(200));
        queue.add_after("later", Duration::from_millis(400));
        assert_eq!(queue.get().await, "late");
        let first = start.elapsed();
        assert!(first >= Duration::from_millis(200), "{first:?}");
        assert!(first < Duration::from_secs(5), "{first:?}");
        assert_eq!(queue.get().await, "later");
        assert!(start.elapsed() >= Duration::from_millis(400));
    }

    #[tokio::test]
    async fn an_immediate_add_overrides_a_pending_delay() {
        let queue = WorkQueue::new();
        queue.add_after("x", Duration::from_secs(60));
        queue.add("x");
        let start = Instant::now();
        assert_eq!(queue.get().await, "x");
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}
