//! Events as upstream's controllers record them (reason, message), sent in the background so
//! that a burst of pod creations is not slowed by its own events.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::EventType;

use crate::Shared;

/// An event recorder reporting as one upstream component.
#[derive(Clone)]
pub struct Events {
    recorder: crate::events::Events,
}

impl Events {
    /// A recorder reporting as `component` (e.g. `replicaset-controller`).
    pub fn new(shared: &Shared, component: &str) -> Self {
        Self {
            recorder: crate::events::Events::new(shared, component),
        }
    }

    fn send(
        &self,
        kind: EventType,
        regarding: ObjectReference,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let recorder = self.recorder.clone();
        let (reason, action) = (reason.to_owned(), action.to_owned());
        tokio::spawn(async move {
            recorder
                .record(&regarding, kind, &reason, &action, note)
                .await;
        });
    }

    /// A `Normal` event about `regarding`.
    pub fn normal(&self, regarding: ObjectReference, reason: &str, action: &str, note: String) {
        self.send(EventType::Normal, regarding, reason, action, note);
    }

    /// A `Warning` event about `regarding`.
    pub fn warning(&self, regarding: ObjectReference, reason: &str, action: &str, note: String) {
        self.send(EventType::Warning, regarding, reason, action, note);
    }
}
