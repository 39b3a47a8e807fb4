//! `PATCH` with JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and strategic merge
//! patch: read, patch, then update with compare-and-swap, retrying when another writer got
//! in between (upstream's GuaranteedUpdate). Apply patches answer 415 until they are served.

use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use super::managed;
use super::write::{
    check_fields, check_type, commit_update, insert_new, prepare_update, with_warnings,
};
use super::{ApiContext, RestRequest};
use crate::codec::{self, Duplicates};
use crate::conversion;
use crate::object::{self, Object};
use crate::patch::{strategic_merge, StrategicMergeError};
use crate::registry::{storage_key, ResourceInfo};
use crate::status::{ApiError, Reason};

/// The patch formats we apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

fn patch_type(content_type: &str) -> Result<PatchType, ApiError> {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    match media_type {
        "application/json-patch+json" => Ok(PatchType::Json),
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
        "application/apply-patch+yaml" => Ok(PatchType::Apply),
        other => Err(ApiError::new(
            Reason::UnsupportedMediaType,
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {other:?})"),
        )),
    }
}

/// RFC 7386: objects merge recursively, `null` deletes, everything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.shift_remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

fn apply(
    resource: &ResourceInfo,
    kind: PatchType,
    current: &Object,
    patch: &Value,
) -> Result<Object, ApiError> {
    let mut document = Value::Object(current.0.clone());
    match kind {
        // Served by `apply_patch`; never applied as a plain patch.
        PatchType::Apply => {}
        PatchType::Merge => merge_patch(&mut document, patch),
        PatchType::Strategic => {
            let Value::Object(patch) = patch else {
                return Err(ApiError::new(Reason::BadRequest, "invalid JSON document"));
            };
            let schema =
                crate::openapi::patch_schema(resource.group, resource.version, resource.kind)
                    .map_err(|error| ApiError::new(Reason::InternalError, error.to_string()))?;
            let merged = strategic_merge(current.0.clone(), patch.clone(), schema.as_ref())
                .map_err(strategic_error)?;
            document = Value::Object(merged);
        }
        PatchType::Json => {
            let operations: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|error| {
                    ApiError::new(Reason::BadRequest, format!("invalid JSON Patch: {error}"))
                })?;
            json_patch::patch(&mut document, &operations).map_err(|error| {
                ApiError::new(
                    Reason::Invalid,
                    format!(
                        "the server rejected our request due to an error in our request: {error}"
                    ),
                )
            })?;
        }
    }
    match document {
        Value::Object(map) => Ok(Object(map)),
        _ => Err(ApiError::new(
            Reason::BadRequest,
            "the patch did not produce an object",
        )),
    }
}

/// Upstream's statuses for strategic merge failures: malformed directives are the client's
/// 400, lists of lists 422, anything else a 500 as upstream leaves it.
fn strategic_error(error: StrategicMergeError) -> ApiError {
    let reason = if error.is_bad_request() {
        Reason::BadRequest
    } else if error == StrategicMergeError::ListOfLists {
        Reason::Invalid
    } else {
        Reason::InternalError
    };
    ApiError::new(reason, error.to_string())
}

/// Serves a patch.
pub(super) async fn patch(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    super::write::validate_write_options(&request.query, "PatchOptions")?;
    let kind = patch_type(request.content_type())?;
    if kind == PatchType::Strategic && request.custom.is_some() {
        // As upstream: custom resources have no patch strategies to merge by.
        return Err(ApiError::new(
            Reason::UnsupportedMediaType,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        ));
    }
    managed::check_force(request)?;
    let manager = managed::field_manager(request, "PatchOptions")?;
    if kind == PatchType::Apply {
        return apply_patch(context, request, &manager, &body).await;
    }
    let patch: Value = serde_json::from_slice(&body).map_err(|error| {
        ApiError::new(Reason::BadRequest, format!("error decoding patch: {error}"))
    })?;
    let name = request.target.name.clone().unwrap_or_default();
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
        let old = object::from_storage(&current.value, current.mod_revision)?;
        let old = conversion::to_served(&request.resource, &old);
        let patched = apply(&request.resource, kind, &old, &patch)?;
        // A resourceVersion the patch itself sets (not the one the stored object already
        // carries) is a precondition, as upstream treats it; otherwise a lost race retries.
        let expected = if patched.meta_str("resourceVersion") == old.meta_str("resourceVersion") {
            None
        } else {
            patched.resource_version()?
        };
        if expected.is_some_and(|expected| expected != current.mod_revision) {
            return Err(request.conflict(&name));
        }
        let (patched, warnings) = prepare_update(request, &name, patched, &Duplicates::None)?;
        let patched = conversion::to_storage(&request.resource, patched);
        match commit_update(context, request, &manager, &name, &key, &current, patched).await {
            Err(error) if error.reason == Reason::Conflict && expected.is_none() => continue,
            other => return other.map(|response| with_warnings(response, &warnings)),
        }
    }
    Err(request.conflict(&name))
}

/// Server-side apply: the body is the manager's whole intent for the object (YAML or
/// JSON), merged into the live object (created if absent) with field ownership.
async fn apply_patch(
    context: &ApiContext,
    request: &RestRequest,
    manager: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let decoded = codec::decode_json(body)
        .or_else(|_| codec::decode_yaml(body))
        .map_err(|error| ApiError::new(Reason::BadRequest, error.to_string()))?;
    let name = request.target.name.clone().unwrap_or_default();
    let mut config = Object(decoded.object);
    check_type(&request.resource, &mut config)?;
    let warnings = check_fields(
        &request.resource,
        request.custom.as_deref(),
        &request.query,
        &mut config,
        &decoded.duplicates,
    )?;
    match config.name() {
        Some(given) if given != name => {
            return Err(ApiError::new(
                Reason::BadRequest,
                format!(
                    "the name of the object ({given}) does not match the name on the URL ({name})"
                ),
            ))
        }
        _ => config.set_meta_str("name", &name),
    }
    let expected = config.resource_version()?;
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
            .map_err(|error| request.storage_error(&name, error))?;
        let Some(current) = current else {
            if expected.is_some() {
                return Err(request.not_found(&name));
            }
            let object = managed::apply_config(request, manager, None, &config)?;
            let response = insert_new(context, request, manager, object, Vec::new()).await?;
            return Ok(with_warnings(response, &warnings));
        };
        if expected.is_some_and(|expected| expected != current.mod_revision) {
            return Err(request.conflict(&name));
        }
        let old = object::from_storage(&current.value, current.mod_revision)?;
        let old = conversion::to_served(&request.resource, &old);
        let merged = managed::apply_config(request, manager, Some(&old), &config)?;
        let (merged, _) = prepare_update(request, &name, merged, &Duplicates::None)?;
        let merged = conversion::to_storage(&request.resource, merged);
        match commit_update(context, request, manager, &name, &key, &current, merged).await {
            Err(error) if error.reason == Reason::Conflict && expected.is_none() => continue,
            other => return other.map(|response| with_warnings(response, &warnings)),
        }
    }
    Err(request.conflict(&name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge_patch;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut list = json!({"a": [1, 2]});
        merge_patch(&mut list, &json!({"a": [3]}));
        assert_eq!(list, json!({"a": [3]}));
    }
}
