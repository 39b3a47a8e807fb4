//! One scheduling attempt for one pod (upstream's `schedulePod`): PreFilter, Filter over
//! (enough of) the nodes, Score with weights, and a random pick among the best.

use std::collections::BTreeMap;

use crate::framework::{Code, CycleState, NodeInfo, Plugin, PodInfo, Status};

/// Why no node fits: each node's failing status, and what preemption said.
#[derive(Clone, Debug, Default)]
pub struct FitError {
    /// How many nodes there were.
    pub num_nodes: usize,
    /// Node name → why it failed.
    pub statuses: BTreeMap<String, Status>,
    /// A PreFilter failure that failed every node at once.
    pub pre_filter_msg: Option<String>,
    /// What preemption reported (`preemption: ...`).
    pub post_filter_msg: Option<String>,
}

impl FitError {
    /// Upstream's `FitError.Error()`: `0/3 nodes are available: 1 Insufficient cpu, 2
    /// node(s) ... .` with the reasons counted and sorted, then preemption's message.
    pub fn message(&self) -> String {
        let mut out = format!("0/{} nodes are available:", self.num_nodes);
        match &self.pre_filter_msg {
            Some(msg) => out.push_str(&format!(" {msg}.")),
            None => {
                let mut histogram: BTreeMap<&str, usize> = BTreeMap::new();
                for status in self.statuses.values() {
                    for reason in &status.reasons {
                        *histogram.entry(reason.as_str()).or_default() += 1;
                    }
                }
                let mut reasons: Vec<String> = histogram
                    .into_iter()
                    .map(|(reason, count)| format!("{count} {reason}"))
                    .collect();
                reasons.sort();
                out.push_str(&format!(" {}.", reasons.join(", ")));
            }
        }
        if let Some(msg) = self.post_filter_msg.as_deref().filter(|m| !m.is_empty()) {
            out.push_str(&format!(" {msg}."));
        }
        out
    }
}

/// Why an attempt failed.
#[derive(Debug)]
pub enum CycleError {
    /// There are no nodes at all.
    NoNodes,
    /// No node fits.
    Fit(FitError),
}

/// Upstream's `numFeasibleNodesToFind` with the adaptive percentage: every node in small
/// clusters, a shrinking share (at least 100 nodes) in large ones.
pub fn num_feasible_nodes_to_find(total: usize) -> usize {
    num_feasible_nodes_with(total, 0)
}

/// Upstream's `numFeasibleNodesToFind` with `percentageOfNodesToScore` (0: adaptive).
pub fn num_feasible_nodes_with(total: usize, percentage: u32) -> usize {
    const MIN_FEASIBLE: usize = 100;
    const MIN_PERCENT: usize = 5;
    if total < MIN_FEASIBLE {
        return total;
    }
    let percent = match usize::try_from(percentage) {
        Ok(p) if p > 0 => p,
        _ => 50usize.saturating_sub(total / 125).max(MIN_PERCENT),
    };
    (total * percent / 100).max(MIN_FEASIBLE)
}

