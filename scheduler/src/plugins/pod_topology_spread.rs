//! PodTopologySpread: `DoNotSchedule` constraints keep matching pods within `maxSkew` of the
//! least-loaded domain; `ScheduleAnyway` constraints prefer less-loaded domains (weight 2).

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::node_affinity::required_matches;
use crate::config::args::{DefaultConstraint, SpreadArgs};
use crate::framework::labels::{selector_matches, tolerated};
use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE};

/// Upstream's `ErrReasonConstraintsNotMatch`.
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// Upstream's `ErrReasonNodeLabelNotMatch`.
pub const REASON_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// Where the caller puts the pod's default selector (its Services' and controller's) for
/// the system default constraints; absent when nothing selects the pod.
pub const DEFAULT_SELECTOR: &str = "PodTopologySpread/defaultSelector";

const FILTER_STATE: &str = "PodTopologySpread/filter";
const SCORE_STATE: &str = "PodTopologySpread/score";

/// A constraint with its selector made final (`matchLabelKeys` merged in).
struct Constraint {
    max_skew: i64,
    key: String,
    selector: Option<LabelSelector>,
    min_domains: usize,
    honor_affinity: bool,
    honor_taints: bool,
}

fn constraints(pod: &PodInfo, action: &str) -> Vec<Constraint> {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.when_unsatisfiable == action)
        .map(|c: &TopologySpreadConstraint| {
            let mut selector = c.label_selector.clone();
            if let Some(sel) = selector.as_mut() {
                for key in c.match_label_keys.iter().flatten() {
                    if let Some(value) = pod.labels.get(key) {
                        sel.match_labels
                            .get_or_insert_with(BTreeMap::new)
                            .insert(key.clone(), value.clone());
                    }
                }
            }
            Constraint {
                max_skew: i64::from(c.max_skew),
                key: c.topology_key.clone(),
                selector,
                min_domains: c
                    .min_domains
                    .and_then(|m| usize::try_from(m).ok())
                    .unwrap_or(1),
                honor_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
                honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
            }
        })
        .collect()
}

/// Upstream's system default constraints (`defaultingType: System`): spread by host (max
/// skew 3) and zone (max skew 5), `ScheduleAnyway`, over the pod's default selector.
fn system_defaults(selector: &LabelSelector) -> Vec<Constraint> {
    [
        ("kubernetes.io/hostname", 3),
        ("topology.kubernetes.io/zone", 5),
    ]
    .into_iter()
    .map(|(key, max_skew)| Constraint {
        max_skew,
        key: key.to_owned(),
        selector: Some(selector.clone()),
        min_domains: 1,
        honor_affinity: true,
        honor_taints: false,
    })
    .collect()
}

/// `defaultingType: List` constraints for `action`, over the pod's default selector.
fn listed_defaults(
    defaults: &[DefaultConstraint],
    selector: &LabelSelector,
    action: &str,
) -> Vec<Constraint> {
    defaults
        .iter()
        .filter(|d| d.when_unsatisfiable == action)
        .map(|d| Constraint {
            max_skew: d.max_skew,
            key: d.topology_key.clone(),
            selector: Some(selector.clone()),
            min_domains: 1,
            honor_affinity: true,
            honor_taints: false,
        })
        .collect()
}

fn matches(selector: Option<&LabelSelector>, pod: &PodInfo) -> bool {
    selector.is_some_and(|s| selector_matches(s, &pod.labels))
}

/// Whether the node counts for spreading: passes the policies and (unless the constraints
/// are the system defaults, where a missing key only skips that constraint) has every key.
fn eligible(pod: &PodInfo, constraints: &[Constraint], node: &NodeInfo, all_keys: bool) -> bool {
    constraints.iter().all(|c| {
        (!all_keys || node.labels.contains_key(&c.key))
            && (!c.honor_affinity || required_matches(&pod.pod, node))
            && (!c.honor_taints
                || node.taints().iter().all(|t| {
                    !matches!(t.effect.as_str(), "NoSchedule" | "NoExecute")
                        || tolerated(pod.tolerations(), t)
                }))
    })
}

fn count_on(pod: &PodInfo, c: &Constraint, node: &NodeInfo) -> i64 {
    let n = node
        .pods
        .iter()
        .filter(|p| {
            p.namespace == pod.namespace && !p.terminating() && matches(c.selector.as_ref(), p)
        })
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Per constraint: matching pods per domain, and the global minimum.
struct FilterState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
    minimums: Vec<i64>,
}

/// Per constraint: matching pods per domain and the domain-count weight.
struct ScoreState {
    constraints: Vec<Constraint>,
    /// The system defaults: nodes lacking a key skip that constraint, not the plugin.
    system: bool,
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
}

/// The PodTopologySpread filter and score.
#[derive(Debug, Default)]
pub struct PodTopologySpread {
    /// `None`: the system defaults; `Some`: the configured list.
    defaults: Option<Vec<DefaultConstraint>>,
}

impl PodTopologySpread {
    /// The plugin with `args` (`pluginConfig`).
    pub fn new(args: SpreadArgs) -> Self {
        Self {
            defaults: args.defaults,
        }
    }

