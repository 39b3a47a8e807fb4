//! InterPodAffinity: required pod affinity and anti-affinity (the incoming pod's and the
//! existing pods') per topology domain; preferred terms score (weight 2).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Affinity, PodAffinityTerm};

use crate::framework::labels::{selector_is_empty, selector_matches};
use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE};

/// Upstream's `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const REASON_EXISTING_ANTI: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// Upstream's `ErrReasonAffinityRulesNotMatch`.
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// Upstream's `ErrReasonAntiAffinityRulesNotMatch`.
pub const REASON_ANTI: &str = "node(s) didn't match pod anti-affinity rules";

const FILTER_STATE: &str = "InterPodAffinity/filter";
const SCORE_STATE: &str = "InterPodAffinity/score";

type Pair = (String, String);

/// Namespace name → labels, for terms' `namespaceSelector`.
pub type NamespaceLabels = HashMap<String, crate::framework::labels::Labels>;

/// Where the caller puts an `Arc<NamespaceLabels>` for the cycle.
pub const NAMESPACE_LABELS: &str = "InterPodAffinity/namespaces";

fn namespaces_of(state: &CycleState) -> Arc<NamespaceLabels> {
    state
        .read::<Arc<NamespaceLabels>>(NAMESPACE_LABELS)
        .cloned()
        .unwrap_or_default()
}

fn affinity(pod: &PodInfo) -> Option<&Affinity> {
    pod.pod.spec.as_ref()?.affinity.as_ref()
}

