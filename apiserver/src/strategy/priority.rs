//! PriorityClasses: the `system-` names reserved for the two built-in classes, the ceiling
//! on user-defined values, a fixed value and preemption policy, and the default policy.

use serde_json::{json, Value};

use super::fields::{at, int, string};
use super::rules::Rules;
use crate::object::Object;
use crate::validation::{go_quote, FieldError};

/// Values above this are for the system classes only.
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;
/// The built-in classes and their values.
const SYSTEM_CLASSES: &[(&str, i64)] = &[
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

/// The PriorityClasses strategy.
pub static PRIORITY_CLASSES: Rules = Rules {
    kind: "PriorityClass",
    group: "scheduling.k8s.io",
    default: default_priority_class,
    validate,
    validate_update,
};

fn default_priority_class(object: &mut Object) {
    object
        .0
        .entry("preemptionPolicy")
        .or_insert_with(|| json!("PreemptLowerPriority"));
}

fn preemption_policy(object: &Value, errors: &mut Vec<FieldError>) {
    if let Some(policy) = at(object, &["preemptionPolicy"]).and_then(Value::as_str) {
        match policy {
            "PreemptLowerPriority" | "Never" => {}
            "" => errors.push(FieldError::required("preemptionPolicy", "")),
            other => errors.push(FieldError::not_supported(
                "preemptionPolicy",
                other,
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
}

fn validate(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = string(object, &["metadata", "name"]);
    let value = int(object, &["value"]).unwrap_or_default();
    if name.starts_with("system-") {
        let global = at(object, &["globalDefault"]).and_then(Value::as_bool) == Some(true);
        let problem = match SYSTEM_CLASSES.iter().find(|(known, _)| *known == name) {
            None => Some(format!("{name} is not a known system priority class")),
            Some((_, expected)) if *expected != value => {
                Some(format!("value of {name} PriorityClass must be {expected}"))
            }
            Some(_) if global => Some(format!(
                "globalDefault of {name} PriorityClass must be false"
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            errors.push(FieldError::forbidden(
                "metadata.name",
                &format!(
                    "priority class names with 'system-' prefix are reserved for system use only. error: {problem}"
                ),
            ));
        }
    } else if value > HIGHEST_USER_PRIORITY {
        errors.push(FieldError::forbidden(
            "value",
            &format!("maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"),
        ));
    }
    preemption_policy(object, &mut errors);
    errors
}

fn validate_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if int(old, &["value"]) != int(new, &["value"]) {
        errors.push(FieldError::forbidden(
            "value",
            "may not be changed in an update.",
        ));
    }
    let policy = string(new, &["preemptionPolicy"]);
    if string(old, &["preemptionPolicy"]) != policy {
        errors.push(FieldError::invalid_raw(
            "preemptionPolicy",
            &go_quote(policy),
            "field is immutable",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{validate, validate_update};

    #[test]
    fn values() {
        assert!(validate(&json!({"metadata": {"name": "high"}, "value": 1000})).is_empty());
        assert_eq!(
            validate(&json!({"metadata": {"name": "huge"}, "value": 2_000_000_000}))[0].message,
            "Forbidden: maximum allowed value of a user defined priority is 1000000000"
        );
        assert_eq!(
            validate(&json!({"metadata": {"name": "system-mine"}, "value": 1}))[0].message,
            "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
        );
        let errors = validate_update(
            &json!({"value": 1, "preemptionPolicy": "Never"}),
            &json!({"value": 2, "preemptionPolicy": "Never"}),
        );
        assert_eq!(
            errors[0].message,
            "Forbidden: may not be changed in an update."
        );
    }
}
