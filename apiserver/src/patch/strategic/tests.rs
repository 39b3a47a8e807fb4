//! Strategic merge cases, each with the result upstream's strategicpatch gives.

use serde_json::{json, Map, Value};

use super::{strategic_merge, FieldPatch, PatchSchema, StrategicMergeError};

/// A schema written as JSON: `{"fields": {name: {"merge", "retain", "key", "schema"}},
/// "element": schema}`.
#[derive(Clone)]
struct Node(Value);

impl PatchSchema for Node {
    fn field(&self, name: &str) -> (Option<Self>, FieldPatch) {
        let field = &self.0["fields"][name];
        let meta = FieldPatch {
            merge: field["merge"] == true,
            retain_keys: field["retain"] == true,
            merge_key: field["key"].as_str().map(str::to_owned),
        };
        (field.get("schema").cloned().map(Node), meta)
    }

    fn element(&self) -> Option<Self> {
        self.0.get("element").cloned().map(Node)
    }
}

fn pod_schema() -> Node {
    let container = json!({"fields": {
        "env": {"merge": true, "key": "name", "schema": {"element": {}}},
        "args": {},
    }});
    Node(json!({"fields": {
        "metadata": {"schema": {"fields": {"finalizers": {"merge": true}, "labels": {}}}},
        "spec": {"schema": {"fields": {
            "containers": {"merge": true, "key": "name", "schema": {"element": container}},
            "strategy": {"retain": true, "schema": {"fields": {}}},
        }}},
    }}))
}

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn apply(original: Value, patch: Value) -> Result<Value, StrategicMergeError> {
    strategic_merge(map(original), map(patch), Some(&pod_schema())).map(Value::Object)
}

fn pod(containers: Value) -> Value {
    json!({"spec": {"containers": containers}})
}

#[test]
fn merging_lists_merge_elements_by_key() -> Result<(), StrategicMergeError> {
    let original = pod(json!([{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]));
    let result = apply(original, pod(json!([{"name": "b", "image": "2"}])))?;
    assert_eq!(
        result,
        pod(json!([{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]))
    );
    Ok(())
}

#[test]
fn new_elements_come_before_the_live_ones() -> Result<(), StrategicMergeError> {
    let result = apply(
        pod(json!([{"name": "a"}])),
        pod(json!([{"name": "c", "image": "x"}])),
    )?;
    assert_eq!(
        result,
        pod(json!([{"name": "c", "image": "x"}, {"name": "a"}]))
    );
    Ok(())
}

#[test]
fn element_directives_delete_and_replace() -> Result<(), StrategicMergeError> {
    let original = pod(json!([{"name": "a"}, {"name": "b"}]));
    let deleted = apply(
        original.clone(),
        pod(json!([{"name": "a", "$patch": "delete"}])),
    )?;
    assert_eq!(deleted, pod(json!([{"name": "b"}])));
    let replaced = apply(original, pod(json!([{"name": "x"}, {"$patch": "replace"}])))?;
    assert_eq!(replaced, pod(json!([{"name": "x"}])));
    Ok(())
}

#[test]
fn nulls_delete_and_plain_lists_are_replaced() -> Result<(), StrategicMergeError> {
    let original = pod(json!([{"name": "a", "image": "1", "args": ["x", "y"]}]));
    let result = apply(
        original,
        pod(json!([{"name": "a", "image": null, "args": ["z"]}])),
    )?;
    assert_eq!(result, pod(json!([{"name": "a", "args": ["z"]}])));
    Ok(())
}

#[test]
fn nested_merge_lists_merge_too() -> Result<(), StrategicMergeError> {
    let original = pod(json!([{"name": "a", "env": [{"name": "A", "value": "1"}]}]));
    let result = apply(
        original,
        pod(
            json!([{"name": "a", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]}]),
        ),
    )?;
    assert_eq!(
        result,
        pod(
            json!([{"name": "a", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]}])
        )
    );
    Ok(())
}

#[test]
fn retain_keys_clears_the_keys_it_does_not_list() -> Result<(), StrategicMergeError> {
    let original =
        json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
    let result = apply(
        original,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
    )?;
    assert_eq!(result, json!({"spec": {"strategy": {"type": "Recreate"}}}));
    let refused = apply(
        json!({"spec": {"strategy": {}}}),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "other": 1}}}),
    );
    assert_eq!(refused, Err(StrategicMergeError::BadRetainKeys));
    Ok(())
}

#[test]
fn set_element_order_orders_the_merged_list() -> Result<(), StrategicMergeError> {
    let original = pod(json!([{"name": "a"}, {"name": "b"}]));
    let result = apply(
        original,
        json!({"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "a", "image": "3"}],
        }}),
    )?;
    assert_eq!(
        result,
        pod(json!([{"name": "b"}, {"name": "a", "image": "3"}]))
    );
    Ok(())
}

#[test]
fn primitive_merge_lists_union_and_delete() -> Result<(), StrategicMergeError> {
    let original = json!({"metadata": {"finalizers": ["x", "y"]}});
    let added = apply(
        original.clone(),
        json!({"metadata": {"finalizers": ["z", "x"]}}),
    )?;
    assert_eq!(added, json!({"metadata": {"finalizers": ["z", "x", "y"]}}));
    let removed = apply(
        original,
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}),
    )?;
    assert_eq!(removed, json!({"metadata": {"finalizers": ["y"]}}));
    Ok(())
}

#[test]
fn map_directives_replace_and_delete() -> Result<(), StrategicMergeError> {
    let original = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
    let replaced = apply(
        original.clone(),
        json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
    )?;
    assert_eq!(replaced, json!({"metadata": {"labels": {"c": "3"}}}));
    let deleted = apply(
        original,
        json!({"metadata": {"labels": {"$patch": "delete"}}}),
    )?;
    assert_eq!(deleted, json!({"metadata": {"labels": {}}}));
    Ok(())
}

#[test]
fn malformed_patches_are_refused() {
    let bad = apply(json!({}), json!({"$patch": "explode"}));
    assert!(matches!(bad, Err(StrategicMergeError::BadPatchType { .. })));
    let keyless = apply(pod(json!([{"name": "a"}])), pod(json!([{"image": "x"}])));
    assert!(matches!(
        keyless,
        Err(StrategicMergeError::NoMergeKey { .. })
    ));
    let lists = apply(
        json!({"metadata": {"finalizers": [["x"]]}}),
        json!({"metadata": {"finalizers": [["y"]]}}),
    );
    assert_eq!(lists, Err(StrategicMergeError::ListOfLists));
}

#[test]
fn without_a_schema_lists_are_replaced() -> Result<(), StrategicMergeError> {
    let result = strategic_merge::<Node>(
        map(pod(json!([{"name": "a"}]))),
        map(pod(json!([{"name": "b"}]))),
        None,
    )?;
    assert_eq!(Value::Object(result), pod(json!([{"name": "b"}])));
    Ok(())
}