fn required_affinity(pod: &PodInfo) -> &[PodAffinityTerm] {
    affinity(pod)
        .and_then(|a| a.pod_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default()
}

fn required_anti(pod: &PodInfo) -> &[PodAffinityTerm] {
    affinity(pod)
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default()
}

fn preferred(pod: &PodInfo, anti: bool) -> Vec<(i64, &PodAffinityTerm)> {
    let Some(a) = affinity(pod) else {
        return Vec::new();
    };
    let terms = if anti {
        a.pod_anti_affinity.as_ref().and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
    } else {
        a.pod_affinity.as_ref().and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
    };
    terms
        .into_iter()
        .flatten()
        .map(|t| (i64::from(t.weight), &t.pod_affinity_term))
        .collect()
}

/// Whether `term`, written by a pod in `owner`'s namespace, selects `target` (its
/// namespaces, label selector, and `matchLabelKeys`/`mismatchLabelKeys` against the owner).
fn term_matches(
    term: &PodAffinityTerm,
    owner: &PodInfo,
    target: &PodInfo,
    namespaces_labels: &NamespaceLabels,
) -> bool {
    let namespaces = term.namespaces.as_deref().unwrap_or_default();
    let namespace_ok = match term.namespace_selector.as_ref() {
        None if namespaces.is_empty() => target.namespace == owner.namespace,
        None => namespaces.contains(&target.namespace),
        Some(selector) => {
            namespaces.contains(&target.namespace)
                || selector_is_empty(selector)
                || namespaces_labels
                    .get(&target.namespace)
                    .is_some_and(|labels| selector_matches(selector, labels))
        }
    };
    if !namespace_ok {
        return false;
    }
    let Some(selector) = term.label_selector.as_ref() else {
        return false;
    };
    let mut selector = selector.clone();
    for key in term.match_label_keys.iter().flatten() {
        if let Some(value) = owner.labels.get(key) {
            selector
                .match_labels
                .get_or_insert_with(BTreeMap::new)
                .insert(key.clone(), value.clone());
        }
    }
    for key in term.mismatch_label_keys.iter().flatten() {
        if let Some(value) = owner.labels.get(key) {
            if target.labels.get(key) == Some(value) {
                return false;
            }
        }
    }
    selector_matches(&selector, &target.labels)
}

fn pair(node: &NodeInfo, key: &str) -> Option<Pair> {
    node.labels.get(key).map(|v| (key.to_owned(), v.clone()))
}

/// Counts per topology domain for the filter.
#[derive(Default)]
struct FilterState {
    existing_anti: HashMap<Pair, i64>,
    affinity: HashMap<Pair, i64>,
    anti: HashMap<Pair, i64>,
}

/// The InterPodAffinity filter and score.
#[derive(Debug)]
pub struct InterPodAffinity {
    /// `hardPodAffinityWeight`: what an existing pod's required affinity term matching the
    /// incoming pod adds to its domain's score.
    hard_weight: i64,
}

impl InterPodAffinity {
    /// The plugin with `hardPodAffinityWeight` = `hard_weight`.
    pub fn new(hard_weight: i64) -> Self {
        Self { hard_weight }
    }
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        Self::new(crate::config::args::AffinityArgs::default().hard_pod_affinity_weight)
    }
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }
    fn filters(&self) -> bool {
        true
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, nodes: &[&NodeInfo]) -> Status {
        let ns = namespaces_of(state);
        let mut s = FilterState::default();
        let affinity_terms = required_affinity(pod);
        let anti_terms = required_anti(pod);
        for node in nodes {
            for existing in &node.pods {
                for term in required_anti(existing) {
                    if term_matches(term, existing, pod, &ns) {
                        if let Some(p) = pair(node, &term.topology_key) {
                            *s.existing_anti.entry(p).or_default() += 1;
                        }
                    }
                }
                if !affinity_terms.is_empty()
                    && affinity_terms
                        .iter()
                        .all(|t| term_matches(t, pod, existing, &ns))
                {
                    for term in affinity_terms {
                        if let Some(p) = pair(node, &term.topology_key) {
                            *s.affinity.entry(p).or_default() += 1;
                        }
                    }
                }
                for term in anti_terms {
                    if term_matches(term, pod, existing, &ns) {
                        if let Some(p) = pair(node, &term.topology_key) {
                            *s.anti.entry(p).or_default() += 1;
                        }
                    }
                }
            }
        }
        state.write(FILTER_STATE, s);
        Status::success()
    }
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<FilterState>(FILTER_STATE) else {
            return Status::success();
        };
        let ns = namespaces_of(state);
        let hits = |counts: &HashMap<Pair, i64>| {
            node.labels
                .iter()
                .any(|(k, v)| counts.get(&(k.clone(), v.clone())).is_some_and(|c| *c > 0))
        };
        if hits(&s.existing_anti) {
            return Status::unschedulable(self.name(), REASON_EXISTING_ANTI);
        }
        let terms = required_affinity(pod);
        let mut all_present = true;
        for term in terms {
            match pair(node, &term.topology_key) {
                Some(p) => all_present &= s.affinity.get(&p).is_some_and(|c| *c > 0),
                None => return Status::unresolvable(self.name(), REASON_AFFINITY),
            }
        }
        if !all_present {
            let first_of_its_kind =
                s.affinity.is_empty() && terms.iter().all(|t| term_matches(t, pod, pod, &ns));
            if !first_of_its_kind {
                return Status::unresolvable(self.name(), REASON_AFFINITY);
            }
        }
        let anti_hit = required_anti(pod).iter().any(|term| {
            pair(node, &term.topology_key).is_some_and(|p| s.anti.get(&p).is_some_and(|c| *c > 0))
        });
        if anti_hit {
            return Status::unschedulable(self.name(), REASON_ANTI);
        }
        Status::success()
    }
    fn score_weight(&self) -> i64 {
        2
    }
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        all: &[&NodeInfo],
    ) -> Status {
        let ns = namespaces_of(state);
        let mine_affinity = preferred(pod, false);
        let mine_anti = preferred(pod, true);
        let mut scores: HashMap<Pair, i64> = HashMap::new();
        let mut add = |node: &NodeInfo, key: &str, weight: i64| {
            if let Some(p) = pair(node, key) {
                *scores.entry(p).or_default() += weight;
            }
        };
        for node in all {
            for existing in &node.pods {
                for (weight, term) in &mine_affinity {
                    if term_matches(term, pod, existing, &ns) {
                        add(node, &term.topology_key, *weight);
                    }
                }
                for (weight, term) in &mine_anti {
                    if term_matches(term, pod, existing, &ns) {
                        add(node, &term.topology_key, -*weight);
                    }
                }
                for term in required_affinity(existing)
                    .iter()
                    .filter(|_| self.hard_weight > 0)
                {
                    if term_matches(term, existing, pod, &ns) {
                        add(node, &term.topology_key, self.hard_weight);
                    }
                }
                for (weight, term) in preferred(existing, false) {
                    if term_matches(term, existing, pod, &ns) {
                        add(node, &term.topology_key, weight);
                    }
                }
                for (weight, term) in preferred(existing, true) {
                    if term_matches(term, existing, pod, &ns) {
                        add(node, &term.topology_key, -weight);
                    }
                }
            }
        }
        if scores.is_empty() {
            return Status::skip();
        }
        state.write(SCORE_STATE, scores);
        Status::success()
    }
    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(scores) = state.read::<HashMap<Pair, i64>>(SCORE_STATE) else {
            return 0;
        };
        node.labels
            .iter()
            .filter_map(|(k, v)| scores.get(&(k.clone(), v.clone())))
            .sum()
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        let max = scores.iter().copied().max().unwrap_or(0);
        let min = scores.iter().copied().min().unwrap_or(0);
        let spread = max - min;
        for score in scores.iter_mut() {
            *score = if spread > 0 {
                MAX_NODE_SCORE * (*score - min) / spread
            } else {
                0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, node_with, pod};
    use serde_json::json;

    fn web(name: &str) -> PodInfo {
        pod(json!({"metadata": {"name": name, "labels": {"app": "web"}}}))
    }

    fn with_affinity(kind: &str, key: &str) -> PodInfo {
        pod(
            json!({"metadata": {"name": "new", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}],
            "affinity": {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": key}]}}}}),
        )
    }

    #[test]
    fn anti_affinity_keeps_pods_apart_per_domain() {
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"zone": "z1", "host": "a"}}}),
            vec![web("w1")],
        );
        let a2 = node(json!({"metadata": {"name": "a2", "labels": {"zone": "z1", "host": "a2"}}}));
        let b = node(json!({"metadata": {"name": "b", "labels": {"zone": "z2", "host": "b"}}}));
        let p = with_affinity("podAntiAffinity", "zone");
        let mut state = CycleState::default();
        InterPodAffinity::default().pre_filter(&mut state, &p, &[&a, &a2, &b]);
        assert_eq!(
            InterPodAffinity::default().filter(&state, &p, &a).reasons,
            [REASON_ANTI]
        );
        assert_eq!(
            InterPodAffinity::default().filter(&state, &p, &a2).reasons,
            [REASON_ANTI]
        );
        assert!(InterPodAffinity::default()
            .filter(&state, &p, &b)
            .is_success());
    }

    #[test]
    fn existing_anti_affinity_is_honoured() {
        let guard = pod(
            json!({"metadata": {"name": "guard"}, "spec": {"containers": [{"name": "c"}],
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "host"}]}}}}),
        );
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"host": "a"}}}),
            vec![guard],
        );
        let p = web("new");
        let mut state = CycleState::default();
        InterPodAffinity::default().pre_filter(&mut state, &p, &[&a]);
        assert_eq!(
            InterPodAffinity::default().filter(&state, &p, &a).reasons,
            [REASON_EXISTING_ANTI]
        );
    }

    #[test]
    fn affinity_follows_matching_pods_but_lets_the_first_in() {
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"zone": "z1"}}}),
            vec![web("w1")],
        );
        let b = node(json!({"metadata": {"name": "b", "labels": {"zone": "z2"}}}));
        let p = with_affinity("podAffinity", "zone");
        let mut state = CycleState::default();
        InterPodAffinity::default().pre_filter(&mut state, &p, &[&a, &b]);
        assert!(InterPodAffinity::default()
            .filter(&state, &p, &a)
            .is_success());
        assert_eq!(
            InterPodAffinity::default().filter(&state, &p, &b).reasons,
            [REASON_AFFINITY]
        );
        let mut first = CycleState::default();
        InterPodAffinity::default().pre_filter(&mut first, &p, &[&b]);
        assert!(InterPodAffinity::default()
            .filter(&first, &p, &b)
            .is_success());
    }

    #[test]
    fn preferred_affinity_scores() {
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"zone": "z1"}}}),
            vec![web("w1")],
        );
        let b = node(json!({"metadata": {"name": "b", "labels": {"zone": "z2"}}}));
        let p = pod(
            json!({"metadata": {"name": "new"}, "spec": {"containers": [{"name": "c"}],
            "affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10,
                "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "zone"}}]}}}}),
        );
        let mut state = CycleState::default();
        let nodes = [&a, &b];
        assert!(InterPodAffinity::default()
            .pre_score(&mut state, &p, &nodes, &nodes)
            .is_success());
        let mut scores = [
            InterPodAffinity::default().score(&state, &p, &a),
            InterPodAffinity::default().score(&state, &p, &b),
        ];
        InterPodAffinity::default().normalize(&state, &mut scores);
        assert_eq!(scores, [100, 0]);
    }

    #[test]
    fn namespace_selectors_use_namespace_labels() {
        let other =
            pod(json!({"metadata": {"name": "w", "namespace": "prod", "labels": {"app": "web"}}}));
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"host": "a"}}}),
            vec![other],
        );
        let p = pod(
            json!({"metadata": {"name": "new"}, "spec": {"containers": [{"name": "c"}],
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "host",
                 "namespaceSelector": {"matchLabels": {"env": "prod"}}}]}}}}),
        );
        let mut state = CycleState::default();
        InterPodAffinity::default().pre_filter(&mut state, &p, &[&a]);
        assert!(
            InterPodAffinity::default()
                .filter(&state, &p, &a)
                .is_success(),
            "namespace labels unknown"
        );
        let mut labels = NamespaceLabels::new();
        labels.insert(
            "prod".into(),
            [("env".to_owned(), "prod".to_owned())].into(),
        );
        let mut state = CycleState::default();
        state.write(NAMESPACE_LABELS, Arc::new(labels));
        InterPodAffinity::default().pre_filter(&mut state, &p, &[&a]);
        assert_eq!(
            InterPodAffinity::default().filter(&state, &p, &a).reasons,
            [REASON_ANTI]
        );
    }
}
