//! DefaultPreemption (PostFilter): when no node fits, find the node where evicting the
//! fewest, least important lower-priority pods makes room, as upstream's evaluator does.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cycle::{run_filters, run_pre_filters, FitError};
use crate::framework::{Code, CycleState, NodeInfo, Plugin, PodInfo, Status};

/// Puts the cluster objects a cycle reads (namespaces, volumes) into a fresh state.
pub type Seed<'a> = &'a dyn Fn(&mut CycleState);

/// Upstream's message for nodes preemption cannot help.
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// Upstream's message for nodes without lower-priority pods.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// What preemption decided.
#[derive(Debug)]
pub enum Preemption {
    /// Evict `victims` from `node` and nominate it.
    Victims {
        /// The nominated node.
        node: String,
        /// Pods to evict.
        victims: Vec<Arc<PodInfo>>,
    },
    /// Nothing to do; the message goes after the fit error.
    Failed(String),
    /// Preemption ran and found no node: the message, and the pod's nomination (if any)
    /// is cleared, as upstream's `NewPostFilterResultWithNominatedNode("")`.
    NoCandidates(String),
}

fn more_important(a: &PodInfo, b: &PodInfo) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| a.created.cmp(&b.created))
}

/// Whether the pod may preempt at all (upstream's `PodEligibleToPreemptOthers`).
fn eligible(pod: &PodInfo, nodes: &[&NodeInfo]) -> Result<(), String> {
    let spec = pod.pod.spec.as_ref();
    if spec.and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Err("not eligible due to preemptionPolicy=Never.".to_owned());
    }
    let nominated = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty());
    if let Some(node) = nominated.and_then(|n| nodes.iter().find(|node| node.name == n)) {
        if node
            .pods
            .iter()
            .any(|p| p.terminating() && p.priority < pod.priority)
        {
            return Err("not eligible due to a terminating pod on the nominated node.".to_owned());
        }
    }
    Ok(())
}

/// Whether PreFilter state can depend on which pods a node holds: the pod spreads or has
/// pod (anti-)affinity, or one of the pods that may go has required anti-affinity.
fn state_depends_on_pods(pod: &PodInfo, removable: &[Arc<PodInfo>]) -> bool {
    let spec = pod.pod.spec.as_ref();
    let spreads = spec
        .and_then(|s| s.topology_spread_constraints.as_ref())
        .is_some_and(|c| !c.is_empty());
    let affinity = spec.and_then(|s| s.affinity.as_ref());
    let pod_affinity =
        affinity.is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some());
    spreads
        || pod_affinity
        || removable.iter().any(|p| {
            p.pod
                .spec
                .as_ref()
                .and_then(|s| s.affinity.as_ref())
                .and_then(|a| a.pod_anti_affinity.as_ref())
                .is_some()
        })
}

/// Checks `pod` against `node` as it would be: with `base` (the PreFilter state of the
/// cluster as it is) when that state cannot change, else recomputed over `nodes` where
/// `node` replaces its original.
fn fits(
    plugins: &[Box<dyn Plugin>],
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    node: &NodeInfo,
    base: Option<&CycleState>,
    seed: Seed<'_>,
) -> Status {
    if let Some(state) = base {
        return run_filters(plugins, state, pod, node);
    }
    let view: Vec<&NodeInfo> = nodes
        .iter()
        .map(|n| if n.name == node.name { node } else { *n })
        .collect();
    let mut state = CycleState::default();
    seed(&mut state);
    if let Err(status) = run_pre_filters(plugins, &mut state, pod, &view) {
        return status;
    }
    run_filters(plugins, &state, pod, node)
}

/// Upstream's `SelectVictimsOnNode`: remove every lower-priority pod, check the pod fits,
/// then put back the most important ones that still leave room.
fn victims_on(
    plugins: &[Box<dyn Plugin>],
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    node: &NodeInfo,
    base: &CycleState,
    seed: Seed<'_>,
) -> Result<Vec<Arc<PodInfo>>, Status> {
    let mut trial = node.clone();
    let mut potential: Vec<Arc<PodInfo>> = node
        .pods
        .iter()
        .filter(|p| p.priority < pod.priority)
        .cloned()
        .collect();
    if potential.is_empty() {
        return Err(Status::unresolvable("DefaultPreemption", NO_VICTIMS));
    }
    for victim in &potential {
        trial.remove_pod(&victim.key);
    }
    let base = (!state_depends_on_pods(pod, &potential)).then_some(base);
    let status = fits(plugins, pod, nodes, &trial, base, seed);
    if !status.is_success() {
        return Err(status);
    }
    potential.sort_by(|a, b| more_important(a, b));
    let mut victims = Vec::new();
    for candidate in potential {
        trial.add_pod(candidate.clone());
        if !fits(plugins, pod, nodes, &trial, base, seed).is_success() {
            trial.remove_pod(&candidate.key);
            victims.push(candidate);
        }
    }
    Ok(victims)
}

