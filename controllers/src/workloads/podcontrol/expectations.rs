//! Expectations, as upstream's `UIDTrackingControllerExpectations`: after creating or
//! deleting pods, a controller does not act again for that owner until its cache has seen
//! every one of those pods appear (or disappear), or five minutes have passed. Without it a
//! burst of events, each seeing a cache that lags the API, would create duplicates.
//!
//! Upstream counts creations; we know each created pod's UID (the create call returns it),
//! so both directions track UIDs, which the cache can confirm directly.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Upstream's `ExpectationsTimeout`: after this, a controller acts again regardless.
pub const TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
struct Pending {
    creating: HashSet<String>,
    deleting: HashSet<String>,
    since: Instant,
}

/// What a pod looks like in the cache, for settling expectations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// In the cache and not being deleted.
    Present,
    /// In the cache with a deletion timestamp.
    Deleting,
    /// Not in the cache.
    Absent,
}

/// The pods each owner (by UID) waits to see created or deleted.
#[derive(Debug, Default)]
pub struct Expectations {
    owners: Mutex<HashMap<String, Pending>>,
}

impl Expectations {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Pending>> {
        self.owners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn entry<'a>(owners: &'a mut HashMap<String, Pending>, owner: &str) -> &'a mut Pending {
        owners.entry(owner.to_owned()).or_insert_with(|| Pending {
            creating: HashSet::new(),
            deleting: HashSet::new(),
            since: Instant::now(),
        })
    }

    /// Starts a new round of expectations for `owner` (the timeout counts from here).
    pub fn start(&self, owner: &str) {
        let mut owners = self.lock();
        let pending = Self::entry(&mut owners, owner);
        pending.since = Instant::now();
    }

    /// `owner` created the pod with `uid`.
    pub fn created(&self, owner: &str, uid: &str) {
        Self::entry(&mut self.lock(), owner)
            .creating
            .insert(uid.to_owned());
    }

    /// `owner` is about to delete these pods.
    pub fn deleting<'a>(&self, owner: &str, uids: impl IntoIterator<Item = &'a str>) {
        let mut owners = self.lock();
        let pending = Self::entry(&mut owners, owner);
        pending.deleting.extend(uids.into_iter().map(str::to_owned));
    }

    /// A deletion failed (or the pod was gone already): nothing to wait for.
    pub fn deletion_observed(&self, owner: &str, uid: &str) {
        if let Some(pending) = self.lock().get_mut(owner) {
            pending.deleting.remove(uid);
        }
    }

    /// The watch delivered a change to a pod controlled by `owner`: a created pod has been
    /// seen; a deleted (or deleting) one is gone.
    pub fn observe(&self, owner: &str, uid: &str, gone: bool) {
        if let Some(pending) = self.lock().get_mut(owner) {
            pending.creating.remove(uid);
            if gone {
                pending.deleting.remove(uid);
            }
        }
    }

    /// Whether `owner` may act: everything it expected is confirmed by `seen` (the cache),
    /// or the expectations expired. Settled expectations are dropped.
    pub fn satisfied(&self, owner: &str, seen: impl Fn(&str) -> Seen) -> bool {
        let mut owners = self.lock();
        let Some(pending) = owners.get_mut(owner) else {
            return true;
        };
        pending.creating.retain(|uid| seen(uid) == Seen::Absent);
        pending.deleting.retain(|uid| seen(uid) == Seen::Present);
        let settled = pending.creating.is_empty() && pending.deleting.is_empty();
        let expired = pending.since.elapsed() > TIMEOUT;
        if settled || expired {
            if expired && !settled {
                tracing::info!(owner, "expectations expired; acting anyway");
            }
            owners.remove(owner);
            return true;
        }
        false
    }

    /// Drops the expectations of owners that no longer exist.
    pub fn retain(&self, exists: impl Fn(&str) -> bool) {
        self.lock().retain(|owner, _| exists(owner));
    }
}

#[cfg(test)]
mod tests {
    use super::{Expectations, Seen};

    #[test]
    fn creations_wait_for_the_cache() {
        let expectations = Expectations::default();
        expectations.start("rs");
        expectations.created("rs", "a");
        expectations.created("rs", "b");
        assert!(!expectations.satisfied("rs", |_| Seen::Absent));
        // One seen in the cache, the other delivered (and deleted) by the watch.
        expectations.observe("rs", "b", true);
        assert!(!expectations.satisfied("rs", |_| Seen::Absent));
        assert!(expectations.satisfied("rs", |uid| if uid == "a" {
            Seen::Present
        } else {
            Seen::Absent
        }));
        // Settled: nothing left, so the next check passes without looking.
        assert!(expectations.satisfied("rs", |_| Seen::Absent));
    }

    #[test]
    fn deletions_wait_until_gone_or_terminating() {
        let expectations = Expectations::default();
        expectations.start("rs");
        expectations.deleting("rs", ["a", "b", "c"]);
        expectations.deletion_observed("rs", "c");
        assert!(!expectations.satisfied("rs", |_| Seen::Present));
        assert!(expectations.satisfied("rs", |uid| if uid == "a" {
            Seen::Deleting
        } else {
            Seen::Absent
        }));
    }

    #[test]
    fn unknown_owners_are_satisfied_and_retain_drops() {
        let expectations = Expectations::default();
        assert!(expectations.satisfied("none", |_| Seen::Absent));
        expectations.created("gone", "x");
        expectations.retain(|owner| owner != "gone");
        assert!(expectations.satisfied("gone", |_| Seen::Absent));
    }
}
