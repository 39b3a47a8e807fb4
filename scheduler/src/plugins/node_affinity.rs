//! NodeAffinity: `nodeSelector` and required node affinity rule nodes out; preferred node
//! affinity terms add their weights (plugin weight 2).

use k8s_openapi::api::core::v1::{NodeAffinity as Affinity, Pod};

use crate::framework::labels::term_matches;
use crate::framework::{
    default_normalize, CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE,
};

/// Upstream's `ErrReasonPod`.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// The NodeAffinity filter and score.
pub struct NodeAffinity;

fn affinity(pod: &Pod) -> Option<&Affinity> {
    pod.spec.as_ref()?.affinity.as_ref()?.node_affinity.as_ref()
}

/// Whether `node` satisfies the pod's `nodeSelector` and required node affinity (also
/// used by PodTopologySpread to pick eligible domains).
pub fn required_matches(pod: &Pod, node: &NodeInfo) -> bool {
    let selector = pod.spec.as_ref().and_then(|s| s.node_selector.as_ref());
    for (key, value) in selector.into_iter().flatten() {
        if node.labels.get(key) != Some(value) {
            return false;
        }
    }
    let required = affinity(pod).and_then(|a| {
        a.required_during_scheduling_ignored_during_execution
            .as_ref()
    });
    match required {
        Some(selector) => selector
            .node_selector_terms
            .iter()
            .any(|term| term_matches(term, &node.node)),
        None => true,
    }
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }
    fn filters(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if required_matches(&pod.pod, node) {
            Status::success()
        } else {
            Status::unresolvable(self.name(), REASON)
        }
    }
    fn score_weight(&self) -> i64 {
        2
    }
    fn pre_score(
        &self,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &[&NodeInfo],
    ) -> Status {
        let preferred = affinity(&pod.pod)
            .and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .is_some_and(|p| !p.is_empty());
        if preferred {
            Status::success()
        } else {
            Status::skip()
        }
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        affinity(&pod.pod)
            .and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .into_iter()
            .flatten()
            .filter(|term| term.weight != 0 && term_matches(&term.preference, &node.node))
            .map(|term| i64::from(term.weight))
            .sum()
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        default_normalize(MAX_NODE_SCORE, false, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn selector_and_required_terms() {
        let ssd = node(json!({"metadata": {"name": "a", "labels": {"disk": "ssd", "zone": "z1"}}}));
        let hdd = node(json!({"metadata": {"name": "b", "labels": {"disk": "hdd", "zone": "z2"}}}));
        let state = CycleState::default();
        let by_selector = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}], "nodeSelector": {"disk": "ssd"}}}),
        );
        assert!(NodeAffinity.filter(&state, &by_selector, &ssd).is_success());
        assert_eq!(
            NodeAffinity.filter(&state, &by_selector, &hdd).reasons,
            [REASON]
        );
        let by_affinity = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["z1"]}]}]}}}}}),
        );
        assert!(!NodeAffinity.filter(&state, &by_affinity, &ssd).is_success());
        assert!(NodeAffinity.filter(&state, &by_affinity, &hdd).is_success());
    }

    #[test]
    fn preferred_terms_score() {
        let ssd = node(json!({"metadata": {"name": "a", "labels": {"disk": "ssd"}}}));
        let hdd = node(json!({"metadata": {"name": "b", "labels": {"disk": "hdd"}}}));
        let p = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}],
            "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 5, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}}}),
        );
        let state = CycleState::default();
        let mut scores = [
            NodeAffinity.score(&state, &p, &ssd),
            NodeAffinity.score(&state, &p, &hdd),
        ];
        NodeAffinity.normalize(&state, &mut scores);
        assert_eq!(scores, [100, 0]);
    }
}
