//! The scheduling queue (upstream's `internal/queue`): an active queue in priority order,
//! a back-off queue for pods that failed recently, and an unschedulable set that waits for
//! a cluster change that could help (a node added or changed, a pod deleted).

pub mod backoff;

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::framework::PodInfo;

/// How long a pod may sit in the unschedulable set before it is retried anyway (upstream's
/// `podMaxInUnschedulablePodsDuration`).
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

/// Where a queued pod is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Waiting to be scheduled.
    Active,
    /// Waiting for its back-off to end.
    Backoff,
    /// Waiting for a cluster change.
    Unschedulable,
    /// Being scheduled right now.
    InFlight,
}

/// A pod in the queue with its attempt history.
#[derive(Clone, Debug)]
pub struct QueuedPod {
    /// The latest version of the pod.
    pub info: Arc<PodInfo>,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// When the pod's back-off ends.
    pub backoff_until: Option<Instant>,
    /// When it entered its current place.
    pub since: Instant,
    /// The queue's move counter when the pod was popped (to catch events during a cycle).
    pub popped_at_move: u64,
    /// The pod's spec or labels changed while it was being scheduled.
    changed_in_flight: bool,
    location: Location,
    order: Order,
}

/// Active-queue order: higher priority, then older, then first queued.
type Order = (Reverse<i32>, i128, u64);

/// The queue; callers hold it behind the scheduler's lock.
pub struct SchedulingQueue {
    pods: HashMap<String, QueuedPod>,
    active: BTreeSet<(Order, String)>,
    seq: u64,
    moves: u64,
    notify: Arc<Notify>,
}

fn spec_changed(old: &PodInfo, new: &PodInfo) -> bool {
    old.pod.spec != new.pod.spec
        || old.pod.metadata.labels != new.pod.metadata.labels
        || old.pod.metadata.annotations != new.pod.metadata.annotations
}

impl SchedulingQueue {
    /// An empty queue that wakes `notify` when a pod becomes active.
    pub fn new(notify: Arc<Notify>) -> Self {
        Self {
            pods: HashMap::new(),
            active: BTreeSet::new(),
            seq: 0,
            moves: 0,
            notify,
        }
    }

    fn order_of(&mut self, info: &PodInfo) -> Order {
        self.seq += 1;
        let created = info.created.map_or(i128::MAX, |t| t.as_nanosecond());
        (Reverse(info.priority), created, self.seq)
    }

    fn activate(&mut self, key: &str) {
        let order = match self.pods.get(key) {
            Some(queued) => queued.info.clone(),
            None => return,
        };
        let order = self.order_of(&order);
        if let Some(queued) = self.pods.get_mut(key) {
            if queued.location == Location::Active {
                self.active.remove(&(queued.order, key.to_owned()));
            }
            queued.location = Location::Active;
            queued.order = order;
            queued.since = Instant::now();
            self.active.insert((order, key.to_owned()));
            self.notify.notify_one();
        }
    }

    fn set_location(&mut self, key: &str, location: Location) {
        if let Some(queued) = self.pods.get_mut(key) {
            if queued.location == Location::Active {
                self.active.remove(&(queued.order, key.to_owned()));
            }
            queued.location = location;
            queued.since = Instant::now();
        }
    }

    /// Moves a waiting pod to the active queue, or to back-off if it is still backing off.
    fn wake(&mut self, key: &str, now: Instant) {
        let backing_off = self
            .pods
            .get(key)
            .and_then(|q| q.backoff_until)
            .is_some_and(|until| until > now);
        if backing_off {
            self.set_location(key, Location::Backoff);
        } else {
            self.activate(key);
        }
    }

