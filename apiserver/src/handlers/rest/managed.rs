//! Field managers on writes: who is writing (`fieldManager`, or the User-Agent's first
//! word as upstream derives it), `metadata.managedFields` recorded for creates, updates
//! and patches, and server-side apply's merge with its 409 on conflicts.

use axum::http::header;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

use super::{query_value, RestRequest};
use crate::apply::{self, ApplySchema, ListKind, ManagedError, Writer};
use crate::object::{now_rfc3339, Object};
use crate::status::{ApiError, Reason};
use crate::validation::{self, FieldError};

/// Longest field manager name upstream accepts.
const MAX_MANAGER_LENGTH: usize = 128;

/// The manager of a write: `fieldManager`, else the User-Agent's product name
/// (`kubectl/v1.35.0 (linux/amd64) ...` → `kubectl`). Apply requires `fieldManager`.
pub(super) fn field_manager(request: &RestRequest, options_kind: &str) -> Result<String, ApiError> {
    let given = query_value(&request.query, "fieldManager").unwrap_or_default();
    let invalid =
        |error: FieldError| validation::invalid(options_kind, "meta.k8s.io", "", vec![error]);
    if given.len() > MAX_MANAGER_LENGTH {
        return Err(invalid(FieldError {
            reason: "FieldValueTooLong",
            field: "fieldManager".to_owned(),
            message: format!("Too long: may not be more than {MAX_MANAGER_LENGTH} bytes"),
        }));
    }
    if given.chars().any(|c| c.is_control()) {
        return Err(invalid(FieldError::invalid(
            "fieldManager",
            &given,
            "must consist of printable characters",
        )));
    }
    if !given.is_empty() {
        return Ok(given);
    }
    if request.is_apply() {
        return Err(invalid(FieldError::required(
            "fieldManager",
            "is required for apply requests",
        )));
    }
    let agent = request
        .headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let product: String = agent
        .split('/')
        .next()
        .unwrap_or_default()
        .chars()
        .take(MAX_MANAGER_LENGTH)
        .collect();
    Ok(product)
}

fn writer<'a>(
    request: &'a RestRequest,
    manager: &'a str,
    api_version: &'a str,
    now: &'a str,
) -> Writer<'a> {
    Writer {
        manager,
        subresource: request.target.subresource.as_deref(),
        api_version,
        has_status: request
            .resource
            .subresources
            .iter()
            .any(|sub| sub.name == "status"),
        now,
    }
}

/// A built-in kind's published schema or a custom resource's CRD schema.
#[derive(Clone, Debug)]
enum AnySchema {
    Builtin(crate::openapi::SchemaNode),
    Custom(crate::crd::CrdNode),
}

impl ApplySchema for AnySchema {
    fn field(&self, name: &str) -> (Option<Self>, bool) {
        match self {
            Self::Builtin(node) => {
                let (child, declared) = node.field(name);
                (child.map(Self::Builtin), declared)
            }
            Self::Custom(node) => {
                let (child, declared) = node.field(name);
                (child.map(Self::Custom), declared)
            }
        }
    }

    fn element(&self) -> Option<Self> {
        match self {
            Self::Builtin(node) => ApplySchema::element(node).map(Self::Builtin),
            Self::Custom(node) => node.element().map(Self::Custom),
        }
    }

    fn list_kind(&self) -> ListKind {
        match self {
            Self::Builtin(node) => node.list_kind(),
            Self::Custom(node) => node.list_kind(),
        }
    }

    fn map_atomic(&self) -> bool {
        match self {
            Self::Builtin(node) => node.map_atomic(),
            Self::Custom(node) => node.map_atomic(),
        }
    }

    fn key_default(&self, key: &str) -> Option<serde_json::Value> {
        match self {
            Self::Builtin(node) => node.key_default(key),
            Self::Custom(node) => node.key_default(key),
        }
    }
}

/// The schema of an object: its CRD version's for a custom resource, else the published
/// one of its own `apiVersion` and `kind` (stored objects may be in another version than
/// the request's).
fn schema_of(request: &RestRequest, object: &Object) -> Option<AnySchema> {
    if let Some(custom) = &request.custom {
        return custom.schema.as_ref().map(|schema| {
            AnySchema::Custom(crate::crd::CrdNode::new(std::sync::Arc::clone(schema)))
        });
    }
    let api_version = object.str_field("apiVersion")?;
    let kind = object.str_field("kind")?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    crate::openapi::patch_schema(group, version, kind)
        .ok()
        .flatten()
        .map(AnySchema::Builtin)
}

/// Records a create (`old` = `None`), update or patch in `new`'s managedFields. Not for
/// apply, which records its own. Never fails the write: like upstream, an object the
/// field walk cannot type keeps its previous managedFields.
pub(super) fn record(request: &RestRequest, manager: &str, old: Option<&Object>, new: &mut Object) {
    if request.is_apply() {
        return;
    }
    let api_version = new.str_field("apiVersion").unwrap_or_default().to_owned();
    let now = now_rfc3339();
    let schema = schema_of(request, new);
    let writer = writer(request, manager, &api_version, &now);
    if let Err(error) =
        apply::record_update(old.map(|o| &o.0), &mut new.0, &writer, schema.as_ref())
    {
        tracing::warn!(%error, manager, "managed fields not updated");
    }
}

/// Server-side apply of `config` over `live` (`None` to create).
pub(super) fn apply_config(
    request: &RestRequest,
    manager: &str,
    live: Option<&Object>,
    config: &Object,
) -> Result<Object, ApiError> {
    let force = match query_value(&request.query, "force").as_deref() {
        None | Some("false") | Some("") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(ApiError::new(
                Reason::BadRequest,
                format!("invalid boolean value for force: {other:?}"),
            ))
        }
    };
    let api_version = config
        .str_field("apiVersion")
        .unwrap_or_default()
        .to_owned();
    let now = now_rfc3339();
    let schema = schema_of(request, config);
    let writer = writer(request, manager, &api_version, &now);
    apply::apply(
        live.map(|o| &o.0),
        &config.0,
        &writer,
        force,
        schema.as_ref(),
    )
    .map(Object)
    .map_err(apply_error)
}

/// Rejects `force` on anything but apply, as upstream validates PatchOptions.
pub(super) fn check_force(request: &RestRequest) -> Result<(), ApiError> {
    if !request.is_apply() && query_value(&request.query, "force").is_some() {
        return Err(validation::invalid(
            "PatchOptions",
            "meta.k8s.io",
            "",
            vec![FieldError::forbidden(
                "force",
                "may not be specified for non-apply patch",
            )],
        ));
    }
    Ok(())
}

fn apply_error(error: ManagedError) -> ApiError {
    match error {
        ManagedError::Conflict { message, causes } => {
            let details = StatusDetails {
                causes: Some(
                    causes
                        .into_iter()
                        .map(|(field, message)| StatusCause {
                            field: Some(field),
                            message: Some(message),
                            reason: Some("FieldManagerConflict".to_owned()),
                        })
                        .collect(),
                ),
                ..StatusDetails::default()
            };
            ApiError::new(Reason::Conflict, message).with_details(details)
        }
        ManagedError::Malformed(message) => ApiError::new(Reason::BadRequest, message),
        ManagedError::Typed(error) => ApiError::new(
            Reason::InternalError,
            format!("failed to create typed patch object: {error}"),
        ),
    }
}
