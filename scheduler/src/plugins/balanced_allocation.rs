//! NodeResourcesBalancedAllocation: prefers nodes whose CPU and memory would be used in
//! similar proportions after placing the pod (weight 1).

use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE};

/// The balanced-allocation score.
pub struct BalancedAllocation;

fn fraction(requested: i64, capacity: i64) -> f64 {
    if capacity <= 0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let f = requested as f64 / capacity as f64;
    f.min(1.0)
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }
    fn score_weight(&self) -> i64 {
        1
    }
    fn pre_score(
        &self,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &[&NodeInfo],
    ) -> Status {
        // A best-effort pod changes no balance.
        if pod.requests.milli_cpu == 0 && pod.requests.memory == 0 {
            Status::skip()
        } else {
            Status::success()
        }
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let cpu = fraction(
            node.requested.milli_cpu + pod.requests.milli_cpu,
            node.allocatable.milli_cpu,
        );
        let memory = fraction(
            node.requested.memory + pod.requests.memory,
            node.allocatable.memory,
        );
        // Two resources: the standard deviation is half their difference.
        let std = (cpu - memory).abs() / 2.0;
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let score = ((1.0 - std) * MAX_NODE_SCORE as f64) as i64;
        score
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn balanced_nodes_score_higher() {
        let n = node(
            json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "10"}}}),
        );
        let state = CycleState::default();
        let even = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}}]}}),
        );
        let skewed = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "4", "memory": "0"}}}]}}),
        );
        assert_eq!(BalancedAllocation.score(&state, &even, &n), 100);
        assert_eq!(BalancedAllocation.score(&state, &skewed, &n), 50);
    }
}
