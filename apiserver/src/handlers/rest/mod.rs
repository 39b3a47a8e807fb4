//! The generic REST handler: every resource of the registry is served by this one code path
//! (parse the path, look the resource up, check the verb, run it against the store).

mod binding;
mod list_json;
mod managed;
mod negotiate;
mod patch;
mod read;
mod scale;
mod watch;
mod write;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

use super::discovery;
use crate::codec::{self, DecodeError, DecodedBody, MediaType};
use crate::metrics::RequestLabels;
use crate::registry::{Registry, RegistryHandle, Resource, Verb};
use crate::request_info::{self, ApiPath, ResourcePath};
use crate::status::{ApiError, Reason};
use crate::storage::{StorageError, Store};

/// Attempts a write that lost a race to another writer gets before a 409: upstream's
/// `GuaranteedUpdate` retries until it wins when the client set no precondition; bounded
/// here so that a key written without pause still gets an answer.
const RACE_ATTEMPTS: usize = 64;

/// Largest request body accepted, as upstream (3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// What every API request needs.
pub struct ApiContext {
    /// What is served (replaced as custom resources come and go).
    pub registry: Arc<RegistryHandle>,
    /// Where objects live.
    pub store: Arc<dyn Store>,
    /// `host:port` clients reach us at, for `/api`'s address list.
    pub server_address: String,
    /// Watch caches, one per watched resource.
    pub watch_caches: crate::watch::WatchCaches,
    /// Request counters and latencies.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Per-kind defaulting, validation and allocation.
    pub strategies: crate::strategy::Strategies,
}

/// Entry point for `/api/...` and `/apis/...`.
pub async fn serve(State(context): State<Arc<ApiContext>>, request: Request) -> Response {
    let started = std::time::Instant::now();
    let labels = metric_labels(&context.registry.current(), &request);
    let timeout = request_timeout(request.uri().query().unwrap_or_default());
    let watching = labels.as_ref().is_some_and(|labels| labels.verb == "WATCH");
    let handled = if watching {
        handle(&context, request).await
    } else {
        match tokio::time::timeout(timeout, handle(&context, request)).await {
            Ok(handled) => handled,
            Err(_) => Err(ApiError::new(
                Reason::Timeout,
                "Timeout: request did not complete within requested timeout - context deadline exceeded",
            )),
        }
    };
    let response = match handled {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if let Some(labels) = labels {
        context
            .metrics
            .observe(labels, response.status().as_u16(), started.elapsed());
    }
    response
}

/// The server's request timeout (upstream's `--request-timeout` default), shortened by a
/// client's `?timeout=` (Go duration syntax, as client-go sends it: `32s`, `1m0s`).
fn request_timeout(query: &str) -> std::time::Duration {
    let server = std::time::Duration::from_secs(60);
    query_value(query, "timeout")
        .and_then(|text| parse_go_duration(&text))
        .filter(|asked| !asked.is_zero())
        .map_or(server, |asked| asked.min(server))
}

/// Parses the subset of Go's duration syntax clients send (`h`, `m`, `s`, `ms`).
fn parse_go_duration(text: &str) -> Option<std::time::Duration> {
    let mut total = 0f64;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch.is_ascii_digit() || ch == '.' {
            number.push(ch);
            continue;
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        let unit = match ch {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += value * unit;
    }
    if !number.is_empty() {
        return None;
    }
    Some(std::time::Duration::from_secs_f64(total))
}

/// The metric labels of a resource request; `None` for discovery paths.
fn metric_labels(registry: &Registry, request: &Request) -> Option<RequestLabels> {
    let path = request_info::parse(request.uri().path(), |name| {
        registry.is_namespace_subresource(name)
    })?;
    let ApiPath::Resource(target) = path else {
        return None;
    };
    let query = request.uri().query().unwrap_or_default();
    let verb = match (request.method(), target.name.is_some()) {
        (&Method::GET, true) => "GET",
        (&Method::GET, false) if query_flag(query, "watch") => "WATCH",
        (&Method::GET, false) => "LIST",
        (&Method::POST, _) => "POST",
        (&Method::PUT, _) => "PUT",
        (&Method::PATCH, _) => "PATCH",
        (&Method::DELETE, true) => "DELETE",
        (&Method::DELETE, false) => "DELETECOLLECTION",
        _ => "UNKNOWN",
    };
    let scope = if target.name.is_some() {
        "resource"
    } else if target.namespace.is_some() {
        "namespace"
    } else {
        "cluster"
    };
    let dry_run = if query_value(query, "dryRun").is_some_and(|value| value == "All") {
        "All"
    } else {
        ""
    };
    Some(RequestLabels {
        verb,
        dry_run,
        group: target.group,
        version: target.version,
        resource: target.resource,
        subresource: target.subresource.unwrap_or_default(),
        scope,
    })
}

async fn handle(context: &ApiContext, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let snapshot = context.registry.current();
    let registry = snapshot.as_ref();
    let path = request_info::parse(parts.uri.path(), |name| {
        registry.is_namespace_subresource(name)
    })
    .ok_or_else(ApiError::path_not_found)?;
    let query = parts.uri.query().unwrap_or_default().to_owned();
    if let ApiPath::Resource(target) = path {
        let resource = resolve(registry, &target)?;
        let request = RestRequest {
            custom: registry.custom(&resource).cloned(),
            resource,
            target,
            method: parts.method,
            headers: parts.headers,
            query,
        };
        return request.run(context, body).await;
    }
    if parts.method != Method::GET {
        return Err(method_not_allowed());
    }
    if let ApiPath::Root { legacy } = path {
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if let Some(version) = discovery::aggregated_version(accept) {
            let body = serde_json::to_vec(&discovery::aggregated(registry, legacy, version))
                .unwrap_or_default();
            let content_type = format!(
                "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
            );
            return Ok((
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::VARY, "Accept".to_owned()),
                ],
                body,
            )
                .into_response());
        }
    }
    match path {
        ApiPath::Root { legacy: true } => Ok(json(
            StatusCode::OK,
            &discovery::api_versions(&context.server_address),
        )),
        ApiPath::Root { legacy: false } => {
            Ok(json(StatusCode::OK, &discovery::api_group_list(registry)))
        }
        ApiPath::Group(group) => discovery::group(registry, &group)
            .map(|group| json(StatusCode::OK, &group))
            .ok_or_else(ApiError::path_not_found),
        ApiPath::GroupVersion { group, version } => {
            discovery::resource_list(registry, &group, &version)
                .map(|list| json(StatusCode::OK, &list))
                .ok_or_else(ApiError::path_not_found)
        }
        ApiPath::Resource(_) => Err(ApiError::path_not_found()),
    }
}

