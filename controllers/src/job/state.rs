//! One sync of one Job (upstream's `syncJobCtx`): the Job being rewritten, its pods and
//! what this sync has worked out so far, with the spec readings every step shares.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec, JobStatus};
use k8s_openapi::api::core::v1::Pod;

use super::backoff::Record;
use super::failure_policy::{match_policy, Action};
use super::indexes::{completion_index, Intervals};
use super::pods::{has_tracking_finalizer, phase, uid};
use super::template::{INDEX_FAILURE_COUNT, INDEX_IGNORED_FAILURE_COUNT};

/// The default `backoffLimit` (applied by the API server too).
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

/// The state of a sync.
pub struct State {
    /// `namespace/name`.
    pub key: String,
    /// The Job, its status being rewritten.
    pub job: Job,
    /// The Job's spec.
    pub spec: JobSpec,
    /// The time of this sync.
    pub now: Timestamp,
    /// The pods the Job manages.
    pub pods: Vec<Arc<Pod>>,
    /// Those neither finished nor being deleted.
    pub active: Vec<Arc<Pod>>,
    /// The condition the Job finishes with, once decided.
    pub finished: Option<JobCondition>,
    /// Succeeded pods (or indexes), counted and not yet.
    pub succeeded: i32,
    /// Failed pods whose failure counts.
    pub failed: i32,
    /// Indexes recorded as succeeded before this sync.
    pub prev_succeeded_indexes: Intervals,
    /// Indexes succeeded so far.
    pub succeeded_indexes: Intervals,
    /// Failed indexes (with `backoffLimitPerIndex`).
    pub failed_indexes: Option<Intervals>,
    /// The back-off record after counting this sync's finished pods.
    pub new_backoff: Record,
    /// Pods whose finalizer removal the cache does not show yet.
    pub expected_removals: HashSet<String>,
    /// `status.uncountedTerminatedPods.succeeded` at the start.
    pub uncounted_succeeded: HashSet<String>,
    /// `status.uncountedTerminatedPods.failed` at the start.
    pub uncounted_failed: HashSet<String>,
    /// Per index, the failed pod kept until its replacement exists.
    pub delayed: HashMap<i32, Arc<Pod>>,
    /// Pods being deleted that have not finished.
    pub terminating: i32,
    /// Active pods that are Ready.
    pub ready: i32,
    /// When to sync again at the latest.
    pub requeue: Option<Duration>,
}

impl State {
    /// The Job's status (created on first use).
    pub fn status(&mut self) -> &mut JobStatus {
        self.job.status.get_or_insert_with(JobStatus::default)
    }

    /// `completionMode: Indexed`.
    pub fn indexed(&self) -> bool {
        self.spec.completion_mode.as_deref() == Some("Indexed")
    }

    /// `spec.completions` (`None`: done once any pod succeeds).
    pub fn completions(&self) -> Option<i32> {
        self.spec.completions
    }

    /// `backoffLimitPerIndex` of an Indexed Job.
    pub fn per_index_limit(&self) -> Option<i32> {
        self.spec.backoff_limit_per_index.filter(|_| self.indexed())
    }

    /// `spec.backoffLimit` with its default.
    pub fn backoff_limit(&self) -> i32 {
        self.spec
            .backoff_limit
            .unwrap_or(if self.per_index_limit().is_some() {
                i32::MAX
            } else {
                DEFAULT_BACKOFF_LIMIT
            })
    }

    /// `spec.suspend`.
    pub fn suspended(&self) -> bool {
        self.spec.suspend == Some(true)
    }

    /// Failed pods are replaced only once they have finished (`podReplacementPolicy:
    /// Failed`, implied by a pod failure policy).
    pub fn only_replace_failed(&self) -> bool {
        self.spec.pod_replacement_policy.as_deref() == Some("Failed")
            || self.spec.pod_failure_policy.is_some()
    }

    /// Upstream's `isPodFailed`: Failed, or (unless only failed pods are replaced) deleted
    /// before it succeeded.
    pub fn pod_failed(&self, pod: &Pod) -> bool {
        if phase(pod) == "Failed" {
            return true;
        }
        if self.only_replace_failed() {
            return false;
        }
        pod.metadata.deletion_timestamp.is_some() && phase(pod) != "Succeeded"
    }

    /// A valid completion index of `pod` (below `completions`).
    pub fn valid_index(&self, pod: &Pod) -> Option<i32> {
        let completions = self.completions()?;
        completion_index(pod).filter(|index| *index < completions)
    }

    /// Upstream's `getValidPodsWithFilter`: uncounted pods (finalizer on, not in
    /// `uncounted`, removal not pending, valid index when Indexed) that pass `filter`.
    pub fn valid_pods(
        &self,
        uncounted: Option<&HashSet<String>>,
        filter: impl Fn(&Pod) -> bool,
    ) -> Vec<Arc<Pod>> {
        self.pods
            .iter()
            .filter(|pod| {
                let id = uid(pod);
                if !has_tracking_finalizer(pod)
                    || uncounted.is_some_and(|set| set.contains(id))
                    || self.expected_removals.contains(id)
                {
                    return false;
                }
                if self.indexed() && self.valid_index(pod).is_none() {
                    return false;
                }
                filter(pod)
            })
            .cloned()
            .collect()
    }

    /// Whether the failed `pod` fails its index (with `backoffLimitPerIndex`).
    pub fn index_failed(&self, pod: &Pod) -> bool {
        let Some(limit) = self.per_index_limit() else {
            return false;
        };
        let mut counted = false;
        if self.pod_failed(pod) {
            if self.spec.pod_failure_policy.is_some() {
                let verdict = match_policy(self.spec.pod_failure_policy.as_ref(), pod);
                if verdict.action == Some(Action::FailIndex) {
                    return true;
                }
                counted = verdict.counts;
            } else {
                counted = true;
            }
        }
        counted && failure_count(pod, INDEX_FAILURE_COUNT) >= limit
    }
}

/// One of the index failure-count annotations (0 if absent or invalid).
pub fn failure_count(pod: &Pod, annotation: &str) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(annotation))
        .and_then(|value| value.parse::<i32>().ok())
        .filter(|value| *value >= 0)
        .unwrap_or(0)
}

/// Counted plus ignored failures of the pod's index.
pub fn absolute_failure_count(pod: &Pod) -> i32 {
    failure_count(pod, INDEX_FAILURE_COUNT)
        .saturating_add(failure_count(pod, INDEX_IGNORED_FAILURE_COUNT))
}
