//! The `/openapi` endpoints with kube-openapi's negotiation and caching: `ETag` (quoted
//! SHA-512), `Last-Modified`, `304` on a matching `If-None-Match`, and for a v3 document
//! fetched by its `?hash=` URL `Cache-Control: public, immutable` (a stale hash is
//! redirected to the current one). kubectl keeps v3 documents in its HTTP cache by that URL,
//! so a document must never change under a hash it was served with.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use tokio::sync::Mutex;

use super::documents::{Documents, Served};
use super::negotiate::{negotiate_v2, V2Encoding};
use super::{v2_protobuf, OpenApiError};
use crate::registry::RegistryHandle;
use crate::status::{ApiError, Reason};

/// How long an immutable document may be cached: upstream's one year.
const IMMUTABLE_FOR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The documents of the registry's current generation, built on first use after each change
/// (and eagerly in the background once routes exist).
struct Service {
    registry: Arc<RegistryHandle>,
    documents: Mutex<Option<(u64, Arc<Documents>)>>,
    /// The v2 document in protobuf, made on first request (as kube-openapi does), with the
    /// ETag of the JSON it was made from: both encodings share that ETag.
    v2_protobuf: Mutex<Option<(String, Bytes)>>,
}

impl Service {
    /// The documents for what is served now; the first caller after a change rebuilds them
    /// off the async threads, others wait for that build.
    async fn documents(&self) -> Result<Arc<Documents>, OpenApiError> {
        let mut built = self.documents.lock().await;
        let generation = self.registry.generation();
        if let Some((at, documents)) = built.as_ref() {
            if *at == generation {
                return Ok(Arc::clone(documents));
            }
        }
        let registry = self.registry.current();
        let documents = tokio::task::spawn_blocking(move || Documents::build(&registry))
            .await
            .map_err(|error| OpenApiError::Build(error.to_string()))?
            .map(Arc::new)?;
        *built = Some((generation, Arc::clone(&documents)));
        Ok(documents)
    }

    /// The protobuf form of `documents`' v2 document, encoded once per JSON document.
    async fn v2_protobuf(&self, documents: &Documents) -> Result<Served, OpenApiError> {
        let etag = &documents.v2.etag;
        let mut cached = self.v2_protobuf.lock().await;
        if let Some((_, body)) = cached.as_ref().filter(|(made_from, _)| made_from == etag) {
            return Ok(Served {
                body: body.clone(),
                etag: etag.clone(),
            });
        }
        let json = documents.v2.body.clone();
        let started = std::time::Instant::now();
        let body = tokio::task::spawn_blocking(move || v2_protobuf::encode(&json))
            .await
            .map_err(|error| OpenApiError::Build(error.to_string()))??;
        tracing::debug!(
            elapsed = ?started.elapsed(),
            bytes = body.len(),
            "OpenAPI v2 protobuf encoded"
        );
        let body = Bytes::from(body);
        *cached = Some((etag.clone(), body.clone()));
        Ok(Served {
            body,
            etag: etag.clone(),
        })
    }

    async fn documents_or_error(&self) -> Result<Arc<Documents>, Response> {
        self.documents().await.map_err(|error| {
            tracing::error!(%error, "OpenAPI documents unavailable");
            ApiError::new(Reason::InternalError, error.to_string()).into_response()
        })
    }
}

/// `/openapi/v2`, `/openapi/v3` and `/openapi/v3/{group version}` for what `registry`
/// serves.
pub fn routes(registry: Arc<RegistryHandle>) -> Router {
    let service = Arc::new(Service {
        registry,
        documents: Mutex::new(None),
        v2_protobuf: Mutex::new(None),
    });
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let warm = Arc::clone(&service);
        runtime.spawn(async move {
            let started = std::time::Instant::now();
            match warm.documents().await {
                Ok(_) => tracing::debug!(elapsed = ?started.elapsed(), "OpenAPI documents built"),
                Err(error) => tracing::error!(%error, "building OpenAPI documents"),
            }
        });
    }
    Router::new()
        .route("/openapi/v2", get(v2))
        .route("/openapi/v3", get(v3_index))
        .route("/openapi/v3/{*name}", get(v3_document))
        .with_state(service)
}

