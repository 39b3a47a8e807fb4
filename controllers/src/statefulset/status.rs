//! A StatefulSet's status, as upstream's `updateStatus`, `completeRollingUpdate` and
//! `inconsistentStatus`: pod counts by readiness, availability and revision, the current
//! and update revisions, the collision count and the observed generation.

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};

use super::error::SetError;
use super::identity::revision;
use super::set::SetView;
use super::Context;
use crate::workloads::error::{is_conflict, is_not_found};
use crate::workloads::podcontrol::pods::{is_available, is_ready, phase};

/// How many times a status write is retried on conflicts (client-go's `DefaultRetry`).
const WRITE_ATTEMPTS: usize = 5;

/// Upstream's `isCreated`: the API server has given the pod a phase.
pub fn is_created(pod: &Pod) -> bool {
    !phase(pod).is_empty()
}

/// Upstream's `isTerminating`.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// Upstream's `isRunningAndReady`.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_ready(pod)
}

/// Upstream's `isRunningAndAvailable` (ready for `minReadySeconds`).
pub fn is_running_and_available(pod: &Pod, min_ready_seconds: i32) -> bool {
    is_available(pod, min_ready_seconds, Timestamp::now())
}

/// Upstream's `isUnavailable`: not running, ready and available, or terminating.
pub fn is_unavailable(pod: &Pod, min_ready_seconds: i32) -> bool {
    !is_running_and_ready(pod)
        || is_terminating(pod)
        || !is_running_and_available(pod, min_ready_seconds)
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn non_zero(value: i32) -> Option<i32> {
    (value != 0).then_some(value)
}

/// Upstream's `updateStatus`: the counts over `pods`.
pub fn count_pods<'a>(
    status: &mut StatefulSetStatus,
    min_ready_seconds: i32,
    current: &str,
    update: &str,
    pods: impl Iterator<Item = &'a Pod>,
) {
    let (mut replicas, mut ready, mut available, mut at_current, mut at_update) = (0, 0, 0, 0, 0);
    for pod in pods {
        if is_created(pod) {
            replicas += 1;
        }
        if is_running_and_ready(pod) {
            ready += 1;
            if is_running_and_available(pod, min_ready_seconds) {
                available += 1;
            }
        }
        if is_created(pod) && !is_terminating(pod) {
            if revision(pod) == current {
                at_current += 1;
            }
            if revision(pod) == update {
                at_update += 1;
            }
        }
    }
    status.replicas = count(replicas);
    status.ready_replicas = non_zero(count(ready));
    status.available_replicas = Some(count(available));
    status.current_replicas = non_zero(count(at_current));
    status.updated_replicas = non_zero(count(at_update));
}

/// Lowers `currentReplicas` by one (a pod at the current revision was deleted for update).
pub fn one_less_current(status: &mut StatefulSetStatus) {
    status.current_replicas = non_zero(status.current_replicas.unwrap_or(0) - 1);
}

/// Upstream's `completeRollingUpdate`: once every replica is updated and ready, the update
/// revision becomes the current one.
pub fn complete_rolling_update(set: &SetView, status: &mut StatefulSetStatus) {
    let updated = status.updated_replicas.unwrap_or(0);
    if set.rolling
        && updated == set.replicas
        && status.ready_replicas.unwrap_or(0) == set.replicas
        && status.replicas == set.replicas
    {
        status.current_replicas = non_zero(updated);
        status.current_revision = status.update_revision.clone();
    }
}

/// Upstream's `inconsistentStatus`: whether the stored status differs from `new`.
pub fn inconsistent(stored: &StatefulSetStatus, new: &StatefulSetStatus) -> bool {
    let zero = |value: Option<i32>| value.unwrap_or(0);
    new.observed_generation.unwrap_or(0) > stored.observed_generation.unwrap_or(0)
        || new.replicas != stored.replicas
        || zero(new.current_replicas) != zero(stored.current_replicas)
        || zero(new.ready_replicas) != zero(stored.ready_replicas)
        || zero(new.updated_replicas) != zero(stored.updated_replicas)
        || new.current_revision != stored.current_revision
        || zero(new.available_replicas) != zero(stored.available_replicas)
        || new.update_revision != stored.update_revision
        || zero(new.collision_count) != zero(stored.collision_count)
}

/// Upstream's `UpdateStatefulSetStatus`: a `PUT` of `status`, retried on conflicts against
/// a fresh read.
pub async fn write(
    ctx: &Context,
    object: &StatefulSet,
    set: &SetView,
    status: &StatefulSetStatus,
) -> Result<(), SetError> {
    let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let mut target = object.clone();
    let mut last = None;
    for _ in 0..WRITE_ATTEMPTS {
        target.status = Some(status.clone());
        match api
            .replace_status(&set.name, &PostParams::default(), &target)
            .await
        {
            Ok(_) => {
                tracing::debug!(
                    namespace = %set.namespace,
                    set = %set.name,
                    replicas = status.replicas,
                    ready = status.ready_replicas.unwrap_or(0),
                    current = status.current_replicas.unwrap_or(0),
                    updated = status.updated_replicas.unwrap_or(0),
                    "updated status"
                );
                return Ok(());
            }
            Err(error) if is_not_found(&error) => return Ok(()),
            Err(error) if is_conflict(&error) => {
                last = Some(error);
                target = api.get(&set.name).await?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(last.map_or_else(
        || SetError::Refused("status update kept conflicting".to_owned()),
        SetError::from,
    ))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    use super::{complete_rolling_update, count_pods, inconsistent};
    use crate::statefulset::set::SetView;

    fn pod(revision: &str, phase: &str, ready: bool) -> Result<Pod, serde_json::Error> {
        serde_json::from_value(json!({
            "metadata": {"name": "web-0", "labels": {"controller-revision-hash": revision}},
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": if ready { "True" } else { "False" }}]},
        }))
    }

    #[test]
    fn counts_and_completes_a_rolling_update() -> Result<(), Box<dyn std::error::Error>> {
        let set: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {},
                     "updateStrategy": {"type": "RollingUpdate"}},
        }))?;
        let set = SetView::new(&set)?;
        let pods = [pod("new", "Running", true)?, pod("old", "Pending", false)?];
        let mut status = StatefulSetStatus {
            current_revision: Some("old".to_owned()),
            update_revision: Some("new".to_owned()),
            ..StatefulSetStatus::default()
        };
        count_pods(&mut status, 0, "old", "new", pods.iter());
        assert_eq!(status.replicas, 2);
        assert_eq!(status.ready_replicas, Some(1));
        assert_eq!(status.available_replicas, Some(1));
        assert_eq!(status.current_replicas, Some(1));
        assert_eq!(status.updated_replicas, Some(1));
        let before = status.clone();
        complete_rolling_update(&set, &mut status);
        assert_eq!(status, before);
        assert!(!inconsistent(&status, &before));

        let pods = [pod("new", "Running", true)?, pod("new", "Running", true)?];
        count_pods(&mut status, 0, "old", "new", pods.iter());
        complete_rolling_update(&set, &mut status);
        assert_eq!(status.current_revision.as_deref(), Some("new"));
        assert_eq!(status.current_replicas, Some(2));
        assert!(inconsistent(&before, &status));
        Ok(())
    }
}
