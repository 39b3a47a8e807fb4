//! What the Job controller asks of a pod: whether it is active, ready, terminating or
//! finished, when it finished, and which active pods to remove first (upstream's
//! `ActivePods` ranking).

use std::cmp::Ordering;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;

/// The finalizer that keeps a Job's pods until the controller has counted them.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";

/// The pod's phase ("" when unset).
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

/// Neither finished nor being deleted (upstream's `FilterActivePods`).
pub fn is_active(pod: &Pod) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && pod.metadata.deletion_timestamp.is_none()
}

/// Being deleted but not finished (upstream's terminating pods).
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some() && !matches!(phase(pod), "Succeeded" | "Failed")
}

/// The Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|condition| condition.status == "True")
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Ready"))
}

/// Whether the pod still carries the Job tracking finalizer.
pub fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .as_ref()
        .is_some_and(|finalizers| finalizers.iter().any(|f| f == TRACKING_FINALIZER))
}

/// The pod's uid ("" if missing).
pub fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or("")
}

/// When the pod finished, as upstream's back-off estimates it: the last container exit,
/// else the Ready=False transition, else the deletion time minus its grace period, else
/// the creation time.
pub fn finished_time(pod: &Pod) -> Timestamp {
    if let Some(time) = finish_from_containers(pod) {
        return time;
    }
    if let Some(condition) = ready_condition(pod) {
        if condition.status == "False" {
            if let Some(time) = &condition.last_transition_time {
                return time.0;
            }
        }
    }
    if let Some(deleted) = &pod.metadata.deletion_timestamp {
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
        return deleted
            .0
            .checked_sub(SignedDuration::from_secs(grace))
            .unwrap_or(deleted.0);
    }
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map(|time| time.0)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn finish_from_containers(pod: &Pod) -> Option<Timestamp> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let mut latest: Option<Timestamp> = None;
    for status in statuses {
        let finished = status
            .state
            .as_ref()
            .and_then(|state| state.terminated.as_ref())
            .and_then(|terminated| terminated.finished_at.as_ref())?;
        if latest.is_none_or(|time| time < finished.0) {
            latest = Some(finished.0);
        }
    }
    latest
}

/// The sum of container and init-container restarts (for `backoffLimit` with
/// `restartPolicy: OnFailure`).
pub fn restarts(pod: &Pod) -> i32 {
    let Some(status) = pod.status.as_ref() else {
        return 0;
    };
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .map(|container| container.restart_count)
        .sum()
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|status| status.container_statuses.as_ref())
        .and_then(|statuses| statuses.iter().map(|c| c.restart_count).max())
        .unwrap_or(0)
}

fn phase_rank(pod: &Pod) -> i32 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

fn node(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .unwrap_or("")
}

fn ready_since(pod: &Pod) -> Option<Timestamp> {
    ready_condition(pod)
        .filter(|condition| condition.status == "True")
        .and_then(|condition| condition.last_transition_time.as_ref())
        .map(|time| time.0)
}

/// `a` is later than `b`, a missing time counting as the latest.
fn after_or_missing(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a > b,
    }
}

/// Upstream's `ActivePods` order: the pods to delete first come first (unscheduled before
/// scheduled, pending before running, not ready before ready, ready more recently before
/// ready longer, more restarts before fewer, newer before older).
pub fn removal_order(a: &Pod, b: &Pod) -> Ordering {
    let less = |a: &Pod, b: &Pod| -> bool {
        let (node_a, node_b) = (node(a), node(b));
        if node_a != node_b && (node_a.is_empty() || node_b.is_empty()) {
            return node_a.is_empty();
        }
        if phase_rank(a) != phase_rank(b) {
            return phase_rank(a) < phase_rank(b);
        }
        if is_ready(a) != is_ready(b) {
            return !is_ready(a);
        }
        if is_ready(a) && is_ready(b) {
            let (since_a, since_b) = (ready_since(a), ready_since(b));
            if since_a != since_b {
                return after_or_missing(since_a, since_b);
            }
        }
        if max_restarts(a) != max_restarts(b) {
            return max_restarts(a) > max_restarts(b);
        }
        let created = |pod: &Pod| pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if created(a) != created(b) {
            return after_or_missing(created(a), created(b));
        }
        false
    };
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use k8s_openapi::api::core::v1::{Pod, PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::removal_order;

    fn pod(name: &str, node: &str, phase: &str, ready: bool, created: i64) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some(name.to_owned());
        pod.metadata.creation_timestamp = Timestamp::from_second(created).ok().map(Time);
        pod.spec = Some(PodSpec {
            node_name: (!node.is_empty()).then(|| node.to_owned()),
            ..PodSpec::default()
        });
        pod.status = Some(PodStatus {
            phase: Some(phase.to_owned()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".to_owned(),
                status: if ready { "True" } else { "False" }.to_owned(),
                ..PodCondition::default()
            }]),
            ..PodStatus::default()
        });
        pod
    }

    #[test]
    fn deletion_ranking_prefers_early_stages() {
        let mut pods = [
            pod("running-ready-old", "n1", "Running", true, 100),
            pod("unscheduled", "", "Pending", false, 100),
            pod("pending-on-node", "n1", "Pending", false, 100),
            pod("running-not-ready", "n1", "Running", false, 100),
            pod("running-ready-new", "n1", "Running", true, 200),
        ];
        pods.sort_by(removal_order);
        let names: Vec<&str> = pods
            .iter()
            .map(|p| p.metadata.name.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            vec![
                "unscheduled",
                "pending-on-node",
                "running-not-ready",
                "running-ready-new",
                "running-ready-old",
            ]
        );
    }
}
