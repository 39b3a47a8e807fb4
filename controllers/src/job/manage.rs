//! Upstream's `manageJob`: delete every active pod of a suspended Job; otherwise delete
//! surplus pods (duplicated or out-of-range indexes first, then by removal rank) or create
//! the missing ones — after the failure back-off, in slow-start batches (1, 2, 4, ...) that
//! stop at the first failing batch.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use super::api::{
    create_pod, delete_pod, is_namespace_terminating, is_not_found, remove_tracking_finalizer,
};
use super::backoff;
use super::failure_policy::match_policy;
use super::indexes::{completion_index, first_pending, indexes_of, Intervals};
use super::pods::{is_ready, is_terminating, removal_order, uid};
use super::state::{absolute_failure_count, failure_count, State};
use super::sync::sync_again;
use super::template::{pod_for, IndexedPod, INDEX_FAILURE_COUNT, INDEX_IGNORED_FAILURE_COUNT};
use super::{Context, JobError};

/// At most this many pods are created or deleted in one sync.
const MAX_PER_SYNC: i32 = 500;

/// Creates or deletes pods; the number of active pods after, or that number and the first
/// error.
pub async fn manage(context: &Context, state: &mut State) -> Result<i32, (i32, JobError)> {
    let mut active = i32::try_from(state.active.len()).unwrap_or(i32::MAX);
    if state.suspended() {
        let doomed = pods_for_removal(state, active);
        let (ready, removed, error) = delete_job_pods(context, state, &doomed).await;
        active -= removed;
        state.terminating += removed;
        state.ready -= ready;
        return error.map_or(Ok(active), |error| Err((active, error)));
    }
    let parallelism = state.spec.parallelism.unwrap_or(1);
    let want = match state.completions() {
        // Without completions, once one pod succeeded the rest may finish on their own.
        None if state.succeeded > 0 => active,
        None => parallelism,
        Some(completions) => (completions - state.succeeded).clamp(0, parallelism.max(0)),
    };
    let surplus = (active - want).max(0);
    let mut doomed = pods_for_removal(state, surplus);
    doomed.truncate(MAX_PER_SYNC as usize);
    if !doomed.is_empty() {
        let (ready, removed, error) = delete_job_pods(context, state, &doomed).await;
        active -= removed;
        state.terminating += removed;
        state.ready -= ready;
        return error.map_or(Ok(active), |error| Err((active, error)));
    }
    let terminating = if state.only_replace_failed() {
        state.terminating
    } else {
        0
    };
    let mut missing = want - terminating - active;
    if missing <= 0 {
        return Ok(active);
    }
    if state.per_index_limit().is_none() {
        let record = state.new_backoff;
        let wait = backoff::remaining(
            state.now,
            record.failures_after_last_success,
            record.last_failure,
        );
        if !wait.is_zero() {
            sync_again(state, wait);
            // Upstream reports no active pods while it waits.
            return Ok(0);
        }
    }
    missing = missing.min(MAX_PER_SYNC);
    let mut indexes: Option<Vec<i32>> = None;
    if state.indexed() {
        let completions = state.completions().unwrap_or(0);
        let mut pending = first_pending(
            &taken_indexes(state),
            usize::try_from(missing).unwrap_or(0),
            completions,
        );
        if state.per_index_limit().is_some() {
            let (ready_now, wait) = creatable_now(state, &pending);
            if ready_now.is_empty() {
                if let Some(wait) = wait {
                    sync_again(state, wait);
                    return Ok(0);
                }
            }
            pending = ready_now;
        }
        missing = i32::try_from(pending.len()).unwrap_or(0);
        indexes = Some(pending);
    }
    let (created, error) = create_pods(context, state, missing, indexes).await;
    active += created;
    error.map_or(Ok(active), |error| Err((active, error)))
}

/// Indexes that need no new pod: succeeded, active, failed (and terminating ones when only
/// failed pods are replaced).
fn taken_indexes(state: &State) -> Intervals {
    let mut taken = state
        .succeeded_indexes
        .with_indexes(&indexes_of(state.active.iter().map(|pod| &**pod)));
    if state.only_replace_failed() {
        let terminating = indexes_of(
            state
                .pods
                .iter()
                .filter(|pod| is_terminating(pod))
                .map(|pod| &**pod),
        );
        taken = taken.with_indexes(&terminating);
    }
    if let Some(failed) = &state.failed_indexes {
        taken = taken.merge(failed);
    }
    taken
}

/// With `backoffLimitPerIndex`: the indexes whose back-off has passed, else the shortest
/// wait among the others.
fn creatable_now(state: &State, pending: &[i32]) -> (Vec<i32>, Option<std::time::Duration>) {
    let mut now = Vec::new();
    let mut shortest: Option<std::time::Duration> = None;
    for index in pending {
        let wait = state
            .delayed
            .get(index)
            .map_or(std::time::Duration::ZERO, |last| {
                let failures = absolute_failure_count(last) + 1;
                let finished = super::pods::finished_time(last);
                backoff::remaining(state.now, failures, Some(finished))
            });
        if wait.is_zero() {
            now.push(*index);
        } else if shortest.is_none_or(|current| wait < current) {
            shortest = Some(wait);
        }
    }
    (now, shortest)
}

