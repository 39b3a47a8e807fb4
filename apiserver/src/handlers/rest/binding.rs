//! `POST .../pods/{name}/binding`: how a scheduler assigns a pod to a node. The pod gets
//! `spec.nodeName` (once: a bound pod answers 409) and the `PodScheduled` condition, as
//! upstream's BindingREST does, with compare-and-swap against concurrent writers.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{json, ApiContext, RestRequest};
use crate::object::{self, now_rfc3339};
use crate::registry::storage_key;
use crate::status::{ApiError, Reason};
use crate::storage::StorageError;

/// Binds the pod the path names to the node the Binding's target names.
pub(super) async fn bind(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    let name = request.target.name.clone().unwrap_or_default();
    let binding: Value = serde_json::from_slice(&body).map_err(|error| {
        ApiError::new(
            Reason::BadRequest,
            format!("error decoding Binding: {error}"),
        )
    })?;
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|node| !node.is_empty())
        .ok_or_else(|| {
            crate::validation::invalid(
                "Binding",
                "",
                &name,
                vec![crate::validation::FieldError::required("target.name", "")],
            )
        })?
        .to_owned();
    let key = storage_key(
        &request.resource,
        request.target.namespace.as_deref(),
        &name,
    );
    for _ in 0..super::RACE_ATTEMPTS {
        let current = context
            .store
            .get(&key, None)
            .await
            .map_err(|error| request.storage_error(&name, error))?
            .ok_or_else(|| request.not_found(&name))?;
        let mut pod = object::from_storage(&current.value, current.mod_revision)?;
        if pod.meta_str("deletionTimestamp").is_some() {
            return Err(ApiError::new(
                Reason::Conflict,
                format!("Operation cannot be fulfilled on pods/binding {name:?}: pod {name} is being deleted, cannot be assigned to a host"),
            ));
        }
        let assigned = pod
            .0
            .get("spec")
            .and_then(|spec| spec.get("nodeName"))
            .and_then(Value::as_str)
            .filter(|node| !node.is_empty())
            .map(str::to_owned);
        if let Some(assigned) = assigned {
            return Err(ApiError::new(
                Reason::Conflict,
                format!("Operation cannot be fulfilled on pods/binding {name:?}: pod {name} is already assigned to node {assigned:?}"),
            ));
        }
        if let Some(Value::Object(spec)) = pod.0.get_mut("spec") {
            spec.insert("nodeName".into(), json!(node));
        }
        if let Some(annotations) = binding
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            let meta = pod.metadata_mut();
            let target = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Value::Object(target) = target {
                for (key, value) in annotations {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
        let status = pod.0.entry("status").or_insert_with(|| json!({}));
        if let Value::Object(status) = status {
            let conditions = status.entry("conditions").or_insert_with(|| json!([]));
            if let Value::Array(conditions) = conditions {
                conditions.retain(|condition| condition["type"] != "PodScheduled");
                conditions.push(json!({
                    "type": "PodScheduled", "status": "True", "lastProbeTime": null,
                    "lastTransitionTime": now_rfc3339(),
                }));
            }
        }
        pod.remove_meta("resourceVersion");
        match context
            .store
            .update(&key, Bytes::from(pod.to_json()), current.mod_revision)
            .await
        {
            Ok(_) => {
                return Ok(json(
                    StatusCode::CREATED,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
                ))
            }
            Err(StorageError::Conflict { .. }) => continue,
            Err(error) => return Err(request.storage_error(&name, error)),
        }
    }
    Err(request.conflict(&name))
}
