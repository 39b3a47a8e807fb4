//! Taints and tolerations as upstream's core/v1 helpers judge them, and the tolerations
//! every daemon pod gets (upstream's `AddOrUpdateDaemonPodTolerations`) so that node
//! problems neither keep it off a node nor evict it.

use k8s_openapi::api::core::v1::{PodSpec, Taint, Toleration};

/// Taint of a node whose Ready condition is False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Taint of a node whose Ready condition is Unknown.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Taint of a node under disk pressure.
pub const DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
/// Taint of a node under memory pressure.
pub const MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
/// Taint of a node under PID pressure.
pub const PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
/// Taint of a cordoned node.
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// Taint of a node whose network is not configured.
pub const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

fn exists(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.to_owned()),
        operator: Some("Exists".to_owned()),
        effect: Some(effect.to_owned()),
        ..Toleration::default()
    }
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

/// Upstream's `MatchToleration`: tolerations are the same one when key, operator, value and
/// effect agree.
fn same_toleration(a: &Toleration, b: &Toleration) -> bool {
    text(&a.key) == text(&b.key)
        && text(&a.operator) == text(&b.operator)
        && text(&a.value) == text(&b.value)
        && text(&a.effect) == text(&b.effect)
}

/// Upstream's `AddOrUpdateTolerationInPodSpec`: replaces the same toleration or appends it.
fn add_or_update(spec: &mut PodSpec, toleration: Toleration) {
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    match tolerations
        .iter_mut()
        .find(|existing| same_toleration(existing, &toleration))
    {
        Some(existing) => *existing = toleration,
        None => tolerations.push(toleration),
    }
}

/// Adds the tolerations upstream gives every daemon pod: not-ready and unreachable
/// (NoExecute, forever), disk, memory and PID pressure and unschedulable (NoSchedule), and
/// network-unavailable for host-network pods.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    add_or_update(spec, exists(NOT_READY, "NoExecute"));
    add_or_update(spec, exists(UNREACHABLE, "NoExecute"));
    add_or_update(spec, exists(DISK_PRESSURE, "NoSchedule"));
    add_or_update(spec, exists(MEMORY_PRESSURE, "NoSchedule"));
    add_or_update(spec, exists(PID_PRESSURE, "NoSchedule"));
    add_or_update(spec, exists(UNSCHEDULABLE, "NoSchedule"));
    if spec.host_network == Some(true) {
        add_or_update(spec, exists(NETWORK_UNAVAILABLE, "NoSchedule"));
    }
}

/// Upstream's `Toleration.ToleratesTaint`.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = text(&toleration.effect);
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = text(&toleration.key);
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match text(&toleration.operator) {
        "" | "Equal" => text(&toleration.value) == text(&taint.value),
        "Exists" => true,
        _ => false,
    }
}

/// Upstream's `FindMatchingUntoleratedTaint`: whether some taint with an effect in
/// `effects` is tolerated by none of `tolerations`.
pub fn has_untolerated(taints: &[Taint], tolerations: &[Toleration], effects: &[&str]) -> bool {
    taints
        .iter()
        .filter(|taint| effects.contains(&taint.effect.as_str()))
        .any(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{PodSpec, Taint, Toleration};

    use super::{add_daemon_tolerations, has_untolerated, tolerates};

    fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
        Taint {
            key: key.to_owned(),
            value: value.map(str::to_owned),
            effect: effect.to_owned(),
            time_added: None,
        }
    }

    #[test]
    fn daemon_tolerations_are_added_once() {
        let mut spec = PodSpec {
            host_network: Some(true),
            tolerations: Some(vec![Toleration {
                key: Some("node.kubernetes.io/not-ready".to_owned()),
                operator: Some("Exists".to_owned()),
                effect: Some("NoExecute".to_owned()),
                toleration_seconds: Some(30),
                ..Toleration::default()
            }]),
            ..PodSpec::default()
        };
        add_daemon_tolerations(&mut spec);
        add_daemon_tolerations(&mut spec);
        let tolerations = spec.tolerations.unwrap_or_default();
        assert_eq!(tolerations.len(), 7);
        // The user's bounded toleration is replaced by the unbounded one.
        assert_eq!(tolerations[0].toleration_seconds, None);
    }

    #[test]
    fn toleration_matching_follows_upstream() {
        let equal = Toleration {
            key: Some("dedicated".to_owned()),
            value: Some("gpu".to_owned()),
            effect: Some("NoSchedule".to_owned()),
            ..Toleration::default()
        };
        assert!(tolerates(
            &equal,
            &taint("dedicated", Some("gpu"), "NoSchedule")
        ));
        assert!(!tolerates(
            &equal,
            &taint("dedicated", Some("cpu"), "NoSchedule")
        ));
        assert!(!tolerates(
            &equal,
            &taint("dedicated", Some("gpu"), "NoExecute")
        ));
        let everything = Toleration {
            operator: Some("Exists".to_owned()),
            ..Toleration::default()
        };
        assert!(tolerates(&everything, &taint("any", None, "NoExecute")));
        let taints = [
            taint("dedicated", Some("gpu"), "NoSchedule"),
            taint("soft", None, "PreferNoSchedule"),
        ];
        assert!(has_untolerated(&taints, &[], &["NoSchedule", "NoExecute"]));
        assert!(!has_untolerated(&taints, &[], &["NoExecute"]));
        assert!(!has_untolerated(&taints, &[equal], &["NoSchedule"]));
    }
}
