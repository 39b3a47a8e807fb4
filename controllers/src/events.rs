//! Events as kube-controller-manager records them. kube-rs's recorder folds every event with
//! the same reason about an object into one series, whatever its message; upstream's
//! controllers keep events with different messages apart ("Scaled up replica set a from 0
//! to 1", "... from 1 to 2") and count only repeats of the same one. So each
//! (object, type, reason, message) gets a kube-rs recorder, and with it a series, of its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder};

use crate::Shared;

/// How many distinct events a loop keeps counting before starting afresh (upstream's event
/// cache holds 4096).
const CACHE: usize = 4096;

/// A loop's event recorder, cheap to clone.
#[derive(Clone)]
pub struct Events {
    shared: Shared,
    controller: Arc<str>,
    recorders: Arc<Mutex<HashMap<String, Recorder>>>,
}

impl Events {
    /// Events reported as `controller` (e.g. `job-controller`).
    pub fn new(shared: &Shared, controller: &str) -> Self {
        Self {
            shared: shared.clone(),
            controller: controller.into(),
            recorders: Arc::default(),
        }
    }

    fn recorder(&self, key: String) -> Recorder {
        let mut recorders = self
            .recorders
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if recorders.len() >= CACHE && !recorders.contains_key(&key) {
            recorders.clear();
        }
        recorders
            .entry(key)
            .or_insert_with(|| self.shared.recorder(&self.controller))
            .clone()
    }

    /// Records one event about `regarding`; a failure to record is only logged, as upstream.
    pub async fn record(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let key = format!(
            "{}/{}/{}/{type_:?}/{reason}/{note}",
            regarding.namespace.as_deref().unwrap_or(""),
            regarding.name.as_deref().unwrap_or(""),
            regarding.uid.as_deref().unwrap_or("")
        );
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(note),
            action: action.to_owned(),
            secondary: None,
        };
        if let Err(error) = self.recorder(key).publish(&event, regarding).await {
            tracing::debug!(%error, reason, "recording event");
        }
    }
}
