//! The heart of the StatefulSet loop, as upstream's `updateStatefulSet`: pods are laid out
//! by ordinal, missing ones created (one at a time and only after their predecessors are
//! Running and Ready under `OrderedReady`, all at once under `Parallel`), pods beyond the
//! replica count deleted from the highest ordinal down, and, once that holds, pods not at
//! the update revision deleted from the highest ordinal down to the partition, at most
//! `maxUnavailable` unavailable at a time.

use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::StatefulSetStatus;
use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::ResourceExt;

use super::claims::{claim_is_stale, match_retention, update_for_retention};
use super::error::SetError;
use super::identity::{identity_matches, new_versioned_pod, ordinal, revision, storage_matches};
use super::pods;
use super::revisions::{apply, Revisions};
use super::set::SetView;
use super::status::{
    count_pods, is_created, is_running_and_available, is_running_and_ready, is_terminating,
    is_unavailable, one_less_current,
};
use super::Context;
use crate::workloads::podcontrol::pods::phase;

/// Upstream's `MaxBatchSize`: the most requests in flight in one `Parallel` batch.
const MAX_BATCH: usize = 500;

/// Runs `step` for `0..count`: in order, stopping at the first step that asks to (or fails),
/// when `monotonic`; otherwise in slow-start batches, stopping after a batch with a failure
/// (upstream's `runForAll`). `Ok(true)` means stop here.
async fn run_for_all<F, Fut>(count: usize, monotonic: bool, step: F) -> Result<bool, SetError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<bool, SetError>>,
{
    if monotonic {
        for index in 0..count {
            if step(index).await? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let mut next = 0;
    let mut batch = count.min(1);
    while batch > 0 {
        let results = futures::future::join_all((next..next + batch).map(&step)).await;
        next += batch;
        if let Some(error) = results.into_iter().find_map(Result::err) {
            return Err(error);
        }
        batch = (2 * batch).min(count - next).min(MAX_BATCH);
    }
    Ok(false)
}

/// What one sync works with.
struct Sync<'a> {
    ctx: &'a Context,
    set: &'a SetView,
    update_set: SetView,
    regarding: &'a ObjectReference,
    monotonic: bool,
}

impl Sync<'_> {
    /// Upstream's `processReplica`.
    async fn replica(&self, pod: &Pod) -> Result<bool, SetError> {
        let (ctx, set, regarding) = (self.ctx, self.set, self.regarding);
        if matches!(phase(pod), "Failed" | "Succeeded") {
            if !is_terminating(pod) {
                tracing::info!(set = %set.name, pod = %pod.name_any(), phase = phase(pod), "recreating a finished pod");
                pods::delete(ctx, set, regarding, pod).await?;
            }
            return Ok(true);
        }
        if !is_created(pod) {
            if claim_is_stale(ctx, set, pod) {
                tracing::debug!(set = %set.name, pod = %pod.name_any(), "waiting for a stale claim to be collected");
                return Ok(true);
            }
            pods::create(ctx, set, regarding, pod).await?;
            if self.monotonic {
                return Ok(true);
            }
        }
        if phase(pod) == "Pending" {
            tracing::trace!(set = %set.name, pod = %pod.name_any(), "creating missing claims of a pending pod");
            pods::create_missing_claims(ctx, set, regarding, pod).await?;
        }
        if is_terminating(pod) && self.monotonic {
            tracing::debug!(set = %set.name, pod = %pod.name_any(), "waiting for pod to terminate");
            return Ok(true);
        }
        if !is_running_and_ready(pod) && self.monotonic {
            tracing::debug!(set = %set.name, pod = %pod.name_any(), "waiting for pod to be Running and Ready");
            return Ok(true);
        }
        if !is_running_and_available(pod, set.min_ready_seconds) && self.monotonic {
            tracing::debug!(set = %set.name, pod = %pod.name_any(), "waiting for pod to be available");
            return Ok(true);
        }
        let retention = match_retention(&self.update_set, ctx, pod);
        if identity_matches(set, pod) && storage_matches(set, pod) && retention {
            return Ok(false);
        }
        pods::update(ctx, &self.update_set, regarding, pod.clone()).await?;
        Ok(false)
    }

    /// Upstream's `processCondemned`.
    async fn condemned(
        &self,
        pod: &Pod,
        first_unavailable: Option<&str>,
    ) -> Result<bool, SetError> {
        let set = self.set;
        if is_terminating(pod) {
            return Ok(self.monotonic);
        }
        let first = first_unavailable == pod.metadata.name.as_deref();
        if self.monotonic && !first && !is_running_and_ready(pod) {
            tracing::debug!(set = %set.name, pod = ?first_unavailable, "waiting for pod to be Running and Ready before scaling down");
            return Ok(true);
        }
        if self.monotonic && !first && !is_running_and_available(pod, set.min_ready_seconds) {
            tracing::debug!(set = %set.name, pod = ?first_unavailable, "waiting for pod to be available before scaling down");
            return Ok(true);
        }
        tracing::info!(set = %set.name, pod = %pod.name_any(), "terminating pod for scale down");
        pods::delete(self.ctx, set, self.regarding, pod).await?;
        Ok(true)
    }

    /// Upstream's `fixPodClaim`: a condemned pod's claims follow `whenScaled`.
    async fn fix_claims(&self, pod: &Pod) -> Result<bool, SetError> {
        if !match_retention(&self.update_set, self.ctx, pod) {
            update_for_retention(self.ctx, &self.update_set, self.regarding, pod).await?;
        }
        Ok(false)
    }
}