    /// The pod's own constraints for `action`, or else the defaults over its default
    /// selector; and whether those are the system defaults.
    fn constraints_for(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        action: &str,
    ) -> (Vec<Constraint>, bool) {
        let own = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_ref())
            .is_some_and(|c| !c.is_empty());
        if own {
            return (constraints(pod, action), false);
        }
        let selector = state.read::<LabelSelector>(DEFAULT_SELECTOR);
        match (&self.defaults, selector) {
            (None, Some(selector)) if action == "ScheduleAnyway" => {
                (system_defaults(selector), true)
            }
            (None, _) => (Vec::new(), true),
            (Some(list), Some(selector)) => (listed_defaults(list, selector, action), false),
            (Some(_), None) => (Vec::new(), false),
        }
    }
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }
    fn filters(&self) -> bool {
        true
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, nodes: &[&NodeInfo]) -> Status {
        let (constraints, _) = self.constraints_for(state, pod, "DoNotSchedule");
        if constraints.is_empty() {
            return Status::skip();
        }
        let mut counts = vec![HashMap::new(); constraints.len()];
        for node in nodes
            .iter()
            .filter(|n| eligible(pod, &constraints, n, true))
        {
            for (i, c) in constraints.iter().enumerate() {
                if let Some(value) = node.labels.get(&c.key) {
                    *counts[i].entry(value.clone()).or_insert(0) += count_on(pod, c, node);
                }
            }
        }
        let minimums = constraints
            .iter()
            .zip(&counts)
            .map(|(c, domains)| {
                if domains.len() < c.min_domains {
                    0
                } else {
                    domains.values().copied().min().unwrap_or(0)
                }
            })
            .collect();
        state.write(
            FILTER_STATE,
            FilterState {
                constraints,
                counts,
                minimums,
            },
        );
        Status::success()
    }
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<FilterState>(FILTER_STATE) else {
            return Status::success();
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.labels.get(&c.key) else {
                return Status::unresolvable(self.name(), REASON_MISSING_LABEL);
            };
            let own = i64::from(matches(c.selector.as_ref(), pod));
            let here = s.counts[i].get(value).copied().unwrap_or(0);
            if here + own - s.minimums[i] > c.max_skew {
                return Status::unschedulable(self.name(), REASON);
            }
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
        feasible: &[&NodeInfo],
        all: &[&NodeInfo],
    ) -> Status {
        let (constraints, system) = self.constraints_for(state, pod, "ScheduleAnyway");
        if constraints.is_empty() {
            return Status::skip();
        }
        let mut counts = vec![HashMap::new(); constraints.len()];
        for node in all
            .iter()
            .filter(|n| eligible(pod, &constraints, n, !system))
        {
            for (i, c) in constraints.iter().enumerate() {
                if let Some(value) = node.labels.get(&c.key) {
                    *counts[i].entry(value.clone()).or_insert(0) += count_on(pod, c, node);
                }
            }
        }
        let weights = constraints
            .iter()
            .map(|c| {
                let mut domains: Vec<&String> = feasible
                    .iter()
                    .filter_map(|n| n.labels.get(&c.key))
                    .collect();
                domains.sort();
                domains.dedup();
                #[allow(clippy::cast_precision_loss)]
                let size = domains.len() as f64;
                (size + 2.0).ln()
            })
            .collect();
        state.write(
            SCORE_STATE,
            ScoreState {
                constraints,
                system,
                counts,
                weights,
            },
        );
        Status::success()
    }
    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(s) = state.read::<ScoreState>(SCORE_STATE) else {
            return 0;
        };
        let mut score = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.labels.get(&c.key) else {
                if s.system {
                    continue;
                }
                return i64::MIN;
            };
            let count = s.counts[i].get(value).copied().unwrap_or(0);
            #[allow(clippy::cast_precision_loss)]
            {
                score += count as f64 * s.weights[i] + (c.max_skew - 1) as f64;
            }
        }
        #[allow(clippy::cast_possible_truncation)]
        let rounded = score.round() as i64;
        rounded
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        let counted = scores.iter().copied().filter(|s| *s != i64::MIN);
        let max = counted.clone().max().unwrap_or(0);
        let min = counted.min().unwrap_or(0);
        for score in scores.iter_mut() {
            *score = if *score == i64::MIN {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
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

    fn spread(action: &str) -> PodInfo {
        pod(
            json!({"metadata": {"name": "new", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}],
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": action,
                "labelSelector": {"matchLabels": {"app": "web"}}}]}}),
        )
    }

    #[test]
    fn skew_is_bounded() {
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"zone": "z1"}}}),
            vec![web("w1")],
        );
        let b = node(json!({"metadata": {"name": "b", "labels": {"zone": "z2"}}}));
        let bare = node(json!({"metadata": {"name": "c"}}));
        let p = spread("DoNotSchedule");
        let mut state = CycleState::default();
        PodTopologySpread::default().pre_filter(&mut state, &p, &[&a, &b, &bare]);
        assert_eq!(
            PodTopologySpread::default().filter(&state, &p, &a).reasons,
            [REASON]
        );
        assert!(PodTopologySpread::default()
            .filter(&state, &p, &b)
            .is_success());
        assert_eq!(
            PodTopologySpread::default()
                .filter(&state, &p, &bare)
                .reasons,
            [REASON_MISSING_LABEL]
        );
    }

    #[test]
    fn min_domains_counts_missing_domains_as_empty() {
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"zone": "z1"}}}),
            vec![web("w1")],
        );
        let mut p = spread("DoNotSchedule");
        let mut raw = (*p.pod).clone();
        if let Some(c) = raw
            .spec
            .as_mut()
            .and_then(|s| s.topology_spread_constraints.as_mut())
        {
            c[0].min_domains = Some(2);
        }
        p = PodInfo::new(std::sync::Arc::new(raw), 0);
        let mut state = CycleState::default();
        PodTopologySpread::default().pre_filter(&mut state, &p, &[&a]);
        // One domain of two: the minimum is 0, so z1 (1 + 1 - 0 > 1) is full.
        assert!(!PodTopologySpread::default()
            .filter(&state, &p, &a)
            .is_success());
    }

    #[test]
    fn schedule_anyway_prefers_emptier_domains() {
        let a = node_with(
            json!({"metadata": {"name": "a", "labels": {"zone": "z1"}}}),
            vec![web("w1"), web("w2")],
        );
        let b = node(json!({"metadata": {"name": "b", "labels": {"zone": "z2"}}}));
        let p = spread("ScheduleAnyway");
        let mut state = CycleState::default();
        let nodes = [&a, &b];
        PodTopologySpread::default().pre_score(&mut state, &p, &nodes, &nodes);
        let mut scores = [
            PodTopologySpread::default().score(&state, &p, &a),
            PodTopologySpread::default().score(&state, &p, &b),
        ];
        PodTopologySpread::default().normalize(&state, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
    }

    #[test]
    fn system_defaults_spread_a_group_by_host() {
        let host = |name: &str| json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}});
        let a = node_with(host("a"), vec![web("w1"), web("w2")]);
        let b = node(host("b"));
        let p = pod(json!({"metadata": {"name": "new", "labels": {"app": "web"}}}));
        let mut state = CycleState::default();
        let nodes = [&a, &b];
        // Nothing selects the pod: no default constraints.
        assert_eq!(
            PodTopologySpread::default()
                .pre_score(&mut state, &p, &nodes, &nodes)
                .code,
            crate::framework::Code::Skip
        );
        let selector: LabelSelector =
            serde_json::from_value(json!({"matchLabels": {"app": "web"}})).expect("selector");
        state.write(DEFAULT_SELECTOR, selector);
        assert!(PodTopologySpread::default()
            .pre_score(&mut state, &p, &nodes, &nodes)
            .is_success());
        let mut scores = [
            PodTopologySpread::default().score(&state, &p, &a),
            PodTopologySpread::default().score(&state, &p, &b),
        ];
        PodTopologySpread::default().normalize(&state, &mut scores);
        // No zone labels: only the host constraint counts, and b has fewer of the group.
        assert!(scores[1] > scores[0], "{scores:?}");
    }

    #[test]
    fn listed_defaults_filter_and_score() {
        let zone = |name: &str, z: &str| json!({"metadata": {"name": name, "labels": {"zone": z}}});
        let a = node_with(zone("a", "z1"), vec![web("w1")]);
        let b = node(zone("b", "z2"));
        let bare = node(json!({"metadata": {"name": "c"}}));
        let p = pod(json!({"metadata": {"name": "new", "labels": {"app": "web"}}}));
        let plugin = PodTopologySpread::new(SpreadArgs {
            defaults: Some(vec![DefaultConstraint {
                max_skew: 1,
                topology_key: "zone".to_owned(),
                when_unsatisfiable: "DoNotSchedule".to_owned(),
            }]),
        });
        let mut state = CycleState::default();
        // Without a default selector there is nothing to spread.
        assert_eq!(
            plugin.pre_filter(&mut state, &p, &[&a, &b, &bare]).code,
            crate::framework::Code::Skip
        );
        let selector: LabelSelector =
            serde_json::from_value(json!({"matchLabels": {"app": "web"}})).expect("selector");
        state.write(DEFAULT_SELECTOR, selector);
        assert!(plugin
            .pre_filter(&mut state, &p, &[&a, &b, &bare])
            .is_success());
        assert_eq!(plugin.filter(&state, &p, &a).reasons, [REASON]);
        assert!(plugin.filter(&state, &p, &b).is_success());
        assert_eq!(
            plugin.filter(&state, &p, &bare).reasons,
            [REASON_MISSING_LABEL]
        );
        // The list has no ScheduleAnyway constraint: no scoring.
        let nodes = [&a, &b];
        assert_eq!(
            plugin.pre_score(&mut state, &p, &nodes, &nodes).code,
            crate::framework::Code::Skip
        );
    }
}
