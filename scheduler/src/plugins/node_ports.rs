//! NodePorts: a pod's host ports must be free on the node (same protocol and port on the
//! same or a wildcard address conflict).

use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status};

/// Upstream's `ErrReason`.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// The NodePorts filter.
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }
    fn filters(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let conflict = pod
            .host_ports
            .iter()
            .any(|want| node.used_ports.iter().any(|used| used.conflicts(want)));
        if conflict {
            Status::unschedulable(self.name(), REASON)
        } else {
            Status::success()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_with, pod};
    use serde_json::json;

    fn with_port(name: &str, port: i32, ip: &str, protocol: &str) -> PodInfo {
        pod(
            json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c",
            "ports": [{"containerPort": 80, "hostPort": port, "hostIP": ip, "protocol": protocol}]}]}}),
        )
    }

    #[test]
    fn host_ports_conflict() {
        let n = node_with(
            json!({"metadata": {"name": "n"}}),
            vec![with_port("a", 8080, "", "TCP")],
        );
        let state = CycleState::default();
        assert_eq!(
            NodePorts
                .filter(&state, &with_port("b", 8080, "10.0.0.1", "TCP"), &n)
                .reasons,
            [REASON]
        );
        assert!(NodePorts
            .filter(&state, &with_port("b", 8080, "", "UDP"), &n)
            .is_success());
        assert!(NodePorts
            .filter(&state, &with_port("b", 8081, "", "TCP"), &n)
            .is_success());
    }
}
