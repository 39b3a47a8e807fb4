//! The `scale` subresource (`kubectl scale`, HorizontalPodAutoscalers): an
//! `autoscaling/v1 Scale` view of a workload's replicas, written back to its spec with
//! compare-and-swap.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use super::patch::merge_patch;
use super::{json_bytes, ApiContext, RestRequest};
use crate::object::{self, Object};
use crate::registry::storage_key;
use crate::status::{ApiError, Reason};
use crate::storage::StorageError;

/// `matchLabels` (and `matchExpressions` with `In`) as the label selector string Scale
/// status reports.
fn selector_string(spec: &Value) -> String {
    let selector = spec.get("selector");
    let mut terms = Vec::new();
    // ReplicationControllers have a plain map selector.
    let labels = selector
        .and_then(|selector| selector.get("matchLabels"))
        .or_else(|| selector.filter(|s| s.get("matchExpressions").is_none()))
        .and_then(Value::as_object);
    for (key, value) in labels.into_iter().flatten() {
        if let Some(value) = value.as_str() {
            terms.push(format!("{key}={value}"));
        }
    }
    let expressions = selector
        .and_then(|selector| selector.get("matchExpressions"))
        .and_then(Value::as_array);
    for expression in expressions.into_iter().flatten() {
        let key = expression
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression.get("operator").and_then(Value::as_str) {
            Some("In") => terms.push(format!("{key} in ({})", values.join(","))),
            Some("NotIn") => terms.push(format!("{key} notin ({})", values.join(","))),
            Some("Exists") => terms.push(key.to_owned()),
            Some("DoesNotExist") => terms.push(format!("!{key}")),
            _ => {}
        }
    }
    terms.sort();
    terms.join(",")
}

/// Where a resource keeps what Scale shows: the built-in workloads' fixed fields, or the
/// paths a CRD's scale subresource names.
struct ScaleShape {
    spec_replicas: String,
    status_replicas: String,
    /// `None`: the label selector string built from `spec.selector`.
    selector: Option<String>,
}

/// `.spec.replicas` → `/spec/replicas`.
fn pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .map(|part| format!("/{part}"))
        .collect()
}

impl ScaleShape {
    fn of(request: &RestRequest) -> Self {
        match request
            .custom
            .as_ref()
            .and_then(|custom| custom.scale.as_ref())
        {
            Some(paths) => Self {
                spec_replicas: pointer(&paths.spec_replicas),
                status_replicas: pointer(&paths.status_replicas),
                selector: Some(
                    paths
                        .label_selector
                        .as_deref()
                        .map(pointer)
                        .unwrap_or_default(),
                ),
            },
            None => Self {
                spec_replicas: "/spec/replicas".to_owned(),
                status_replicas: "/status/replicas".to_owned(),
                selector: None,
            },
        }
    }
}

/// Sets `value` at a JSON pointer, creating the objects on the way.
fn set_at(object: &mut Object, pointer: &str, value: Value) {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut node = &mut object.0;
    for part in parents {
        let child = node.entry((*part).to_owned()).or_insert_with(|| json!({}));
        if !child.is_object() {
            *child = json!({});
        }
        let Some(map) = child.as_object_mut() else {
            return;
        };
        node = map;
    }
    node.insert((*last).to_owned(), value);
}

/// The Scale view of a workload.
fn scale_of(parent: &Object, shape: &ScaleShape) -> Value {
    let meta = parent.metadata().cloned().unwrap_or_default();
    let whole = Value::Object(parent.0.clone());
    let spec = parent.0.get("spec").cloned().unwrap_or(Value::Null);
    let mut metadata = serde_json::Map::new();
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(value) = meta.get(field) {
            metadata.insert(field.to_owned(), value.clone());
        }
    }
    let default_replicas = if shape.selector.is_some() { 0 } else { 1 };
    let selector = match &shape.selector {
        None => selector_string(&spec),
        Some(path) if path.is_empty() => String::new(),
        Some(path) => whole
            .pointer(path)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": whole.pointer(&shape.spec_replicas).and_then(Value::as_i64).unwrap_or(default_replicas)},
        "status": {
            "replicas": whole.pointer(&shape.status_replicas).and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        },
    })
}