/// `GET /openapi/v2`: JSON, or gnostic's protobuf, which kubectl up to 1.28 asks for
/// alone; 406 for anything else.
async fn v2(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let Some(encoding) = negotiate_v2(&headers) else {
        let mut response = not_acceptable();
        vary_accept(&mut response);
        return response;
    };
    let documents = match service.documents_or_error().await {
        Ok(documents) => documents,
        Err(response) => return response,
    };
    let mut response = match encoding {
        V2Encoding::Json => respond(&headers, &documents.v2, documents.built, false),
        V2Encoding::Protobuf => match service.v2_protobuf(&documents).await {
            Ok(served) => respond(&headers, &served, documents.built, false),
            Err(error) => {
                tracing::error!(%error, "OpenAPI v2 protobuf unavailable");
                return ApiError::new(Reason::InternalError, error.to_string()).into_response();
            }
        },
    };
    if response.status() == StatusCode::OK {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        );
    }
    vary_accept(&mut response);
    response
}

/// `GET /openapi/v3`: where each document is, by hash.
async fn v3_index(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    match service.documents_or_error().await {
        Ok(documents) => respond(&headers, &documents.index, documents.built, false),
        Err(response) => response,
    }
}

/// `GET /openapi/v3/{name}[?hash=]`.
async fn v3_document(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !accepts_json(&headers) {
        let mut response = not_acceptable();
        vary_accept(&mut response);
        return response;
    }
    let documents = match service.documents_or_error().await {
        Ok(documents) => documents,
        Err(response) => return response,
    };
    let Some(served) = documents.v3.get(&name) else {
        return ApiError::path_not_found().into_response();
    };
    let hash = query.get("hash").filter(|hash| !hash.is_empty());
    if hash.is_some_and(|hash| *hash != served.etag) {
        let mut response = moved_permanently(&format!("/openapi/v3/{name}?hash={}", served.etag));
        vary_accept(&mut response);
        return response;
    }
    let mut response = respond(&headers, served, documents.built, hash.is_some());
    vary_accept(&mut response);
    response
}

/// The document with its validators, or `304` when the client's copy is current.
fn respond(request: &HeaderMap, served: &Served, built: SystemTime, immutable: bool) -> Response {
    let etag = format!("\"{}\"", served.etag);
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(built)) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    if immutable {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
        if let Ok(value) =
            HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now() + IMMUTABLE_FOR))
        {
            headers.insert(header::EXPIRES, value);
        }
    }
    if not_modified(request, &etag, built) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (StatusCode::OK, headers, served.body.clone()).into_response()
}

/// Go's `http.ServeContent` rules: `If-None-Match` decides when present, else
/// `If-Modified-Since` at one-second resolution.
fn not_modified(request: &HeaderMap, etag: &str, built: SystemTime) -> bool {
    if let Some(tags) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
    {
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag);
    }
    let Some(since) = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| httpdate::parse_http_date(value).ok())
    else {
        return false;
    };
    let built_seconds = built
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let since_seconds = since
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    built_seconds <= since_seconds
}

/// Whether any `Accept` clause with a non-zero quality admits `application/json` (an empty
/// or missing header admits everything).
fn accepts_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|accept| !accept.is_empty())
        .unwrap_or("*/*");
    accept.split(',').any(|clause| {
        let mut parts = clause.split(';');
        let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|parameter| parameter.trim().strip_prefix("q="))
            .filter_map(|value| value.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        let (kind, subtype) = range.split_once('/').unwrap_or((range.as_str(), "*"));
        quality > 0.0 && matches!(kind, "application" | "*") && matches!(subtype, "json" | "*")
    })
}

/// Go's `http.Redirect` with 301, as kube-openapi answers a stale `hash`.
fn moved_permanently(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    (
        StatusCode::MOVED_PERMANENTLY,
        [
            (header::LOCATION, value),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
        ],
        format!("<a href=\"{location}\">Moved Permanently</a>.\n\n"),
    )
        .into_response()
}

/// kube-openapi's answer when no offered encoding is acceptable: 406 with no body.
fn not_acceptable() -> Response {
    StatusCode::NOT_ACCEPTABLE.into_response()
}

