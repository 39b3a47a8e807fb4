//! One pass over one Job, as upstream's `syncJob`: count finished pods, decide whether the
//! Job has met its success criteria or a failure target (back-off limit, deadline, pod
//! failure policy, failed indexes), otherwise create or delete pods, then record it all in
//! the status and release the counted pods' finalizers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use jiff::SignedDuration;
use k8s_openapi::api::batch::v1::{Job, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::ResourceExt;

use super::api::{delete_pod, event, is_not_found};
use super::claim::pods_for_job;
use super::conditions::{self, FAILED, FAILURE_TARGET, SUCCESS_CRITERIA_MET};
use super::failure_policy::match_policy;
use super::indexes::Intervals;
use super::pods::{is_active, is_ready, is_terminating, phase, restarts};
use super::state::{absolute_failure_count, State};
use super::{manage, managed_elsewhere, success_policy, tracking, Context, JobError};
use crate::clock::{until, whole_seconds};

/// Reasons and messages of the conditions this loop sets.
const COMPLETIONS_REACHED: (&str, &str) = (
    "CompletionsReached",
    "Reached expected number of succeeded pods",
);
const BACKOFF_LIMIT_EXCEEDED: (&str, &str) = (
    "BackoffLimitExceeded",
    "Job has reached the specified backoff limit",
);
const DEADLINE_EXCEEDED: (&str, &str) = (
    "DeadlineExceeded",
    "Job was active longer than specified deadline",
);
const MAX_FAILED_INDEXES_EXCEEDED: (&str, &str) = (
    "MaxFailedIndexesExceeded",
    "Job has exceeded the specified maximal number of failed indexes",
);
const FAILED_INDEXES: (&str, &str) = ("FailedIndexes", "Job has failed indexes");

/// Syncs `job`.
pub async fn sync(shared_job: Arc<Job>, context: Arc<Context>) -> Result<Action, JobError> {
    // Acting on an empty pod cache would create every pod again.
    if !context.pods_ready.wait().await {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let namespace = shared_job.namespace().unwrap_or_default();
    let key = format!("{namespace}/{}", shared_job.name_any());
    tracing::debug!(job = %key, version = ?shared_job.metadata.resource_version, "syncing job");
    if managed_elsewhere(&shared_job) {
        tracing::debug!(job = %key, "skipping a Job managed by another controller");
        return Ok(Action::await_change());
    }
    if context.status_not_seen_yet(&key, &shared_job) {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    if conditions::finished(&shared_job).is_some() {
        context.backoff().remove(&key);
        return Ok(Action::await_change());
    }
    let spec = shared_job.spec.clone().unwrap_or_default();
    if let Some(mode) = spec.completion_mode.as_deref() {
        if mode != "NonIndexed" && mode != "Indexed" {
            let note = "Skipped Job sync because completion mode is unknown".to_owned();
            event(
                &context.recorder,
                &*shared_job,
                true,
                "UnknownCompletionMode",
                note,
            )
            .await;
            return Ok(Action::await_change());
        }
    }
    let mut job = (*shared_job).clone();
    let status = job.status.get_or_insert_with(Default::default);
    let uncounted = status
        .uncounted_terminated_pods
        .get_or_insert_with(UncountedTerminatedPods::default)
        .clone();

    let namespace_pods = context
        .pods
        .state_filter(|pod| pod.metadata.namespace.as_deref() == Some(namespace.as_str()));
    let satisfied = context.expectations.satisfied(&key, &namespace_pods);
    let pods = pods_for_job(&context, &job, &namespace_pods).await?;
    let active: Vec<Arc<Pod>> = pods.iter().filter(|pod| is_active(pod)).cloned().collect();
    let as_set =
        |list: Option<Vec<String>>| -> HashSet<String> { list.into_iter().flatten().collect() };
    let mut state = State {
        expected_removals: context.expectations.pending_finalizer_removals(&key),
        key,
        spec,
        now: whole_seconds(context.clock.now()),
        ready: i32_len(active.iter().filter(|pod| is_ready(pod)).count()),
        terminating: i32_len(pods.iter().filter(|pod| is_terminating(pod)).count()),
        active,
        pods,
        job,
        finished: None,
        succeeded: 0,
        failed: 0,
        prev_succeeded_indexes: Intervals::default(),
        succeeded_indexes: Intervals::default(),
        failed_indexes: None,
        new_backoff: Default::default(),
        uncounted_succeeded: as_set(uncounted.succeeded),
        uncounted_failed: as_set(uncounted.failed),
        delayed: HashMap::new(),
        requeue: None,
    };
    let mut active_count = i32_len(state.active.len());
    let new_succeeded = state.valid_pods(Some(&state.uncounted_succeeded), |pod| {
        phase(pod) == "Succeeded"
    });
    let new_failed = state.valid_pods(Some(&state.uncounted_failed), |pod| state.pod_failed(pod));
    let counted_failures = new_failed
        .iter()
        .filter(|pod| match_policy(state.spec.pod_failure_policy.as_ref(), pod).counts)
        .count();
    let (old_succeeded, old_failed) = {
        let status = state.status();
        (status.succeeded.unwrap_or(0), status.failed.unwrap_or(0))
    };
    state.succeeded =
        old_succeeded + i32_len(new_succeeded.len()) + i32_len(state.uncounted_succeeded.len());
    state.failed = old_failed + i32_len(counted_failures) + i32_len(state.uncounted_failed.len());

    // First start: the start time (not while suspended).
    if state.status().start_time.is_none() && !state.suspended() {
        let now = state.now;
        state.status().start_time = Some(Time(now));
    }
    state.new_backoff = context
        .backoff()
        .next_record(&state.key, &new_succeeded, &new_failed);

    decide_failure(&mut state);
    if state.indexed() {
        decide_indexes(&mut state);
    }

    let mut suspend_changed = false;
    let mut manage_error: Option<JobError> = None;
    if state.finished.is_some() {
        let (deleted_ready, deleted, error) = delete_active_pods(&context, &state).await;
        if deleted != active_count || !satisfied {
            // Finalizers of pods or pods not in the cache yet: not finished yet.
            state.finished = None;
        }
        active_count -= deleted;
        state.terminating += deleted;
        state.ready -= deleted_ready;
        manage_error = error;
    } else {
        let mut managed = false;
        if satisfied && state.job.metadata.deletion_timestamp.is_none() {
            match manage::manage(&context, &mut state).await {
                Ok(active) => active_count = active,
                Err((active, error)) => {
                    active_count = active;
                    manage_error = Some(error);
                }
            }
            managed = true;
        }
        let complete = match state.completions() {
            None => state.succeeded > 0 && active_count == 0,
            Some(completions) => state.succeeded >= completions && active_count == 0,
        };
        if complete {
            let (reason, message) = COMPLETIONS_REACHED;
            state.finished = Some(conditions::new(
                SUCCESS_CRITERIA_MET,
                "True",
                reason,
                message,
                state.now,
            ));
        } else if managed {
            suspend_changed = record_suspension(&context, &mut state).await;
        }
    }

    let ready = state.ready;
    let terminating = state.terminating;
    let status = state.status();
    let needs_update = suspend_changed
        || active_count != status.active.unwrap_or(0)
        || status.ready != Some(ready)
        || status.terminating != Some(terminating);
    status.active = (active_count != 0).then_some(active_count);
    status.ready = Some(ready);
    status.terminating = Some(terminating);
    tracking::track(&context, &mut state, needs_update).await?;
    if let Some(error) = manage_error {
        return Err(error);
    }
    Ok(match state.requeue {
        Some(delay) => Action::requeue(delay),
        None => Action::await_change(),
    })
}

fn i32_len(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// The failure target, if any: an earlier one, the pod failure policy, the back-off limit
/// or the active deadline (else a sync at the deadline).
fn decide_failure(state: &mut State) {
    if let Some(met) = conditions::find_true(&state.job, SUCCESS_CRITERIA_MET) {
        state.finished = Some(met.clone());
        return;
    }
    if let Some(target) = conditions::find_true(&state.job, FAILURE_TARGET) {
        let (reason, message) = (
            target.reason.clone().unwrap_or_default(),
            target.message.clone().unwrap_or_default(),
        );
        state.finished = Some(conditions::new(
            FAILED, "True", &reason, &message, state.now,
        ));
        return;
    }
    let fail_job = state.pods.iter().find_map(|pod| {
        if !state.pod_failed(pod) {
            return None;
        }
        match_policy(state.spec.pod_failure_policy.as_ref(), pod).fail_job
    });
    if let Some(message) = fail_job {
        state.finished = Some(conditions::new(
            FAILURE_TARGET,
            "True",
            "PodFailurePolicy",
            &message,
            state.now,
        ));
        return;
    }
    if state.failed > state.backoff_limit() || past_backoff_limit_on_failure(state) {
        state.finished = Some(failure_target(BACKOFF_LIMIT_EXCEEDED, state));
    } else if past_active_deadline(state) {
        state.finished = Some(failure_target(DEADLINE_EXCEEDED, state));
    } else if let Some(seconds) = state.spec.active_deadline_seconds {
        if !state.suspended() {
            let start = state
                .job
                .status
                .as_ref()
                .and_then(|status| status.start_time.as_ref())
                .map(|time| time.0)
                .unwrap_or(state.now);
            let deadline = start
                .checked_add(SignedDuration::from_secs(seconds))
                .unwrap_or(start);
            sync_again(state, until(state.now, deadline));
        }
    }
}

fn failure_target(
    (reason, message): (&str, &str),
    state: &State,
) -> k8s_openapi::api::batch::v1::JobCondition {
    conditions::new(FAILURE_TARGET, "True", reason, message, state.now)
}

/// Asks for a sync after `delay` (the earliest asked for wins).
pub fn sync_again(state: &mut State, delay: Duration) {
    state.requeue = Some(state.requeue.map_or(delay, |current| current.min(delay)));
}

/// With `restartPolicy: OnFailure`, container restarts count toward the back-off limit.
fn past_backoff_limit_on_failure(state: &State) -> bool {
    let on_failure = state
        .spec
        .template
        .spec
        .as_ref()
        .and_then(|spec| spec.restart_policy.as_deref())
        == Some("OnFailure");
    if !on_failure {
        return false;
    }
    let total: i32 = state
        .pods
        .iter()
        .filter(|pod| matches!(phase(pod), "Running" | "Pending"))
        .map(|pod| restarts(pod))
        .sum();
    let limit = state.backoff_limit();
    if limit == 0 {
        total > 0
    } else {
        total >= limit
    }
}

fn past_active_deadline(state: &State) -> bool {
    let (Some(seconds), Some(start)) = (
        state.spec.active_deadline_seconds,
        state
            .job
            .status
            .as_ref()
            .and_then(|status| status.start_time.as_ref()),
    ) else {
        return false;
    };
    if state.suspended() {
        return false;
    }
    state.now.duration_since(start.0) >= SignedDuration::from_secs(seconds)
}

/// Indexed Jobs: succeeded and failed indexes, failed-indexes targets, success policy.
fn decide_indexes(state: &mut State) {
    let completions = state.completions().unwrap_or(0);
    let previous = Intervals::parse(
        state
            .job
            .status
            .as_ref()
            .and_then(|status| status.completed_indexes.as_deref())
            .unwrap_or(""),
        completions,
    );
    let mut newly: Vec<i32> = state
        .pods
        .iter()
        .filter(|pod| phase(pod) == "Succeeded" && super::pods::has_tracking_finalizer(pod))
        .filter_map(|pod| state.valid_index(pod))
        .collect();
    newly.sort_unstable();
    newly.dedup();
    state.succeeded_indexes = previous.with_indexes(&newly);
    state.prev_succeeded_indexes = previous;
    state.succeeded = state.succeeded_indexes.total();
    if state.per_index_limit().is_some() {
        let previous_failed = Intervals::parse(
            state
                .job
                .status
                .as_ref()
                .and_then(|status| status.failed_indexes.as_deref())
                .unwrap_or(""),
            completions,
        );
        let mut failed: Vec<i32> = state
            .pods
            .iter()
            .filter(|pod| super::pods::has_tracking_finalizer(pod) && state.index_failed(pod))
            .filter_map(|pod| state.valid_index(pod))
            .collect();
        failed.sort_unstable();
        failed.dedup();
        let failed = previous_failed.with_indexes(&failed);
        if state.finished.is_none() {
            if state
                .spec
                .max_failed_indexes
                .is_some_and(|max| failed.total() > max)
            {
                state.finished = Some(failure_target(MAX_FAILED_INDEXES_EXCEEDED, state));
            } else if failed.total() > 0
                && failed.total() + state.succeeded_indexes.total() >= completions
            {
                state.finished = Some(failure_target(FAILED_INDEXES, state));
            }
        }
        state.failed_indexes = Some(failed);
        state.delayed = delayed_deletions(state);
    }
    if state.finished.is_none() {
        if let Some(message) = success_policy::matched(
            state.spec.success_policy.as_ref(),
            completions,
            &state.succeeded_indexes,
        ) {
            state.finished = Some(conditions::new(
                SUCCESS_CRITERIA_MET,
                "True",
                "SuccessPolicy",
                &message,
                state.now,
            ));
        }
    }
}

/// Per index, the latest failed pod whose deletion waits for its replacement (so the
/// replacement can carry the index's failure count).
fn delayed_deletions(state: &State) -> HashMap<i32, Arc<Pod>> {
    let active: HashSet<i32> = state
        .active
        .iter()
        .filter_map(|pod| super::indexes::completion_index(pod))
        .collect();
    let failed_indexes = state.failed_indexes.clone().unwrap_or_default();
    let mut delayed: HashMap<i32, Arc<Pod>> = HashMap::new();
    for pod in state.valid_pods(None, |pod| state.pod_failed(pod)) {
        let Some(index) = state.valid_index(&pod) else {
            continue;
        };
        if state.succeeded_indexes.has(index)
            || failed_indexes.has(index)
            || active.contains(&index)
        {
            continue;
        }
        let replace = match delayed.get(&index) {
            None => true,
            Some(kept) => {
                absolute_failure_count(kept) <= absolute_failure_count(&pod)
                    && super::pods::finished_time(&pod) >= super::pods::finished_time(kept)
            }
        };
        if replace {
            delayed.insert(index, pod);
        }
    }
    delayed
}

/// Suspended (or resumed) Jobs get the `Suspended` condition and an event; resuming
/// restarts the clock of `activeDeadlineSeconds`.
async fn record_suspension(context: &Context, state: &mut State) -> bool {
    let now = state.now;
    let suspended = state.suspended();
    let conditions = state.status().conditions.get_or_insert_with(Vec::new);
    if suspended {
        let changed = conditions::ensure(
            conditions,
            conditions::SUSPENDED,
            "True",
            "JobSuspended",
            "Job suspended",
            now,
        );
        if changed {
            event(
                &context.recorder,
                &state.job,
                false,
                "Suspended",
                "Job suspended".to_owned(),
            )
            .await;
        }
        changed
    } else {
        let changed = conditions::ensure(
            conditions,
            conditions::SUSPENDED,
            "False",
            "JobResumed",
            "Job resumed",
            now,
        );
        if changed {
            event(
                &context.recorder,
                &state.job,
                false,
                "Resumed",
                "Job resumed".to_owned(),
            )
            .await;
            state.status().start_time = Some(Time(now));
        }
        changed
    }
}

/// Deletes the active pods of a finishing Job (their finalizers stay until counted):
/// how many of them were ready, how many were deleted, and the first error.
async fn delete_active_pods(context: &Context, state: &State) -> (i32, i32, Option<JobError>) {
    let deletions = state.active.iter().map(|pod| async move {
        let result = delete_pod(
            &context.client,
            &context.recorder,
            &state.job,
            &pod.name_any(),
        )
        .await;
        (pod, result)
    });
    let mut ready = 0;
    let mut deleted = 0;
    let mut first_error = None;
    for (pod, result) in futures::future::join_all(deletions).await {
        match result {
            Ok(()) => deleted += 1,
            Err(error) if is_not_found(&error) => deleted += 1,
            Err(error) => {
                first_error.get_or_insert(JobError::from(error));
            }
        }
        if is_ready(pod) {
            ready += 1;
        }
    }
    (ready, deleted, first_error)
}

impl Context {
    /// The back-off records.
    pub fn backoff(&self) -> std::sync::MutexGuard<'_, super::backoff::Store> {
        self.backoff.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
