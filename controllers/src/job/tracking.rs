//! Counting finished pods exactly once (upstream's `trackJobStatusAndRemoveFinalizers`):
//! a finished pod's uid is first written to `status.uncountedTerminatedPods`, then its
//! tracking finalizer is removed, then it moves from the uncounted list to the
//! `succeeded`/`failed` counters. The terminal condition is set only once nothing is
//! uncounted and no pod is still terminating.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::batch::v1::{JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;

use super::api::{event, is_not_found, remove_tracking_finalizer, update_status};
use super::conditions::{self, COMPLETE, FAILED, FAILURE_TARGET, SUCCESS_CRITERIA_MET};
use super::failure_policy::match_policy;
use super::indexes::completion_index;
use super::pods::{has_tracking_finalizer, phase, uid};
use super::state::State;
use super::{Context, JobError};

/// At most this many pods wait in `uncountedTerminatedPods` (upstream's `MaxUncountedPods`,
/// keeping the status below ~20 KB).
const MAX_UNCOUNTED: usize = 500;

/// Records finished pods and the terminal condition, writing the status if `needs_flush`
/// or anything changed.
pub async fn track(
    context: &Context,
    state: &mut State,
    mut needs_flush: bool,
) -> Result<(), JobError> {
    let indexed = state.indexed();
    let completions = state.completions().unwrap_or(0);
    if indexed {
        state
            .pods
            .sort_by_key(|pod| completion_index(pod).unwrap_or(-1));
    }
    let mut with_finalizer: HashSet<String> = state
        .pods
        .iter()
        .filter(|pod| has_tracking_finalizer(pod) && !state.expected_removals.contains(uid(pod)))
        .map(|pod| uid(pod).to_owned())
        .collect();
    if clean_uncounted(state.status(), &with_finalizer) {
        needs_flush = true;
    }
    let finishing_as_failure = state
        .finished
        .as_ref()
        .is_some_and(|condition| condition.type_ != SUCCESS_CRITERIA_MET);
    let mut to_release: Vec<Arc<Pod>> = Vec::new();
    let mut new_succeeded_indexes: Vec<i32> = Vec::new();
    let mut uncounted_succeeded = uncounted_list(state.status(), true);
    let mut uncounted_failed = uncounted_list(state.status(), false);
    let mut reached_max = false;
    for pod in &state.pods {
        let id = uid(pod);
        if !has_tracking_finalizer(pod) || state.expected_removals.contains(id) {
            continue;
        }
        let failed = state.pod_failed(pod);
        if !can_remove_finalizer(state, pod, failed) {
            continue;
        }
        to_release.push(Arc::clone(pod));
        if phase(pod) == "Succeeded" && !state.uncounted_failed.contains(id) {
            if indexed {
                if let Some(index) = completion_index(pod) {
                    if index < completions && !state.prev_succeeded_indexes.has(index) {
                        new_succeeded_indexes.push(index);
                        needs_flush = true;
                    }
                }
            } else if !state.uncounted_succeeded.contains(id) {
                needs_flush = true;
                uncounted_succeeded.push(id.to_owned());
            }
        } else if failed || finishing_as_failure {
            // A finishing Job counts every unfinished pod as failed.
            let valid_index =
                !indexed || completion_index(pod).is_some_and(|index| index < completions);
            if !state.uncounted_failed.contains(id) && valid_index {
                let counts = match_policy(state.spec.pod_failure_policy.as_ref(), pod).counts;
                if counts {
                    needs_flush = true;
                    uncounted_failed.push(id.to_owned());
                }
            }
        }
        if new_succeeded_indexes.len() + uncounted_succeeded.len() + uncounted_failed.len()
            >= MAX_UNCOUNTED
        {
            // The rest are handled in a later sync, triggered by these updates.
            reached_max = true;
            break;
        }
    }
    set_uncounted(state.status(), uncounted_succeeded, uncounted_failed);
    if indexed {
        new_succeeded_indexes.sort_unstable();
        new_succeeded_indexes.dedup();
        state.succeeded_indexes = state.succeeded_indexes.with_indexes(&new_succeeded_indexes);
        let completed = state.succeeded_indexes.to_string();
        let total = state.succeeded_indexes.total();
        let failed_indexes = state.failed_indexes.as_ref().map(ToString::to_string);
        let status = state.status();
        if completed != status.completed_indexes.clone().unwrap_or_default() {
            needs_flush = true;
        }
        status.succeeded = (total != 0).then_some(total);
        status.completed_indexes = (!completed.is_empty()).then_some(completed);
        if status.failed_indexes != failed_indexes {
            status.failed_indexes = failed_indexes;
            needs_flush = true;
        }
    }
    let now = state.now;
    if let Some(target) = state.finished.clone().filter(|c| c.type_ == FAILURE_TARGET) {
        // The interim FailureTarget is stored before any finalizer goes; Failed follows.
        state
            .status()
            .conditions
            .get_or_insert_with(Vec::new)
            .push(target.clone());
        needs_flush = true;
        state.finished = Some(conditions::new(
            FAILED,
            "True",
            target.reason.as_deref().unwrap_or(""),
            target.message.as_deref().unwrap_or(""),
            now,
        ));
    }
    if let Some(met) = state
        .finished
        .clone()
        .filter(|c| c.type_ == SUCCESS_CRITERIA_MET)
    {
        if conditions::find_true(&state.job, SUCCESS_CRITERIA_MET).is_none() {
            state
                .status()
                .conditions
                .get_or_insert_with(Vec::new)
                .push(met.clone());
            needs_flush = true;
        }
        state.finished = Some(conditions::new(
            COMPLETE,
            "True",
            met.reason.as_deref().unwrap_or(""),
            met.message.as_deref().unwrap_or(""),
            now,
        ));
    }
    needs_flush =
        flush_and_release(context, state, to_release, &mut with_finalizer, needs_flush).await?;
    let finished = !reached_max && enact_finished(state);
    if finished {
        needs_flush = true;
    }
    if needs_flush {
        write_status(context, state).await?;
        if finished {
            record_finished(context, state).await;
        }
    }
    Ok(())
}