/// Runs every filter on `node` in order, stopping at the first failure.
pub fn run_filters(
    plugins: &[Box<dyn Plugin>],
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Status {
    for plugin in plugins.iter().filter(|p| p.filters()) {
        let status = plugin.filter(state, pod, node);
        if !status.is_success() {
            return status;
        }
    }
    Status::success()
}

/// Runs every PreFilter; a failure is returned as the status failing all nodes.
pub fn run_pre_filters(
    plugins: &[Box<dyn Plugin>],
    state: &mut CycleState,
    pod: &PodInfo,
    nodes: &[&NodeInfo],
) -> Result<(), Status> {
    for plugin in plugins {
        let status = plugin.pre_filter(state, pod, nodes);
        if !status.is_success() {
            return Err(status);
        }
    }
    Ok(())
}

/// Picks a node for `pod` among `nodes`, starting the search at `*start` (round robin
/// across attempts, as upstream's `nextStartNodeIndex`); `state` carries what the caller
/// knows beyond the nodes (the pod's default spread selector).
pub fn schedule_pod(
    plugins: &[Box<dyn Plugin>],
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    start: &mut usize,
    state: CycleState,
) -> Result<String, CycleError> {
    schedule_pod_with(plugins, 0, pod, nodes, start, state)
}

/// [`schedule_pod`] with a profile's `percentageOfNodesToScore` (0: adaptive).
pub fn schedule_pod_with(
    plugins: &[Box<dyn Plugin>],
    percentage: u32,
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    start: &mut usize,
    mut state: CycleState,
) -> Result<String, CycleError> {
    if nodes.is_empty() {
        return Err(CycleError::NoNodes);
    }
    let mut fit = FitError {
        num_nodes: nodes.len(),
        ..FitError::default()
    };
    if let Err(status) = run_pre_filters(plugins, &mut state, pod, nodes) {
        fit.pre_filter_msg = Some(status.reasons.join(", "));
        for node in nodes {
            fit.statuses.insert(node.name.clone(), status.clone());
        }
        return Err(CycleError::Fit(fit));
    }
    // A pod nominated by an earlier preemption tries its nominated node first, and takes it
    // if it now fits (upstream's `evaluateNominatedNode`).
    let nominated = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty());
    if let Some(node) = nominated.and_then(|name| nodes.iter().find(|n| n.name == name)) {
        if run_filters(plugins, &state, pod, node).is_success() {
            return Ok(node.name.clone());
        }
    }
    let wanted = num_feasible_nodes_with(nodes.len(), percentage);
    let mut feasible: Vec<&NodeInfo> = Vec::new();
    let mut processed = 0;
    for offset in 0..nodes.len() {
        if feasible.len() >= wanted {
            break;
        }
        let node = nodes[(*start + offset) % nodes.len()];
        processed += 1;
        let status = run_filters(plugins, &state, pod, node);
        if status.is_success() {
            feasible.push(node);
        } else {
            fit.statuses.insert(node.name.clone(), status);
        }
    }
    *start = (*start + processed) % nodes.len();
    match feasible.len() {
        0 => return Err(CycleError::Fit(fit)),
        1 => return Ok(feasible[0].name.clone()),
        _ => {}
    }
    let totals = score_nodes(plugins, &mut state, pod, &feasible, nodes);
    Ok(select_host(&feasible, &totals))
}

/// Weighted, normalized scores of the feasible nodes (upstream's `prioritizeNodes`).
pub fn score_nodes(
    plugins: &[Box<dyn Plugin>],
    state: &mut CycleState,
    pod: &PodInfo,
    feasible: &[&NodeInfo],
    all: &[&NodeInfo],
) -> Vec<i64> {
    let mut totals = vec![0i64; feasible.len()];
    for plugin in plugins.iter().filter(|p| p.score_weight() > 0) {
        let status = plugin.pre_score(state, pod, feasible, all);
        if status.code == Code::Skip || !status.is_success() {
            continue;
        }
        let mut scores: Vec<i64> = feasible
            .iter()
            .map(|n| plugin.score(state, pod, n))
            .collect();
        plugin.normalize(state, &mut scores);
        for (total, score) in totals.iter_mut().zip(scores) {
            *total += score * plugin.score_weight();
        }
    }
    totals
}

/// The best-scoring node, ties broken uniformly at random (reservoir sampling).
fn select_host(nodes: &[&NodeInfo], scores: &[i64]) -> String {
    let mut best = 0;
    let mut ties = 1u64;
    for i in 1..nodes.len() {
        if scores[i] > scores[best] {
            best = i;
            ties = 1;
        } else if scores[i] == scores[best] {
            ties += 1;
            if fastrand::u64(0..ties) == 0 {
                best = i;
            }
        }
    }
    nodes[best].name.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Status;

    #[test]
    fn fit_error_message_is_upstreams() {
        let mut fit = FitError {
            num_nodes: 3,
            ..FitError::default()
        };
        fit.statuses.insert(
            "a".into(),
            Status::unschedulable("NodeResourcesFit", "Insufficient cpu"),
        );
        for n in ["b", "c"] {
            fit.statuses.insert(
                n.into(),
                Status::unresolvable(
                    "TaintToleration",
                    "node(s) had untolerated taint {key: value}",
                ),
            );
        }
        fit.post_filter_msg = Some(
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling"
                .into(),
        );
        assert_eq!(
            fit.message(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {key: value}. \
             preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn feasible_node_counts() {
        assert_eq!(num_feasible_nodes_to_find(50), 50);
        assert_eq!(num_feasible_nodes_to_find(1000), 420);
        assert_eq!(num_feasible_nodes_to_find(5000), 500);
        assert_eq!(num_feasible_nodes_with(1000, 30), 300);
        assert_eq!(num_feasible_nodes_with(1000, 5), 100);
        assert_eq!(num_feasible_nodes_with(50, 10), 50);
    }
}