/// Finds the resource a path names; unknown resources and scope mismatches are 404s.
fn resolve(registry: &Registry, target: &ResourcePath) -> Result<Resource, ApiError> {
    let resource = registry
        .get(&target.group, &target.version, &target.resource)
        .ok_or_else(ApiError::path_not_found)?;
    if target.namespace.is_some() && !resource.namespaced {
        return Err(ApiError::path_not_found());
    }
    Ok(Arc::clone(resource))
}

/// One request against a resource.
struct RestRequest {
    resource: Resource,
    /// Schema and subresource details, when the resource is a custom one.
    custom: Option<Arc<crate::crd::CustomVersion>>,
    target: ResourcePath,
    method: Method,
    headers: HeaderMap,
    query: String,
}

impl RestRequest {
    async fn run(self, context: &ApiContext, body: Body) -> Result<Response, ApiError> {
        let verb = self.verb()?;
        let allowed = match self.target.subresource.as_deref() {
            None => self.resource.verbs.contains(&verb),
            Some(name) => self
                .resource
                .subresources
                .iter()
                .any(|sub| sub.name == name && sub.verbs.contains(&verb)),
        };
        if !allowed {
            return Err(method_not_allowed());
        }
        match self.target.subresource.as_deref() {
            None | Some("status") => {}
            Some("scale") => {
                let body = self.json_body(read_body(body).await?, "autoscaling/v1", "Scale")?;
                return scale::scale(context, &self, body).await;
            }
            Some("binding") if self.resource.plural == "pods" => {
                return binding::bind(context, &self, read_body(body).await?).await
            }
            Some("finalize") if self.resource.plural == "namespaces" => {
                return write::finalize_namespace(context, &self, read_body(body).await?).await
            }
            Some(name) => {
                return Err(ApiError::new(
                    Reason::MethodNotAllowed,
                    format!("the {name} subresource is not served yet"),
                ))
            }
        }
        match verb {
            Verb::Get => read::get(context, &self).await,
            Verb::List => read::list(context, &self).await,
            Verb::Watch => watch::watch(context, &self).await,
            Verb::Create => {
                self.require_decodable()?;
                write::create(context, &self, read_body(body).await?).await
            }
            Verb::Update => {
                self.require_decodable()?;
                write::update(context, &self, read_body(body).await?).await
            }
            Verb::Delete => {
                let api_version = self.resource.api_version();
                let body = self.json_body(read_body(body).await?, &api_version, "DeleteOptions")?;
                write::delete(context, &self, body).await
            }
            Verb::DeleteCollection => {
                let api_version = self.resource.api_version();
                let body = self.json_body(read_body(body).await?, &api_version, "DeleteOptions")?;
                write::delete_collection(context, &self, body).await
            }
            Verb::Patch => patch::patch(context, &self, read_body(body).await?).await,
        }
    }

