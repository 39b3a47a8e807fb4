//! get and list.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

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
    let stored = match get_cached(context, request, &key).await {
        Some(cached) => cached.ok_or_else(|| request.not_found(name))?,
        None => {
            let kv = context
                .store
                .get(&key, None)
                .await
                .map_err(|error| request.storage_error(name, error))?
                .ok_or_else(|| request.not_found(name))?;
            Arc::new(object::from_storage(&kv.value, kv.mod_revision)?)
        }
    };
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

/// The object from the watch cache once it has caught up with the store (a consistent
/// read, as a list from the cache): `Some(None)` when it does not exist; `None` when the
/// cache cannot answer, and the store does.
async fn get_cached(
    context: &ApiContext,
    request: &RestRequest,
    key: &str,
) -> Option<Option<Arc<Object>>> {
    if !context.store.reports_progress() {
        return None;
    }
    let current = context.store.current_revision().await.ok()?;
    let cache = context
        .watch_caches
        .get(&storage_prefix(&request.resource))
        .await
        .ok()?;
    if !cache.wait_for(current, CACHE_WAIT).await {
        return None;
    }
    Some(cache.object(key))
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

/// How long a list waits for the watch cache to catch up with the store before reading the
/// store itself (upstream waits up to 3 s too).
const CACHE_WAIT: Duration = Duration::from_secs(3);

/// One page of a list, before encoding.
struct ListPage {
    items: Vec<Arc<Object>>,
    revision: Revision,
    /// The key to continue after, when the page is full and more may follow.
    next_key: Option<String>,
    /// Items left after the page (only known when nothing is filtered).
    remaining: Option<u64>,
}

/// `GET` on a collection. Reads at the latest revision or "not older than" one are served
/// from the watch cache once it has caught up, as upstream's consistent reads from cache:
/// no decoding, no store scan. Exact revisions and continuations read the store.
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
    // Without progress reports a cache cannot tell it is current, so the store answers.
    let from_cache = context.store.reports_progress();
    let cached = match (&query.continue_from, query.revision) {
        _ if !from_cache => None,
        (None, ReadAt::Latest) => {
            let current = context
                .store
                .current_revision()
                .await
                .map_err(|error| request.storage_error("", error))?;
            list_cached(context, request, &prefix, &query, CacheRead::Fresh(current)).await
        }
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
            list_cached(context, request, &prefix, &query, CacheRead::Fresh(wanted)).await
        }
        (Some((revision, key)), _) => {
            let read = CacheRead::Continue(*revision, key.clone());
            list_cached(context, request, &prefix, &query, read).await
        }
        _ => None,
    };
    let page = match cached {
        Some(page) => page,
        None => list_stored(context, request, &prefix, &query).await?,
    };
    let mut metadata = Map::new();
    metadata.insert("resourceVersion".into(), json!(page.revision.to_string()));
    if let Some(key) = page.next_key {
        metadata.insert(
            "continue".into(),
            json!(encode_continue(
                page.revision,
                &key,
                &storage_prefix(resource)
            )),
        );
        if let Some(remaining) = page.remaining {
            metadata.insert("remainingItemCount".into(), json!(remaining));
        }
    }
    if let Some(transform) = request.transform(&negotiated)? {
        let served = |object: &Object| conversion::to_served(resource, object).into_owned();
        let body = transform.list(&page.items, metadata, &served)?;
        return Ok(json_bytes(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
        ));
    }
    Ok(json_bytes(
        StatusCode::OK,
        super::list_json::encode(resource, &metadata, &page.items),
    ))
}

/// Where a list read from the watch cache starts.
enum CacheRead {
    /// A new list, once the cache has reached this revision.
    Fresh(Revision),
    /// A later page of a list served from the cache: its snapshot's revision and the last
    /// key already sent.
    Continue(Revision, String),
}

/// The page from the watch cache; `None` when the cache cannot serve it (not there in time,
/// or the continued snapshot no longer kept): the store then answers.
async fn list_cached(
    context: &ApiContext,
    request: &RestRequest,
    prefix: &str,
    query: &ListQuery,
    read: CacheRead,
) -> Option<ListPage> {
    let cache = context
        .watch_caches
        .get(&storage_prefix(&request.resource))
        .await
        .ok()?;
    let (snapshot, start) = match read {
        CacheRead::Fresh(revision) => {
            if !cache.wait_for(revision, CACHE_WAIT).await {
                tracing::debug!(%prefix, revision, "watch cache behind; listing from the store");
                return None;
            }
            (cache.snapshot(prefix)?, 0)
        }
        CacheRead::Continue(revision, after_key) => {
            let snapshot = cache.kept(prefix, revision)?;
            let start = snapshot
                .items
                .partition_point(|(key, _)| key.as_str() <= after_key.as_str());
            (snapshot, start)
        }
    };
    let filtering = !query.labels.0.is_empty() || !query.fields.0.is_empty();
    let mut items = Vec::new();
    let mut next_key = None;
    let mut remaining = None;
    let total = snapshot.items.len();
    for (index, (key, object)) in snapshot.items.iter().enumerate().skip(start) {
        if filtering && !selected(&request.resource, object, query) {
            continue;
        }
        items.push(Arc::clone(object));
        let left = total - index - 1;
        if query.limit.is_some_and(|limit| items.len() >= limit) {
            if left > 0 {
                next_key = Some(key.clone());
                remaining = (!filtering).then(|| u64::try_from(left).unwrap_or(u64::MAX));
                cache.keep(prefix, &snapshot);
            }
            break;
        }
    }
    Some(ListPage {
        items,
        revision: snapshot.revision,
        next_key,
        remaining,
    })
}

/// The page read from the store (at the query's revision, or the continuation's).
async fn list_stored(
    context: &ApiContext,
    request: &RestRequest,
    prefix: &str,
    query: &ListQuery,
) -> Result<ListPage, ApiError> {
    let resource = &request.resource;
    let (mut revision, mut after_key) = match (&query.continue_from, query.revision) {
        (Some((revision, key)), _) => (Some(*revision), Some(key.clone())),
        (None, ReadAt::Exact(revision)) => (Some(revision), None),
        (None, _) => (None, None),
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
                prefix: prefix.to_owned(),
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
            if filtering && !selected(resource, &object, query) {
                continue;
            }
            items.push(Arc::new(object));
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
    Ok(ListPage {
        items,
        revision: read_at,
        next_key,
        remaining,
    })
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
