//! Events about pods as kube-scheduler reports them (`reportingController:
//! default-scheduler`): `Scheduled`, `FailedScheduling`, `Preempted`.

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource};

/// Upstream's cap on an event note (`truncateMessage`).
const MAX_NOTE: usize = 1024;

/// The scheduler's event recorder, cheap to clone.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
}

fn truncate(message: String) -> String {
    if message.len() <= MAX_NOTE {
        return message;
    }
    let mut end = MAX_NOTE - 3;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &message[..end])
}

/// A reference to `pod` for an event's `regarding`/`related`.
pub fn reference(pod: &Pod) -> ObjectReference {
    pod.object_ref(&())
}

impl Events {
    /// Events reported as `scheduler_name` by the instance `identity`.
    pub fn new(client: Client, scheduler_name: &str, identity: &str) -> Self {
        Self {
            recorder: Recorder::new(
                client,
                Reporter {
                    controller: scheduler_name.to_owned(),
                    instance: Some(identity.to_owned()),
                },
            ),
        }
    }

    /// Records one event; failing to record is only logged, as upstream.
    pub async fn record(
        &self,
        regarding: &ObjectReference,
        related: Option<ObjectReference>,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(truncate(note)),
            action: action.to_owned(),
            secondary: related,
        };
        if let Err(error) = self.recorder.publish(&event, regarding).await {
            tracing::debug!(%error, reason, pod = ?regarding.name, "recording event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn long_notes_are_cut() {
        assert_eq!(truncate("short".into()), "short");
        let long = "x".repeat(2000);
        let cut = truncate(long);
        assert_eq!(cut.len(), 1024);
        assert!(cut.ends_with("..."));
    }
}
