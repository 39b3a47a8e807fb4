//! Deployment conditions and the progress judgements built on them, as upstream's
//! `deployment_util`: `Available` (`MinimumReplicasAvailable`), `Progressing`
//! (`NewReplicaSetCreated`, `FoundNewReplicaSet`, `ReplicaSetUpdated`,
//! `NewReplicaSetAvailable`, `ProgressDeadlineExceeded`, `DeploymentPaused`,
//! `DeploymentResumed`, `ReplicaSetCreateError`) and `ReplicaFailure`.

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSetCondition,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::replicas::desired;
use crate::workloads::podcontrol::pods;

/// Condition types.
pub const AVAILABLE: &str = "Available";
/// The rollout's progress.
pub const PROGRESSING: &str = "Progressing";
/// Pods of a ReplicaSet could not be created or deleted.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// A ReplicaSet of the rollout was scaled.
pub const REPLICA_SET_UPDATED: &str = "ReplicaSetUpdated";
/// The new ReplicaSet could not be created.
pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";
/// The new ReplicaSet was created.
pub const NEW_REPLICA_SET: &str = "NewReplicaSetCreated";
/// An existing ReplicaSet matches the template.
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
/// The rollout completed.
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
/// No progress within `progressDeadlineSeconds`.
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
/// `spec.paused` was set.
pub const PAUSED: &str = "DeploymentPaused";
/// `spec.paused` was cleared.
pub const RESUMED: &str = "DeploymentResumed";
/// Enough replicas are available.
pub const MINIMUM_AVAILABLE: &str = "MinimumReplicasAvailable";
/// Too few replicas are available.
pub const MINIMUM_UNAVAILABLE: &str = "MinimumReplicasUnavailable";

/// A condition stamped now.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
) -> DeploymentCondition {
    let now = Time(pods::now());
    DeploymentCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now),
    }
}

/// The condition of `type_`.
pub fn get<'a>(
    status: Option<&'a DeploymentStatus>,
    type_: &str,
) -> Option<&'a DeploymentCondition> {
    status?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Upstream's `SetDeploymentCondition`: nothing changes when status and reason are the same;
/// the transition time is kept when only the reason changes; the condition moves last.
pub fn set(status: &mut DeploymentStatus, mut condition: DeploymentCondition) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if let Some(current) = conditions.iter().find(|c| c.type_ == condition.type_) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time.clone();
        }
    }
    conditions.retain(|c| c.type_ != condition.type_);
    conditions.push(condition);
}

/// Removes the condition of `type_`.
pub fn remove(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != type_);
        if conditions.is_empty() {
            status.conditions = None;
        }
    }
}

/// A ReplicaSet's failure condition as a Deployment condition.
pub fn from_replica_set(condition: &ReplicaSetCondition) -> DeploymentCondition {
    DeploymentCondition {
        type_: condition.type_.clone(),
        status: condition.status.clone(),
        reason: condition.reason.clone(),
        message: condition.message.clone(),
        last_update_time: condition.last_transition_time.clone(),
        last_transition_time: condition.last_transition_time.clone(),
    }
}

/// `spec.progressDeadlineSeconds`, unless unset or "never" (MaxInt32).
pub fn progress_deadline(deployment: &Deployment) -> Option<i32> {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.progress_deadline_seconds)
        .filter(|seconds| *seconds != i32::MAX)
}

fn count(value: Option<i32>) -> i32 {
    value.unwrap_or(0)
}

/// Upstream's `DeploymentComplete`: every replica updated and available, none old, and the
/// latest generation observed.
pub fn complete(deployment: &Deployment, status: &DeploymentStatus) -> bool {
    let replicas = desired(deployment);
    count(status.updated_replicas) == replicas
        && count(status.replicas) == replicas
        && count(status.available_replicas) == replicas
        && status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(0)
}

/// Upstream's `DeploymentProgressing`: more updated, ready or available replicas, or fewer
/// old ones, than the stored status says.
pub fn progressing(deployment: &Deployment, new: &DeploymentStatus) -> bool {
    let default = DeploymentStatus::default();
    let old = deployment.status.as_ref().unwrap_or(&default);
    let old_old = count(old.replicas) - count(old.updated_replicas);
    let new_old = count(new.replicas) - count(new.updated_replicas);
    count(new.updated_replicas) > count(old.updated_replicas)
        || new_old < old_old
        || count(new.ready_replicas) > count(old.ready_replicas)
        || count(new.available_replicas) > count(old.available_replicas)
}

