//! Turning a validated profile into the plugins a cycle runs: each implemented plugin,
//! built with its arguments, wrapped so it runs only at the points the profile enables and
//! scores with the profile's weight.

use super::merge::Point;
use super::ProfileConfig;
use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status};
use crate::plugins::{
    balanced_allocation, image_locality, inter_pod_affinity, node_affinity, node_name, node_ports,
    node_resources_fit, node_unschedulable, pod_topology_spread, taint_toleration, volume_binding,
};

/// A profile ready to schedule with.
pub struct Profile {
    /// Pods naming this scheduler are this profile's.
    pub scheduler_name: String,
    /// The plugins, in Filter order.
    pub plugins: Vec<Box<dyn Plugin>>,
    /// Whether DefaultPreemption runs at PostFilter.
    pub preemption: bool,
    /// Share of nodes to find feasible before scoring (0: adaptive).
    pub percentage_of_nodes_to_score: u32,
}

/// A plugin limited to the points its profile enables.
struct Configured {
    inner: Box<dyn Plugin>,
    pre_filter: bool,
    filter: bool,
    pre_score: bool,
    weight: i64,
}

impl Plugin for Configured {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn filters(&self) -> bool {
        self.filter && self.inner.filters()
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, nodes: &[&NodeInfo]) -> Status {
        if self.pre_filter {
            self.inner.pre_filter(state, pod, nodes)
        } else {
            Status::success()
        }
    }
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        self.inner.filter(state, pod, node)
    }
    fn score_weight(&self) -> i64 {
        if self.inner.score_weight() > 0 {
            self.weight
        } else {
            0
        }
    }
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        feasible: &[&NodeInfo],
        all: &[&NodeInfo],
    ) -> Status {
        if self.pre_score {
            self.inner.pre_score(state, pod, feasible, all)
        } else {
            Status::success()
        }
    }
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        self.inner.score(state, pod, node)
    }
    fn normalize(&self, state: &CycleState, scores: &mut [i64]) {
        self.inner.normalize(state, scores);
    }
}

/// The implemented plugin called `name`, built with the profile's arguments.
fn instantiate(name: &str, config: &ProfileConfig) -> Option<Box<dyn Plugin>> {
    let args = &config.args;
    Some(match name {
        "NodeUnschedulable" => Box::new(node_unschedulable::NodeUnschedulable),
        "NodeName" => Box::new(node_name::NodeName),
        "TaintToleration" => Box::new(taint_toleration::TaintToleration),
        "NodeAffinity" => Box::new(node_affinity::NodeAffinity),
        "NodePorts" => Box::new(node_ports::NodePorts),
        "NodeResourcesFit" => Box::new(node_resources_fit::NodeResourcesFit::new(args.fit.clone())),
        "VolumeBinding" => Box::new(volume_binding::VolumeBinding),
        "PodTopologySpread" => Box::new(pod_topology_spread::PodTopologySpread::new(
            args.spread.clone(),
        )),
        "InterPodAffinity" => Box::new(inter_pod_affinity::InterPodAffinity::new(
            args.affinity.hard_pod_affinity_weight,
        )),
        "NodeResourcesBalancedAllocation" => Box::new(balanced_allocation::BalancedAllocation),
        "ImageLocality" => Box::new(image_locality::ImageLocality),
        _ => return None,
    })
}

/// Builds the profile's plugins: Filter plugins in Filter order, then the others that
/// run at PreFilter, PreScore or Score.
pub fn build(config: &ProfileConfig) -> Profile {
    let resolved = &config.plugins;
    let mut names: Vec<&String> = Vec::new();
    for point in [
        Point::Filter,
        Point::PreFilter,
        Point::Score,
        Point::PreScore,
    ] {
        for name in resolved.at(point) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let mut plugins: Vec<Box<dyn Plugin>> = Vec::new();
    for name in names {
        let Some(inner) = instantiate(name, config) else {
            let profile = &config.scheduler_name;
            tracing::debug!(plugin = %name, %profile, "plugin not implemented; ignored");
            continue;
        };
        let score = resolved.runs(name, Point::Score);
        plugins.push(Box::new(Configured {
            inner,
            pre_filter: resolved.runs(name, Point::PreFilter),
            filter: resolved.runs(name, Point::Filter),
            pre_score: resolved.runs(name, Point::PreScore),
            weight: if score {
                resolved.weights.get(name).copied().unwrap_or(1)
            } else {
                0
            },
        }));
    }
    let preemption = resolved.runs("DefaultPreemption", Point::PostFilter);
    tracing::info!(
        profile = %config.scheduler_name,
        plugins = plugins.len(),
        preemption,
        percentage = config.percentage_of_nodes_to_score,
        "built scheduling profile"
    );
    Profile {
        scheduler_name: config.scheduler_name.clone(),
        plugins,
        preemption,
        percentage_of_nodes_to_score: config.percentage_of_nodes_to_score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn names(profile: &Profile, keep: impl Fn(&dyn Plugin) -> bool) -> Vec<&'static str> {
        profile
            .plugins
            .iter()
            .filter(|p| keep(p.as_ref()))
            .map(|p| p.name())
            .collect()
    }

    #[test]
    fn the_default_profile_matches_the_default_plugins() {
        let profile = build(&ProfileConfig::default_named("default-scheduler"));
        let defaults = crate::plugins::default_plugins();
        let expected: Vec<(&str, bool, i64)> = defaults
            .iter()
            .map(|p| (p.name(), p.filters(), p.score_weight()))
            .collect();
        let got: Vec<(&str, bool, i64)> = profile
            .plugins
            .iter()
            .map(|p| (p.name(), p.filters(), p.score_weight()))
            .collect();
        assert_eq!(got, expected);
        assert!(profile.preemption);
    }

    #[test]
    fn disabled_points_and_weights_take_effect() {
        let config = parse(
            r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    filter:
      disabled:
      - name: TaintToleration
    score:
      enabled:
      - name: ImageLocality
        weight: 9
    postFilter:
      disabled:
      - name: '*'
"#,
        )
        .expect("config");
        let profile = build(&config.profiles[0]);
        assert!(!names(&profile, |p| p.filters()).contains(&"TaintToleration"));
        let weight = profile
            .plugins
            .iter()
            .find(|p| p.name() == "ImageLocality")
            .map(|p| p.score_weight());
        assert_eq!(weight, Some(9));
        assert!(!profile.preemption);
    }
}