/// Upstream's `canRemoveFinalizer`: the Job is being deleted or finishing, the pod
/// succeeded, or it failed and its index is not waiting for a replacement.
fn can_remove_finalizer(state: &State, pod: &Pod, failed: bool) -> bool {
    if state.job.metadata.deletion_timestamp.is_some()
        || state.finished.is_some()
        || phase(pod) == "Succeeded"
    {
        return true;
    }
    if !failed {
        return false;
    }
    if state.per_index_limit().is_some() {
        if let Some(index) = completion_index(pod) {
            if state
                .delayed
                .get(&index)
                .is_some_and(|kept| uid(kept) == uid(pod))
            {
                tracing::debug!(job = %state.key, index, "keeping a failed pod until its index is recreated");
                return false;
            }
        }
    }
    true
}

/// Writes the uncounted pods, then releases the finalizers, then moves what was released
/// to the counters (written at once only if some release failed); whether the status has
/// unwritten changes.
async fn flush_and_release(
    context: &Context,
    state: &mut State,
    to_release: Vec<Arc<Pod>>,
    with_finalizer: &mut HashSet<String>,
    mut needs_flush: bool,
) -> Result<bool, JobError> {
    if needs_flush {
        write_status(context, state).await?;
        context.backoff().update(&state.key, state.new_backoff);
        needs_flush = false;
    }
    let mut release_error: Option<JobError> = None;
    if !to_release.is_empty() {
        let uids: Vec<String> = to_release.iter().map(|pod| uid(pod).to_owned()).collect();
        context
            .expectations
            .expect_finalizer_removals(&state.key, uids);
        let results = futures::future::join_all(to_release.iter().map(|pod| async move {
            (pod, remove_tracking_finalizer(&context.client, pod).await)
        }))
        .await;
        for (pod, result) in results {
            match result {
                Ok(()) => {
                    with_finalizer.remove(uid(pod));
                }
                Err(error) => {
                    context
                        .expectations
                        .finalizer_removal_failed(&state.key, uid(pod));
                    if is_not_found(&error) {
                        with_finalizer.remove(uid(pod));
                    } else {
                        release_error.get_or_insert(JobError::from(error));
                    }
                }
            }
        }
    }
    if clean_uncounted(state.status(), with_finalizer) {
        needs_flush = true;
    }
    if let Some(error) = release_error {
        if needs_flush {
            write_status(context, state).await?;
        }
        return Err(error);
    }
    Ok(needs_flush)
}

/// Upstream's `enactJobFinished`: sets the terminal condition (and completion time) once
/// nothing is uncounted and no pod is terminating.
fn enact_finished(state: &mut State) -> bool {
    let Some(condition) = state.finished.clone() else {
        return false;
    };
    let uncounted = state
        .job
        .status
        .as_ref()
        .and_then(|status| status.uncounted_terminated_pods.as_ref())
        .map(|u| u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len))
        .unwrap_or(0);
    if uncounted > 0 {
        tracing::debug!(job = %state.key, uncounted, "not finished yet: pods still uncounted");
        return false;
    }
    if state.terminating > 0 {
        tracing::debug!(job = %state.key, terminating = state.terminating, "not finished yet: pods still terminating");
        return false;
    }
    let now = state.now;
    let status = state.status();
    let list = status.conditions.get_or_insert_with(Vec::new);
    conditions::ensure(
        list,
        &condition.type_,
        &condition.status,
        condition.reason.as_deref().unwrap_or(""),
        condition.message.as_deref().unwrap_or(""),
        now,
    );
    if condition.type_ == COMPLETE {
        status.completion_time = condition.last_transition_time.clone();
    }
    true
}