/// How a candidate compares (lower is better): the highest victim priority, the sum of
/// victim priorities, the number of victims (upstream's `pickOneNodeForPreemption`).
type CandidateRank = (i32, i64, usize);

/// Runs preemption for `pod` after `fit` failed it on every node.
pub fn preempt(
    plugins: &[Box<dyn Plugin>],
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    fit: &FitError,
    seed: Seed<'_>,
) -> Preemption {
    if let Err(message) = eligible(pod, nodes) {
        return Preemption::Failed(format!("preemption: {message}"));
    }
    let mut base = CycleState::default();
    seed(&mut base);
    let any_candidate = fit.statuses.values().any(|s| s.code == Code::Unschedulable);
    if any_candidate {
        if let Err(status) = run_pre_filters(plugins, &mut base, pod, nodes) {
            return Preemption::Failed(format!("preemption: {}", status.reasons.join(", ")));
        }
    }
    // Upstream's dry run stops after max(10% of nodes, 100) candidates, from a random node.
    let wanted = (nodes.len() / 10).max(100).min(nodes.len());
    let offset = fastrand::usize(0..nodes.len().max(1));
    let mut found = 0;
    let mut statuses: BTreeMap<String, Status> = BTreeMap::new();
    let mut best: Option<(CandidateRank, String, Vec<Arc<PodInfo>>)> = None;
    for i in 0..nodes.len() {
        let node = nodes[(offset + i) % nodes.len()];
        if found >= wanted {
            break;
        }
        let helps = fit
            .statuses
            .get(&node.name)
            .is_some_and(|s| s.code == Code::Unschedulable);
        if !helps {
            statuses.insert(
                node.name.clone(),
                Status::unresolvable("DefaultPreemption", NOT_HELPFUL),
            );
            continue;
        }
        match victims_on(plugins, pod, nodes, node, &base, seed) {
            Ok(victims) => {
                found += 1;
                let key = (
                    victims.iter().map(|v| v.priority).max().unwrap_or(i32::MIN),
                    victims.iter().map(|v| i64::from(v.priority)).sum(),
                    victims.len(),
                );
                if best.as_ref().is_none_or(|(k, _, _)| key < *k) {
                    best = Some((key, node.name.clone(), victims));
                }
            }
            Err(status) => {
                statuses.insert(node.name.clone(), status);
            }
        }
    }
    match best {
        Some((_, node, victims)) => Preemption::Victims { node, victims },
        None => {
            let error = FitError {
                num_nodes: nodes.len(),
                statuses,
                ..FitError::default()
            };
            let message = error.message();
            Preemption::NoCandidates(format!("preemption: {}", message.trim_end_matches('.')))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cycle::{schedule_pod, CycleError};
    use crate::plugins::default_plugins;
    use crate::plugins::testing::{node, node_with};
    use serde_json::json;

    fn asking(name: &str, cpu: &str, priority: i32) -> PodInfo {
        let raw =
            serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}}))
            .expect("pod");
        PodInfo::new(Arc::new(raw), priority)
    }

    fn sized(name: &str) -> serde_json::Value {
        json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "10"}}})
    }

    fn fit_error(plugins: &[Box<dyn Plugin>], pod: &PodInfo, nodes: &[&NodeInfo]) -> FitError {
        match schedule_pod(plugins, pod, nodes, &mut 0, CycleState::default()) {
            Err(CycleError::Fit(fit)) => fit,
            other => panic!("expected a fit error, got {other:?}"),
        }
    }

    #[test]
    fn evicts_the_fewest_lowest_priority_pods() {
        let plugins = default_plugins();
        let a = node_with(
            sized("a"),
            vec![asking("a1", "1", 10), asking("a2", "1", 10)],
        );
        let b = node_with(sized("b"), vec![asking("b1", "1500m", 5)]);
        let pod = asking("big", "1", 100);
        let nodes = [&a, &b];
        let fit = fit_error(&plugins, &pod, &nodes);
        match preempt(&plugins, &pod, &nodes, &fit, &|_| {}) {
            Preemption::Victims { node, victims } => {
                assert_eq!(node, "b");
                assert_eq!(
                    victims.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
                    ["b1"]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_helpful_wording() {
        let plugins = default_plugins();
        let a = node(sized("a"));
        let tainted = node(
            json!({"metadata": {"name": "t"}, "spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]},
            "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "10"}}}),
        );
        let pod = asking("big", "3", 0);
        let nodes = [&a, &tainted];
        let fit = fit_error(&plugins, &pod, &nodes);
        let Preemption::NoCandidates(message) = preempt(&plugins, &pod, &nodes, &fit, &|_| {})
        else {
            panic!("expected failure");
        };
        let mut fit = fit;
        fit.post_filter_msg = Some(message);
        assert_eq!(
            fit.message(),
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
    }
}