    /// Adds a pending pod, or updates a queued one (an unschedulable pod whose spec or
    /// labels changed is retried).
    pub fn upsert(&mut self, info: Arc<PodInfo>) {
        let key = info.key.clone();
        let Some(queued) = self.pods.get_mut(&key) else {
            self.pods.insert(
                key.clone(),
                QueuedPod {
                    info,
                    attempts: 0,
                    backoff_until: None,
                    since: Instant::now(),
                    popped_at_move: 0,
                    changed_in_flight: false,
                    location: Location::InFlight,
                    order: (Reverse(0), 0, 0),
                },
            );
            self.activate(&key);
            return;
        };
        let changed = spec_changed(&queued.info, &info);
        let priority_changed = queued.info.priority != info.priority;
        queued.info = info;
        match queued.location {
            Location::InFlight if changed => queued.changed_in_flight = true,
            Location::Unschedulable if changed => self.wake(&key, Instant::now()),
            Location::Active if priority_changed => self.activate(&key),
            _ => {}
        }
    }

    /// Drops a pod (deleted, or bound by someone else).
    pub fn remove(&mut self, key: &str) {
        if let Some(queued) = self.pods.remove(key) {
            if queued.location == Location::Active {
                self.active.remove(&(queued.order, key.to_owned()));
            }
        }
    }

