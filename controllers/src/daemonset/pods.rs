//! A DaemonSet's pods grouped by the node they are for, and the orderings and predicates
//! upstream applies to them.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::affinity::target_node;
use super::view::TEMPLATE_GENERATION_LABEL;
use crate::history::POD_REVISION_LABEL;
use crate::workloads::podcontrol::pods::{is_terminal, node_name};

/// Pods by target node.
pub type NodePods = HashMap<String, Vec<Arc<Pod>>>;

/// Upstream's `getNodesToDaemonPods`: claimed pods by the node they run on or are meant
/// for; terminal pods being deleted are left out unless `include_deleted_terminal`.
pub fn by_node(claimed: &[Arc<Pod>], include_deleted_terminal: bool) -> NodePods {
    let mut nodes = NodePods::new();
    for pod in claimed {
        if !include_deleted_terminal
            && is_terminal(pod)
            && pod.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        let Some(node) = target_node(pod) else {
            tracing::debug!(pod = ?pod.metadata.name, "daemon pod has no target node");
            continue;
        };
        nodes
            .entry(node.to_owned())
            .or_default()
            .push(Arc::clone(pod));
    }
    nodes
}

/// Upstream's `podByCreationTimestampAndPhase`: scheduled pods first, then oldest first,
/// then by name.
pub fn oldest_first(a: &Pod, b: &Pod) -> Ordering {
    let scheduled = |pod: &Pod| !node_name(pod).is_empty();
    let created = |pod: &Pod| pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    scheduled(b)
        .cmp(&scheduled(a))
        .then_with(|| created(a).cmp(&created(b)))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// Sorts pods by [`oldest_first`].
pub fn sort_oldest_first(pods: &mut [Arc<Pod>]) {
    pods.sort_by(|a, b| oldest_first(a, b));
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// Upstream's `IsPodUpdated`: the pod carries the current revision's hash (or the
/// deprecated template generation).
pub fn is_updated(pod: &Pod, hash: &str, template_generation: Option<i64>) -> bool {
    let hash_matches = !hash.is_empty() && label(pod, POD_REVISION_LABEL) == Some(hash);
    let generation_matches = template_generation.is_some_and(|generation| {
        label(pod, TEMPLATE_GENERATION_LABEL) == Some(generation.to_string().as_str())
    });
    hash_matches || generation_matches
}

/// The pod's revision hash label, if any.
pub fn revision_hash(pod: &Pod) -> Option<&str> {
    label(pod, POD_REVISION_LABEL).filter(|hash| !hash.is_empty())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    use super::{by_node, is_updated, sort_oldest_first};

    fn pod(name: &str, created: &str, node: Option<&str>, target: &str) -> Arc<Pod> {
        let mut value = json!({
            "metadata": {"name": name, "creationTimestamp": created,
                         "labels": {"controller-revision-hash": "h1"}},
            "spec": {"containers": [], "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [target]}]}]}}}},
        });
        if let Some(node) = node {
            value["spec"]["nodeName"] = json!(node);
        }
        Arc::new(serde_json::from_value(value).unwrap_or_default())
    }

    #[test]
    fn grouping_and_ordering() {
        let pods = vec![
            pod("c", "2024-01-01T00:00:02Z", None, "n1"),
            pod("b", "2024-01-01T00:00:03Z", Some("n1"), "n1"),
            pod("a", "2024-01-01T00:00:03Z", Some("n1"), "n1"),
            pod("d", "2024-01-01T00:00:01Z", None, "n2"),
        ];
        let mut nodes = by_node(&pods, false);
        assert_eq!(nodes.get("n2").map(Vec::len), Some(1));
        let on_n1 = nodes.get_mut("n1").map(|pods| {
            sort_oldest_first(pods);
            pods.iter()
                .map(|p| p.metadata.name.clone().unwrap_or_default())
                .collect::<Vec<_>>()
        });
        assert_eq!(on_n1, Some(vec!["a".into(), "b".into(), "c".into()]));
        assert!(is_updated(&pods[0], "h1", None));
        assert!(!is_updated(&pods[0], "h2", None));
        assert!(!is_updated(&Pod::default(), "", None));
    }
}