fn vary_accept(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use axum::body::Body;
    use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
    use tower::ServiceExt as _;

    use super::{accepts_json, not_modified, routes};
    use crate::registry::{Registry, RegistryHandle};

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn accept_negotiation_follows_kube_openapi() {
        assert!(accepts_json(&HeaderMap::new()));
        assert!(accepts_json(&accept("application/json, */*")));
        assert!(accepts_json(&accept("*/*")));
        assert!(accepts_json(&accept("application/*;q=0.5")));
        assert!(!accepts_json(&accept(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        )));
        assert!(!accepts_json(&accept("application/json;q=0, text/plain")));
    }

    #[test]
    fn conditional_requests_match_etag_then_date() {
        let built = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut headers = HeaderMap::new();
        assert!(!not_modified(&headers, "\"A\"", built));
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"B\", \"A\""),
        );
        assert!(not_modified(&headers, "\"A\"", built));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"B\""));
        assert!(!not_modified(&headers, "\"A\"", built));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_str(&httpdate::fmt_http_date(built))
                .unwrap_or(HeaderValue::from_static("")),
        );
        assert!(not_modified(&headers, "\"A\"", built));
    }

    async fn get(
        uri: &str,
        headers: &[(header::HeaderName, &str)],
    ) -> Result<axum::response::Response, String> {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let request = request
            .body(Body::empty())
            .map_err(|error| error.to_string())?;
        routes(std::sync::Arc::new(
            RegistryHandle::new(Registry::builtin()),
        ))
        .oneshot(request)
        .await
        .map_err(|error| error.to_string())
    }

    async fn body(response: axum::response::Response) -> Result<serde_json::Value, String> {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|error| error.to_string())?;
        serde_json::from_slice(&bytes).map_err(|error| error.to_string())
    }

    #[tokio::test]
    async fn hashed_urls_are_immutable_and_stale_hashes_redirect() -> Result<(), String> {
        let index = body(get("/openapi/v3", &[]).await?).await?;
        let url = index
            .pointer("/paths/apis~1apps~1v1/serverRelativeURL")
            .and_then(serde_json::Value::as_str)
            .ok_or("no apps/v1 in the index")?
            .to_owned();

        let response = get(&url, &[(header::ACCEPT, "application/json")]).await?;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(
            headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("public, immutable")
        );
        assert!(headers.contains_key(header::EXPIRES));
        let etag = headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .ok_or("no ETag")?
            .to_owned();
        assert!(url.ends_with(etag.trim_matches('"')));

        let again = get(&url, &[(header::IF_NONE_MATCH, etag.as_str())]).await?;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

        let stale = get("/openapi/v3/apis/apps/v1?hash=0123", &[]).await?;
        assert_eq!(stale.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            stale
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some(url.as_str())
        );

        let unhashed = get("/openapi/v3/apis/apps/v1", &[]).await?;
        assert_eq!(unhashed.status(), StatusCode::OK);
        assert!(!unhashed.headers().contains_key(header::CACHE_CONTROL));

        let unknown = get("/openapi/v3/apis/nope/v1", &[]).await?;
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

        let protobuf = get(
            "/openapi/v3/apis/apps/v1",
            &[(
                header::ACCEPT,
                "application/com.github.proto-openapi.spec.v3@v1.0+protobuf",
            )],
        )
        .await?;
        assert_eq!(protobuf.status(), StatusCode::NOT_ACCEPTABLE);
        Ok(())
    }

    #[tokio::test]
    async fn v2_serves_json_or_protobuf_under_one_etag() -> Result<(), String> {
        let json = get("/openapi/v2", &[(header::ACCEPT, "application/json")]).await?;
        assert_eq!(json.status(), StatusCode::OK);
        let etag = json
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .ok_or("no ETag")?
            .to_owned();
        assert_eq!(
            body(json).await?.get("swagger"),
            Some(&serde_json::json!("2.0"))
        );
        let accept = (
            header::ACCEPT,
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
        );
        let protobuf = get("/openapi/v2", std::slice::from_ref(&accept)).await?;
        assert_eq!(protobuf.status(), StatusCode::OK);
        let headers = protobuf.headers().clone();
        assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
        );
        assert_eq!(
            headers.get(header::VARY).and_then(|v| v.to_str().ok()),
            Some("Accept")
        );
        assert_eq!(
            headers.get(header::ETAG).and_then(|v| v.to_str().ok()),
            Some(etag.as_str())
        );
        let bytes = axum::body::to_bytes(protobuf.into_body(), usize::MAX)
            .await
            .map_err(|error| error.to_string())?;
        // Field 1 (`swagger`, length-delimited) comes first: "2.0".
        assert!(
            bytes.starts_with(b"\x0a\x032.0"),
            "{:?}",
            &bytes[..8.min(bytes.len())]
        );
        let cached = get(
            "/openapi/v2",
            &[accept, (header::IF_NONE_MATCH, etag.as_str())],
        )
        .await?;
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        let refused = get("/openapi/v2", &[(header::ACCEPT, "text/plain")]).await?;
        assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);
        Ok(())
    }
}