    /// The verb from method, name and `?watch`.
    fn verb(&self) -> Result<Verb, ApiError> {
        let named = self.target.name.is_some();
        Ok(match (&self.method, named) {
            (&Method::GET, true) => Verb::Get,
            (&Method::GET, false) if query_flag(&self.query, "watch") => Verb::Watch,
            (&Method::GET, false) => Verb::List,
            (&Method::POST, false) => Verb::Create,
            // Creating a subresource of an object: `pods/{name}/binding`, `eviction`.
            (&Method::POST, true) if self.target.subresource.is_some() => Verb::Create,
            (&Method::PUT, true) => Verb::Update,
            (&Method::PATCH, true) => Verb::Patch,
            (&Method::DELETE, true) => Verb::Delete,
            (&Method::DELETE, false) => Verb::DeleteCollection,
            _ => return Err(method_not_allowed()),
        })
    }

    /// Refuses bodies we cannot decode with upstream's 415 (which also tells clients that
    /// prefer protobuf to send JSON instead); checked before the body is read. Custom
    /// resources have no protobuf form.
    fn require_decodable(&self) -> Result<MediaType, ApiError> {
        let content_type = self.content_type();
        MediaType::from_content_type(content_type)
            .filter(|media_type| *media_type != MediaType::Protobuf || self.custom.is_none())
            .ok_or_else(|| {
                let media_type = content_type.split(';').next().unwrap_or_default().trim();
                ApiError::new(
                    Reason::UnsupportedMediaType,
                    format!("{} (got {media_type:?})", self.unknown_format()),
                )
            })
    }

    /// Upstream's complaint about a body in a format it does not take, with the media types
    /// this resource takes.
    fn unknown_format(&self) -> String {
        let protobuf = if self.custom.is_none() {
            format!(", {}", codec::PROTOBUF)
        } else {
            String::new()
        };
        format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml{protobuf}")
    }

    /// Decodes a create or update body by its media type; malformed bodies are a 400.
    fn decode_body(&self, body: &[u8]) -> Result<DecodedBody, ApiError> {
        let media_type = self.require_decodable()?;
        let api_version = self.resource.api_version();
        let expected = codec::Expected {
            api_version: &api_version,
            kind: self.resource.kind,
        };
        codec::decode(media_type, body, &expected).map_err(|error| match error {
            DecodeError::NotAnObject(_) if media_type == MediaType::Json => {
                ApiError::new(Reason::BadRequest, self.unknown_format())
            }
            error => ApiError::new(Reason::BadRequest, error.to_string()),
        })
    }

    /// A protobuf body of a verb whose handler reads JSON (delete's `DeleteOptions`, the
    /// scale subresource's `Scale`, both built-in kinds even for custom resources),
    /// re-encoded as JSON; other bodies as they are.
    fn json_body(&self, body: Bytes, api_version: &str, kind: &str) -> Result<Bytes, ApiError> {
        if MediaType::from_content_type(self.content_type()) != Some(MediaType::Protobuf) {
            return Ok(body);
        }
        let expected = codec::Expected { api_version, kind };
        let decoded = codec::decode_protobuf(&body, &expected)
            .map_err(|error| ApiError::new(Reason::BadRequest, error.to_string()))?;
        serde_json::to_vec(&decoded.object)
            .map(Bytes::from)
            .map_err(|error| ApiError::new(Reason::BadRequest, error.to_string()))
    }

