//! Reading fields out of an object's JSON and printing values as upstream's field errors
//! print them (Go's `%v` for numbers, `%q` for strings, `%#v` for maps and selectors), so
//! that validators stay short and their messages match kube-apiserver's byte for byte.

use serde_json::{Map, Value};

use crate::validation::{go_quote, FieldError};

/// `parent.child`, or `child` at the root.
pub(super) fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// `parent[index]`.
pub(super) fn index(parent: &str, at: usize) -> String {
    format!("{parent}[{at}]")
}

/// `parent[key]`, as upstream's `Path.Key` prints it (unquoted).
pub(super) fn key(parent: &str, name: &str) -> String {
    format!("{parent}[{name}]")
}

/// The value at a path of object keys.
pub(super) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, name| value.get(*name))
}

/// The object at `path`, if it is one.
pub(super) fn obj<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    at(value, path).and_then(Value::as_object)
}

/// The array at `path`, empty when absent.
pub(super) fn arr<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    at(value, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The string at `path`, empty when absent.
pub(super) fn string<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    at(value, path).and_then(Value::as_str).unwrap_or_default()
}

/// The integer at `path`, if there is one.
pub(super) fn int(value: &Value, path: &[&str]) -> Option<i64> {
    at(value, path).and_then(Value::as_i64)
}

/// Whether `path` holds a value other than null.
pub(super) fn present(value: &Value, path: &[&str]) -> bool {
    at(value, path).is_some_and(|value| !value.is_null())
}

/// Upstream's `ValidateNonnegativeField`.
pub(super) fn nonnegative(value: Option<i64>, field: &str, errors: &mut Vec<FieldError>) {
    if let Some(value) = value.filter(|value| *value < 0) {
        errors.push(FieldError::invalid_raw(
            field,
            &value.to_string(),
            "must be greater than or equal to 0",
        ));
    }
}

/// A JSON value the way Go prints the typed value it decodes into with `%v`: strings
/// quoted, numbers and booleans bare.
pub(super) fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => go_quote(text),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

/// An `IntOrString` as upstream prints it (through its `String()` method: never quoted).
pub(super) fn int_or_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A `map[string]string` as Go's `%#v` prints it: sorted keys, `(nil)` when absent.
pub(super) fn string_map(map: Option<&Map<String, Value>>) -> String {
    let Some(map) = map else {
        return "map[string]string(nil)".to_owned();
    };
    let mut entries: Vec<(&String, String)> = map
        .iter()
        .map(|(key, value)| (key, value.as_str().unwrap_or_default().to_owned()))
        .collect();
    entries.sort();
    let body: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("{}:{}", go_quote(key), go_quote(value)))
        .collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// A `[]string` as Go's `%#v` prints it.
pub(super) fn string_slice(values: Option<&Vec<Value>>) -> String {
    let Some(values) = values else {
        return "[]string(nil)".to_owned();
    };
    let body: Vec<String> = values
        .iter()
        .map(|value| go_quote(value.as_str().unwrap_or_default()))
        .collect();
    format!("[]string{{{}}}", body.join(", "))
}

/// A `metav1.LabelSelector` as `%#v` prints it (the form kubectl users know from
/// `spec.selector: Invalid value: v1.LabelSelector{...}: field is immutable`).
pub(super) fn label_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector.filter(|selector| !selector.is_null()) else {
        return "(*v1.LabelSelector)(nil)".to_owned();
    };
    let labels = string_map(selector.get("matchLabels").and_then(Value::as_object));
    let expressions = match selector.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_owned(),
        Some(list) => {
            let items: Vec<String> = list
                .iter()
                .map(|requirement| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(string(requirement, &["key"])),
                        go_quote(string(requirement, &["operator"])),
                        string_slice(requirement.get("values").and_then(Value::as_array)),
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}")
}

/// A value that has no faithful Go rendering here (internal structs): compact JSON.
pub(super) fn opaque(value: Option<&Value>) -> String {
    value.map_or_else(|| "null".to_owned(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{int_or_string, label_selector, string_map};

    #[test]
    fn go_renderings() {
        assert_eq!(string_map(None), "map[string]string(nil)");
        let labels = json!({"tier": "web", "app": "x"});
        assert_eq!(
            string_map(labels.as_object()),
            "map[string]string{\"app\":\"x\", \"tier\":\"web\"}"
        );
        assert_eq!(
            label_selector(Some(&json!({"matchLabels": {"app": "b"}}))),
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"b\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
        assert_eq!(int_or_string(&json!("25%")), "25%");
        assert_eq!(int_or_string(&json!(0)), "0");
    }
}
