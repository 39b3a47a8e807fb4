//! Node affinity as daemon pods use it: whether a node satisfies a pod's `nodeSelector` and
//! required node affinity (upstream's `nodeaffinity.GetRequiredNodeAffinity(pod).Match`),
//! and the `matchFields` term on `metadata.name` that binds each daemon pod to its node
//! (upstream's `ReplaceDaemonSetPodNodeNameNodeAffinity` and `GetTargetNodeName`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec,
};

/// The only node field a selector may name (upstream's `metav1.ObjectNameField`).
pub const NAME_FIELD: &str = "metadata.name";

fn values(requirement: &NodeSelectorRequirement) -> &[String] {
    requirement.values.as_deref().unwrap_or(&[])
}

/// One label requirement against `labels`; `None` if it cannot be parsed (upstream skips
/// such terms).
fn label_matches(
    requirement: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Option<bool> {
    let values = values(requirement);
    let value = labels.get(&requirement.key);
    let single_int = || -> Option<i64> {
        match values {
            [only] => only.parse().ok(),
            _ => None,
        }
    };
    match requirement.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => None,
        "In" => Some(value.is_some_and(|v| values.contains(v))),
        "NotIn" => Some(value.is_none_or(|v| !values.contains(v))),
        "Exists" | "DoesNotExist" if !values.is_empty() => None,
        "Exists" => Some(value.is_some()),
        "DoesNotExist" => Some(value.is_none()),
        "Gt" | "Lt" => {
            let bound = single_int()?;
            let actual = value.and_then(|v| v.parse::<i64>().ok());
            Some(actual.is_some_and(|actual| {
                if requirement.operator == "Gt" {
                    actual > bound
                } else {
                    actual < bound
                }
            }))
        }
        _ => None,
    }
}

/// One field requirement (only `metadata.name` with `In`/`NotIn` and one value parse).
fn field_matches(requirement: &NodeSelectorRequirement, node_name: &str) -> Option<bool> {
    if requirement.key != NAME_FIELD {
        return None;
    }
    let [value] = values(requirement) else {
        return None;
    };
    match requirement.operator.as_str() {
        "In" => Some(value == node_name),
        "NotIn" => Some(value != node_name),
        _ => None,
    }
}

/// Whether a term matches: every requirement does. Empty or unparsable terms match nothing.
fn term_matches(term: &NodeSelectorTerm, labels: &BTreeMap<String, String>, name: &str) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    let mut all = true;
    for requirement in expressions {
        match label_matches(requirement, labels) {
            Some(matched) => all &= matched,
            None => return false,
        }
    }
    for requirement in fields {
        match field_matches(requirement, name) {
            Some(matched) => all &= matched,
            None => return false,
        }
    }
    all
}

/// Whether `node` satisfies a node selector: some term matches.
pub fn selector_matches(selector: &NodeSelector, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref().unwrap_or("");
    selector
        .node_selector_terms
        .iter()
        .any(|term| term_matches(term, &labels, name))
}

/// Whether `node` satisfies the pod's `nodeSelector` and required node affinity.
pub fn required_affinity_matches(spec: &PodSpec, node: &Node) -> bool {
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    if !selector_ok {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|affinity| affinity.node_affinity.as_ref())
        .and_then(|affinity| {
            affinity
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    required.is_none_or(|selector| selector_matches(selector, node))
}

fn name_selector(node_name: &str) -> NodeSelector {
    NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_fields: Some(vec![NodeSelectorRequirement {
                key: NAME_FIELD.to_owned(),
                operator: "In".to_owned(),
                values: Some(vec![node_name.to_owned()]),
            }]),
            match_expressions: None,
        }],
    }
}

/// Upstream's `ReplaceDaemonSetPodNodeNameNodeAffinity`: the required node affinity becomes
/// the single term `metadata.name In [node_name]` (the scheduler then places the pod there);
/// preferred affinity and pod (anti-)affinity are kept.
pub fn bind_to_node(affinity: Option<Affinity>, node_name: &str) -> Affinity {
    let mut affinity = affinity.unwrap_or_default();
    let node_affinity = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    node_affinity.required_during_scheduling_ignored_during_execution =
        Some(name_selector(node_name));
    affinity
}

/// Upstream's `GetTargetNodeName`: the node a daemon pod runs on or is meant for
/// (`spec.nodeName`, else its single `metadata.name In` field requirement).
pub fn target_node(pod: &Pod) -> Option<&str> {
    let spec = pod.spec.as_ref()?;
    if let Some(name) = spec.node_name.as_deref().filter(|name| !name.is_empty()) {
        return Some(name);
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|term| term.match_fields.iter().flatten())
        .find(|field| field.key == NAME_FIELD && field.operator == "In")
        .and_then(|field| match values(field) {
            [only] => Some(only.as_str()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
    use serde_json::json;

    use super::{bind_to_node, required_affinity_matches, target_node};

    fn node(name: &str, labels: serde_json::Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
            .unwrap_or_default()
    }

    fn spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap_or_default()
    }

    #[test]
    fn selector_and_required_terms() {
        let gpu = node("a", json!({"gpu": "yes", "cores": "8"}));
        let plain = node("b", json!({"cores": "2"}));
        let selecting = spec(json!({"containers": [], "nodeSelector": {"gpu": "yes"}}));
        assert!(required_affinity_matches(&selecting, &gpu));
        assert!(!required_affinity_matches(&selecting, &plain));
        let terms = spec(json!({"containers": [], "affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]},
        ]}}}}));
        assert!(required_affinity_matches(&terms, &gpu));
        assert!(required_affinity_matches(&terms, &plain));
        assert!(!required_affinity_matches(&terms, &node("c", json!({}))));
        let empty = spec(json!({"containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}}}));
        assert!(!required_affinity_matches(&empty, &gpu));
    }

    #[test]
    fn binding_replaces_required_terms_and_is_read_back() {
        let original = spec(json!({"containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": {"matchExpressions": [{"key": "x", "operator": "Exists"}]}}]}}}));
        let bound = bind_to_node(original.affinity, "node-1");
        let value = serde_json::to_value(&bound).unwrap_or_default();
        assert_eq!(
            value["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"],
            json!({"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}]})
        );
        assert!(
            value["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"].is_array()
        );
        let pod = Pod {
            spec: Some(PodSpec {
                affinity: Some(bound),
                ..PodSpec::default()
            }),
            ..Pod::default()
        };
        assert_eq!(target_node(&pod), Some("node-1"));
    }
}
