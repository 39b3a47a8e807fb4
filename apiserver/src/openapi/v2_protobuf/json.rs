//! Reading JSON values the way gnostic's `compiler` helpers read YAML scalars: a value of
//! the wrong kind is the field's zero value (gnostic would reject the document; ours are
//! generated, so that never happens), and `x-` keys become vendor extensions.

use serde_json::{Map, Value};

use super::schema::{Any, NamedAny};

/// `StringForScalarNode`: a string, an integer's digits, or empty.
pub(super) fn string(object: &Map<String, Value>, key: &str) -> String {
    match object.get(key) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) if number.is_i64() || number.is_u64() => number.to_string(),
        _ => String::new(),
    }
}

/// `BoolForScalarNode`.
pub(super) fn boolean(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// `IntForScalarNode`: integers only.
pub(super) fn integer(object: &Map<String, Value>, key: &str) -> i64 {
    object.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// `FloatForScalarNode`: integers and floats.
pub(super) fn float(object: &Map<String, Value>, key: &str) -> f64 {
    object.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// `StringArrayForSequenceNode`: the string items of a list.
pub(super) fn strings(object: &Map<String, Value>, key: &str) -> Vec<String> {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every `x-` key in document order, its value as YAML.
pub(super) fn vendor_extensions(object: &Map<String, Value>) -> Vec<NamedAny> {
    object
        .iter()
        .filter(|(key, _)| key.starts_with("x-"))
        .map(|(key, value)| NamedAny {
            name: key.clone(),
            value: Some(Any::of(value)),
        })
        .collect()
}
