//! Events (core `v1` and `events.k8s.io/v1` alike: both are stored, and printed, in the core
//! form): last seen, type, reason, object, message, and for `-o wide` the rest.

use k8s_openapi::api::core::v1::{Event, ObjectReference};

use super::common::{doc, int, meta, text};
use super::format;
use super::node::Node;
use super::printer::{Column, Context, Printer, Row};

/// `events`, in either group.
pub static EVENT: Printer = Printer::new(
    &[
        Column::new("Last Seen", "string", doc::<Event>("lastTimestamp")),
        Column::new("Type", "string", doc::<Event>("type")),
        Column::new("Reason", "string", doc::<Event>("reason")),
        Column::new("Object", "string", doc::<Event>("involvedObject")),
        Column::wide("Subobject", "string", doc::<ObjectReference>("fieldPath")),
        Column::wide("Source", "string", doc::<Event>("source")),
        Column::new("Message", "string", doc::<Event>("message")),
        Column::wide("First Seen", "string", doc::<Event>("firstTimestamp")),
        Column::wide("Count", "string", doc::<Event>("count")),
        Column {
            name: "Name",
            kind: "string",
            format: "name",
            doc: meta("name"),
            priority: 1,
        },
    ],
    row,
);

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

/// `formatEventSource`: component (or reporting controller), then host (or instance).
fn source(event: Node<'_>) -> String {
    let component = first_non_empty(
        event.at(&["source", "component"]).str(),
        event.get("reportingComponent").str(),
    );
    let instance = first_non_empty(
        event.at(&["source", "host"]).str(),
        event.get("reportingInstance").str(),
    );
    if instance.is_empty() {
        component.to_owned()
    } else {
        format!("{component}, {instance}")
    }
}

fn row(event: Node<'_>, context: &Context) -> Row {
    let since = |node: Node<'_>| format::since(node, context.now);
    let first = if format::timestamp(event.get("firstTimestamp")).is_some() {
        since(event.get("firstTimestamp"))
    } else {
        since(event.get("eventTime"))
    };
    let mut last = if format::timestamp(event.get("lastTimestamp")).is_some() {
        since(event.get("lastTimestamp"))
    } else {
        first.clone()
    };
    let mut count = event.get("count").int();
    let series = event.get("series");
    if series.is_set() {
        last = since(series.get("lastObservedTime"));
        count = series.get("count").int();
    } else if count == 0 {
        count = 1;
    }
    let involved = event.get("involvedObject");
    let kind = involved.get("kind").str().to_lowercase();
    let involved_name = involved.get("name").str();
    let target = if involved_name.is_empty() {
        kind
    } else {
        format!("{kind}/{involved_name}")
    };
    vec![
        text(last),
        text(event.get("type").str()),
        text(event.get("reason").str()),
        text(target),
        text(involved.get("fieldPath").str()),
        text(source(event)),
        text(event.get("message").str().trim()),
        text(first),
        int(count),
        text(event.at(&["metadata", "name"]).str()),
    ]
    .into()
}