    /// Whether this is a server-side apply (a PATCH with an apply patch body).
    fn is_apply(&self) -> bool {
        self.method == Method::PATCH
            && self
                .content_type()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .starts_with("application/apply-patch")
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// `pods` or `deployments.apps`, as upstream names a resource in messages.
    fn qualified_resource(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.plural.to_owned()
        } else {
            format!("{}.{}", self.resource.plural, self.resource.group)
        }
    }

    /// The 404 for a missing object.
    fn not_found(&self, name: &str) -> ApiError {
        let mut error = ApiError::new(
            Reason::NotFound,
            format!("{} {name:?} not found", self.qualified_resource()),
        );
        error.details = Some(Box::new(self.details(name)));
        error
    }

    fn details(&self, name: &str) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails {
        k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails {
            name: Some(name.to_owned()),
            group: Some(self.resource.group.to_owned()).filter(|group| !group.is_empty()),
            kind: Some(self.resource.plural.to_owned()),
            ..Default::default()
        }
    }

    /// Maps a storage failure to the status upstream would answer.
    fn storage_error(&self, name: &str, error: StorageError) -> ApiError {
        match error {
            StorageError::NotFound { .. } => self.not_found(name),
            StorageError::AlreadyExists { .. } => {
                let mut error = ApiError::new(
                    Reason::AlreadyExists,
                    format!("{} {name:?} already exists", self.qualified_resource()),
                );
                error.details = Some(Box::new(self.details(name)));
                error
            }
            StorageError::Conflict { .. } => self.conflict(name),
            StorageError::Compacted { requested, .. } => ApiError::new(
                Reason::Expired,
                format!("too old resource version: {requested}"),
            ),
            StorageError::FutureRevision { requested, current } => ApiError::new(
                Reason::Timeout,
                format!("Too large resource version: {requested}, current: {current}"),
            ),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(Reason::InternalError, other.to_string())
            }
        }
    }

    /// The 409 for a write that lost a race.
    fn conflict(&self, name: &str) -> ApiError {
        let mut error = ApiError::new(
            Reason::Conflict,
            format!(
                "Operation cannot be fulfilled on {} {name:?}: the object has been modified; please apply your changes to the latest version and try again",
                self.qualified_resource()
            ),
        );
        error.details = Some(Box::new(self.details(name)));
        error
    }
}

/// Reads the body, refusing more than [`MAX_BODY_BYTES`] with upstream's 413.
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                Reason::RequestEntityTooLarge,
                format!("Request entity too large: limit is {MAX_BODY_BYTES}"),
            )
        })
}

fn method_not_allowed() -> ApiError {
    let mut error = ApiError::new(
        Reason::MethodNotAllowed,
        "the server does not allow this method on the requested resource",
    );
    error.details = Some(Box::default());
    error
}

/// Whether a boolean query parameter is set (`watch`, `watch=true`, `watch=1`).
fn query_flag(query: &str, name: &str) -> bool {
    query_values(query, name).any(|value| matches!(value.as_str(), "" | "true" | "1"))
}

/// Every value of a query parameter, percent-decoded.
fn query_values<'a>(query: &'a str, name: &'a str) -> impl Iterator<Item = String> + 'a {
    query.split('&').filter_map(move |pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

/// The first value of a query parameter.
fn query_value(query: &str, name: &str) -> Option<String> {
    query_values(query, name).next()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON response.
fn json(code: StatusCode, value: &impl Serialize) -> Response {
    json_bytes(code, serde_json::to_vec(value).unwrap_or_default())
}

fn json_bytes(code: StatusCode, body: Vec<u8>) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::{percent_decode, query_flag, query_value};

    #[test]
    fn go_durations() {
        use super::{parse_go_duration, request_timeout};
        use std::time::Duration;
        assert_eq!(parse_go_duration("32s"), Some(Duration::from_secs(32)));
        assert_eq!(parse_go_duration("1m0s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(request_timeout("timeout=5s"), Duration::from_secs(5));
        assert_eq!(request_timeout("timeout=10m"), Duration::from_secs(60));
        assert_eq!(request_timeout(""), Duration::from_secs(60));
    }

    #[test]
    fn query_parsing() {
        assert!(query_flag("watch=true&x=1", "watch"));
        assert!(query_flag("watch", "watch"));
        assert!(!query_flag("watch=false", "watch"));
        assert_eq!(
            query_value("labelSelector=app%3Dweb%2Ctier+in+(a)", "labelSelector"),
            Some("app=web,tier in (a)".into())
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
