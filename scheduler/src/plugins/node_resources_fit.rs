//! NodeResourcesFit: the pod's requests (and one more pod) must fit in what the node's
//! allocatable leaves after the pods counted on it; scores with its scoring strategy
//! (LeastAllocated by default, MostAllocated or RequestedToCapacityRatio; weight 1).

use crate::config::args::{FitArgs, ScoringType};
use crate::framework::{Code, CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE};
use crate::resources::Resource;

/// The NodeResourcesFit filter and score.
#[derive(Debug, Default)]
pub struct NodeResourcesFit {
    args: FitArgs,
}

impl NodeResourcesFit {
    /// The plugin with `args` (`pluginConfig`).
    pub fn new(args: FitArgs) -> Self {
        Self { args }
    }

    /// Upstream's `resourceAllocationScorer.score`: each resource's score weighted, over the
    /// weights of the resources the node has.
    fn weighted(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let mut total = 0;
        let mut weights = 0;
        for (name, weight) in &self.args.resources {
            let (requested, allocatable) = match name.as_str() {
                "cpu" => (
                    node.non_zero_requested.milli_cpu + pod.non_zero_requests.milli_cpu,
                    node.allocatable.milli_cpu,
                ),
                "memory" => (
                    node.non_zero_requested.memory + pod.non_zero_requests.memory,
                    node.allocatable.memory,
                ),
                other => {
                    let want = pod.requests.get(other);
                    // An extended resource the pod does not ask for is not scored.
                    if want == 0 && !matches!(other, "ephemeral-storage" | "pods") {
                        continue;
                    }
                    (
                        node.requested.get(other) + want,
                        node.allocatable.get(other),
                    )
                }
            };
            if allocatable == 0 {
                continue;
            }
            total += self.resource_score(requested, allocatable) * weight;
            weights += weight;
        }
        if weights == 0 {
            return 0;
        }
        match self.args.scoring {
            ScoringType::RequestedToCapacityRatio(_) => (total + weights / 2) / weights,
            _ => total / weights,
        }
    }

    fn resource_score(&self, requested: i64, capacity: i64) -> i64 {
        match &self.args.scoring {
            ScoringType::LeastAllocated => least_requested(requested, capacity),
            ScoringType::MostAllocated => most_requested(requested, capacity),
            ScoringType::RequestedToCapacityRatio(shape) => {
                let utilization = if requested > capacity {
                    MAX_NODE_SCORE
                } else {
                    requested * MAX_NODE_SCORE / capacity
                };
                broken_linear(shape, utilization)
            }
        }
    }
}

/// Upstream's `mostRequestedScore`: the share of capacity used, 0..=100.
fn most_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// Upstream's `buildBrokenLinearFunction` evaluated at `p`.
fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    for (i, (utilization, score)) in shape.iter().enumerate() {
        if p <= *utilization {
            if i == 0 {
                return *score;
            }
            let (u0, s0) = shape[i - 1];
            return s0 + (score - s0) * (p - u0) / (utilization - u0);
        }
    }
    shape.last().map_or(0, |(_, s)| *s)
}

/// One resource the node lacks: its reason, and whether no removal could ever make room.
#[derive(Debug, PartialEq, Eq)]
pub struct Insufficient {
    /// `Insufficient cpu`, `Too many pods`, ...
    pub reason: String,
    /// The request exceeds the node's whole allocatable.
    pub unresolvable: bool,
}

/// What `requests` lacks on `node` (upstream's `fitsRequest`).
pub fn insufficient(requests: &Resource, node: &NodeInfo) -> Vec<Insufficient> {
    let mut out = Vec::new();
    let pods = i64::try_from(node.pods.len()).unwrap_or(i64::MAX);
    if pods + 1 > node.allocatable.allowed_pods {
        out.push(Insufficient {
            reason: "Too many pods".to_owned(),
            unresolvable: false,
        });
    }
    if requests.is_zero() {
        return out;
    }
    let mut check = |name: &str, want: i64, have: i64, used: i64| {
        if want > 0 && want > have - used {
            out.push(Insufficient {
                reason: format!("Insufficient {name}"),
                unresolvable: want > have,
            });
        }
    };
    let (a, r) = (&node.allocatable, &node.requested);
    check("cpu", requests.milli_cpu, a.milli_cpu, r.milli_cpu);
    check("memory", requests.memory, a.memory, r.memory);
    check(
        "ephemeral-storage",
        requests.ephemeral_storage,
        a.ephemeral_storage,
        r.ephemeral_storage,
    );
    for (name, want) in &requests.scalar {
        check(name, *want, a.get(name), r.get(name));
    }
    out
}