/// When the Progressing condition's deadline passes, if one applies.
pub fn deadline(deployment: &Deployment, status: &DeploymentStatus) -> Option<Timestamp> {
    let seconds = progress_deadline(deployment)?;
    let condition = get(Some(status), PROGRESSING)?;
    let from = condition.last_update_time.as_ref()?.0;
    from.checked_add(SignedDuration::from_secs(i64::from(seconds)))
        .ok()
}

/// Upstream's `DeploymentTimedOut`.
pub fn timed_out(deployment: &Deployment, status: &DeploymentStatus, now: Timestamp) -> bool {
    if progress_deadline(deployment).is_none() {
        return false;
    }
    let Some(condition) = get(Some(status), PROGRESSING) else {
        return false;
    };
    match condition.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => deadline(deployment, status).is_some_and(|deadline| deadline < now),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::{SignedDuration, Timestamp};

    use super::{
        complete, get, new_condition, progressing, set, timed_out, AVAILABLE, PROGRESSING,
        REPLICA_SET_UPDATED,
    };

    #[test]
    fn set_keeps_transition_time_and_moves_last() {
        let mut status = DeploymentStatus::default();
        let mut first = new_condition(PROGRESSING, "True", "NewReplicaSetCreated", "a".to_owned());
        first.last_transition_time = Some(Time(Timestamp::UNIX_EPOCH));
        set(&mut status, first);
        set(
            &mut status,
            new_condition(
                AVAILABLE,
                "True",
                "MinimumReplicasAvailable",
                "b".to_owned(),
            ),
        );
        set(
            &mut status,
            new_condition(PROGRESSING, "True", REPLICA_SET_UPDATED, "c".to_owned()),
        );
        let conditions = status.conditions.clone().unwrap_or_default();
        assert_eq!(conditions[0].type_, AVAILABLE);
        assert_eq!(conditions[1].reason.as_deref(), Some(REPLICA_SET_UPDATED));
        assert_eq!(
            conditions[1].last_transition_time,
            Some(Time(Timestamp::UNIX_EPOCH))
        );
        // Same status and reason: untouched.
        set(
            &mut status,
            new_condition(PROGRESSING, "True", REPLICA_SET_UPDATED, "d".to_owned()),
        );
        assert_eq!(
            get(Some(&status), PROGRESSING)
                .and_then(|c| c.message.clone())
                .as_deref(),
            Some("c")
        );
    }

    #[test]
    fn completion_progress_and_timeout() {
        let mut deployment = Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(3),
                progress_deadline_seconds: Some(10),
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        };
        deployment.metadata.generation = Some(2);
        let done = DeploymentStatus {
            replicas: Some(3),
            updated_replicas: Some(3),
            available_replicas: Some(3),
            observed_generation: Some(2),
            ..DeploymentStatus::default()
        };
        assert!(complete(&deployment, &done));
        assert!(!complete(
            &deployment,
            &DeploymentStatus {
                observed_generation: Some(1),
                ..done.clone()
            }
        ));
        deployment.status = Some(DeploymentStatus {
            replicas: Some(4),
            updated_replicas: Some(1),
            ..DeploymentStatus::default()
        });
        assert!(progressing(
            &deployment,
            &DeploymentStatus {
                replicas: Some(4),
                updated_replicas: Some(2),
                ..DeploymentStatus::default()
            }
        ));
        assert!(!progressing(
            &deployment,
            &DeploymentStatus {
                replicas: Some(4),
                updated_replicas: Some(1),
                ..DeploymentStatus::default()
            }
        ));
        let mut stale = DeploymentStatus::default();
        let mut condition = new_condition(PROGRESSING, "True", REPLICA_SET_UPDATED, "x".to_owned());
        condition.last_update_time = Some(Time(Timestamp::now() - SignedDuration::from_secs(11)));
        set(&mut stale, condition);
        assert!(timed_out(&deployment, &stale, Timestamp::now()));
        assert!(!timed_out(
            &deployment,
            &stale,
            Timestamp::now() - SignedDuration::from_secs(5)
        ));
    }
}