    /// Whether the pod is queued anywhere (including in flight).
    pub fn contains(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    /// Takes the highest-priority active pod, marking it in flight.
    pub fn pop(&mut self) -> Option<QueuedPod> {
        let (order, key) = self.active.pop_first()?;
        let moves = self.moves;
        let queued = self.pods.get_mut(&key)?;
        debug_assert_eq!(queued.order, order);
        queued.location = Location::InFlight;
        queued.changed_in_flight = false;
        queued.attempts += 1;
        queued.popped_at_move = moves;
        Some(queued.clone())
    }

    /// A popped pod could not be scheduled: it waits for a cluster change, or goes to
    /// back-off if a change already happened while it was being scheduled.
    pub fn unschedulable(&mut self, key: &str) {
        let now = Instant::now();
        let Some(queued) = self.pods.get_mut(key) else {
            return;
        };
        queued.backoff_until = Some(now + backoff::duration(queued.attempts));
        let missed_a_move = queued.popped_at_move < self.moves || queued.changed_in_flight;
        let location = if missed_a_move {
            Location::Backoff
        } else {
            Location::Unschedulable
        };
        self.set_location(key, location);
    }

    /// A popped pod failed for another reason (an error, a failed binding): back-off.
    pub fn backoff(&mut self, queued: QueuedPod) {
        let key = queued.info.key.clone();
        let now = Instant::now();
        let attempts = queued.attempts;
        let entry = self.pods.entry(key.clone()).or_insert(queued);
        entry.attempts = entry.attempts.max(attempts);
        entry.backoff_until = Some(now + backoff::duration(entry.attempts));
        if entry.location != Location::Active {
            self.set_location(&key, Location::Backoff);
        }
    }

    /// A popped pod was assumed onto a node: it leaves the queue.
    pub fn scheduled(&mut self, key: &str) {
        self.remove(key);
    }

    /// A cluster change that could help every unschedulable pod: retry them all.
    pub fn move_all(&mut self, event: &str) {
        self.move_matching(event, |_| true);
    }

    /// A cluster change that could help some unschedulable pods: retry those.
    pub fn move_matching(&mut self, event: &str, mut helps: impl FnMut(&PodInfo) -> bool) {
        self.moves += 1;
        let now = Instant::now();
        let keys: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, q)| q.location == Location::Unschedulable && helps(&q.info))
            .map(|(k, _)| k.clone())
            .collect();
        if !keys.is_empty() {
            tracing::debug!(event, pods = keys.len(), "moving unschedulable pods");
        }
        for key in keys {
            self.wake(&key, now);
        }
    }

    /// Activates pods whose back-off ended, and unschedulable pods that waited too long.
    pub fn flush(&mut self, now: Instant) {
        let keys: Vec<(String, Location)> = self
            .pods
            .iter()
            .filter(|(_, q)| match q.location {
                Location::Backoff => q.backoff_until.is_none_or(|until| until <= now),
                Location::Unschedulable => now.duration_since(q.since) >= MAX_UNSCHEDULABLE,
                _ => false,
            })
            .map(|(k, q)| (k.clone(), q.location))
            .collect();
        for (key, location) in keys {
            if location == Location::Backoff {
                self.activate(&key);
            } else {
                self.wake(&key, now);
            }
        }
    }

    /// Every queued pod.
    pub fn infos(&self) -> impl Iterator<Item = &Arc<PodInfo>> {
        self.pods.values().map(|q| &q.info)
    }

    /// Keys of every queued pod.
    pub fn keys(&self) -> Vec<String> {
        self.pods.keys().cloned().collect()
    }

    /// Where a pod is, for tests and logs.
    pub fn location(&self, key: &str) -> Option<Location> {
        self.pods.get(key).map(|q| q.location)
    }

    /// How many pods are queued (anywhere, including in flight).
    pub fn len(&self) -> usize {
        self.pods.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(name: &str, priority: i32, created: &str) -> Arc<PodInfo> {
        let pod = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "creationTimestamp": created},
            "spec": {"containers": [{"name": "c"}]}
        }))
        .expect("pod");
        Arc::new(PodInfo::new(Arc::new(pod), priority))
    }

    #[test]
    fn pops_by_priority_then_age() {
        let mut q = SchedulingQueue::new(Arc::default());
        q.upsert(info("old-low", 0, "2024-01-01T00:00:00Z"));
        q.upsert(info("new-high", 10, "2024-01-02T00:00:00Z"));
        q.upsert(info("new-low", 0, "2024-01-03T00:00:00Z"));
        q.upsert(info("old-high", 10, "2024-01-01T00:00:00Z"));
        let order: Vec<String> =
            std::iter::from_fn(|| q.pop().map(|p| p.info.name.clone())).collect();
        assert_eq!(order, ["old-high", "new-high", "old-low", "new-low"]);
    }

    #[test]
    fn unschedulable_pods_wait_for_a_move() {
        let mut q = SchedulingQueue::new(Arc::default());
        q.upsert(info("a", 0, "2024-01-01T00:00:00Z"));
        let popped = q.pop().expect("pod");
        q.unschedulable(&popped.info.key);
        assert_eq!(q.location("ns/a"), Some(Location::Unschedulable));
        assert!(q.pop().is_none());
        q.move_all("NodeAdd");
        // Still backing off (1 s): goes to the back-off queue, then active once it ends.
        assert_eq!(q.location("ns/a"), Some(Location::Backoff));
        q.flush(Instant::now() + Duration::from_secs(2));
        assert_eq!(q.location("ns/a"), Some(Location::Active));
    }

    #[test]
    fn a_move_during_the_cycle_sends_the_pod_to_backoff() {
        let mut q = SchedulingQueue::new(Arc::default());
        q.upsert(info("a", 0, "2024-01-01T00:00:00Z"));
        let popped = q.pop().expect("pod");
        q.move_all("NodeAdd");
        q.unschedulable(&popped.info.key);
        assert_eq!(q.location("ns/a"), Some(Location::Backoff));
    }

    #[test]
    fn an_update_during_the_cycle_sends_the_pod_to_backoff() {
        let mut q = SchedulingQueue::new(Arc::default());
        q.upsert(info("a", 0, "2024-01-01T00:00:00Z"));
        let popped = q.pop().expect("pod");
        let mut changed = (*popped.info.pod).clone();
        changed.metadata.labels = Some([("new".to_owned(), "label".to_owned())].into());
        q.upsert(Arc::new(PodInfo::new(Arc::new(changed), 0)));
        q.unschedulable(&popped.info.key);
        assert_eq!(q.location("ns/a"), Some(Location::Backoff));
    }

    #[test]
    fn a_new_priority_reorders_an_active_pod() {
        let mut q = SchedulingQueue::new(Arc::default());
        q.upsert(info("first", 0, "2024-01-01T00:00:00Z"));
        let late = info("late", 0, "2024-01-02T00:00:00Z");
        q.upsert(late.clone());
        q.upsert(Arc::new(PodInfo::new(late.pod.clone(), 100)));
        assert_eq!(
            q.pop().map(|p| p.info.name.clone()).as_deref(),
            Some("late")
        );
    }
}
