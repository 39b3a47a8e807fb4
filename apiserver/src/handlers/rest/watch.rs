//! `GET ...?watch=true`: a chunked stream of watch events from the resource's watch cache,
//! with upstream's start semantics (resourceVersion unset/0/N, sendInitialEvents), selector
//! transitions, bookmarks and timeouts.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::{query_flag, query_value, ApiContext, RestRequest};
use crate::conversion;
use crate::field_labels;
use crate::object::Object;
use crate::registry::storage_prefix;
use crate::registry::ResourceInfo;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, Reason};
use crate::storage::Revision;
use crate::table::{Transform, WatchTransform};
use crate::watch::{self, EventType, Start, SubscribeError, WatchEvent};

/// How often bookmarks are sent to watchers that allow them.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);
/// Lines buffered between the watcher task and the connection.
const LINE_BUFFER: usize = 256;

/// What a watcher asked for.
struct WatchQuery {
    start: Start,
    initial_events_end: bool,
    bookmarks: bool,
    timeout: Duration,
    labels: LabelSelector,
    fields: FieldSelector,
}

fn parse_query(query: &str, resource: &ResourceInfo) -> Result<WatchQuery, ApiError> {
    let revision = query_value(query, "resourceVersion").unwrap_or_default();
    let send_initial = query_value(query, "sendInitialEvents");
    let bookmarks = query_flag(query, "allowWatchBookmarks");
    let (start, initial_events_end) = match send_initial.as_deref() {
        Some("true") => {
            if query_value(query, "resourceVersionMatch").as_deref() != Some("NotOlderThan") {
                return Err(ApiError::new(
                    Reason::Invalid,
                    "sendInitialEvents is forbidden unless resourceVersionMatch is NotOlderThan",
                ));
            }
            (Start::WithState, bookmarks)
        }
        _ => match revision.as_str() {
            "" | "0" => (Start::WithState, false),
            text => {
                let revision: Revision = text.parse().map_err(|_| {
                    ApiError::new(
                        Reason::BadRequest,
                        format!("invalid resource version: {text:?}"),
                    )
                })?;
                (Start::After(revision), false)
            }
        },
    };
    let timeout = match query_value(query, "timeoutSeconds").filter(|text| !text.is_empty()) {
        Some(text) => Duration::from_secs(text.parse().map_err(|_| {
            ApiError::new(
                Reason::BadRequest,
                format!("invalid timeoutSeconds: {text:?}"),
            )
        })?),
        // Upstream picks between the minimum request timeout and twice it.
        None => Duration::from_secs(1800 + fastrand::u64(0..1800)),
    };
    Ok(WatchQuery {
        start,
        initial_events_end,
        bookmarks,
        timeout,
        labels: LabelSelector::parse(&query_value(query, "labelSelector").unwrap_or_default())?,
        fields: FieldSelector::parse(
            &query_value(query, "fieldSelector").unwrap_or_default(),
            |field| field_labels::supported(resource, field),
        )?,
    })
}

/// Serves a watch.
pub(super) async fn watch(
    context: &ApiContext,
    request: &RestRequest,
) -> Result<Response, ApiError> {
    let negotiated = request.negotiate(true)?;
    let query = parse_query(&request.query, &request.resource)?;
    let transform = request.transform(&negotiated)?.map(Transform::watch);
    let prefix = storage_prefix(&request.resource);
    if let Start::After(revision) = query.start {
        let current = context
            .store
            .current_revision()
            .await
            .map_err(|error| request.storage_error("", error))?;
        if revision > current {
            return Err(ApiError::new(
                Reason::Timeout,
                format!("Too large resource version: {revision}, current: {current}"),
            ));
        }
    }
    let cache = context
        .watch_caches
        .get(&prefix)
        .await
        .map_err(|error| ApiError::new(Reason::ServiceUnavailable, error.to_string()))?;
    let namespace_prefix = request
        .target
        .namespace
        .as_ref()
        .map(|namespace| format!("{prefix}{namespace}/"));
    let filter = Filter {
        api_version: request.resource.api_version(),
        resource: Arc::clone(&request.resource),
        key_prefix: namespace_prefix,
        labels: query.labels,
        fields: query.fields,
        transform,
    };
    let (lines, receiver) = mpsc::channel(LINE_BUFFER);
    match cache.subscribe(query.start) {
        Ok(subscription) => {
            let watcher = Watcher {
                filter,
                lines,
                api_version: request.resource.api_version(),
                kind: request.resource.kind.to_owned(),
                bookmarks: query.bookmarks,
                last_sent: subscription.after,
            };
            tokio::spawn(watcher.run(subscription, query.initial_events_end, query.timeout));
        }
        Err(SubscribeError::TooOld { requested, oldest }) => {
            let status = json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure",
                "message": format!("too old resource version: {requested} ({oldest})"),
                "reason": "Expired", "code": 410,
            });
            let _ = lines.try_send(watch::error_line(&status));
        }
        Err(error @ SubscribeError::NotReady) => {
            return Err(ApiError::new(Reason::ServiceUnavailable, error.to_string()))
        }
    }
    let body =
        Body::from_stream(ReceiverStream::new(receiver).map(Ok::<Bytes, std::convert::Infallible>));
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// Which events a watcher wants.
struct Filter {
    /// The version this watcher reads in.
    api_version: String,
    resource: crate::registry::Resource,
    key_prefix: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    /// This watcher's `Table` or metadata-only conversion, if it asked for one.
    transform: Option<WatchTransform>,
}

