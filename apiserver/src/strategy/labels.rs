//! Label maps and `metav1.LabelSelector`s inside specs: upstream's `ValidateLabels`,
//! `ValidateLabelSelector`, and whether a selector parses and matches a label set.

use serde_json::{Map, Value};

use super::fields::{child, index, string};
use crate::validation::{self, FieldError};

/// `ValidateLabels`: every key a qualified name, every value a label value, all errors
/// reported at `field` itself (as upstream does).
pub(super) fn validate_labels(
    labels: Option<&Map<String, Value>>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    for (key, value) in labels.into_iter().flatten() {
        for problem in validation::qualified_name(key) {
            errors.push(FieldError::invalid(field, key, &problem));
        }
        let value = value.as_str().unwrap_or_default();
        for problem in validation::label_value(value) {
            errors.push(FieldError::invalid(field, value, &problem));
        }
    }
}

/// `ValidateLabelSelector` (strict label values). Returns whether the selector also
/// converts to a usable selector (`LabelSelectorAsSelector` succeeds).
pub(super) fn validate_selector(
    selector: Option<&Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> bool {
    let Some(selector) = selector.filter(|selector| !selector.is_null()) else {
        return true;
    };
    let before = errors.len();
    validate_labels(
        selector.get("matchLabels").and_then(Value::as_object),
        &child(field, "matchLabels"),
        errors,
    );
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (at, requirement) in expressions.iter().enumerate() {
        let path = index(&child(field, "matchExpressions"), at);
        let values = requirement
            .get("values")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match string(requirement, &["operator"]) {
            "In" | "NotIn" if values.is_empty() => errors.push(FieldError::required(
                child(&path, "values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errors.push(FieldError::forbidden(
                child(&path, "values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errors.push(FieldError::invalid(
                child(&path, "operator"),
                other,
                "not a valid selector operator",
            )),
        }
        let key = string(requirement, &["key"]);
        for problem in validation::qualified_name(key) {
            errors.push(FieldError::invalid(child(&path, "key"), key, &problem));
        }
        for (value_at, value) in values.iter().enumerate() {
            let value = value.as_str().unwrap_or_default();
            for problem in validation::label_value(value) {
                errors.push(FieldError::invalid(
                    index(&child(&path, "values"), value_at),
                    value,
                    &problem,
                ));
            }
        }
    }
    errors.len() == before
}

/// Whether a selector has no requirements at all (upstream's `Everything`).
pub(super) fn selector_is_empty(selector: &Value) -> bool {
    let labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map_or(0, Map::len);
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    labels + expressions == 0
}

/// Whether `selector` selects `labels`. An absent selector selects nothing, an empty one
/// everything, as `LabelSelectorAsSelector` makes them.
pub(super) fn selector_matches(
    selector: Option<&Value>,
    labels: Option<&Map<String, Value>>,
) -> bool {
    let Some(selector) = selector.filter(|selector| !selector.is_null()) else {
        return false;
    };
    let label = |key: &str| {
        labels
            .and_then(|labels| labels.get(key))
            .and_then(Value::as_str)
    };
    let wanted = selector.get("matchLabels").and_then(Value::as_object);
    let labels_hold = wanted
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == value.as_str());
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    labels_hold
        && expressions.iter().all(|requirement| {
            let key = string(requirement, &["key"]);
            let values: Vec<&str> = requirement
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match string(requirement, &["operator"]) {
                "In" => label(key).is_some_and(|value| values.contains(&value)),
                "NotIn" => label(key).is_none_or(|value| !values.contains(&value)),
                "Exists" => label(key).is_some(),
                "DoesNotExist" => label(key).is_none(),
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{selector_matches, validate_selector};

    #[test]
    fn matching() {
        let labels = json!({"app": "web", "tier": "front"});
        let labels = labels.as_object();
        assert!(selector_matches(
            Some(&json!({"matchLabels": {"app": "web"}})),
            labels
        ));
        assert!(!selector_matches(
            Some(&json!({"matchLabels": {"app": "db"}})),
            labels
        ));
        assert!(selector_matches(
            Some(
                &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]})
            ),
            labels
        ));
        assert!(!selector_matches(None, labels));
        assert!(selector_matches(Some(&json!({})), labels));
    }

    #[test]
    fn bad_requirements_are_reported() {
        let mut errors = Vec::new();
        let ok = validate_selector(
            Some(&json!({"matchExpressions": [{"key": "a", "operator": "In"}]})),
            "spec.selector",
            &mut errors,
        );
        assert!(!ok);
        assert_eq!(errors[0].field, "spec.selector.matchExpressions[0].values");
    }
}
