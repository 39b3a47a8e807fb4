//! The scheduler's cache: nodes with the pods bound or assumed on them, so that a pod
//! scheduled a moment ago counts against its node before the API server confirms the
//! binding (upstream's `internal/cache`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;

use crate::framework::{NodeInfo, PodInfo};

/// Where the cache counts a pod.
#[derive(Clone, Debug)]
struct PodState {
    node: String,
    info: Arc<PodInfo>,
    /// Scheduled by us but not yet seen bound.
    assumed: bool,
}

/// Nodes and the pods counted on them.
#[derive(Default)]
pub struct Cache {
    nodes: BTreeMap<String, NodeInfo>,
    pods: HashMap<String, PodState>,
}

impl Cache {
    /// Adds or replaces a node, keeping the pods counted on it.
    pub fn upsert_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        if let Some(info) = self.nodes.get_mut(&name) {
            info.set_node(node);
            return;
        }
        let mut info = NodeInfo::new(node);
        for state in self.pods.values().filter(|s| s.node == name) {
            info.add_pod(state.info.clone());
        }
        self.nodes.insert(name, info);
    }

    /// Forgets a node (its pods stay known, in case it comes back).
    pub fn remove_node(&mut self, name: &str) {
        self.nodes.remove(name);
    }

    /// Names of every known node.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    /// Every node, in name order.
    pub fn nodes(&self) -> Vec<&NodeInfo> {
        self.nodes.values().collect()
    }

    /// One node.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }

    fn place(&mut self, info: Arc<PodInfo>, node: &str, assumed: bool) {
        self.remove_pod(&info.key);
        if let Some(node_info) = self.nodes.get_mut(node) {
            node_info.add_pod(info.clone());
        }
        self.pods.insert(
            info.key.clone(),
            PodState {
                node: node.to_owned(),
                info,
                assumed,
            },
        );
    }

    /// Records a pod the API server shows bound to `node` (confirming an assumption).
    pub fn add_bound_pod(&mut self, info: Arc<PodInfo>, node: &str) {
        self.place(info, node, false);
    }

    /// Counts a pod we just scheduled on `node`, ahead of the API server.
    pub fn assume(&mut self, info: Arc<PodInfo>, node: &str) {
        self.place(info, node, true);
    }

    /// Undoes an assumption whose binding failed; bound pods are left alone.
    pub fn forget(&mut self, key: &str) {
        if self.pods.get(key).is_some_and(|s| s.assumed) {
            self.remove_pod(key);
        }
    }

    /// Whether a pod is counted (bound or assumed) somewhere.
    pub fn is_placed(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    /// Stops counting a pod (deleted, or finished).
    pub fn remove_pod(&mut self, key: &str) -> bool {
        let Some(state) = self.pods.remove(key) else {
            return false;
        };
        if let Some(node) = self.nodes.get_mut(&state.node) {
            node.remove_pod(key);
        }
        true
    }

    /// Keys of bound (not assumed) pods, to reconcile after a relist.
    pub fn bound_keys(&self) -> Vec<String> {
        self.pods
            .iter()
            .filter(|(_, s)| !s.assumed)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, cpu: &str) -> Arc<PodInfo> {
        let pod = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}
        }))
        .expect("pod");
        Arc::new(PodInfo::new(Arc::new(pod), 0))
    }

    #[test]
    fn assumed_pods_count_until_forgotten() {
        let mut cache = Cache::default();
        let node: Node = serde_json::from_value(json!({"metadata": {"name": "n1"}})).expect("node");
        cache.upsert_node(Arc::new(node));
        cache.assume(pod("a", "500m"), "n1");
        assert_eq!(cache.node("n1").map(|n| n.requested.milli_cpu), Some(500));
        cache.forget("default/a");
        assert_eq!(cache.node("n1").map(|n| n.requested.milli_cpu), Some(0));
        cache.add_bound_pod(pod("b", "1"), "n1");
        cache.forget("default/b");
        assert_eq!(cache.node("n1").map(|n| n.pods.len()), Some(1));
    }

    #[test]
    fn pods_seen_before_their_node_are_counted_when_it_arrives() {
        let mut cache = Cache::default();
        cache.add_bound_pod(pod("a", "1"), "n2");
        let node: Node = serde_json::from_value(json!({"metadata": {"name": "n2"}})).expect("node");
        cache.upsert_node(Arc::new(node));
        assert_eq!(cache.node("n2").map(|n| n.requested.milli_cpu), Some(1000));
    }
}
