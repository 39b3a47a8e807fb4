//! Which nodes a DaemonSet runs on (upstream's `NodeShouldRunDaemonPod`): the pod it would
//! create there, with the daemon tolerations, must fit the node's name, the pod's node
//! selector and required affinity, and tolerate the node's NoSchedule and NoExecute taints.
//! A pod already there may stay as long as it tolerates the NoExecute ones.

use k8s_openapi::api::core::v1::{Node, PodSpec};

use super::affinity::required_affinity_matches;
use super::tolerations::{add_daemon_tolerations, has_untolerated};

/// Whether a daemon pod belongs on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Placement {
    /// A pod should be created here if there is none.
    pub should_run: bool,
    /// A pod already here may keep running.
    pub should_continue_running: bool,
}

impl Placement {
    const NEITHER: Self = Self {
        should_run: false,
        should_continue_running: false,
    };
}

/// The pod spec a daemon pod on any node starts from (upstream's `NewPod` without the node
/// name, which [`placement`] checks itself).
pub fn daemon_pod_spec(template: Option<&PodSpec>) -> PodSpec {
    let mut spec = template.cloned().unwrap_or_default();
    add_daemon_tolerations(&mut spec);
    spec
}

/// Upstream's `NodeShouldRunDaemonPod` for the pod `spec` (from [`daemon_pod_spec`]).
pub fn placement(node: &Node, spec: &PodSpec) -> Placement {
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    if spec
        .node_name
        .as_deref()
        .is_some_and(|wanted| !wanted.is_empty() && wanted != node_name)
    {
        return Placement::NEITHER;
    }
    if !required_affinity_matches(spec, node) {
        return Placement::NEITHER;
    }
    let taints = node
        .spec
        .as_ref()
        .and_then(|spec| spec.taints.as_deref())
        .unwrap_or(&[]);
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    if has_untolerated(taints, tolerations, &["NoSchedule", "NoExecute"]) {
        return Placement {
            should_run: false,
            should_continue_running: !has_untolerated(taints, tolerations, &["NoExecute"]),
        };
    }
    Placement {
        should_run: true,
        should_continue_running: true,
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Node, PodSpec};
    use serde_json::json;

    use super::{daemon_pod_spec, placement, Placement};

    fn node(value: serde_json::Value) -> Node {
        serde_json::from_value(value).unwrap_or_default()
    }

    #[test]
    fn taints_selectors_and_default_tolerations() {
        let spec: PodSpec =
            serde_json::from_value(json!({"containers": [], "nodeSelector": {"role": "web"}}))
                .unwrap_or_default();
        let spec = daemon_pod_spec(Some(&spec));
        let both = Placement {
            should_run: true,
            should_continue_running: true,
        };
        let plain = node(json!({"metadata": {"name": "a", "labels": {"role": "web"}}}));
        assert_eq!(placement(&plain, &spec), both);
        let other = node(json!({"metadata": {"name": "b", "labels": {"role": "db"}}}));
        assert_eq!(placement(&other, &spec), Placement::default());
        // Cordoned and not-ready nodes are tolerated by every daemon pod.
        let cordoned = node(json!({"metadata": {"name": "c", "labels": {"role": "web"}},
            "spec": {"unschedulable": true, "taints": [
                {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]}}));
        assert_eq!(placement(&cordoned, &spec), both);
        let dedicated = node(json!({"metadata": {"name": "d", "labels": {"role": "web"}},
            "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}));
        assert_eq!(
            placement(&dedicated, &spec),
            Placement {
                should_run: false,
                should_continue_running: true
            }
        );
        let evicting = node(json!({"metadata": {"name": "e", "labels": {"role": "web"}},
            "spec": {"taints": [{"key": "dedicated", "effect": "NoExecute"}]}}));
        assert_eq!(placement(&evicting, &spec), Placement::default());
        let pinned = PodSpec {
            node_name: Some("a".to_owned()),
            ..spec.clone()
        };
        assert_eq!(placement(&plain, &pinned), both);
        assert_eq!(placement(&other, &pinned), Placement::default());
    }
}
