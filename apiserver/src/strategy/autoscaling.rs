//! HorizontalPodAutoscalers (stored as `autoscaling/v2`): replica bounds, the scale target,
//! metrics and scaling behavior, with the v2 defaults (one replica at least, 80% CPU, the
//! scale-up and scale-down rules) or, for `autoscaling/v1` requests, the v1 ones.

use serde_json::{json, Map, Value};

use super::fields::{arr, at, child, index, int, obj, present, string};
use super::names::path_segment_problems;
use super::pod::object_at;
use super::quantity;
use super::rules::Rules;
use crate::object::Object;
use crate::validation::FieldError;

const MAX_PERIOD_SECONDS: i64 = 1800;
const MAX_STABILIZATION_SECONDS: i64 = 3600;
const METRIC_TYPES: &[&str] = &[
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

/// The strategy of HorizontalPodAutoscalers written through `autoscaling/v2`.
pub static AUTOSCALERS_V2: Rules = Rules {
    kind: "HorizontalPodAutoscaler",
    group: "autoscaling",
    default: default_v2,
    validate,
    validate_update,
};

/// The strategy of HorizontalPodAutoscalers written through `autoscaling/v1`.
pub static AUTOSCALERS_V1: Rules = Rules {
    kind: "HorizontalPodAutoscaler",
    group: "autoscaling",
    default: default_v1,
    validate,
    validate_update,
};

fn default_v1(object: &mut Object) {
    object_at(&mut object.0, "spec")
        .entry("minReplicas")
        .or_insert_with(|| json!(1));
}

fn default_rules(rules: Option<&mut Value>, scale_up: bool) -> Value {
    let defaults = if scale_up {
        json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15}]})
    } else {
        json!({"stabilizationWindowSeconds": 300, "selectPolicy": "Max", "policies": [
            {"type": "Percent", "value": 100, "periodSeconds": 15}]})
    };
    match rules.and_then(|rules| rules.as_object_mut()) {
        None => defaults,
        Some(rules) => {
            if let Value::Object(defaults) = defaults {
                for (name, value) in defaults {
                    rules.entry(name).or_insert(value);
                }
            }
            Value::Object(rules.clone())
        }
    }
}

