//! TaintToleration: `NoSchedule`/`NoExecute` taints a pod does not tolerate rule a node
//! out; untolerated `PreferNoSchedule` taints make it less preferred (weight 3).

use k8s_openapi::api::core::v1::Toleration;

use crate::framework::labels::tolerated;
use crate::framework::{
    default_normalize, CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE,
};

/// The TaintToleration filter and score.
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }
    fn filters(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let untolerated = node.taints().iter().find(|taint| {
            matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
                && !tolerated(pod.tolerations(), taint)
        });
        match untolerated {
            Some(taint) => Status::unresolvable(
                self.name(),
                format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    taint.key,
                    taint.value.as_deref().unwrap_or("")
                ),
            ),
            None => Status::success(),
        }
    }
    fn score_weight(&self) -> i64 {
        3
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let preferring: Vec<Toleration> = pod
            .tolerations()
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .cloned()
            .collect();
        let count = node
            .taints()
            .iter()
            .filter(|taint| taint.effect == "PreferNoSchedule" && !tolerated(&preferring, taint))
            .count();
        i64::try_from(count).unwrap_or(i64::MAX)
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        default_normalize(MAX_NODE_SCORE, true, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn untolerated_taints_fail_with_upstream_wording() {
        let tainted = node(json!({"metadata": {"name": "n"}, "spec": {"taints": [
            {"key": "soft", "value": "x", "effect": "PreferNoSchedule"},
            {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}));
        let plain = pod(json!({"metadata": {"name": "p"}}));
        let state = CycleState::default();
        let status = TaintToleration.filter(&state, &plain, &tainted);
        assert_eq!(
            status.reasons,
            ["node(s) had untolerated taint {dedicated: gpu}"]
        );
        let tolerant = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}],
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]}}),
        );
        assert!(TaintToleration
            .filter(&state, &tolerant, &tainted)
            .is_success());
    }

    #[test]
    fn prefer_no_schedule_lowers_the_score() {
        let soft = node(json!({"metadata": {"name": "a"}, "spec": {"taints": [
            {"key": "soft", "value": "x", "effect": "PreferNoSchedule"}]}}));
        let clean = node(json!({"metadata": {"name": "b"}}));
        let p = pod(json!({"metadata": {"name": "p"}}));
        let state = CycleState::default();
        let mut scores = [
            TaintToleration.score(&state, &p, &soft),
            TaintToleration.score(&state, &p, &clean),
        ];
        TaintToleration.normalize(&state, &mut scores);
        assert_eq!(scores, [0, 100]);
    }
}