/// The status to write and how the sync went.
pub struct Outcome {
    /// The new status (before `completeRollingUpdate`).
    pub status: StatefulSetStatus,
    /// The first failure, if any.
    pub result: Result<(), SetError>,
}

fn recount(
    status: &mut StatefulSetStatus,
    set: &SetView,
    revisions: &Revisions,
    replicas: &[Arc<Pod>],
    condemned: &[Arc<Pod>],
) {
    count_pods(
        status,
        set.min_ready_seconds,
        revisions.current.metadata.name.as_deref().unwrap_or(""),
        revisions.update.metadata.name.as_deref().unwrap_or(""),
        replicas.iter().chain(condemned).map(|pod| &**pod),
    );
}

/// Upstream's `updateStatefulSet`.
pub async fn update_stateful_set(
    ctx: &Context,
    set: &SetView,
    regarding: &ObjectReference,
    revisions: &Revisions,
    pods: &[Arc<Pod>],
) -> Result<Outcome, SetError> {
    let current_set = apply(set, &revisions.current)?;
    let update_set = apply(set, &revisions.update)?;
    let current_name = revisions.current.metadata.name.clone().unwrap_or_default();
    let update_name = revisions.update.metadata.name.clone().unwrap_or_default();
    let mut status = StatefulSetStatus {
        observed_generation: (set.generation != 0).then_some(set.generation),
        current_revision: Some(current_name.clone()),
        update_revision: Some(update_name.clone()),
        collision_count: Some(revisions.collision_count),
        ..StatefulSetStatus::default()
    };
    count_pods(
        &mut status,
        set.min_ready_seconds,
        &current_name,
        &update_name,
        pods.iter().map(|pod| &**pod),
    );

    let slots = usize::try_from(set.replicas).unwrap_or(0);
    let mut placed: Vec<Option<Arc<Pod>>> = vec![None; slots];
    let mut condemned: Vec<Arc<Pod>> = Vec::new();
    for pod in pods {
        let Some(ordinal) = ordinal(pod) else {
            continue;
        };
        if set.in_range(ordinal) {
            if let Some(slot) = usize::try_from(ordinal - set.start)
                .ok()
                .and_then(|index| placed.get_mut(index))
            {
                *slot = Some(Arc::clone(pod));
            }
        } else {
            condemned.push(Arc::clone(pod));
        }
    }
    let replicas: Vec<Arc<Pod>> = placed
        .into_iter()
        .enumerate()
        .map(|(index, pod)| {
            pod.unwrap_or_else(|| {
                let ordinal = set.start + i32::try_from(index).unwrap_or(i32::MAX);
                Arc::new(new_versioned_pod(
                    &current_set,
                    &update_set,
                    &current_name,
                    &update_name,
                    ordinal,
                ))
            })
        })
        .collect();
    condemned.sort_by_key(|pod| std::cmp::Reverse(ordinal(pod)));

    let unavailable: Vec<&Arc<Pod>> = replicas
        .iter()
        .chain(condemned.iter().rev())
        .filter(|pod| is_unavailable(pod, set.min_ready_seconds))
        .collect();
    let first_unavailable = unavailable
        .first()
        .and_then(|pod| pod.metadata.name.clone());
    if !unavailable.is_empty() {
        tracing::debug!(set = %set.name, unavailable = unavailable.len(), first = ?first_unavailable, "set has unavailable pods");
    }

    if set.deleting {
        return Ok(Outcome {
            status,
            result: Ok(()),
        });
    }

    let sync = Sync {
        ctx,
        set,
        update_set,
        regarding,
        monotonic: !set.parallel,
    };
    let stages = async {
        if run_for_all(replicas.len(), sync.monotonic, |i| {
            sync.replica(&replicas[i])
        })
        .await?
        {
            return Ok(true);
        }
        if run_for_all(condemned.len(), sync.monotonic, |i| {
            sync.fix_claims(&condemned[i])
        })
        .await?
        {
            return Ok(true);
        }
        let first = first_unavailable.as_deref();
        run_for_all(condemned.len(), sync.monotonic, |i| {
            sync.condemned(&condemned[i], first)
        })
        .await
    };
    let staged: Result<bool, SetError> = stages.await;
    recount(&mut status, set, revisions, &replicas, &condemned);
    match staged {
        Err(error) => {
            return Ok(Outcome {
                status,
                result: Err(error),
            })
        }
        Ok(true) => {
            return Ok(Outcome {
                status,
                result: Ok(()),
            })
        }
        Ok(false) => {}
    }

    // OnDelete: pods are updated as they are deleted by hand.
    if set.on_delete || !set.rolling {
        return Ok(Outcome {
            status,
            result: Ok(()),
        });
    }
    let result = rolling_update(&sync, &replicas, &update_name, &mut status).await;
    Ok(Outcome { status, result })
}