fn default_v2(object: &mut Object) {
    let spec = object_at(&mut object.0, "spec");
    spec.entry("minReplicas").or_insert_with(|| json!(1));
    let no_metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if no_metrics {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    if let Some(Value::Object(behavior)) = spec.get_mut("behavior") {
        let up = default_rules(behavior.get_mut("scaleUp"), true);
        let down = default_rules(behavior.get_mut("scaleDown"), false);
        behavior.insert("scaleUp".into(), up);
        behavior.insert("scaleDown".into(), down);
    }
}

fn reference(reference: &Value, field: &str, errors: &mut Vec<FieldError>) {
    for name in ["kind", "name"] {
        let value = string(reference, &[name]);
        if value.is_empty() {
            errors.push(FieldError::required(child(field, name), ""));
        } else {
            for problem in path_segment_problems(value) {
                errors.push(FieldError::invalid(child(field, name), value, &problem));
            }
        }
    }
}

fn metric_target(target: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let kind = string(target, &["type"]);
    if kind.is_empty() {
        errors.push(FieldError::required(
            child(field, "type"),
            "must specify a metric target type",
        ));
    }
    if !matches!(kind, "Utilization" | "Value" | "AverageValue") {
        errors.push(FieldError::invalid(
            child(field, "type"),
            kind,
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for name in ["value", "averageValue"] {
        if let Some(amount) = target.get(name).filter(|value| !value.is_null()) {
            if quantity::of(amount).is_none_or(|value| value <= 0.0) {
                errors.push(FieldError::invalid_raw(
                    child(field, name),
                    &quantity::text(amount),
                    "must be positive",
                ));
            }
        }
    }
    if let Some(utilization) = int(target, &["averageUtilization"]).filter(|value| *value < 1) {
        errors.push(FieldError::invalid_raw(
            child(field, "averageUtilization"),
            &utilization.to_string(),
            "must be greater than 0",
        ));
    }
}

fn metric_source(kind: &str, source: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let target_path = child(field, "target");
    let target = source.get("target").unwrap_or(&Value::Null);
    match kind {
        "resource" | "containerResource" => {
            if string(source, &["name"]).is_empty() {
                errors.push(FieldError::required(
                    child(field, "name"),
                    "must specify a resource name",
                ));
            }
            if kind == "containerResource" && string(source, &["container"]).is_empty() {
                errors.push(FieldError::required(
                    child(field, "container"),
                    "must specify a container",
                ));
            }
            metric_target(target, &target_path, errors);
            let utilization = present(target, &["averageUtilization"]);
            let average = present(target, &["averageValue"]);
            if !utilization && !average {
                errors.push(FieldError::required(
                    child(&target_path, "averageUtilization"),
                    "must set either a target raw value or a target utilization",
                ));
            }
            if utilization && average {
                errors.push(FieldError::forbidden(
                    child(&target_path, "averageValue"),
                    "may not set both a target raw value and a target utilization",
                ));
            }
        }
        _ => {
            if kind == "object" {
                reference(
                    source.get("describedObject").unwrap_or(&Value::Null),
                    &child(field, "describedObject"),
                    errors,
                );
            }
            if string(source, &["metric", "name"]).is_empty() {
                errors.push(FieldError::required(
                    child(&child(field, "metric"), "name"),
                    "must specify a metric name",
                ));
            }
            metric_target(target, &target_path, errors);
        }
    }
}

fn validate_metric(metric: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let kind = string(metric, &["type"]);
    if kind.is_empty() {
        errors.push(FieldError::required(
            child(field, "type"),
            "must specify a metric source type",
        ));
    }
    if !METRIC_TYPES.contains(&kind) {
        errors.push(FieldError::not_supported(
            child(field, "type"),
            kind,
            METRIC_TYPES,
        ));
    }
    let sources = [
        "object",
        "external",
        "pods",
        "resource",
        "containerResource",
    ];
    let given: Vec<&str> = sources
        .into_iter()
        .filter(|name| present(metric, &[name]))
        .collect();
    if let Some(first) = given.first() {
        metric_source(first, &metric[*first], &child(field, first), errors);
    }
    let expected = match kind {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "External" => "external",
        "ContainerResource" => "containerResource",
        _ => "",
    };
    if !expected.is_empty() && !given.contains(&expected) {
        errors.push(FieldError::required(
            child(field, expected),
            "must populate information for the given metric source",
        ));
    }
    if given.len() != 1 {
        for extra in given.iter().filter(|name| **name != expected) {
            errors.push(FieldError::forbidden(
                child(field, extra),
                "must populate the given metric source only",
            ));
        }
    }
}

fn scaling_rules(rules: &Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) {
    let rules = Value::Object(rules.clone());
    if let Some(window) = int(&rules, &["stabilizationWindowSeconds"]) {
        let path = child(field, "stabilizationWindowSeconds");
        if window < 0 {
            errors.push(FieldError::invalid_raw(
                &path,
                &window.to_string(),
                "must be greater than or equal to zero",
            ));
        }
        if window > MAX_STABILIZATION_SECONDS {
            errors.push(FieldError::invalid_raw(
                &path,
                &window.to_string(),
                &format!("must be less than or equal to {MAX_STABILIZATION_SECONDS}"),
            ));
        }
    }
    if let Some(select) = at(&rules, &["selectPolicy"]).and_then(Value::as_str) {
        if !matches!(select, "Disabled" | "Max" | "Min") {
            errors.push(FieldError::not_supported(
                child(field, "selectPolicy"),
                select,
                &["Disabled", "Max", "Min"],
            ));
        }
    }
    let policies_path = child(field, "policies");
    let policies = arr(&rules, &["policies"]);
    if policies.is_empty() {
        errors.push(FieldError::required(
            &policies_path,
            "must specify at least one Policy",
        ));
    }
    for (at_index, policy) in policies.iter().enumerate() {
        let path = index(&policies_path, at_index);
        let kind = string(policy, &["type"]);
        if !matches!(kind, "Pods" | "Percent") {
            errors.push(FieldError::not_supported(
                child(&path, "type"),
                kind,
                &["Percent", "Pods"],
            ));
        }
        let value = int(policy, &["value"]).unwrap_or_default();
        if value <= 0 {
            errors.push(FieldError::invalid_raw(
                child(&path, "value"),
                &value.to_string(),
                "must be greater than zero",
            ));
        }
        let period = int(policy, &["periodSeconds"]).unwrap_or_default();
        if period <= 0 {
            errors.push(FieldError::invalid_raw(
                child(&path, "periodSeconds"),
                &period.to_string(),
                "must be greater than zero",
            ));
        }
        if period > MAX_PERIOD_SECONDS {
            errors.push(FieldError::invalid_raw(
                child(&path, "periodSeconds"),
                &period.to_string(),
                &format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
}

fn validate(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    let min = int(spec, &["minReplicas"]);
    if let Some(min) = min.filter(|min| *min < 1) {
        errors.push(FieldError::invalid_raw(
            "spec.minReplicas",
            &min.to_string(),
            "must be greater than or equal to 1",
        ));
    }
    let max = int(spec, &["maxReplicas"]).unwrap_or_default();
    if max < 1 {
        errors.push(FieldError::invalid_raw(
            "spec.maxReplicas",
            &max.to_string(),
            "must be greater than 0",
        ));
    }
    if min.is_some_and(|min| max < min) {
        errors.push(FieldError::invalid_raw(
            "spec.maxReplicas",
            &max.to_string(),
            "must be greater than or equal to `minReplicas`",
        ));
    }
    reference(
        spec.get("scaleTargetRef").unwrap_or(&Value::Null),
        "spec.scaleTargetRef",
        &mut errors,
    );
    for (at_index, metric) in arr(spec, &["metrics"]).iter().enumerate() {
        validate_metric(metric, &index("spec.metrics", at_index), &mut errors);
    }
    for direction in ["scaleUp", "scaleDown"] {
        if let Some(rules) = obj(spec, &["behavior", direction]) {
            scaling_rules(rules, &format!("spec.behavior.{direction}"), &mut errors);
        }
    }
    errors
}

fn validate_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = validate(new);
    // An autoscaler stored with zero minimum replicas may keep it.
    if int(old, &["spec", "minReplicas"]) == Some(0) {
        errors.retain(|error| error.field != "spec.minReplicas");
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{default_v2, validate};
    use crate::object::Object;

    #[test]
    fn defaults_and_bounds() {
        let mut hpa = Object(
            json!({"spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
        default_v2(&mut hpa);
        assert_eq!(hpa.0["spec"]["minReplicas"], 1);
        assert_eq!(
            hpa.0["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert_eq!(
            hpa.0["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
            60
        );
        assert_eq!(
            hpa.0["spec"]["behavior"]["scaleUp"]["policies"][0]["value"],
            4
        );
        assert!(validate(&serde_json::Value::Object(hpa.0)).is_empty());
        let bad = json!({"spec": {"minReplicas": 0, "maxReplicas": 0, "scaleTargetRef": {}}});
        let lines: Vec<String> = validate(&bad)
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect();
        assert_eq!(
            lines,
            [
                "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
                "spec.maxReplicas: Invalid value: 0: must be greater than 0",
                "spec.scaleTargetRef.kind: Required value",
                "spec.scaleTargetRef.name: Required value",
            ]
        );
    }
}
