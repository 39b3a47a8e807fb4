//! What a node's conditions mean for its taints (upstream's TaintNodesByCondition and
//! the NoExecute taints of taint-based eviction), and which pods a NoExecute taint evicts
//! and when.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};

/// Taint of a node whose Ready condition is False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Taint of a node whose Ready condition is Unknown (no heartbeats).
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// The node's Ready condition status (`True`, `False`, `Unknown`), if reported.
pub fn ready_status(node: &Node) -> Option<&str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == "Ready")
        .map(|condition| condition.status.as_str())
}

/// The taints `node` should carry for its Ready condition, keeping every other taint and
/// the time a kept NoExecute taint was added.
pub fn desired_taints(node: &Node, now: Timestamp) -> Vec<Taint> {
    let current = node
        .spec
        .as_ref()
        .and_then(|spec| spec.taints.clone())
        .unwrap_or_default();
    let wanted_key = match ready_status(node) {
        Some("False") => Some(NOT_READY),
        Some("Unknown") => Some(UNREACHABLE),
        _ => None,
    };
    let mut taints: Vec<Taint> = current
        .iter()
        .filter(|taint| taint.key != NOT_READY && taint.key != UNREACHABLE)
        .cloned()
        .collect();
    if let Some(key) = wanted_key {
        for effect in ["NoSchedule", "NoExecute"] {
            let existing = current
                .iter()
                .find(|taint| taint.key == key && taint.effect == effect);
            taints.push(match existing {
                Some(taint) => taint.clone(),
                None => Taint {
                    key: key.to_owned(),
                    effect: effect.to_owned(),
                    time_added: (effect == "NoExecute")
                        .then_some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now)),
                    value: None,
                },
            });
        }
    }
    taints
}

fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_ok = toleration
        .effect
        .as_deref()
        .is_none_or(|effect| effect.is_empty() || effect == taint.effect);
    let key_ok = match toleration.key.as_deref() {
        None | Some("") => toleration.operator.as_deref() == Some("Exists"),
        Some(key) => key == taint.key,
    };
    let value_ok = match toleration.operator.as_deref() {
        Some("Exists") => true,
        _ => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
    };
    effect_ok && key_ok && value_ok
}

/// When a pod on a node with `taints` must go: `None` to stay, `Some(now)` at once if a
/// NoExecute taint is not tolerated, else the earliest end of a tolerationSeconds.
pub fn eviction_time(pod: &Pod, taints: &[Taint], now: Timestamp) -> Option<Timestamp> {
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.tolerations.clone())
        .unwrap_or_default();
    let mut deadline: Option<Timestamp> = None;
    for taint in taints.iter().filter(|taint| taint.effect == "NoExecute") {
        let matching: Vec<&Toleration> = tolerations
            .iter()
            .filter(|toleration| tolerates(toleration, taint))
            .collect();
        if matching.is_empty() {
            return Some(now);
        }
        // Tolerated for as long as the most lenient matching toleration allows.
        if matching
            .iter()
            .any(|toleration| toleration.toleration_seconds.is_none())
        {
            continue;
        }
        let seconds = matching
            .iter()
            .filter_map(|toleration| toleration.toleration_seconds)
            .max()
            .unwrap_or(0)
            .max(0);
        let added = taint.time_added.as_ref().map_or(now, |time| time.0);
        let until = added
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .unwrap_or(added);
        deadline = Some(deadline.map_or(until, |earlier: Timestamp| earlier.min(until)));
    }
    deadline
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::json;

    use super::{desired_taints, eviction_time};

    fn node(ready: &str) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "spec": {"taints": [{"key": "dedicated", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": ready}]},
        }))
        .unwrap_or_default()
    }

    #[test]
    fn taints_follow_the_ready_condition() {
        let now = Timestamp::UNIX_EPOCH;
        let keys = |ready: &str| -> Vec<(String, String)> {
            desired_taints(&node(ready), now)
                .into_iter()
                .map(|taint| (taint.key, taint.effect))
                .collect()
        };
        assert_eq!(
            keys("True"),
            [("dedicated".to_owned(), "NoSchedule".to_owned())]
        );
        assert_eq!(keys("Unknown").len(), 3);
        assert!(keys("False").contains(&(
            "node.kubernetes.io/not-ready".to_owned(),
            "NoExecute".to_owned()
        )));
    }

    #[test]
    fn toleration_seconds_delay_eviction() {
        let now = Timestamp::UNIX_EPOCH;
        let mut unreachable = node("Unknown");
        let taints = desired_taints(&unreachable, now);
        unreachable.spec.get_or_insert_with(Default::default).taints = Some(taints.clone());
        let pod = |tolerations: serde_json::Value| -> Pod {
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [], "tolerations": tolerations}})).unwrap_or_default()
        };
        let patient = pod(
            json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]),
        );
        assert_eq!(
            eviction_time(&patient, &taints, now),
            Some(Timestamp::from_second(30).unwrap_or(now))
        );
        assert_eq!(eviction_time(&pod(json!([])), &taints, now), Some(now));
        let forever = pod(json!([{"operator": "Exists"}]));
        assert_eq!(eviction_time(&forever, &taints, now), None);
    }
}
