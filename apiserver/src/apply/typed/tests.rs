//! Cases with the results structured-merge-diff gives.

use serde_json::{json, Value};

use super::{compare, field_set, merge, remove_items};
use crate::apply::schema::{ApplySchema, ListKind};
use crate::apply::set::FieldSet;

/// A schema written as JSON: `{"fields": {name: schema}, "map": schema, "list": "atomic" |
/// "set" | [keys], "element": schema, "atomic": true}`.
#[derive(Clone, Debug)]
pub(crate) struct Node(pub(crate) Value);

impl ApplySchema for Node {
    fn field(&self, name: &str) -> (Option<Self>, bool) {
        if let Some(field) = self.0["fields"].get(name) {
            return (Some(Node(field.clone())), true);
        }
        (self.0.get("map").cloned().map(Node), false)
    }

    fn element(&self) -> Option<Self> {
        self.0.get("element").cloned().map(Node)
    }

    fn list_kind(&self) -> ListKind {
        match &self.0["list"] {
            Value::String(kind) if kind == "set" => ListKind::Set,
            Value::Array(keys) => ListKind::Map(
                keys.iter()
                    .filter_map(|key| key.as_str().map(str::to_owned))
                    .collect(),
            ),
            _ => ListKind::Atomic,
        }
    }

    fn map_atomic(&self) -> bool {
        self.0["atomic"] == true
    }

    fn key_default(&self, key: &str) -> Option<Value> {
        (key == "protocol").then(|| json!("TCP"))
    }
}

pub(crate) fn deployment_schema() -> Node {
    let container = json!({"fields": {
        "name": {}, "image": {}, "args": {"list": "atomic"},
        "env": {"list": ["name"], "element": {"fields": {"name": {}, "value": {}}}},
        "ports": {"list": ["containerPort", "protocol"], "element": {"fields": {"containerPort": {}, "protocol": {}}}},
    }});
    Node(json!({"fields": {
        "apiVersion": {}, "kind": {},
        "metadata": {"fields": {"name": {}, "labels": {"map": {}}, "finalizers": {"list": "set"}}},
        "spec": {"fields": {
            "replicas": {},
            "selector": {"atomic": true},
            "template": {"fields": {"spec": {"fields": {
                "containers": {"list": ["name"], "element": container},
            }}}},
        }},
    }}))
}

fn paths(set: &FieldSet) -> Vec<String> {
    set.paths()
        .iter()
        .map(|path| crate::apply::path::display_path(path))
        .collect()
}

#[test]
fn field_sets_hold_leaves_items_and_map_entries() -> Result<(), super::TypedError> {
    let object = json!({
        "metadata": {"labels": {"app": "web"}, "finalizers": ["a"]},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"spec": {"containers": [{"name": "web", "args": ["x"],
                    "ports": [{"containerPort": 80}]}]}}},
    });
    let set = field_set(&object, Some(&deployment_schema()))?;
    assert_eq!(
        paths(&set),
        [
            ".metadata.finalizers[=\"a\"]",
            ".metadata.labels.app",
            ".spec.selector",
            ".spec.template.spec.containers[name=\"web\"]",
            ".spec.template.spec.containers[name=\"web\"].args",
            ".spec.template.spec.containers[name=\"web\"].name",
            ".spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"]",
            ".spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"].containerPort",
        ]
    );
    Ok(())
}

#[test]
fn merge_keeps_live_items_and_applies_config() -> Result<(), super::TypedError> {
    let live = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
        {"name": "a", "image": "1", "env": [{"name": "X", "value": "1"}]},
        {"name": "b", "image": "1"},
    ]}}}});
    let config = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "b", "image": "2"},
        {"name": "c", "image": "3"},
    ]}}}});
    let merged = merge(&live, &config, Some(&deployment_schema()))?;
    assert_eq!(
        merged,
        json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "a", "image": "1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "2"},
            {"name": "c", "image": "3"},
        ]}}}})
    );
    // Atomic values are replaced whole.
    let merged = merge(
        &json!({"spec": {"selector": {"matchLabels": {"a": "1"}}}}),
        &json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}),
        Some(&deployment_schema()),
    )?;
    assert_eq!(
        merged,
        json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}})
    );
    Ok(())
}

#[test]
fn compare_reports_leaves_and_whole_items() -> Result<(), super::TypedError> {
    let old = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
        {"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}}}});
    let new = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "a", "image": "1"}, {"name": "c", "image": "1"}]}}}});
    let comparison = compare(&old, &new, Some(&deployment_schema()))?;
    assert_eq!(paths(&comparison.modified), [".spec.replicas"]);
    assert_eq!(
        paths(&comparison.added),
        [
            ".spec.template.spec.containers[name=\"c\"]",
            ".spec.template.spec.containers[name=\"c\"].image",
            ".spec.template.spec.containers[name=\"c\"].name",
        ]
    );
    assert_eq!(paths(&comparison.removed).len(), 3);
    Ok(())
}

#[test]
fn remove_items_drops_members_with_their_subtrees() -> Result<(), super::TypedError> {
    let object = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
        "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
    let schema = deployment_schema();
    let mut set = FieldSet::default();
    let removal = field_set(
        &json!({"metadata": {"labels": {"a": "1"}}, "spec": {"template": {"spec": {"containers": [{"name": "b"}]}}}}),
        Some(&schema),
    )?;
    for path in removal.paths() {
        if path.len() == 3 || path.len() == 5 {
            set.insert(&path);
        }
    }
    let pruned = remove_items(object, &set, Some(&schema))?;
    assert_eq!(
        pruned,
        json!({"metadata": {"labels": {"b": "2"}},
            "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}})
    );
    Ok(())
}
