//! What the workload controllers ask of a pod, as upstream's `podutil` and `controller_utils`
//! answer it: readiness, availability after `minReadySeconds`, activity and termination.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// The pod's phase, `""` when unset.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

/// The node the pod is bound to, `""` when unscheduled.
pub fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .unwrap_or("")
}

/// `Succeeded` or `Failed`: the pod will not run again.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Upstream's `IsPodActive`: not terminal and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    !is_terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// Upstream's `IsPodTerminating`: being deleted but not yet terminal.
pub fn is_terminating(pod: &Pod) -> bool {
    !is_terminal(pod) && pod.metadata.deletion_timestamp.is_some()
}

/// Since when the Ready condition has been `True`, if it is.
fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == "Ready")
}

/// The Ready condition is `True`.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|condition| condition.status == "True")
}

/// When the pod became ready (the Ready condition's last transition), if it is ready.
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    ready_condition(pod)
        .filter(|condition| condition.status == "True")
        .and_then(|condition| condition.last_transition_time.as_ref())
        .map(|time| time.0)
}

/// When a ready pod counts as available; `None` when it is not ready, or ready without a
/// transition time while `minReadySeconds` is set (upstream never counts those).
pub fn available_at(pod: &Pod, min_ready_seconds: i32) -> Option<Timestamp> {
    if !is_ready(pod) {
        return None;
    }
    if min_ready_seconds <= 0 {
        return Some(Timestamp::MIN);
    }
    let since = ready_since(pod)?;
    since
        .checked_add(SignedDuration::from_secs(i64::from(min_ready_seconds)))
        .ok()
}

/// Upstream's `IsPodAvailable`: ready, and for longer than `minReadySeconds`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    match available_at(pod, min_ready_seconds) {
        Some(at) if min_ready_seconds <= 0 => at <= now,
        Some(at) => at < now,
        None => false,
    }
}

/// The highest restart count among the pod's containers (restartable init containers too).
pub fn max_container_restarts(pod: &Pod) -> i32 {
    let Some(status) = pod.status.as_ref() else {
        return 0;
    };
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .map(|container| container.restart_count)
        .max()
        .unwrap_or(0)
}

/// The owner reference marked `controller: true`.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|owner| owner.controller == Some(true))
}

/// Whether `meta` is controlled by the object with `uid`.
pub fn is_controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    controller_of(meta).is_some_and(|owner| owner.uid == uid)
}

/// Now, at the second precision API times have.
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::{SignedDuration, Timestamp};

    use super::{is_active, is_available, is_ready};

    fn ready_pod(since: Timestamp) -> Pod {
        Pod {
            status: Some(PodStatus {
                phase: Some("Running".to_owned()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".to_owned(),
                    status: "True".to_owned(),
                    last_transition_time: Some(Time(since)),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
            ..Pod::default()
        }
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let now = Timestamp::now();
        let pod = ready_pod(now - SignedDuration::from_secs(5));
        assert!(is_ready(&pod));
        assert!(is_available(&pod, 0, now));
        assert!(is_available(&pod, 4, now));
        assert!(!is_available(&pod, 10, now));
        assert!(!is_available(&Pod::default(), 0, now));
    }

    #[test]
    fn terminal_pods_are_inactive() {
        let mut pod = ready_pod(Timestamp::now());
        assert!(is_active(&pod));
        if let Some(status) = pod.status.as_mut() {
            status.phase = Some("Succeeded".to_owned());
        }
        assert!(!is_active(&pod));
    }
}
