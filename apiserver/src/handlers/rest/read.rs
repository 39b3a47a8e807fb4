//! get and list.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{json_bytes, query_value, ApiContext, RestRequest};
use crate::conversion;
use crate::field_labels;
use crate::object::{self, Object};
use crate::registry::{storage_key, storage_prefix};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, Reason};
use crate::storage::{ListRequest, Revision};
use crate::validation::{self, FieldError};

/// `GET .../{name}` (and `.../{name}/status`).
pub(super) async fn get(context: &ApiContext, request: &RestRequest) -> Result<Response, ApiError> {
    let negotiated = request.negotiate(false)?;
    let name = request.target.name.as_deref().unwrap_or_default();
    let key = storage_key(&request.resource, request.target.namespace.as_deref(), name);
    let kv = context
        .store
        .get(&key, None)
        .await
        .map_err(|error| request.storage_error(name, error))?
        .ok_or_else(|| request.not_found(name))?;
    let stored = object::from_storage(&kv.value, kv.mod_revision)?;
    let object = conversion::to_served(&request.resource, &stored);
    if let Some(transform) = request.transform(&negotiated)? {
        let body = transform.single(&stored, &object)?;
        return Ok(json_bytes(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
        ));
    }
    Ok(json_bytes(StatusCode::OK, object.to_json()))
}

/// The continue token: upstream's shape, so tokens look alike to clients that log them.
#[derive(Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    rv: Revision,
    start: String,
}

const TOKEN_VERSION: &str = "meta.k8s.io/v1";

fn encode_continue(revision: Revision, last_key: &str, prefix: &str) -> String {
    let token = ContinueToken {
        v: TOKEN_VERSION.to_owned(),
        rv: revision,
        start: format!("{}\u{0}", last_key.strip_prefix(prefix).unwrap_or(last_key)),
    };
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// Decodes a continue token into the revision and the last key of the previous page.
fn decode_continue(token: &str, prefix: &str) -> Result<(Revision, String), ApiError> {
    let invalid = || {
        ApiError::new(
            Reason::BadRequest,
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(token))
        .map_err(|_| invalid())?;
    let token: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if token.v != TOKEN_VERSION || token.rv <= 0 || token.start.contains("..") {
        return Err(invalid());
    }
    let start = token.start.strip_suffix('\u{0}').unwrap_or(&token.start);
    Ok((token.rv, format!("{prefix}{start}")))
}

/// List query parameters.
struct ListQuery {
    labels: LabelSelector,
    fields: FieldSelector,
    limit: Option<usize>,
    continue_from: Option<(Revision, String)>,
    revision: ReadAt,
}

/// Which revision a list reads, from `resourceVersion` and `resourceVersionMatch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadAt {
    /// The latest (no resourceVersion, or "0": any is fine and the latest is freshest).
    Latest,
    /// Exactly this revision.
    Exact(Revision),
    /// The latest, which must not be older than this.
    NotOlderThan(Revision),
}

fn invalid_list_options(error: FieldError) -> ApiError {
    validation::invalid("ListOptions", "meta.k8s.io", "", vec![error])
}

/// Upstream's list-option rules for resourceVersion and resourceVersionMatch.
fn revision_requirement(query: &str) -> Result<ReadAt, ApiError> {
    let text = query_value(query, "resourceVersion").unwrap_or_default();
    let matching = query_value(query, "resourceVersionMatch").unwrap_or_default();
    if !matches!(matching.as_str(), "" | "Exact" | "NotOlderThan") {
        return Err(invalid_list_options(FieldError::not_supported(
            "resourceVersionMatch",
            &matching,
            &["Exact", "NotOlderThan", ""],
        )));
    }
    if text.is_empty() {
        if !matching.is_empty() {
            return Err(invalid_list_options(FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            )));
        }
        return Ok(ReadAt::Latest);
    }
    let revision: Revision = text.parse().map_err(|_| {
        ApiError::new(
            Reason::BadRequest,
            format!("invalid resource version: {text:?}"),
        )
    })?;
    match (matching.as_str(), revision) {
        ("Exact", 0) => Err(invalid_list_options(FieldError::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        ))),
        ("Exact", revision) => Ok(ReadAt::Exact(revision)),
        (_, 0) => Ok(ReadAt::Latest),
        (_, revision) => Ok(ReadAt::NotOlderThan(revision)),
    }
}

fn parse_list_query(
    query: &str,
    prefix: &str,
    resource: &crate::registry::ResourceInfo,
) -> Result<ListQuery, ApiError> {
    let labels = LabelSelector::parse(&query_value(query, "labelSelector").unwrap_or_default())?;
    let fields = FieldSelector::parse(
        &query_value(query, "fieldSelector").unwrap_or_default(),
        |field| field_labels::supported(resource, field),
    )?;
    let limit = match query_value(query, "limit").filter(|value| !value.is_empty()) {
        None => None,
        Some(text) => {
            let limit: i64 = text.parse().map_err(|_| {
                ApiError::new(Reason::BadRequest, format!("invalid limit: {text:?}"))
            })?;
            usize::try_from(limit).ok().filter(|limit| *limit > 0)
        }
    };
    let continue_from = query_value(query, "continue")
        .filter(|token| !token.is_empty())
        .map(|token| decode_continue(&token, prefix))
        .transpose()?;
    let revision = revision_requirement(query)?;
    if continue_from.is_some() && revision != ReadAt::Latest {
        return Err(ApiError::new(
            Reason::BadRequest,
            "specifying resource version is not allowed when using continue",
        ));
    }
    Ok(ListQuery {
        labels,
        fields,
        limit,
        continue_from,
        revision,
    })
}

