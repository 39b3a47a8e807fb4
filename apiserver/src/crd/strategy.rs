//! CustomResourceDefinition objects: upstream's essential validation (names, group, scope,
//! one storage version) and the cleanup finalizer that holds a deleted CRD until its
//! objects are gone.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::CLEANUP_FINALIZER;
use crate::object::Object;
use crate::status::ApiError;
use crate::storage::Store;
use crate::strategy::Strategy;
use crate::validation::{self, FieldError};

/// Defaults and validation of CRD objects.
pub struct CrdStrategy;

fn text<'a>(object: &'a Object, pointer: &str) -> Option<&'a str> {
    let path = pointer.trim_start_matches('/');
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    let child = object.0.get(first)?;
    let found = if rest.is_empty() {
        child
    } else {
        child.pointer(&format!("/{rest}"))?
    };
    found.as_str()
}

fn validate(object: &Object) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let group = text(object, "/spec/group").unwrap_or_default();
    let plural = text(object, "/spec/names/plural").unwrap_or_default();
    let name = object.name().unwrap_or_default();
    if plural.is_empty() {
        errors.push(FieldError::required("spec.names.plural", ""));
    }
    if text(object, "/spec/names/kind")
        .unwrap_or_default()
        .is_empty()
    {
        errors.push(FieldError::required("spec.names.kind", ""));
    }
    if group.is_empty() {
        errors.push(FieldError::required("spec.group", ""));
    } else if !group.contains('.') {
        errors.push(FieldError::invalid(
            "spec.group",
            group,
            "should be a domain with at least one dot",
        ));
    }
    if !plural.is_empty() && !group.is_empty() && name != format!("{plural}.{group}") {
        errors.push(FieldError::invalid(
            "metadata.name",
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    match text(object, "/spec/scope") {
        Some("Namespaced" | "Cluster") => {}
        Some(other) => errors.push(FieldError::not_supported(
            "spec.scope",
            other,
            &["Cluster", "Namespaced"],
        )),
        None => errors.push(FieldError::required("spec.scope", "")),
    }
    let versions = object
        .0
        .get("spec")
        .and_then(|spec| spec.get("versions"))
        .and_then(Value::as_array);
    match versions {
        None => errors.push(FieldError::invalid(
            "spec.versions",
            "null",
            "must have exactly one version marked as storage version",
        )),
        Some(versions) => {
            let storage = versions
                .iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .count();
            if storage != 1 {
                errors.push(FieldError::invalid(
                    "spec.versions",
                    &Value::Array(versions.clone()).to_string(),
                    "must have exactly one version marked as storage version",
                ));
            }
        }
    }
    errors
}

fn invalid(object: &Object, errors: Vec<FieldError>) -> ApiError {
    validation::invalid(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        object.name().unwrap_or_default(),
        errors,
    )
}

#[async_trait]
impl Strategy for CrdStrategy {
    async fn before_create(&self, _store: &dyn Store, object: &mut Object) -> Result<(), ApiError> {
        let errors = validate(object);
        if !errors.is_empty() {
            return Err(invalid(object, errors));
        }
        let meta = object.metadata_mut();
        let finalizers = meta.entry("finalizers").or_insert_with(|| json!([]));
        if let Value::Array(list) = finalizers {
            if !list.iter().any(|f| f == CLEANUP_FINALIZER) {
                list.push(json!(CLEANUP_FINALIZER));
            }
        }
        object.set(
            "status",
            json!({"acceptedNames": {"kind": "", "plural": ""}, "storedVersions": []}),
        );
        Ok(())
    }

    async fn before_update(
        &self,
        _store: &dyn Store,
        old: &Object,
        new: &mut Object,
    ) -> Result<(), ApiError> {
        let mut errors = validate(new);
        for (pointer, field) in [("/spec/group", "spec.group"), ("/spec/scope", "spec.scope")] {
            let before = text(old, pointer);
            let after = text(new, pointer);
            if before.is_some() && before != after {
                errors.push(FieldError::invalid(
                    field,
                    after.unwrap_or_default(),
                    "field is immutable",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(invalid(new, errors));
        }
        Ok(())
    }
}
