//! The fields each resource can be selected by (`--field-selector`), as upstream's
//! per-kind field label conversion funcs allow, and reading them from an object.

use serde_json::Value;

use crate::object::Object;
use crate::registry::ResourceInfo;

/// Fields every resource supports.
const COMMON: &[&str] = &["metadata.name", "metadata.namespace"];

/// The extra fields of a resource.
fn extra(resource: &ResourceInfo) -> &'static [&'static str] {
    match (resource.group, resource.plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "events") | ("events.k8s.io", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "namespaces") => &["status.phase"],
        ("", "secrets") => &["type"],
        ("", "replicationcontrollers") | ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        ("certificates.k8s.io", "certificatesigningrequests") => &["spec.signerName"],
        _ => &[],
    }
}

/// Whether `field` can select objects of `resource`.
pub fn supported(resource: &ResourceInfo, field: &str) -> bool {
    COMMON.contains(&field) || extra(resource).contains(&field)
}

/// The value of a field label ("" when absent, booleans as `true`/`false`).
pub fn value(resource: &ResourceInfo, object: &Object, field: &str) -> String {
    let events_v1 = resource.group == "events.k8s.io";
    let path: Vec<&str> = match (events_v1, field) {
        // events.k8s.io/v1 stores these under other names; upstream selects by the core names.
        (true, field) if field.starts_with("involvedObject.") => {
            let mut path = vec!["regarding"];
            path.extend(field.trim_start_matches("involvedObject.").split('.'));
            path
        }
        (true, "source") => vec!["deprecatedSource", "component"],
        (false, "source") => vec!["source", "component"],
        (_, "status.podIPs") => vec!["status", "podIP"],
        (_, field) => field.split('.').collect(),
    };
    let mut current = Some(Value::Object(object.0.clone()));
    for segment in path {
        current = current.and_then(|value| value.get(segment).cloned());
    }
    match current {
        Some(Value::String(text)) => text,
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(Value::Number(number)) => number.to_string(),
        _ if field == "spec.unschedulable" || field == "spec.hostNetwork" => "false".to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{supported, value};
    use crate::object::Object;
    use crate::registry::Registry;

    #[test]
    fn pod_fields() -> Result<(), String> {
        let registry = Registry::builtin();
        let pods = registry.get("", "v1", "pods").ok_or("pods")?;
        assert!(supported(pods, "spec.nodeName"));
        assert!(!supported(pods, "spec.containers"));
        let pod = Object(
            json!({"metadata": {"name": "a"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        assert_eq!(value(pods, &pod, "spec.nodeName"), "n1");
        assert_eq!(value(pods, &pod, "status.phase"), "Running");
        assert_eq!(value(pods, &pod, "spec.hostNetwork"), "false");
        assert_eq!(value(pods, &pod, "metadata.name"), "a");
        Ok(())
    }

    #[test]
    fn event_fields() -> Result<(), String> {
        let registry = Registry::builtin();
        let events = registry.get("", "v1", "events").ok_or("events")?;
        let event = Object(
            json!({"involvedObject": {"kind": "Pod", "name": "web"}, "source": {"component": "kubelet"}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        assert_eq!(value(events, &event, "involvedObject.name"), "web");
        assert_eq!(value(events, &event, "source"), "kubelet");
        Ok(())
    }
}
