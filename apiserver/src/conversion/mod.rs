//! Version conversion for resources served at several group-versions from one storage
//! location, as upstream serves them: HorizontalPodAutoscalers (`autoscaling/v2`, stored,
//! and `autoscaling/v1`) and Events (core `v1`, stored, and `events.k8s.io/v1`). Objects are
//! stored in one version so that every reader, selector and controller sees one shape;
//! requests in the other version are converted on the way in and on the way out.

mod events;
mod hpa;

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use crate::object::Object;
use crate::registry::ResourceInfo;

/// A group-version-kind's storage form, when it is not the version itself.
struct Stored {
    group: &'static str,
    plural: &'static str,
    /// The `apiVersion` objects are stored in.
    storage_api_version: &'static str,
}

const SHARED: &[Stored] = &[
    Stored {
        group: "autoscaling",
        plural: "horizontalpodautoscalers",
        storage_api_version: "autoscaling/v2",
    },
    Stored {
        group: "",
        plural: "events",
        storage_api_version: "v1",
    },
    Stored {
        group: "events.k8s.io",
        plural: "events",
        storage_api_version: "v1",
    },
];

/// The `apiVersion` objects of `resource` are stored in.
pub fn storage_api_version(resource: &ResourceInfo) -> Cow<'static, str> {
    SHARED
        .iter()
        .find(|shared| shared.group == resource.group && shared.plural == resource.plural)
        .map_or_else(
            || Cow::Owned(resource.api_version()),
            |shared| Cow::Borrowed(shared.storage_api_version),
        )
}

/// Whether objects of `resource` are stored in another version than the one it serves.
pub fn needs_conversion(resource: &ResourceInfo) -> bool {
    storage_api_version(resource) != resource.api_version()
}

/// A request's object (in `resource`'s version) in its storage version.
pub fn to_storage(resource: &ResourceInfo, object: Object) -> Object {
    let storage = storage_api_version(resource);
    convert(object, &storage)
}

/// A stored object in the version `resource` serves; borrowed when nothing changes.
pub fn to_served<'a>(resource: &ResourceInfo, object: &'a Object) -> Cow<'a, Object> {
    let served = resource.api_version();
    if object.str_field("apiVersion") == Some(served.as_str()) {
        return Cow::Borrowed(object);
    }
    Cow::Owned(convert(object.clone(), &served))
}

/// `object` in `api_version`; objects of versions with no conversion are left alone.
fn convert(object: Object, api_version: &str) -> Object {
    let from = object
        .str_field("apiVersion")
        .unwrap_or_default()
        .to_owned();
    let kind = object.str_field("kind").unwrap_or_default().to_owned();
    let Object(map) = object;
    let converted = match (kind.as_str(), from.as_str(), api_version) {
        (_, from, to) if from == to => map,
        ("HorizontalPodAutoscaler", "autoscaling/v2", "autoscaling/v1") => hpa::v2_to_v1(map),
        ("HorizontalPodAutoscaler", "autoscaling/v1", "autoscaling/v2") => hpa::v1_to_v2(map),
        ("Event", "v1", "events.k8s.io/v1") => events::core_to_events(map),
        ("Event", "events.k8s.io/v1", "v1") => events::events_to_core(map),
        _ => map,
    };
    let mut object = Object(converted);
    object.set("apiVersion", json!(api_version));
    object
}

/// Moves `from` to `to` in `map` (when present).
fn rename(source: &mut Map<String, Value>, target: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(value) = source.remove(from) {
        target.insert(to.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{needs_conversion, storage_api_version, to_served, to_storage};
    use crate::object::Object;
    use crate::registry::Registry;

    fn object(value: serde_json::Value) -> Object {
        match value {
            serde_json::Value::Object(map) => Object(map),
            _ => Object(serde_json::Map::new()),
        }
    }

    #[test]
    fn shared_resources_have_one_storage_version() -> Result<(), String> {
        let registry = Registry::builtin();
        let find = |group: &str, version: &str, plural: &str| {
            registry
                .get(group, version, plural)
                .ok_or_else(|| format!("{group}/{version} {plural} missing"))
        };
        let hpa_v1 = find("autoscaling", "v1", "horizontalpodautoscalers")?;
        let hpa_v2 = find("autoscaling", "v2", "horizontalpodautoscalers")?;
        let events = find("events.k8s.io", "v1", "events")?;
        let core_events = find("", "v1", "events")?;
        assert_eq!(storage_api_version(hpa_v1), "autoscaling/v2");
        assert!(needs_conversion(hpa_v1) && !needs_conversion(hpa_v2));
        assert!(needs_conversion(events) && !needs_conversion(core_events));
        let pods = find("", "v1", "pods")?;
        assert!(!needs_conversion(pods));
        Ok(())
    }

    #[test]
    fn events_round_trip_through_storage() -> Result<(), String> {
        let registry = Registry::builtin();
        let events = registry
            .get("events.k8s.io", "v1", "events")
            .ok_or("events.k8s.io missing")?;
        let sent = object(json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "default"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "ctl", "reportingInstance": "ctl-1",
            "action": "Pull", "reason": "Pulled", "type": "Normal", "note": "pulled",
            "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
            "series": {"count": 2, "lastObservedTime": "2026-01-01T00:00:01.000000Z"},
            "deprecatedCount": 3,
        }));
        let stored = to_storage(events, sent.clone());
        assert_eq!(stored.str_field("apiVersion"), Some("v1"));
        assert_eq!(stored.0["involvedObject"]["name"], "p");
        assert_eq!(stored.0["message"], "pulled");
        assert_eq!(stored.0["reportingComponent"], "ctl");
        assert_eq!(stored.0["count"], 3);
        assert!(stored.0.get("note").is_none() && stored.0.get("regarding").is_none());
        let served = to_served(events, &stored).into_owned();
        let mut want = sent.0.clone();
        let mut got = served.0.clone();
        want.sort_keys();
        got.sort_keys();
        assert_eq!(got, want);
        Ok(())
    }
}