async fn record_finished(context: &Context, state: &State) {
    let Some(condition) = &state.finished else {
        return;
    };
    if condition.type_ == COMPLETE {
        let succeeded = state
            .job
            .status
            .as_ref()
            .and_then(|s| s.succeeded)
            .unwrap_or(0);
        if state
            .completions()
            .is_some_and(|completions| succeeded > completions)
        {
            let note = "Too many succeeded pods running after completion count reached".to_owned();
            event(
                &context.recorder,
                &state.job,
                true,
                "TooManySucceededPods",
                note,
            )
            .await;
        }
        event(
            &context.recorder,
            &state.job,
            false,
            "Completed",
            "Job completed".to_owned(),
        )
        .await;
    } else {
        let reason = condition.reason.clone().unwrap_or_default();
        let note = condition.message.clone().unwrap_or_default();
        event(&context.recorder, &state.job, true, &reason, note).await;
    }
    tracing::info!(job = %state.key, condition = %condition.type_, "job finished");
}

/// Writes the status; the Job as stored replaces the one being synced.
async fn write_status(context: &Context, state: &mut State) -> Result<(), JobError> {
    normalize(state.status());
    let before = state
        .job
        .metadata
        .resource_version
        .clone()
        .unwrap_or_default();
    let written = update_status(&context.client, &state.job).await?;
    context.status_written(&state.key, before);
    state.job = written;
    Ok(())
}

/// Empty lists are left out, as upstream's `omitempty` does.
fn normalize(status: &mut JobStatus) {
    let uncounted = status
        .uncounted_terminated_pods
        .get_or_insert_with(UncountedTerminatedPods::default);
    if uncounted.succeeded.as_ref().is_some_and(Vec::is_empty) {
        uncounted.succeeded = None;
    }
    if uncounted.failed.as_ref().is_some_and(Vec::is_empty) {
        uncounted.failed = None;
    }
}

fn uncounted_list(status: &mut JobStatus, succeeded: bool) -> Vec<String> {
    let uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
    if succeeded {
        uncounted.succeeded.unwrap_or_default()
    } else {
        uncounted.failed.unwrap_or_default()
    }
}

fn set_uncounted(status: &mut JobStatus, succeeded: Vec<String>, failed: Vec<String>) {
    status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
        succeeded: (!succeeded.is_empty()).then_some(succeeded),
        failed: (!failed.is_empty()).then_some(failed),
    });
}

/// Moves uncounted pods whose finalizer is gone to the counters; whether any moved.
fn clean_uncounted(status: &mut JobStatus, with_finalizer: &HashSet<String>) -> bool {
    let mut changed = false;
    let mut uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
    for (list, counter) in [
        (&mut uncounted.succeeded, &mut status.succeeded),
        (&mut uncounted.failed, &mut status.failed),
    ] {
        let before = list.as_ref().map_or(0, Vec::len);
        let kept: Vec<String> = list
            .take()
            .unwrap_or_default()
            .into_iter()
            .filter(|id| with_finalizer.contains(id))
            .collect();
        let moved = before - kept.len();
        if moved > 0 {
            changed = true;
            let total = counter.unwrap_or(0) + i32::try_from(moved).unwrap_or(i32::MAX);
            *counter = (total != 0).then_some(total);
        }
        *list = (!kept.is_empty()).then_some(kept);
    }
    status.uncounted_terminated_pods = Some(uncounted);
    changed
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use k8s_openapi::api::batch::v1::{JobStatus, UncountedTerminatedPods};

    use super::clean_uncounted;

    #[test]
    fn released_pods_move_to_the_counters() {
        let mut status = JobStatus {
            succeeded: Some(2),
            uncounted_terminated_pods: Some(UncountedTerminatedPods {
                succeeded: Some(vec!["a".into(), "b".into()]),
                failed: Some(vec!["c".into()]),
            }),
            ..JobStatus::default()
        };
        let still_held: HashSet<String> = ["b".to_owned()].into();
        assert!(clean_uncounted(&mut status, &still_held));
        assert_eq!(status.succeeded, Some(3));
        assert_eq!(status.failed, Some(1));
        let uncounted = status.uncounted_terminated_pods.unwrap_or_default();
        assert_eq!(uncounted.succeeded, Some(vec!["b".to_owned()]));
        assert_eq!(uncounted.failed, None);
    }
}
