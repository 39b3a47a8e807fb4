//! Watch events as the cache keeps them: the object decoded once, its wire form encoded
//! once and shared by every watcher that receives the event unchanged.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::{json, Value};

use crate::object::Object;
use crate::storage::Revision;

/// The `type` of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `ADDED`
    Added,
    /// `MODIFIED`
    Modified,
    /// `DELETED`
    Deleted,
    /// `BOOKMARK`
    Bookmark,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
            Self::Bookmark => "BOOKMARK",
        }
    }
}

/// One change to one object, or a synthetic event for a watcher.
#[derive(Debug)]
pub struct WatchEvent {
    /// What happened.
    pub kind: EventType,
    /// The storage key.
    pub key: String,
    /// The revision of the change.
    pub revision: Revision,
    /// The object after the change (for a deletion: its last state, at the deletion's
    /// revision, as upstream reports it).
    pub object: Arc<Object>,
    /// The object before the change, for selector transitions.
    pub prev: Option<Arc<Object>>,
    encoded: OnceLock<Bytes>,
}

impl WatchEvent {
    /// A new event.
    pub fn new(
        kind: EventType,
        key: String,
        revision: Revision,
        object: Arc<Object>,
        prev: Option<Arc<Object>>,
    ) -> Self {
        Self {
            kind,
            key,
            revision,
            object,
            prev,
            encoded: OnceLock::new(),
        }
    }

    /// The same object under another type (e.g. MODIFIED seen as ADDED by a watcher whose
    /// selector the object just started to match).
    pub fn retyped(&self, kind: EventType) -> Self {
        Self::new(
            kind,
            self.key.clone(),
            self.revision,
            Arc::clone(&self.object),
            self.prev.clone(),
        )
    }

    /// The JSON line sent to clients, encoded on first use and then shared.
    pub fn encoded(&self) -> Bytes {
        self.encoded
            .get_or_init(|| encode_line(self.kind, &Value::Object(self.object.0.clone())))
            .clone()
    }
}

/// `{"type": ..., "object": ...}\n`.
pub fn encode_line(kind: EventType, object: &Value) -> Bytes {
    let mut line =
        serde_json::to_vec(&json!({"type": kind.as_str(), "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// A bookmark: the kind and apiVersion of the resource with only a resourceVersion (and, to
/// end the initial events of `sendInitialEvents`, the upstream annotation).
pub fn bookmark(
    api_version: &str,
    kind: &str,
    revision: Revision,
    initial_events_end: bool,
) -> Bytes {
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    encode_line(
        EventType::Bookmark,
        &json!({"kind": kind, "apiVersion": api_version, "metadata": metadata}),
    )
}

/// An `ERROR` event carrying a Status, as upstream ends a watch it cannot serve.
pub fn error_line(status: &Value) -> Bytes {
    let mut line =
        serde_json::to_vec(&json!({"type": "ERROR", "object": status})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}