/// Upstream's `updateStatefulSetAfterInvariantEstablished` (`MaxUnavailableStatefulSet`):
/// with at most `maxUnavailable` replicas unavailable, deletes pods not at the update
/// revision from the highest ordinal down to the partition.
async fn rolling_update(
    sync: &Sync<'_>,
    replicas: &[Arc<Pod>],
    update_name: &str,
    status: &mut StatefulSetStatus,
) -> Result<(), SetError> {
    let set = sync.set;
    let update_min = usize::try_from(set.partition().unwrap_or(0)).unwrap_or(0);
    let max_unavailable = match set.rolling_update {
        Some(_) => set.max_unavailable()?,
        None => 1,
    };
    let unavailable = replicas
        .iter()
        .filter(|pod| is_unavailable(pod, set.min_ready_seconds))
        .count();
    let max_unavailable = usize::try_from(max_unavailable).unwrap_or(1);
    if unavailable > max_unavailable {
        tracing::debug!(set = %set.name, unavailable, max_unavailable, "too many unavailable pods to update");
        return Ok(());
    }
    let mut budget = max_unavailable - unavailable;
    for pod in replicas.iter().skip(update_min).rev() {
        if budget == 0 {
            break;
        }
        if revision(pod) != update_name && !is_terminating(pod) {
            tracing::info!(set = %set.name, pod = %pod.name_any(), "terminating pod for update");
            pods::delete(sync.ctx, set, sync.regarding, pod).await?;
            budget -= 1;
            one_less_current(status);
        }
    }
    Ok(())
}
