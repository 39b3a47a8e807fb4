//! Ownership cases with the results kube-apiserver gives.

use serde_json::{json, Map, Value};

use super::{apply, decode, record_update, ManagedError, Operation, Writer};
use crate::apply::typed::tests::{deployment_schema, Node};

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn writer(manager: &str) -> Writer<'_> {
    Writer {
        manager,
        subresource: None,
        api_version: "apps/v1",
        has_status: true,
        now: "2026-01-01T00:00:00Z",
    }
}

fn config(replicas: i64, image: &str) -> Map<String, Value> {
    map(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
    }))
}

fn schema() -> Node {
    deployment_schema()
}

#[test]
fn apply_creates_and_records_the_applied_fields() -> Result<(), ManagedError> {
    let object = apply(
        None,
        &config(1, "a"),
        &writer("tool"),
        false,
        Some(&schema()),
    )?;
    let entries = decode(&object)?;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].operation, Operation::Apply);
    assert_eq!(
        entries[0].fields.to_fields_v1(),
        json!({"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    Ok(())
}

#[test]
fn another_applier_conflicts_unless_forced() -> Result<(), ManagedError> {
    let live = apply(
        None,
        &config(1, "a"),
        &writer("tool"),
        false,
        Some(&schema()),
    )?;
    let conflict = apply(
        Some(&live),
        &config(2, "a"),
        &writer("other"),
        false,
        Some(&schema()),
    );
    let Err(ManagedError::Conflict { message, causes }) = conflict else {
        panic!("expected a conflict, got {conflict:?}");
    };
    assert_eq!(
        message,
        "Apply failed with 1 conflict: conflict with \"tool\": .spec.replicas"
    );
    assert_eq!(
        causes,
        [(
            ".spec.replicas".to_owned(),
            "conflict with \"tool\"".to_owned()
        )]
    );
    // The same value is shared ownership, not a conflict.
    let shared = apply(
        Some(&live),
        &config(1, "a"),
        &writer("other"),
        false,
        Some(&schema()),
    )?;
    assert_eq!(decode(&shared)?.len(), 2);
    // Forced: the field changes hands.
    let forced = apply(
        Some(&live),
        &config(2, "a"),
        &writer("other"),
        true,
        Some(&schema()),
    )?;
    assert_eq!(forced["spec"]["replicas"], 2);
    let entries = decode(&forced)?;
    let tool = entries
        .iter()
        .find(|e| e.manager == "tool")
        .map(|e| e.fields.to_fields_v1());
    assert_eq!(
        tool,
        Some(
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        )
    );
    Ok(())
}

#[test]
fn fields_a_manager_stops_applying_are_removed_unless_owned_elsewhere() -> Result<(), ManagedError>
{
    let mut first = config(1, "a");
    first["metadata"]["labels"] = json!({"keep": "1", "drop": "1"});
    let live = apply(None, &first, &writer("tool"), false, Some(&schema()))?;
    // Someone else takes ownership of `keep` by updating it.
    let mut updated = live.clone();
    updated["metadata"]["labels"]["keep"] = json!("2");
    record_update(
        Some(&live),
        &mut updated,
        &writer("editor"),
        Some(&schema()),
    )?;
    let mut second = config(1, "a");
    second["metadata"]["labels"] = json!({});
    let after = apply(
        Some(&updated),
        &second,
        &writer("tool"),
        false,
        Some(&schema()),
    )?;
    assert_eq!(after["metadata"]["labels"], json!({"keep": "2"}));
    Ok(())
}

#[test]
fn updates_take_over_what_they_change() -> Result<(), ManagedError> {
    let mut created = config(1, "a");
    record_update(None, &mut created, &writer("creator"), Some(&schema()))?;
    let mut changed = created.clone();
    changed["spec"]["replicas"] = json!(3);
    record_update(
        Some(&created),
        &mut changed,
        &writer("scaler"),
        Some(&schema()),
    )?;
    let entries = decode(&changed)?;
    let scaler = entries
        .iter()
        .find(|e| e.manager == "scaler")
        .map(|e| e.fields.to_fields_v1());
    assert_eq!(scaler, Some(json!({"f:spec": {"f:replicas": {}}})));
    let creator = entries
        .iter()
        .find(|e| e.manager == "creator")
        .map(|e| e.fields.to_fields_v1().to_string())
        .unwrap_or_default();
    assert!(!creator.contains("replicas"), "{creator}");
    assert!(
        !creator.contains("apiVersion") && !creator.contains("f:name\":{},\"f:"),
        "{creator}"
    );
    Ok(())
}
