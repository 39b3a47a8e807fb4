//! core `v1` Event ⇄ `events.k8s.io/v1` Event: the same object with renamed fields (the
//! newer API calls the involved object `regarding` and keeps the legacy counters under
//! `deprecated*` names).

use serde_json::{Map, Value};

use super::rename;

/// (core name, events.k8s.io name) of every field whose name differs.
const RENAMED: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

/// A stored core Event as `events.k8s.io/v1` shows it.
pub(super) fn core_to_events(mut core: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in std::mem::take(&mut core) {
        match RENAMED.iter().find(|(from, _)| *from == name) {
            Some((_, to)) => {
                out.insert((*to).to_owned(), value);
            }
            None => {
                out.insert(name, value);
            }
        }
    }
    // Upstream leaves empty legacy fields out of the new shape.
    for empty_when_blank in ["deprecatedSource", "reportingController", "note"] {
        if out
            .get(empty_when_blank)
            .is_some_and(|value| value.as_object().is_some_and(Map::is_empty) || value == "")
        {
            out.remove(empty_when_blank);
        }
    }
    out
}

/// An `events.k8s.io/v1` Event in its stored (core) form.
pub(super) fn events_to_core(mut events: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let names: Vec<String> = events.keys().cloned().collect();
    for name in names {
        match RENAMED.iter().find(|(_, to)| *to == name) {
            Some((core, _)) => rename(&mut events, &mut out, &name, core),
            None => {
                if let Some(value) = events.remove(&name) {
                    out.insert(name, value);
                }
            }
        }
    }
    out
}
