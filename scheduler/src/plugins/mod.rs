//! The default plugins, in upstream's default profile order (filters run in this order and
//! stop at a node's first failure; scores are weighted as upstream's defaults).

pub mod balanced_allocation;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;
#[cfg(test)]
pub mod testing;
pub mod volume_binding;

use crate::framework::Plugin;

/// Upstream's default profile (the plugins this scheduler implements).
pub fn default_plugins() -> Vec<Box<dyn Plugin>> {
    vec![
        Box::new(node_unschedulable::NodeUnschedulable),
        Box::new(node_name::NodeName),
        Box::new(taint_toleration::TaintToleration),
        Box::new(node_affinity::NodeAffinity),
        Box::new(node_ports::NodePorts),
        Box::new(node_resources_fit::NodeResourcesFit::default()),
        Box::new(volume_binding::VolumeBinding),
        Box::new(pod_topology_spread::PodTopologySpread::default()),
        Box::new(inter_pod_affinity::InterPodAffinity::default()),
        Box::new(balanced_allocation::BalancedAllocation),
        Box::new(image_locality::ImageLocality),
    ]
}
