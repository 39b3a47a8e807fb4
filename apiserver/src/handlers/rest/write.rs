//! create, update, delete and deletecollection.

use std::collections::HashSet;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{json, json_bytes, managed, query_value, ApiContext, RestRequest};
use crate::codec::Duplicates;
use crate::conversion;
use crate::crd::CustomVersion;
use crate::object::{self, now_rfc3339, Object};
use crate::openapi::FieldProblem;
use crate::registry::{storage_key, storage_prefix, ResourceInfo};
use crate::selector::LabelSelector;
use crate::status::{ApiError, Reason};
use crate::storage::{KeyValue, ListRequest, StorageError};
use crate::validation::{self, FieldError};

/// Characters upstream uses for `generateName` suffixes (no vowels, no look-alikes).
const NAME_SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const NAME_SUFFIX_LENGTH: usize = 5;
const MAX_GENERATE_NAME_PREFIX: usize = 58;

fn dry_run(query: &str) -> bool {
    query_value(query, "dryRun").is_some_and(|value| value == "All")
}

/// Upstream's checks of `dryRun` and `fieldValidation` (a 422 naming the options kind, e.g.
/// `CreateOptions.meta.k8s.io "" is invalid`).
pub(super) fn validate_write_options(query: &str, options_kind: &str) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for value in super::query_values(query, "dryRun") {
        if value != "All" {
            errors.push(FieldError::not_supported("dryRun", &value, &["All"]));
        }
    }
    if options_kind != "DeleteOptions" {
        if let Some(value) = query_value(query, "fieldValidation") {
            if !matches!(value.as_str(), "" | "Ignore" | "Warn" | "Strict") {
                errors.push(FieldError::not_supported(
                    "fieldValidation",
                    &value,
                    &["Ignore", "Strict", "Warn"],
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(validation::invalid(options_kind, "meta.k8s.io", "", errors))
    }
}

/// Checks `apiVersion` and `kind` of a body against the resource the path names.
pub(super) fn check_type(resource: &ResourceInfo, object: &mut Object) -> Result<(), ApiError> {
    let want_version = resource.api_version();
    match (object.str_field("apiVersion"), object.str_field("kind")) {
        (None | Some(""), None | Some("")) => {
            return Err(ApiError::new(
                Reason::BadRequest,
                "Object 'Kind' is missing in the request body",
            ))
        }
        (version, kind) => {
            if let Some(kind) = kind.filter(|kind| !kind.is_empty()) {
                if kind != resource.kind {
                    return Err(ApiError::new(
                        Reason::BadRequest,
                        format!(
                            "the kind in the data ({kind}) does not match the expected kind ({})",
                            resource.kind
                        ),
                    ));
                }
            }
            if let Some(version) = version.filter(|version| !version.is_empty()) {
                if version != want_version {
                    return Err(ApiError::new(
                        Reason::BadRequest,
                        format!(
                            "the API version in the data ({version}) does not match the expected API version ({want_version})"
                        ),
                    ));
                }
            }
        }
    }
    object.set("apiVersion", json!(want_version));
    object.set("kind", json!(resource.kind));
    Ok(())
}

/// Upstream's strict decoding of a body: fields its type lacks and fields given twice fail
/// the request under `fieldValidation=Strict`; otherwise unknown fields are dropped and each
/// problem becomes a warning, unless `Ignore`. Returns the warnings.
pub(super) fn check_fields(
    resource: &ResourceInfo,
    custom: Option<&CustomVersion>,
    query: &str,
    object: &mut Object,
    duplicates: &Duplicates,
) -> Result<Vec<String>, ApiError> {
    let internal = |error: crate::openapi::OpenApiError| {
        ApiError::new(Reason::InternalError, error.to_string())
    };
    let (group, version, kind) = (resource.group, resource.version, resource.kind);
    if let Some(custom) = custom {
        return check_custom_fields(custom, version, kind, query, object, duplicates);
    }
    let no_paths = HashSet::new();
    let json_duplicates = duplicates.json_paths().unwrap_or(&no_paths);
    let problems = crate::openapi::field_problems(group, version, kind, &object.0, json_duplicates)
        .map_err(internal)?;
    let mut worded: Vec<String> = match problems {
        Some(problems) => problems.iter().map(ToString::to_string).collect(),
        // No schema to check against: only what the decoder saw.
        None => {
            let mut paths: Vec<&String> = json_duplicates.iter().collect();
            paths.sort();
            paths
                .into_iter()
                .map(|path| FieldProblem::Duplicate(path.clone()).to_string())
                .collect()
        }
    };
    let yaml_lines = match duplicates {
        Duplicates::Yaml(lines) => lines.as_slice(),
        _ => &[],
    };
    if !yaml_lines.is_empty() {
        // YAML goes through a map on its way to JSON upstream: unknown fields come out in
        // key order, after go-yaml's own complaints.
        worded.sort();
    }
    if worded.is_empty() && yaml_lines.is_empty() {
        return Ok(Vec::new());
    }
    let mode = query_value(query, "fieldValidation").unwrap_or_default();
    if mode == "Strict" {
        let mut problems = Vec::with_capacity(worded.len() + 1);
        if !yaml_lines.is_empty() {
            problems.push(format!(
                "yaml: unmarshal errors:\n  {}",
                yaml_lines.join("\n  ")
            ));
        }
        problems.extend(worded);
        return Err(ApiError::new(
            Reason::BadRequest,
            crate::openapi::strict_decoding_message(version, kind, &problems),
        ));
    }
    crate::openapi::prune_unknown_fields(group, version, kind, &mut object.0).map_err(internal)?;
    if mode == "Ignore" {
        return Ok(Vec::new());
    }
    Ok(yaml_lines.iter().cloned().chain(worded).collect())
}

/// `check_fields` for a custom resource: its fields against its CRD version's schema
/// (pruning drops them later, in `crd::admit`).
fn check_custom_fields(
    custom: &CustomVersion,
    version: &str,
    kind: &str,
    query: &str,
    object: &Object,
    duplicates: &Duplicates,
) -> Result<Vec<String>, ApiError> {
    let mut worded: Vec<String> = crate::crd::unknown_fields(custom, &object.0)
        .into_iter()
        .map(|path| FieldProblem::Unknown(path).to_string())
        .collect();
    if let Some(paths) = duplicates.json_paths() {
        let mut paths: Vec<&String> = paths.iter().collect();
        paths.sort();
        worded.extend(
            paths
                .into_iter()
                .map(|p| FieldProblem::Duplicate(p.clone()).to_string()),
        );
    }
    if let Duplicates::Yaml(lines) = duplicates {
        worded.splice(0..0, lines.iter().cloned());
    }
    if worded.is_empty() {
        return Ok(Vec::new());
    }
    match query_value(query, "fieldValidation").as_deref() {
        Some("Strict") => Err(ApiError::new(
            Reason::BadRequest,
            crate::openapi::strict_decoding_message(version, kind, &worded),
        )),
        Some("Ignore") => Ok(Vec::new()),
        _ => Ok(worded),
    }
}

/// An object's response body, in the version the request named (objects of resources
/// served at several versions are stored in one).
fn served(resource: &ResourceInfo, object: &Object) -> Vec<u8> {
    conversion::to_served(resource, object).to_json()
}

/// `response` with a `Warning: 299 - "..."` header per warning, as kubectl prints them.
pub(super) fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        let quoted = warning.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(value) = HeaderValue::from_str(&format!("299 - \"{quoted}\"")) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

/// Makes the object's namespace agree with the path's.
fn check_namespace(request: &RestRequest, object: &mut Object) -> Result<(), ApiError> {
    if !request.resource.namespaced {
        object.remove_meta("namespace");
        return Ok(());
    }
    let Some(path_namespace) = request.target.namespace.as_deref() else {
        return Err(super::method_not_allowed());
    };
    match object.namespace() {
        Some(namespace) if namespace != path_namespace => Err(ApiError::new(
            Reason::BadRequest,
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => {
            object.set_meta_str("namespace", path_namespace);
            Ok(())
        }
    }
}

/// Metadata validation common to every kind: the problems, to report alone or with the
/// kind's own (upstream lists both in one 422).
fn meta_errors(resource: &ResourceInfo, object: &Object) -> Vec<FieldError> {
    let name = object.name().unwrap_or_default();
    let mut errors: Vec<FieldError> = crate::strategy::name_problems(resource, name)
        .iter()
        .map(|problem| FieldError::invalid("metadata.name", name, problem))
        .collect();
    for (key, value) in object.labels() {
        for problem in validation::qualified_name(key) {
            errors.push(FieldError::invalid("metadata.labels", key, &problem));
        }
        for problem in validation::label_value(value) {
            errors.push(FieldError::invalid("metadata.labels", value, &problem));
        }
    }
    let annotations = object
        .metadata()
        .and_then(|meta| meta.get("annotations"))
        .and_then(Value::as_object);
    for key in annotations.into_iter().flat_map(|map| map.keys()) {
        for problem in validation::qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid("metadata.annotations", key, &problem));
        }
    }
    errors
}

/// Metadata validation common to every kind, as a 422 on its own.
fn validate_meta(resource: &ResourceInfo, object: &Object) -> Result<(), ApiError> {
    let errors = meta_errors(resource, object);
    if errors.is_empty() {
        return Ok(());
    }
    Err(validation::invalid(
        resource.kind,
        resource.group,
        object.name().unwrap_or_default(),
        errors,
    ))
}

fn generated_name(prefix: &str) -> String {
    let mut name: String = prefix.chars().take(MAX_GENERATE_NAME_PREFIX).collect();
    for _ in 0..NAME_SUFFIX_LENGTH {
        let index = fastrand::usize(..NAME_SUFFIX_ALPHABET.len());
        name.push(char::from(NAME_SUFFIX_ALPHABET[index]));
    }
    name
}

/// Creating in a namespace needs the namespace to exist and not be terminating.
async fn check_namespace_lifecycle(
    context: &ApiContext,
    request: &RestRequest,
) -> Result<(), ApiError> {
    let Some(namespace) = request.target.namespace.as_deref() else {
        return Ok(());
    };
    let key = format!("/registry/namespaces/{namespace}");
    let found = context
        .store
        .get(&key, None)
        .await
        .map_err(|error| request.storage_error(namespace, error))?;
    let Some(kv) = found else {
        return Err(ApiError::new(
            Reason::NotFound,
            format!("namespaces {namespace:?} not found"),
        )
        .with_details(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails {
                name: Some(namespace.to_owned()),
                kind: Some("namespaces".to_owned()),
                ..Default::default()
            },
        ));
    };
    let object = Object::from_json(&kv.value)?;
    let terminating = object.meta_str("deletionTimestamp").is_some()
        || object
            .0
            .get("status")
            .and_then(|status| status.get("phase"))
            .and_then(Value::as_str)
            == Some("Terminating");
    if terminating {
        return Err(ApiError::new(
            Reason::Forbidden,
            format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        ));
    }
    Ok(())
}

/// `POST` on a collection.
pub(super) async fn create(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    validate_write_options(&request.query, "CreateOptions")?;
    let manager = managed::field_manager(request, "CreateOptions")?;
    let resource = &request.resource;
    let decoded = request.decode_body(&body)?;
    let mut object = Object(decoded.object);
    check_type(resource, &mut object)?;
    let warnings = check_fields(
        resource,
        request.custom.as_deref(),
        &request.query,
        &mut object,
        &decoded.duplicates,
    )?;
    insert_new(context, request, &manager, object, warnings).await
}

/// Stores a new object (checked for type and fields already): name, metadata, namespace
/// lifecycle, strategy, managed fields, then a create in the store.
pub(super) async fn insert_new(
    context: &ApiContext,
    request: &RestRequest,
    manager: &str,
    mut object: Object,
    warnings: Vec<String>,
) -> Result<Response, ApiError> {
    let resource = &request.resource;
    check_namespace(request, &mut object)?;
    if object.name().is_none() {
        match object.meta_str("generateName").map(str::to_owned) {
            Some(prefix) => object.set_meta_str("name", &generated_name(&prefix)),
            None => {
                return Err(validation::invalid(
                    resource.kind,
                    resource.group,
                    "",
                    vec![FieldError::required(
                        "metadata.name",
                        "name or generateName is required",
                    )],
                ))
            }
        }
    }
    let meta_problems = meta_errors(resource, &object);
    if context.strategies.get(resource).is_none() {
        validate_meta(resource, &object)?;
    }
    if resource.plural != "namespaces" {
        check_namespace_lifecycle(context, request).await?;
    }
    let mut object = conversion::to_storage(resource, object);
    let meta = object.metadata_mut();
    meta.shift_remove("resourceVersion");
    meta.shift_remove("deletionTimestamp");
    meta.shift_remove("deletionGracePeriodSeconds");
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
    if object.0.contains_key("spec") {
        object.metadata_mut().insert("generation".into(), json!(1));
    }
    // Nodes allow every field, status included, to be set on create (a kubelet registers
    // its node with its capacity), as upstream's node strategy does; others start empty.
    let keeps_status = resource.group.is_empty() && resource.plural == "nodes";
    if !keeps_status && resource.subresources.iter().any(|sub| sub.name == "status") {
        object.set("status", json!({}));
    }
    if resource.plural == "namespaces" {
        object.set("status", json!({"phase": "Active"}));
        // The namespace controller's finalizer, which it removes once the namespace is
        // empty (through `namespaces/{name}/finalize`).
        let spec = object.0.entry("spec").or_insert_with(|| json!({}));
        if let Some(spec) = spec.as_object_mut() {
            let finalizers = spec.entry("finalizers").or_insert_with(|| json!([]));
            if let Value::Array(list) = finalizers {
                if !list.iter().any(|f| f == NAMESPACE_FINALIZER) {
                    list.push(json!(NAMESPACE_FINALIZER));
                }
            }
        }
    }
    let name = object.name().unwrap_or_default().to_owned();
    let strategy = context.strategies.get(resource);
    if let Some(strategy) = strategy {
        let prepared = strategy
            .before_create(context.store.as_ref(), &mut object)
            .await;
        if !meta_problems.is_empty() {
            if prepared.is_ok() {
                strategy
                    .create_failed(context.store.as_ref(), &object)
                    .await;
            }
            let (kind, group) = (resource.kind, resource.group);
            return Err(validation::invalid_with(
                kind,
                group,
                &name,
                meta_problems,
                prepared.err(),
            ));
        }
        prepared?;
    }
    if let Some(custom) = &request.custom {
        crate::crd::admit(custom, &mut object)?;
    }
    managed::record(request, manager, None, &mut object);
    let key = storage_key(resource, request.target.namespace.as_deref(), &name);
    if dry_run(&request.query) {
        // Validated and allocated like a real create (so the answer shows the ClusterIP a
        // Service would get), then given back; an existing name still conflicts.
        if let Some(strategy) = strategy {
            strategy
                .create_failed(context.store.as_ref(), &object)
                .await;
        }
        let existing = context
            .store
            .get(&key, None)
            .await
            .map_err(|error| request.storage_error(&name, error))?;
        if existing.is_some() {
            return Err(
                request.storage_error(&name, StorageError::AlreadyExists { key: key.clone() })
            );
        }
        let response = json_bytes(StatusCode::CREATED, served(&request.resource, &object));
        return Ok(with_warnings(response, &warnings));
    }
    let created = context
        .store
        .create(&key, Bytes::from(object.to_json()))
        .await;
    let kv = match created {
        Ok(kv) => kv,
        Err(error) => {
            if let Some(strategy) = strategy {
                strategy
                    .create_failed(context.store.as_ref(), &object)
                    .await;
            }
            return Err(request.storage_error(&name, error));
        }
    };
    object.set_resource_version(kv.mod_revision);
    let response = json_bytes(StatusCode::CREATED, served(&request.resource, &object));
    Ok(with_warnings(response, &warnings))
}

/// Fields of `metadata` a client cannot change by update.
const IMMUTABLE_META: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "namespace",
];

/// `PUT` on an object (or its `status`).
pub(super) async fn update(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    validate_write_options(&request.query, "UpdateOptions")?;
    let manager = managed::field_manager(request, "UpdateOptions")?;
    let name = request.target.name.clone().unwrap_or_default();
    let decoded = request.decode_body(&body)?;
    let (object, warnings) =
        prepare_update(request, &name, Object(decoded.object), &decoded.duplicates)?;
    let object = conversion::to_storage(&request.resource, object);
    let expected = object.resource_version()?;
    let key = storage_key(
        &request.resource,
        request.target.namespace.as_deref(),
        &name,
    );
    // Without a resourceVersion the update is unconditional, as upstream allows: a race
    // lost to another writer is retried against the newer object instead of refused.
    for _ in 0..super::RACE_ATTEMPTS {
        let current = context
            .store
            .get(&key, None)
            .await
            .map_err(|error| request.storage_error(&name, error))?
            .ok_or_else(|| request.not_found(&name))?;
        if expected.is_some_and(|expected| expected != current.mod_revision) {
            return Err(request.conflict(&name));
        }
        let attempt = object.clone();
        match commit_update(context, request, &manager, &name, &key, &current, attempt).await {
            Err(error) if error.reason == Reason::Conflict && expected.is_none() => continue,
            other => return other.map(|response| with_warnings(response, &warnings)),
        }
    }
    Err(request.conflict(&name))
}

/// Checks an object sent to replace `name`: type, fields, namespace, name and metadata.
/// Returns it with the unknown- and duplicate-field warnings for the response.
pub(super) fn prepare_update(
    request: &RestRequest,
    name: &str,
    mut object: Object,
    duplicates: &Duplicates,
) -> Result<(Object, Vec<String>), ApiError> {
    check_type(&request.resource, &mut object)?;
    let warnings = check_fields(
        &request.resource,
        request.custom.as_deref(),
        &request.query,
        &mut object,
        duplicates,
    )?;
    check_namespace(request, &mut object)?;
    match object.name() {
        Some(body_name) if body_name != name => {
            return Err(ApiError::new(
                Reason::BadRequest,
                format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            ),
            ))
        }
        _ => object.set_meta_str("name", name),
    }
    validate_meta(&request.resource, &object)?;
    Ok((object, warnings))
}

/// Writes `object` over `current` (compare-and-swap on its revision) and answers with the
/// result; a lost race is a 409 Conflict.
pub(super) async fn commit_update(
    context: &ApiContext,
    request: &RestRequest,
    manager: &str,
    name: &str,
    key: &str,
    current: &KeyValue,
    object: Object,
) -> Result<Response, ApiError> {
    let old = Object::from_json(&current.value)?;
    let mut object = object;
    // Defaults go in before the spec comparison, so a client that leaves a defaulted field
    // out does not bump the generation.
    let strategy = context
        .strategies
        .get(&request.resource)
        .filter(|_| request.target.subresource.is_none());
    let store = context.store.as_ref();
    if let Some(strategy) = strategy {
        strategy.before_update(store, &old, &mut object).await?;
    }
    let mut merged = merge_update(&request.resource, request, &old, object);
    if let Some(custom) = &request.custom {
        crate::crd::admit(custom, &mut merged)?;
    }
    managed::record(request, manager, Some(&old), &mut merged);
    if dry_run(&request.query) {
        if let Some(strategy) = strategy {
            strategy.update_failed(store, &old, &merged).await;
        }
        merged.set_resource_version(current.mod_revision);
        return Ok(json_bytes(
            StatusCode::OK,
            served(&request.resource, &merged),
        ));
    }
    let finishing = old.meta_str("deletionTimestamp").is_some() && done_finalizing(&merged);
    let written = write_back(context, request, name, key, current, &old, merged.clone()).await;
    if let Some(strategy) = strategy {
        match &written {
            Ok(_) if !finishing => strategy.after_update(store, &old, &merged).await,
            // Not stored as such: gone (the old object's holdings were released on
            // deletion) or not written at all.
            _ => strategy.update_failed(store, &old, &merged).await,
        }
    }
    let kv = written?;
    merged.set_resource_version(kv.mod_revision);
    Ok(json_bytes(
        StatusCode::OK,
        served(&request.resource, &merged),
    ))
}

/// Applies the update rules: immutable metadata kept, status or spec split by subresource,
/// generation bumped when the spec changed.
fn merge_update(
    resource: &ResourceInfo,
    request: &RestRequest,
    old: &Object,
    new: Object,
) -> Object {
    let status_only = request.target.subresource.as_deref() == Some("status");
    let has_status = resource.subresources.iter().any(|sub| sub.name == "status");
    let mut merged = if status_only {
        let mut merged = old.clone();
        match new.0.get("status") {
            Some(status) => merged.set("status", status.clone()),
            None => {
                merged.0.shift_remove("status");
            }
        }
        merged
    } else {
        let mut merged = new;
        if has_status {
            match old.0.get("status") {
                Some(status) => merged.set("status", status.clone()),
                None => {
                    merged.0.shift_remove("status");
                }
            }
        }
        merged
    };
    let old_meta = old.metadata().cloned().unwrap_or_default();
    let meta = merged.metadata_mut();
    meta.shift_remove("resourceVersion");
    for field in IMMUTABLE_META {
        match old_meta.get(*field) {
            Some(value) => {
                meta.insert((*field).to_owned(), value.clone());
            }
            None => {
                meta.shift_remove(*field);
            }
        }
    }
    if !status_only && old.0.get("spec") != merged.0.get("spec") {
        let generation = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        merged
            .metadata_mut()
            .insert("generation".into(), json!(generation + 1));
    }
    merged
}

/// Writes an update, or finishes a deletion when it removed the last finalizer.
async fn write_back(
    context: &ApiContext,
    request: &RestRequest,
    name: &str,
    key: &str,
    current: &KeyValue,
    old: &Object,
    merged: Object,
) -> Result<KeyValue, ApiError> {
    let finishing = old.meta_str("deletionTimestamp").is_some() && done_finalizing(&merged);
    if finishing {
        let deleted = context
            .store
            .delete(key, Some(current.mod_revision))
            .await
            .map_err(|error| conflict_or(request, name, error))?;
        if let Some(strategy) = context.strategies.get(&request.resource) {
            strategy.after_delete(context.store.as_ref(), old).await;
        }
        return Ok(KeyValue {
            mod_revision: deleted.revision,
            ..deleted.prev
        });
    }
    context
        .store
        .update(key, Bytes::from(merged.to_json()), current.mod_revision)
        .await
        .map_err(|error| conflict_or(request, name, error))
}

fn conflict_or(request: &RestRequest, name: &str, error: StorageError) -> ApiError {
    match error {
        StorageError::Conflict { .. } => request.conflict(name),
        other => request.storage_error(name, other),
    }
}

/// The finalizer every namespace is created with.
const NAMESPACE_FINALIZER: &str = "kubernetes";

fn is_namespaces(resource: &ResourceInfo) -> bool {
    resource.group.is_empty() && resource.plural == "namespaces"
}

/// `spec.finalizers` of a namespace.
fn namespace_finalizers(object: &Object) -> Vec<Value> {
    object
        .0
        .get("spec")
        .and_then(|spec| spec.get("finalizers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Whether an object being deleted has nothing left holding it: no finalizers (and, for a
/// namespace, no `spec.finalizers`).
fn done_finalizing(object: &Object) -> bool {
    let namespace = object.str_field("kind") == Some("Namespace");
    object.finalizers().is_empty() && (!namespace || namespace_finalizers(object).is_empty())
}

/// Deletes a namespace as upstream does: the first delete only marks it (deletionTimestamp,
/// phase Terminating) for the namespace controller to empty; once its finalizers are gone a
/// delete removes it; a delete in between is a 409.
async fn delete_namespace(
    context: &ApiContext,
    request: &RestRequest,
    name: &str,
    key: &str,
    current: &KeyValue,
    mut object: Object,
) -> Result<Response, ApiError> {
    let dry = dry_run(&request.query);
    if object.meta_str("deletionTimestamp").is_none() {
        let meta = object.metadata_mut();
        meta.insert("deletionTimestamp".into(), json!(now_rfc3339()));
        meta.insert("deletionGracePeriodSeconds".into(), json!(0));
        object.set("status", json!({"phase": "Terminating"}));
        if dry {
            object.set_resource_version(current.mod_revision);
        } else {
            let kv = context
                .store
                .update(key, Bytes::from(object.to_json()), current.mod_revision)
                .await
                .map_err(|error| conflict_or(request, name, error))?;
            object.set_resource_version(kv.mod_revision);
        }
        return Ok(json_bytes(
            StatusCode::OK,
            served(&request.resource, &object),
        ));
    }
    if !done_finalizing(&object) {
        let mut error = ApiError::new(
            Reason::Conflict,
            format!("Operation cannot be fulfilled on namespaces {name:?}: The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."),
        );
        error.details = Some(Box::new(request.details(name)));
        return Err(error);
    }
    if !dry {
        context
            .store
            .delete(key, Some(current.mod_revision))
            .await
            .map_err(|error| conflict_or(request, name, error))?;
    }
    let mut details = request.details(name);
    details.uid = object.meta_str("uid").map(str::to_owned);
    Ok(json(
        StatusCode::OK,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
    ))
}

/// `PUT .../namespaces/{name}/finalize`: replaces `spec.finalizers` only (how the namespace
/// controller releases an emptied namespace); a terminating namespace left with no
/// finalizers is then removed.
pub(super) async fn finalize_namespace(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    if request.method != axum::http::Method::PUT {
        return Err(super::method_not_allowed());
    }
    let name = request.target.name.clone().unwrap_or_default();
    let decoded = request.decode_body(&body)?;
    let sent = Object(decoded.object);
    let key = storage_key(&request.resource, None, &name);
    let current = context
        .store
        .get(&key, None)
        .await
        .map_err(|error| request.storage_error(&name, error))?
        .ok_or_else(|| request.not_found(&name))?;
    if sent
        .resource_version()?
        .is_some_and(|expected| expected != current.mod_revision)
    {
        return Err(request.conflict(&name));
    }
    let mut object = Object::from_json(&current.value)?;
    let finalizers = namespace_finalizers(&sent);
    for finalizer in &finalizers {
        let text = finalizer.as_str().unwrap_or_default();
        if let Some(why) = validation::qualified_name(text).into_iter().next() {
            let error = FieldError::invalid("spec.finalizers", text, &why);
            return Err(validation::invalid("Namespace", "", &name, vec![error]));
        }
    }
    let spec = object.0.entry("spec").or_insert_with(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        spec.insert("finalizers".into(), Value::Array(finalizers));
    }
    if object.meta_str("deletionTimestamp").is_some() && done_finalizing(&object) {
        context
            .store
            .delete(&key, Some(current.mod_revision))
            .await
            .map_err(|error| conflict_or(request, &name, error))?;
        return Ok(json_bytes(
            StatusCode::OK,
            served(&request.resource, &object),
        ));
    }
    let kv = context
        .store
        .update(&key, Bytes::from(object.to_json()), current.mod_revision)
        .await
        .map_err(|error| conflict_or(request, &name, error))?;
    object.set_resource_version(kv.mod_revision);
    Ok(json_bytes(
        StatusCode::OK,
        served(&request.resource, &object),
    ))
}

/// `DELETE` on an object.
pub(super) async fn delete(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    validate_write_options(&request.query, "DeleteOptions")?;
    let name = request.target.name.clone().unwrap_or_default();
    let options = DeleteOptions::parse(&body, &request.query)?;
    let key = storage_key(
        &request.resource,
        request.target.namespace.as_deref(),
        &name,
    );
    delete_one(context, request, &name, &key, &options).await
}

async fn delete_one(
    context: &ApiContext,
    request: &RestRequest,
    name: &str,
    key: &str,
    options: &DeleteOptions,
) -> Result<Response, ApiError> {
    let current = context
        .store
        .get(key, None)
        .await
        .map_err(|error| request.storage_error(name, error))?
        .ok_or_else(|| request.not_found(name))?;
    let mut object = Object::from_json(&current.value)?;
    options.check_preconditions(request, name, &object, current.mod_revision)?;
    if is_namespaces(&request.resource) {
        return delete_namespace(context, request, name, key, &current, object).await;
    }
    let dry = dry_run(&request.query);
    let strategy = context.strategies.get(&request.resource);
    if let Some(grace) = strategy.and_then(|s| s.deletion_grace(&object, options.grace_period)) {
        let current_grace = object
            .metadata()
            .and_then(|meta| meta.get("deletionGracePeriodSeconds"))
            .and_then(Value::as_i64);
        // Marked already with a grace no longer than this one: nothing to change.
        if current_grace.is_some_and(|current| current <= grace) {
            object.set_resource_version(current.mod_revision);
            return Ok(json_bytes(
                StatusCode::OK,
                served(&request.resource, &object),
            ));
        }
        let deadline = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let deadline = jiff::Timestamp::from_second(deadline.as_second()).unwrap_or(deadline);
        let meta = object.metadata_mut();
        meta.insert(
            "deletionTimestamp".into(),
            json!(deadline.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
        meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
        if dry {
            object.set_resource_version(current.mod_revision);
            return Ok(json_bytes(
                StatusCode::OK,
                served(&request.resource, &object),
            ));
        }
        let kv = context
            .store
            .update(key, Bytes::from(object.to_json()), current.mod_revision)
            .await
            .map_err(|error| conflict_or(request, name, error))?;
        object.set_resource_version(kv.mod_revision);
        return Ok(json_bytes(
            StatusCode::OK,
            served(&request.resource, &object),
        ));
    }
    // Foreground and orphan deletion are recorded as finalizers for the garbage collector,
    // which removes them once dependents are deleted or orphaned.
    if object.meta_str("deletionTimestamp").is_none() {
        if let Some(finalizer) = options.propagation_finalizer() {
            if !object.finalizers().contains(&finalizer) {
                let meta = object.metadata_mut();
                let list = meta.entry("finalizers").or_insert_with(|| json!([]));
                if let Value::Array(list) = list {
                    list.push(json!(finalizer));
                }
            }
        }
    }
    if !object.finalizers().is_empty() {
        if object.meta_str("deletionTimestamp").is_none() {
            let meta = object.metadata_mut();
            meta.insert("deletionTimestamp".into(), json!(now_rfc3339()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
            if let Some(policy) = &options.propagation_policy {
                tracing::debug!(%policy, name, "deletion propagation recorded");
            }
            if !dry {
                let kv = context
                    .store
                    .update(key, Bytes::from(object.to_json()), current.mod_revision)
                    .await
                    .map_err(|error| conflict_or(request, name, error))?;
                object.set_resource_version(kv.mod_revision);
                return Ok(json_bytes(
                    StatusCode::OK,
                    served(&request.resource, &object),
                ));
            }
        }
        object.set_resource_version(current.mod_revision);
        return Ok(json_bytes(
            StatusCode::OK,
            served(&request.resource, &object),
        ));
    }
    if !dry {
        context
            .store
            .delete(key, Some(current.mod_revision))
            .await
            .map_err(|error| conflict_or(request, name, error))?;
        if let Some(strategy) = context.strategies.get(&request.resource) {
            strategy.after_delete(context.store.as_ref(), &object).await;
        }
    }
    let mut details = request.details(name);
    details.uid = object.meta_str("uid").map(str::to_owned);
    Ok(json(
        StatusCode::OK,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }),
    ))
}

/// `DELETE` on a collection: each selected object is deleted as by a single delete.
pub(super) async fn delete_collection(
    context: &ApiContext,
    request: &RestRequest,
    body: Bytes,
) -> Result<Response, ApiError> {
    let options = DeleteOptions::parse(&body, &request.query)?;
    let labels =
        LabelSelector::parse(&query_value(&request.query, "labelSelector").unwrap_or_default())?;
    let mut prefix = storage_prefix(&request.resource);
    if let Some(namespace) = &request.target.namespace {
        prefix.push_str(namespace);
        prefix.push('/');
    }
    let page = context
        .store
        .list(ListRequest {
            prefix,
            ..ListRequest::default()
        })
        .await
        .map_err(|error| request.storage_error("", error))?;
    let mut deleted = Vec::new();
    for kv in page.items {
        let object = object::from_storage(&kv.value, kv.mod_revision)?;
        if !labels.matches(object.labels()) {
            continue;
        }
        let name = object.name().unwrap_or_default().to_owned();
        match delete_one(context, request, &name, &kv.key, &options).await {
            Ok(_) => deleted.push(object),
            // Gone meanwhile: someone else deleted it, which is what was asked.
            Err(error) if error.reason == Reason::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    let items: Vec<Value> = deleted
        .into_iter()
        .map(|object| {
            Value::Object(
                conversion::to_served(&request.resource, &object)
                    .into_owned()
                    .0,
            )
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", request.resource.kind),
            "apiVersion": request.resource.api_version(),
            "metadata": {},
            "items": items,
        }),
    ))
}

/// The parts of a `DeleteOptions` body the server acts on.
#[derive(Default)]
struct DeleteOptions {
    uid: Option<String>,
    resource_version: Option<String>,
    propagation_policy: Option<String>,
    grace_period: Option<i64>,
    orphan_dependents: bool,
}

impl DeleteOptions {
    /// The finalizer that records a non-default propagation policy.
    fn propagation_finalizer(&self) -> Option<&'static str> {
        match self.propagation_policy.as_deref() {
            Some("Foreground") => Some("foregroundDeletion"),
            Some("Orphan") => Some("orphan"),
            _ if self.orphan_dependents => Some("orphan"),
            _ => None,
        }
    }

    /// Reads the body's `DeleteOptions` and the query parameters that may stand in for it.
    fn parse(body: &[u8], query: &str) -> Result<Self, ApiError> {
        let query_grace = query_value(query, "gracePeriodSeconds")
            .filter(|text| !text.is_empty())
            .map(|text| {
                text.parse::<i64>().map_err(|_| {
                    ApiError::new(
                        Reason::BadRequest,
                        format!("invalid gracePeriodSeconds: {text:?}"),
                    )
                })
            })
            .transpose()?;
        let query_policy = query_value(query, "propagationPolicy").filter(|text| !text.is_empty());
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                grace_period: query_grace,
                propagation_policy: query_policy,
                ..Self::default()
            });
        }
        let object = Object::from_json(body)?;
        let preconditions = object.0.get("preconditions");
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        Ok(Self {
            uid: text(preconditions.and_then(|p| p.get("uid"))),
            resource_version: text(preconditions.and_then(|p| p.get("resourceVersion"))),
            propagation_policy: text(object.0.get("propagationPolicy")).or(query_policy),
            grace_period: object
                .0
                .get("gracePeriodSeconds")
                .and_then(Value::as_i64)
                .or(query_grace),
            orphan_dependents: object
                .0
                .get("orphanDependents")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    fn check_preconditions(
        &self,
        request: &RestRequest,
        name: &str,
        object: &Object,
        revision: i64,
    ) -> Result<(), ApiError> {
        let failed = |what: &str, want: &str, have: &str| {
            let mut error = ApiError::new(
                Reason::Conflict,
                format!(
                    "Operation cannot be fulfilled on {} {name:?}: Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}",
                    request.qualified_resource()
                ),
            );
            error.details = Some(Box::new(request.details(name)));
            error
        };
        if let Some(uid) = &self.uid {
            let have = object.meta_str("uid").unwrap_or_default();
            if uid != have {
                return Err(failed("UID", uid, have));
            }
        }
        if let Some(version) = &self.resource_version {
            let have = revision.to_string();
            if *version != have {
                return Err(failed("ResourceVersion", version, &have));
            }
        }
        Ok(())
    }
}
