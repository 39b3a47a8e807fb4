//! Events: upstream's legacy checks, which every write passes whatever its API version. An
//! Event about a namespaced object lives in that object's namespace; an Event with an
//! `eventTime` (the events.k8s.io form) names its reporter, action and reason.

use serde_json::Value;

use super::fields::{present, string};
use super::rules::{no_defaults, Rules};
use crate::validation::{self, FieldError};

const LIMITS: &[(&str, usize)] = &[("reportingInstance", 128), ("action", 128), ("reason", 128)];
const MESSAGE_LIMIT: usize = 1024;

/// The strategy of Events written through the core API.
pub static CORE_EVENTS: Rules = Rules {
    kind: "Event",
    group: "",
    default: no_defaults,
    validate,
    validate_update: |_old, new| validate(new),
};

/// The strategy of Events written through `events.k8s.io`.
pub static EVENTS: Rules = Rules {
    kind: "Event",
    group: "events.k8s.io",
    default: no_defaults,
    validate,
    validate_update: |_old, new| validate(new),
};

fn mismatch(involved: &str) -> FieldError {
    FieldError::invalid(
        "involvedObject.namespace",
        involved,
        "does not match event.namespace",
    )
}

fn validate(event: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let namespace = string(event, &["metadata", "namespace"]);
    let involved = string(event, &["involvedObject", "namespace"]);
    if !present(event, &["eventTime"]) {
        let matches = if involved.is_empty() {
            matches!(namespace, "" | "default")
        } else {
            namespace == involved
        };
        if !matches {
            errors.push(mismatch(involved));
        }
    } else {
        if involved.is_empty() && !matches!(namespace, "default" | "kube-system") {
            errors.push(mismatch(involved));
        }
        let controller = string(event, &["reportingComponent"]);
        if controller.is_empty() {
            errors.push(FieldError::required("reportingController", ""));
        }
        for problem in validation::qualified_name(controller) {
            errors.push(FieldError::invalid(
                "reportingController",
                controller,
                &problem,
            ));
        }
        for (name, limit) in LIMITS {
            let value = string(event, &[name]);
            if value.is_empty() {
                errors.push(FieldError::required(*name, ""));
            }
            if value.len() > *limit {
                errors.push(FieldError::invalid(
                    *name,
                    "",
                    &format!("can have at most {limit} characters"),
                ));
            }
        }
        if string(event, &["message"]).len() > MESSAGE_LIMIT {
            errors.push(FieldError::invalid(
                "message",
                "",
                &format!("can have at most {MESSAGE_LIMIT} characters"),
            ));
        }
    }
    for problem in validation::dns1123_subdomain(namespace)
        .into_iter()
        .filter(|_| !namespace.is_empty())
    {
        errors.push(FieldError::invalid("namespace", namespace, &problem));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::validate;

    #[test]
    fn namespaces_must_agree() {
        let event = json!({"metadata": {"namespace": "demo"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}});
        let errors = validate(&event);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            format!("{}: {}", errors[0].field, errors[0].message),
            "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"
        );
        let fine = json!({"metadata": {"namespace": "demo"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "demo"}});
        assert!(validate(&fine).is_empty());
    }

    #[test]
    fn new_style_events_name_their_reporter() {
        let event = json!({"metadata": {"namespace": "demo"}, "eventTime": "2024-01-01T00:00:00.000000Z",
            "involvedObject": {"namespace": "demo"}, "reportingComponent": "ctl",
            "reportingInstance": "ctl-1", "action": "Sync", "reason": "Done"});
        assert!(validate(&event).is_empty());
    }
}