/// The status for a list of shortfalls (unresolvable if any is).
pub fn status_of(plugin: &'static str, missing: Vec<Insufficient>) -> Status {
    if missing.is_empty() {
        return Status::success();
    }
    let code = if missing.iter().any(|m| m.unresolvable) {
        Code::UnschedulableAndUnresolvable
    } else {
        Code::Unschedulable
    };
    Status {
        code,
        reasons: missing.into_iter().map(|m| m.reason).collect(),
        plugin,
    }
}

/// Upstream's `leastRequestedScore`: the share of capacity left, 0..=100.
fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }
    fn filters(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        status_of(self.name(), insufficient(&pod.requests, node))
    }
    fn score_weight(&self) -> i64 {
        1
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        self.weighted(pod, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, node_with, pod};
    use serde_json::json;

    fn sized(cpu: &str, memory: &str, pods: &str) -> serde_json::Value {
        json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods, "example.com/gpu": "1"}}})
    }

    fn asking(cpu: &str, extra: serde_json::Value) -> PodInfo {
        let mut requests = json!({"cpu": cpu});
        if let (Some(r), Some(e)) = (requests.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]}}),
        )
    }

    #[test]
    fn requests_must_fit() {
        let state = CycleState::default();
        let n = node_with(sized("2", "4Gi", "10"), vec![asking("1500m", json!({}))]);
        let status = NodeResourcesFit::default().filter(&state, &asking("1", json!({})), &n);
        assert_eq!(status.reasons, ["Insufficient cpu"]);
        assert_eq!(status.code, Code::Unschedulable);
        assert!(NodeResourcesFit::default()
            .filter(&state, &asking("500m", json!({})), &n)
            .is_success());
        let too_big = NodeResourcesFit::default().filter(
            &state,
            &asking("3", json!({"example.com/gpu": "2"})),
            &n,
        );
        assert_eq!(
            too_big.reasons,
            ["Insufficient cpu", "Insufficient example.com/gpu"]
        );
        assert_eq!(too_big.code, Code::UnschedulableAndUnresolvable);
    }

    #[test]
    fn pod_count_is_capacity() {
        let state = CycleState::default();
        let n = node_with(sized("2", "4Gi", "1"), vec![asking("0", json!({}))]);
        assert_eq!(
            NodeResourcesFit::default()
                .filter(&state, &asking("0", json!({})), &n)
                .reasons,
            ["Too many pods"]
        );
    }

    #[test]
    fn least_allocated_prefers_emptier_nodes() {
        let state = CycleState::default();
        let empty = node(sized("4", "8Gi", "10"));
        let busy = node_with(
            sized("4", "8Gi", "10"),
            vec![asking("3", json!({"memory": "6Gi"}))],
        );
        let p = asking("1", json!({"memory": "2Gi"}));
        // empty: cpu (4-1)/4=75, memory (8-2)/8=75 → 75; busy: cpu 0, memory 0 → 0.
        assert_eq!(NodeResourcesFit::default().score(&state, &p, &empty), 75);
        assert_eq!(NodeResourcesFit::default().score(&state, &p, &busy), 0);
        let most = NodeResourcesFit::new(FitArgs {
            scoring: ScoringType::MostAllocated,
            ..FitArgs::default()
        });
        // empty: 1/4 = 25, 2/8 = 25 → 25; busy: full → 100.
        assert_eq!(most.score(&state, &p, &empty), 25);
        assert_eq!(most.score(&state, &p, &busy), 100);
        let ratio = NodeResourcesFit::new(FitArgs {
            scoring: ScoringType::RequestedToCapacityRatio(vec![(0, 100), (100, 0)]),
            ..FitArgs::default()
        });
        assert_eq!(ratio.score(&state, &p, &empty), 75);
        assert_eq!(broken_linear(&[(0, 0), (50, 100)], 80), 100);
        assert_eq!(broken_linear(&[(0, 0), (50, 100)], 25), 50);
    }
}