impl Filter {
    fn in_scope(&self, key: &str) -> bool {
        self.key_prefix
            .as_deref()
            .is_none_or(|prefix| key.starts_with(prefix))
    }

    fn selects(&self, object: &Object) -> bool {
        self.labels.matches(object.labels())
            && self
                .fields
                .matches(|field| field_labels::value(&self.resource, object, field))
    }

    /// The event's wire form: shared by all watchers, unless the object is stored in
    /// another version than this watcher reads, or the watcher asked for tables or
    /// metadata (then converted for this watcher).
    fn encode(&mut self, event: &WatchEvent) -> Bytes {
        if let Some(transform) = self.transform.as_mut() {
            let resource = &self.resource;
            let served = |object: &Object| conversion::to_served(resource, object).into_owned();
            return watch::encode_line(event.kind, &transform.object(&event.object, &served));
        }
        if event.object.str_field("apiVersion") == Some(self.api_version.as_str()) {
            return event.encoded();
        }
        let object = conversion::to_served(&self.resource, &event.object);
        watch::encode_line(event.kind, &Value::Object(object.into_owned().0))
    }

    fn unfiltered(&self) -> bool {
        self.labels.0.is_empty() && self.fields.0.is_empty()
    }

    /// The event as this watcher sees it: unchanged, retyped by a selector transition, or
    /// not at all.
    fn view(&mut self, event: &Arc<WatchEvent>) -> Option<Bytes> {
        if !self.in_scope(&event.key) {
            return None;
        }
        if self.unfiltered() {
            return Some(self.encode(event));
        }
        let now = self.selects(&event.object);
        let before = event.prev.as_deref().is_some_and(|prev| self.selects(prev));
        match (event.kind, before, now) {
            (EventType::Modified, true, true) | (EventType::Added, _, true) => {
                Some(self.encode(event))
            }
            (EventType::Deleted, _, true) => Some(self.encode(event)),
            (EventType::Modified, false, true) => {
                Some(self.encode(&event.retyped(EventType::Added)))
            }
            (EventType::Modified, true, false) => {
                // Upstream reports the object as it was when it still matched.
                let prev = event.prev.as_ref()?;
                let mut object = Object::clone(prev);
                object.set_resource_version(event.revision);
                Some(self.encode(&WatchEvent::new(
                    EventType::Deleted,
                    event.key.clone(),
                    event.revision,
                    Arc::new(object),
                    None,
                )))
            }
            _ => None,
        }
    }
}

struct Watcher {
    filter: Filter,
    lines: mpsc::Sender<Bytes>,
    api_version: String,
    kind: String,
    bookmarks: bool,
    /// The revision every event up to which has been handled.
    last_sent: Revision,
}

impl Watcher {
    /// A bookmark at `revision`, converted like every other event for watchers that asked
    /// for tables or metadata.
    fn bookmark(&mut self, revision: Revision, initial_events_end: bool) -> Bytes {
        let Some(transform) = self.filter.transform.as_mut() else {
            return watch::bookmark(&self.api_version, &self.kind, revision, initial_events_end);
        };
        let mut metadata = serde_json::Map::new();
        metadata.insert("resourceVersion".to_owned(), json!(revision.to_string()));
        if initial_events_end {
            metadata.insert(
                "annotations".to_owned(),
                json!({"k8s.io/initial-events-end": "true"}),
            );
        }
        let mut object = serde_json::Map::new();
        object.insert("kind".to_owned(), json!(self.kind));
        object.insert("apiVersion".to_owned(), json!(self.api_version));
        object.insert("metadata".to_owned(), Value::Object(metadata));
        let object = Object(object);
        watch::encode_line(
            EventType::Bookmark,
            &transform.object(&object, &|object: &Object| object.clone()),
        )
    }

    async fn run(
        mut self,
        subscription: watch::Subscription,
        initial_events_end: bool,
        timeout: Duration,
    ) {
        let watch::Subscription {
            initial,
            mut live,
            after,
        } = subscription;
        for event in &initial {
            if let Some(line) = self.filter.view(event) {
                if self.lines.send(line).await.is_err() {
                    return;
                }
            }
        }
        if initial_events_end {
            let line = self.bookmark(after, true);
            if self.lines.send(line).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut bookmark_timer = tokio::time::interval(BOOKMARK_INTERVAL);
        bookmark_timer.reset();
        loop {
            tokio::select! {
                () = &mut deadline => break,
                () = self.lines.closed() => return,
                _ = bookmark_timer.tick(), if self.bookmarks => {
                    let line = self.bookmark(self.last_sent, false);
                    if self.lines.send(line).await.is_err() {
                        return;
                    }
                }
                received = live.recv() => match received {
                    Ok(event) => {
                        if event.revision <= after {
                            continue;
                        }
                        self.last_sent = event.revision;
                        if let Some(line) = self.filter.view(&event) {
                            if self.lines.send(line).await.is_err() {
                                return;
                            }
                        }
                    }
                    // Too slow, or the cache reloaded: close; the client resumes from its
                    // last resourceVersion.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}
