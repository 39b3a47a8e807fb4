//! PodDisruptionBudgets: `minAvailable` or `maxUnavailable` (not both), each a count or a
//! percentage of at most 100%, a valid selector and eviction policy.

use serde_json::Value;

use super::apps::{at_most_100_percent, int_or_percent};
use super::fields::{label_selector, string};
use super::labels::validate_selector;
use super::rules::{no_defaults, Rules};
use crate::validation::FieldError;

/// The PodDisruptionBudgets strategy.
pub static BUDGETS: Rules = Rules {
    kind: "PodDisruptionBudget",
    group: "policy",
    default: no_defaults,
    validate,
    validate_update: |_old, new| validate(new),
};

fn pointer(type_name: &str, value: Option<&Value>) -> String {
    match value {
        None => format!("(*{type_name})(nil)"),
        Some(_) => format!("(*{type_name})(0xc000000000)"),
    }
}

fn validate(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    let min = spec.get("minAvailable").filter(|value| !value.is_null());
    let max = spec.get("maxUnavailable").filter(|value| !value.is_null());
    if min.is_some() && max.is_some() {
        let selector = spec.get("selector").filter(|value| !value.is_null());
        let rendered = format!(
            "policy.PodDisruptionBudgetSpec{{MinAvailable:{}, Selector:{}, MaxUnavailable:{}, UnhealthyPodEvictionPolicy:{}}}",
            pointer("intstr.IntOrString", min),
            selector.map_or_else(|| "(*v1.LabelSelector)(nil)".to_owned(), |selector| {
                format!("&{}", label_selector(Some(selector)))
            }),
            pointer("intstr.IntOrString", max),
            pointer(
                "policy.UnhealthyPodEvictionPolicyType",
                spec.get("unhealthyPodEvictionPolicy").filter(|value| !value.is_null())
            ),
        );
        errors.push(FieldError::invalid_raw(
            "spec",
            &rendered,
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (name, value) in [("minAvailable", min), ("maxUnavailable", max)] {
        let field = format!("spec.{name}");
        int_or_percent(value, &field, &mut errors);
        at_most_100_percent(value, &field, &mut errors);
    }
    validate_selector(spec.get("selector"), "spec.selector", &mut errors);
    let policy = string(spec, &["unhealthyPodEvictionPolicy"]);
    if !policy.is_empty() && !matches!(policy, "AlwaysAllow" | "IfHealthyBudget") {
        errors.push(FieldError::not_supported(
            "spec.unhealthyPodEvictionPolicy",
            policy,
            &["AlwaysAllow", "IfHealthyBudget"],
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::validate;

    #[test]
    fn one_bound_only() {
        let errors = validate(
            &json!({"spec": {"minAvailable": 1, "maxUnavailable": "150%",
            "selector": {"matchLabels": {"app": "web"}}}}),
        );
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["spec", "spec.maxUnavailable"]);
        assert!(errors[0]
            .message
            .ends_with(": minAvailable and maxUnavailable cannot be both set"));
        assert_eq!(
            errors[1].message,
            "Invalid value: 150%: must not be greater than 100%"
        );
        assert!(validate(&json!({"spec": {"minAvailable": "50%"}})).is_empty());
    }
}