/// `GET` on a collection.
pub(super) async fn list(
    context: &ApiContext,
    request: &RestRequest,
) -> Result<Response, ApiError> {
    let negotiated = request.negotiate(false)?;
    let resource = &request.resource;
    let mut prefix = storage_prefix(resource);
    if let Some(namespace) = &request.target.namespace {
        prefix.push_str(namespace);
        prefix.push('/');
    }
    let query = parse_list_query(&request.query, &storage_prefix(resource), resource)?;
    let (mut revision, mut after_key) = match (&query.continue_from, query.revision) {
        (Some((revision, key)), _) => (Some(*revision), Some(key.clone())),
        (None, ReadAt::Exact(revision)) => (Some(revision), None),
        (None, ReadAt::NotOlderThan(wanted)) => {
            let current = context
                .store
                .current_revision()
                .await
                .map_err(|error| request.storage_error("", error))?;
            if wanted > current {
                return Err(ApiError::new(
                    Reason::Timeout,
                    format!("Too large resource version: {wanted}, current: {current}"),
                ));
            }
            (None, None)
        }
        (None, ReadAt::Latest) => (None, None),
    };
    let filtering = !query.labels.0.is_empty() || !query.fields.0.is_empty();
    let mut items = Vec::new();
    let mut next_key = None;
    let mut remaining = None;
    let mut read_at;
    loop {
        let page = context
            .store
            .list(ListRequest {
                prefix: prefix.clone(),
                after_key: after_key.take(),
                revision,
                limit: query.limit.map(|limit| limit - items.len()),
            })
            .await
            .map_err(|error| match error {
                crate::storage::StorageError::Compacted { .. } if query.continue_from.is_some() => {
                    ApiError::new(
                        Reason::Expired,
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    )
                }
                other => request.storage_error("", other),
            })?;
        read_at = page.revision;
        revision = Some(page.revision);
        let more = page.more();
        let last = page.items.last().map(|kv| kv.key.clone());
        for kv in page.items {
            let object = object::from_storage(&kv.value, kv.mod_revision)?;
            if filtering && !selected(resource, &object, &query) {
                continue;
            }
            items.push(object);
        }
        let full = query.limit.is_some_and(|limit| items.len() >= limit);
        if !more {
            break;
        }
        if full {
            next_key = last;
            if !filtering {
                remaining = Some(page.remaining);
            }
            break;
        }
        after_key = last;
    }
    let mut metadata = Map::new();
    metadata.insert("resourceVersion".into(), json!(read_at.to_string()));
    if let Some(key) = next_key {
        metadata.insert(
            "continue".into(),
            json!(encode_continue(read_at, &key, &storage_prefix(resource))),
        );
        if let Some(remaining) = remaining {
            metadata.insert("remainingItemCount".into(), json!(remaining));
        }
    }
    if let Some(transform) = request.transform(&negotiated)? {
        let served = |object: &Object| conversion::to_served(resource, object).into_owned();
        let body = transform.list(&items, metadata, &served)?;
        return Ok(json_bytes(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
        ));
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|object| {
            let mut object = conversion::to_served(resource, &object).into_owned();
            object.0.shift_remove("kind");
            object.0.shift_remove("apiVersion");
            Value::Object(object.0)
        })
        .collect();
    let body = json!({
        "kind": format!("{}List", resource.kind),
        "apiVersion": resource.api_version(),
        "metadata": metadata,
        "items": items,
    });
    Ok(json_bytes(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

fn selected(resource: &crate::registry::ResourceInfo, object: &Object, query: &ListQuery) -> bool {
    query.labels.matches(object.labels())
        && query
            .fields
            .matches(|field| field_labels::value(resource, object, field))
}

#[cfg(test)]
mod tests {
    use super::{decode_continue, encode_continue};

    #[test]
    fn resource_version_rules() {
        use super::{revision_requirement, ReadAt};
        assert_eq!(revision_requirement("").ok(), Some(ReadAt::Latest));
        assert_eq!(
            revision_requirement("resourceVersion=0").ok(),
            Some(ReadAt::Latest)
        );
        assert_eq!(
            revision_requirement("resourceVersion=7&resourceVersionMatch=Exact").ok(),
            Some(ReadAt::Exact(7))
        );
        assert_eq!(
            revision_requirement("resourceVersion=7").ok(),
            Some(ReadAt::NotOlderThan(7))
        );
        let forbidden = revision_requirement("resourceVersionMatch=Exact").err();
        assert!(forbidden
            .is_some_and(|error| error.message.contains("forbidden unless resourceVersion")));
        assert!(revision_requirement("resourceVersion=0&resourceVersionMatch=Exact").is_err());
        assert!(revision_requirement("resourceVersion=1&resourceVersionMatch=Newest").is_err());
    }

    #[test]
    fn continue_tokens_round_trip() -> Result<(), crate::status::ApiError> {
        let token = encode_continue(42, "/registry/pods/ns/web-7", "/registry/pods/");
        let (revision, key) = decode_continue(&token, "/registry/pods/")?;
        assert_eq!((revision, key.as_str()), (42, "/registry/pods/ns/web-7"));
        assert!(decode_continue("not base64!", "/registry/pods/").is_err());
        Ok(())
    }
}
