//! Leases: a positive duration, a non-negative transition count, and a coordinated-leader
//! strategy only with a preferred holder that needs one.

use serde_json::Value;

use super::fields::{int, present, string};
use super::rules::{no_defaults, Rules};
use crate::validation::{self, FieldError};

/// The Leases strategy.
pub static LEASES: Rules = Rules {
    kind: "Lease",
    group: "coordination.k8s.io",
    default: no_defaults,
    validate,
    validate_update: |_old, new| validate(new),
};

fn validate(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    if let Some(duration) = int(spec, &["leaseDurationSeconds"]).filter(|value| *value <= 0) {
        errors.push(FieldError::invalid_raw(
            "spec.leaseDurationSeconds",
            &duration.to_string(),
            "must be greater than 0",
        ));
    }
    if let Some(transitions) = int(spec, &["leaseTransitions"]).filter(|value| *value < 0) {
        errors.push(FieldError::invalid_raw(
            "spec.leaseTransitions",
            &transitions.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    let strategy = string(spec, &["strategy"]);
    if present(spec, &["strategy"]) {
        if strategy.contains('/') {
            for problem in validation::qualified_name(strategy) {
                errors.push(FieldError::invalid(
                    "spec.strategy.strategy",
                    strategy,
                    &problem,
                ));
            }
        } else if strategy != "OldestEmulationVersion" {
            errors.push(FieldError::not_supported(
                "spec.strategy.strategy",
                strategy,
                &["OldestEmulationVersion"],
            ));
        }
    }
    if !string(spec, &["preferredHolder"]).is_empty() && strategy.is_empty() {
        errors.push(FieldError::forbidden(
            "spec.preferredHolder",
            "may only be specified if `strategy` is defined",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::validate;

    #[test]
    fn durations() {
        let errors =
            validate(&json!({"spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1}}));
        let lines: Vec<String> = errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect();
        assert_eq!(
            lines,
            [
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
    }
}