/// The active pods to remove: every pod with a duplicated, missing or out-of-range index,
/// then by removal rank until `at_least` are chosen.
fn pods_for_removal(state: &State, at_least: i32) -> Vec<Arc<Pod>> {
    let at_least = usize::try_from(at_least).unwrap_or(0);
    let (mut remove, mut left) = if state.indexed() {
        duplicated_indexes(&state.active, state.completions().unwrap_or(0))
    } else {
        (Vec::new(), state.active.clone())
    };
    if remove.len() < at_least {
        left.sort_by(|a, b| removal_order(a, b));
        let extra = (at_least - remove.len()).min(left.len());
        remove.extend(left.drain(..extra));
    }
    remove
}

fn duplicated_indexes(pods: &[Arc<Pod>], completions: i32) -> (Vec<Arc<Pod>>, Vec<Arc<Pod>>) {
    let mut groups: HashMap<Option<i32>, Vec<Arc<Pod>>> = HashMap::new();
    for pod in pods {
        groups
            .entry(completion_index(pod))
            .or_default()
            .push(Arc::clone(pod));
    }
    let mut keys: Vec<Option<i32>> = groups.keys().copied().collect();
    keys.sort_unstable();
    let (mut remove, mut left) = (Vec::new(), Vec::new());
    for key in keys {
        let Some(mut group) = groups.remove(&key) else {
            continue;
        };
        match key {
            None => remove.extend(group),
            Some(index) if index >= completions => remove.extend(group),
            Some(_) if group.len() == 1 => left.extend(group),
            Some(_) => {
                group.sort_by(|a, b| removal_order(a, b));
                if let Some(kept) = group.pop() {
                    left.push(kept);
                }
                remove.extend(group);
            }
        }
    }
    (remove, left)
}

/// Removes the finalizers of `pods` (so they are not counted as failures), then deletes
/// them: how many were ready, how many deleted, and the first error.
async fn delete_job_pods(
    context: &Context,
    state: &State,
    pods: &[Arc<Pod>],
) -> (i32, i32, Option<JobError>) {
    let deletions = pods.iter().map(|pod| async move {
        if super::pods::has_tracking_finalizer(pod) {
            if let Err(error) = remove_tracking_finalizer(&context.client, pod).await {
                if !is_not_found(&error) {
                    return (pod, Err(error));
                }
            }
        }
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
    let mut deleted_uids = Vec::new();
    for (pod, result) in futures::future::join_all(deletions).await {
        match result {
            Ok(()) => {
                deleted += 1;
                deleted_uids.push(uid(pod).to_owned());
            }
            Err(error) if is_not_found(&error) => {}
            Err(error) => {
                tracing::debug!(job = %state.key, pod = %pod.name_any(), %error, "failed to delete pod");
                first_error.get_or_insert(JobError::from(error));
            }
        }
        if is_ready(pod) {
            ready += 1;
        }
    }
    context
        .expectations
        .expect_deletions(&state.key, deleted_uids);
    (ready, deleted, first_error)
}

/// Creates `count` pods (for `indexes` if Indexed) in slow-start batches; how many were
/// created and the first error.
async fn create_pods(
    context: &Context,
    state: &State,
    count: i32,
    indexes: Option<Vec<i32>>,
) -> (i32, Option<JobError>) {
    let mut indexes = indexes.map(|list| list.into_iter());
    let mut remaining = count;
    let mut batch = remaining.min(1);
    let mut created = 0;
    let mut first_error: Option<JobError> = None;
    while remaining > 0 {
        let pods: Vec<Pod> = (0..batch)
            .map(|_| {
                let indexed = indexes
                    .as_mut()
                    .and_then(Iterator::next)
                    .map(|index| IndexedPod {
                        index,
                        failure_counts: state
                            .per_index_limit()
                            .map(|_| new_failure_counts(state, state.delayed.get(&index))),
                    });
                pod_for(&state.job, indexed)
            })
            .collect();
        let results = futures::future::join_all(
            pods.iter()
                .map(|pod| create_pod(&context.client, &context.recorder, &state.job, pod)),
        )
        .await;
        let mut failed = false;
        let mut names = Vec::new();
        for result in results {
            match result {
                Ok(name) => {
                    created += 1;
                    names.push(name);
                }
                // The namespace is going away: every create will fail, quietly.
                Err(error) if is_namespace_terminating(&error) => created += 1,
                Err(error) => {
                    failed = true;
                    first_error.get_or_insert(JobError::from(error));
                }
            }
        }
        context.expectations.expect_creations(&state.key, names);
        remaining -= batch;
        if failed {
            // The rest are retried on a later sync.
            break;
        }
        batch = (batch * 2).min(remaining);
    }
    (created, first_error)
}

/// The failure counts a replacement pod of an index inherits from the pod it replaces.
fn new_failure_counts(state: &State, replaced: Option<&Arc<Pod>>) -> (i32, i32) {
    let Some(replaced) = replaced else {
        return (0, 0);
    };
    let mut failed = failure_count(replaced, INDEX_FAILURE_COUNT);
    let mut ignored = failure_count(replaced, INDEX_IGNORED_FAILURE_COUNT);
    if match_policy(state.spec.pod_failure_policy.as_ref(), replaced).counts {
        failed += 1;
    } else {
        ignored += 1;
    }
    (failed, ignored)
}
