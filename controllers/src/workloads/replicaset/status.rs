//! A ReplicaSet's status from its pods, as upstream's `calculateStatus`: counts of pods,
//! fully labeled, ready, available (ready for `minReadySeconds`) and terminating, and the
//! `ReplicaFailure` condition while creating or deleting pods fails.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::workloads::podcontrol::pods::{self, is_available, is_ready};

/// The condition type reporting failed pod creations or deletions.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// What the last attempt to create or delete pods left.
pub struct Outcome<'a> {
    /// The error message, when it failed.
    pub error: Option<&'a str>,
    /// Whether the attempt was to create (fewer pods than wanted) or delete.
    pub creating: bool,
}

/// `Some(n)` unless zero: the fields upstream marks `omitempty`.
pub fn non_zero(value: i32) -> Option<i32> {
    (value != 0).then_some(value)
}

fn template_selects(template_labels: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    template_labels
        .iter()
        .all(|(key, value)| labels.and_then(|labels| labels.get(key)) == Some(value))
}

/// The new status: counts from `active` (the pods the controller owns), `terminating` if the
/// kind reports it, and the failure condition from `outcome`.
pub fn calculate(
    current: &ReplicaSetStatus,
    template_labels: &BTreeMap<String, String>,
    min_ready_seconds: i32,
    active: &[Arc<Pod>],
    terminating: Option<usize>,
    outcome: &Outcome<'_>,
    now: Timestamp,
) -> ReplicaSetStatus {
    let mut status = current.clone();
    let fully_labeled = active
        .iter()
        .filter(|pod| template_selects(template_labels, pod))
        .count();
    let ready = active.iter().filter(|pod| is_ready(pod)).count();
    let available = active
        .iter()
        .filter(|pod| is_available(pod, min_ready_seconds, now))
        .count();
    let mut conditions = current.conditions.clone().unwrap_or_default();
    let failing = conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match outcome.error {
        Some(message) if !failing => conditions.push(ReplicaSetCondition {
            type_: REPLICA_FAILURE.to_owned(),
            status: "True".to_owned(),
            reason: Some(
                if outcome.creating {
                    "FailedCreate"
                } else {
                    "FailedDelete"
                }
                .to_owned(),
            ),
            message: Some(message.to_owned()),
            last_transition_time: Some(Time(pods::now())),
        }),
        None if failing => conditions.retain(|c| c.type_ != REPLICA_FAILURE),
        _ => {}
    }
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    status.replicas = count(active.len());
    status.fully_labeled_replicas = non_zero(count(fully_labeled));
    status.ready_replicas = non_zero(count(ready));
    status.available_replicas = non_zero(count(available));
    status.terminating_replicas = terminating.map(count);
    status.conditions = (!conditions.is_empty()).then_some(conditions);
    status
}

/// Upstream's steady-state check: nothing to write when the counts and conditions are the
/// same and the generation has been observed.
pub fn unchanged(current: &ReplicaSetStatus, new: &ReplicaSetStatus, generation: i64) -> bool {
    let zero = |value: Option<i32>| value.unwrap_or(0);
    current.replicas == new.replicas
        && zero(current.fully_labeled_replicas) == zero(new.fully_labeled_replicas)
        && zero(current.ready_replicas) == zero(new.ready_replicas)
        && zero(current.available_replicas) == zero(new.available_replicas)
        && current.terminating_replicas == new.terminating_replicas
        && current.observed_generation.unwrap_or(0) == generation
        && current.conditions.clone().unwrap_or_default()
            == new.conditions.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use k8s_openapi::api::apps::v1::ReplicaSetStatus;
    use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::{SignedDuration, Timestamp};

    use super::{calculate, unchanged, Outcome};

    fn pod(labels: &[(&str, &str)], ready_for: Option<i64>) -> Arc<Pod> {
        let now = Timestamp::now();
        let mut pod = Pod::default();
        pod.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        pod.status = ready_for.map(|secs| PodStatus {
            conditions: Some(vec![PodCondition {
                type_: "Ready".to_owned(),
                status: "True".to_owned(),
                last_transition_time: Some(Time(now - SignedDuration::from_secs(secs))),
                ..PodCondition::default()
            }]),
            ..PodStatus::default()
        });
        Arc::new(pod)
    }

    #[test]
    fn counts_and_failure_condition() {
        let template: BTreeMap<String, String> = [
            ("app".to_owned(), "web".to_owned()),
            ("tier".to_owned(), "f".to_owned()),
        ]
        .into();
        let pods = vec![
            pod(&[("app", "web"), ("tier", "f")], Some(60)),
            pod(&[("app", "web")], Some(1)),
            pod(&[("app", "web"), ("tier", "f")], None),
        ];
        let failed = calculate(
            &ReplicaSetStatus::default(),
            &template,
            10,
            &pods,
            Some(1),
            &Outcome {
                error: Some("pods \"web-x\" is forbidden: exceeded quota"),
                creating: true,
            },
            Timestamp::now(),
        );
        assert_eq!(failed.replicas, 3);
        assert_eq!(failed.fully_labeled_replicas, Some(2));
        assert_eq!(failed.ready_replicas, Some(2));
        assert_eq!(failed.available_replicas, Some(1));
        assert_eq!(failed.terminating_replicas, Some(1));
        let condition = failed.conditions.clone().unwrap_or_default();
        assert_eq!(condition.len(), 1);
        assert_eq!(condition[0].reason.as_deref(), Some("FailedCreate"));

        let recovered = calculate(
            &failed,
            &template,
            10,
            &pods,
            Some(0),
            &Outcome {
                error: None,
                creating: false,
            },
            Timestamp::now(),
        );
        assert_eq!(recovered.conditions, None);
        assert_eq!(recovered.terminating_replicas, Some(0));
        assert!(!unchanged(&failed, &recovered, 0));
        assert!(unchanged(&recovered, &recovered, 0));
        assert!(!unchanged(&recovered, &recovered, 2));
    }
}