/// Serves `GET`, `PUT` and `PATCH` on `.../{name}/scale`.
pub(super) async fn scale(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    let name = request.target.name.clone().unwrap_or_default();
    let key = storage_key(
        &request.resource,
        request.target.namespace.as_deref(),
        &name,
    );
    let manager = match request.method {
        Method::GET => String::new(),
        _ => super::managed::field_manager(request, "UpdateOptions")?,
    };
    let shape = ScaleShape::of(request);
    for _ in 0..super::RACE_ATTEMPTS {
        let current = context
            .store
            .get(&key, None)
            .await
            .map_err(|error| request.storage_error(&name, error))?
            .ok_or_else(|| request.not_found(&name))?;
        let mut parent = object::from_storage(&current.value, current.mod_revision)?;
        let view = scale_of(&parent, &shape);
        // A resourceVersion the client sent is a precondition; the one a patch inherits from
        // the current Scale is not (a lost race then retries, as upstream's patch does).
        let (wanted, sent) = match request.method {
            Method::GET => {
                let body = request.scale_response(&view)?.unwrap_or(view);
                return Ok(json_bytes(
                    StatusCode::OK,
                    serde_json::to_vec(&body).unwrap_or_default(),
                ));
            }
            Method::PUT => {
                let wanted = serde_json::from_slice::<Value>(&body).map_err(|error| {
                    ApiError::new(Reason::BadRequest, format!("error decoding Scale: {error}"))
                })?;
                (wanted.clone(), wanted)
            }
            Method::PATCH => {
                let patch: Value = serde_json::from_slice(&body).map_err(|error| {
                    ApiError::new(Reason::BadRequest, format!("error decoding patch: {error}"))
                })?;
                let mut patched = view.clone();
                merge_patch(&mut patched, &patch);
                (patched, patch)
            }
            _ => return Err(super::method_not_allowed()),
        };
        let expected = sent
            .get("metadata")
            .and_then(|meta| meta.get("resourceVersion"))
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty());
        if expected.is_some_and(|text| text != current.mod_revision.to_string()) {
            return Err(request.conflict(&name));
        }
        let replicas = wanted
            .get("spec")
            .and_then(|spec| spec.get("replicas"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if replicas < 0 {
            return Err(crate::validation::invalid(
                "Scale",
                "autoscaling",
                &name,
                vec![crate::validation::FieldError::invalid(
                    "spec.replicas",
                    &replicas.to_string(),
                    "must be greater than or equal to 0",
                )],
            ));
        }
        let old_replicas = Value::Object(parent.0.clone())
            .pointer(&shape.spec_replicas)
            .cloned();
        set_at(&mut parent, &shape.spec_replicas, json!(replicas));
        if let Some(custom) = &request.custom {
            crate::crd::admit(custom, &mut parent)?;
        }
        if old_replicas != Some(json!(replicas)) {
            let generation = parent
                .metadata()
                .and_then(|meta| meta.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            parent
                .metadata_mut()
                .insert("generation".into(), json!(generation + 1));
        }
        parent.remove_meta("resourceVersion");
        // The scale subresource's writer owns the replicas it set, as upstream records it.
        let before = Object::from_json(&current.value)?;
        super::managed::record(request, &manager, Some(&before), &mut parent);
        if super::query_value(&request.query, "dryRun").as_deref() == Some("All") {
            parent.set_resource_version(current.mod_revision);
            return Ok(json_bytes(
                StatusCode::OK,
                serde_json::to_vec(&scale_of(&parent, &shape)).unwrap_or_default(),
            ));
        }
        match context
            .store
            .update(&key, Bytes::from(parent.to_json()), current.mod_revision)
            .await
        {
            Ok(kv) => {
                parent.set_resource_version(kv.mod_revision);
                return Ok(json_bytes(
                    StatusCode::OK,
                    serde_json::to_vec(&scale_of(&parent, &shape)).unwrap_or_default(),
                ));
            }
            Err(StorageError::Conflict { .. }) if expected.is_none() => continue,
            Err(StorageError::Conflict { .. }) => return Err(request.conflict(&name)),
            Err(error) => return Err(request.storage_error(&name, error)),
        }
    }
    Err(request.conflict(&name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::selector_string;

    #[test]
    fn selectors_print_like_upstream() {
        let spec = json!({"selector": {"matchLabels": {"app": "web", "tier": "fe"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]}});
        assert_eq!(selector_string(&spec), "app=web,env in (a,b),tier=fe");
        assert_eq!(
            selector_string(&json!({"selector": {"app": "rc"}})),
            "app=rc"
        );
    }
}
