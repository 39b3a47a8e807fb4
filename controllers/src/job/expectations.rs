//! What the Job controller waits to see in its pod cache before acting again: pods it
//! created, deletions it issued and tracking finalizers it removed. The pod watch is
//! separate from the Job watch, so without this a sync could run on a cache that misses
//! its own writes and create pods twice or count a pod twice (upstream's expectations).

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;

use super::pods::{has_tracking_finalizer, uid};
use crate::Change;

/// How long pod creations and deletions are awaited before syncing anyway (upstream's
/// `ExpectationsTimeout`).
const TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
struct Pending {
    creations: HashSet<String>,
    deletions: HashSet<String>,
    finalizer_removals: HashSet<String>,
    since: Option<Instant>,
}

/// Expectations of every Job, keyed by `namespace/name`.
#[derive(Debug, Default)]
pub struct Expectations {
    jobs: Mutex<HashMap<String, Pending>>,
}

fn owner_key(pod: &Pod) -> Option<String> {
    let owner = pod
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|owner| owner.controller == Some(true) && owner.kind == "Job")?;
    Some(format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        owner.name
    ))
}

impl Expectations {
    fn with<T>(&self, use_map: impl FnOnce(&mut HashMap<String, Pending>) -> T) -> T {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        use_map(&mut jobs)
    }

    /// The pods named `names` were created for `key`.
    pub fn expect_creations(&self, key: &str, names: impl IntoIterator<Item = String>) {
        self.with(|jobs| {
            let pending = jobs.entry(key.to_owned()).or_default();
            pending.creations.extend(names);
            pending.since = Some(Instant::now());
        });
    }

    /// The pods with `uids` were deleted for `key`.
    pub fn expect_deletions(&self, key: &str, uids: impl IntoIterator<Item = String>) {
        self.with(|jobs| {
            let pending = jobs.entry(key.to_owned()).or_default();
            pending.deletions.extend(uids);
            pending.since = Some(Instant::now());
        });
    }

    /// The tracking finalizer of the pods with `uids` was removed for `key`.
    pub fn expect_finalizer_removals(&self, key: &str, uids: impl IntoIterator<Item = String>) {
        self.with(|jobs| {
            jobs.entry(key.to_owned())
                .or_default()
                .finalizer_removals
                .extend(uids);
        });
    }

    /// A removal that failed will not be observed.
    pub fn finalizer_removal_failed(&self, key: &str, pod_uid: &str) {
        self.with(|jobs| {
            if let Some(pending) = jobs.get_mut(key) {
                pending.finalizer_removals.remove(pod_uid);
            }
        });
    }

    /// Records what a pod watch event shows.
    pub fn observe(&self, change: &Change<Pod>) {
        let pod = change.object();
        let Some(key) = owner_key(pod) else {
            return;
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        let gone = matches!(change, Change::Deleted(_));
        self.with(|jobs| {
            if let Some(pending) = jobs.get_mut(&key) {
                pending.creations.remove(&name);
                if gone || pod.metadata.deletion_timestamp.is_some() {
                    pending.deletions.remove(uid(pod));
                }
                if gone || !has_tracking_finalizer(pod) {
                    pending.finalizer_removals.remove(uid(pod));
                }
            }
        });
    }

    /// Whether `key` may create or delete pods, given the namespace's cached `pods`; also
    /// forgets what the cache shows already.
    pub fn satisfied(&self, key: &str, pods: &[std::sync::Arc<Pod>]) -> bool {
        self.with(|jobs| {
            let Some(pending) = jobs.get_mut(key) else {
                return true;
            };
            let by_uid: HashMap<&str, &Pod> = pods.iter().map(|pod| (uid(pod), &**pod)).collect();
            let names: HashSet<&str> = pods
                .iter()
                .filter_map(|pod| pod.metadata.name.as_deref())
                .collect();
            pending
                .creations
                .retain(|name| !names.contains(name.as_str()));
            pending.deletions.retain(|pod_uid| {
                by_uid
                    .get(pod_uid.as_str())
                    .is_some_and(|pod| pod.metadata.deletion_timestamp.is_none())
            });
            pending.finalizer_removals.retain(|pod_uid| {
                by_uid
                    .get(pod_uid.as_str())
                    .is_some_and(|pod| has_tracking_finalizer(pod))
            });
            let expired = pending.since.is_some_and(|since| since.elapsed() > TIMEOUT);
            if expired {
                pending.creations.clear();
                pending.deletions.clear();
            }
            pending.creations.is_empty() && pending.deletions.is_empty()
        })
    }

    /// The pods whose finalizer removal is not in the cache yet.
    pub fn pending_finalizer_removals(&self, key: &str) -> HashSet<String> {
        self.with(|jobs| {
            jobs.get(key)
                .map(|pending| pending.finalizer_removals.clone())
                .unwrap_or_default()
        })
    }

    /// Forgets `key` (a deleted Job).
    pub fn forget(&self, key: &str) {
        self.with(|jobs| {
            jobs.remove(key);
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    use super::Expectations;
    use crate::Change;

    fn pod(name: &str, uid: &str, deleting: bool) -> Arc<Pod> {
        let mut value = json!({"metadata": {
            "name": name, "namespace": "ns", "uid": uid,
            "finalizers": ["batch.kubernetes.io/job-tracking"],
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "j1", "controller": true}]
        }});
        if deleting {
            value["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        }
        Arc::new(serde_json::from_value(value).unwrap_or_default())
    }

    #[test]
    fn creations_wait_for_the_cache() {
        let expectations = Expectations::default();
        expectations.expect_creations("ns/j", ["j-a".to_owned(), "j-b".to_owned()]);
        assert!(!expectations.satisfied("ns/j", &[pod("j-a", "1", false)]));
        expectations.observe(&Change::Applied(pod("j-b", "2", false)));
        assert!(expectations.satisfied("ns/j", &[pod("j-a", "1", false)]));
    }

    #[test]
    fn deletions_wait_for_the_deletion_mark() {
        let expectations = Expectations::default();
        expectations.expect_deletions("ns/j", ["1".to_owned()]);
        assert!(!expectations.satisfied("ns/j", &[pod("j-a", "1", false)]));
        assert!(expectations.satisfied("ns/j", &[pod("j-a", "1", true)]));
        expectations.expect_finalizer_removals("ns/j", ["1".to_owned()]);
        assert_eq!(expectations.pending_finalizer_removals("ns/j").len(), 1);
        assert!(expectations.satisfied("ns/j", &[]));
        assert!(expectations.pending_finalizer_removals("ns/j").is_empty());
    }
}
