//! A custom object against its version's structural schema, as upstream's apiextensions
//! server treats it: defaults from `default`, unknown fields pruned (unless
//! `x-kubernetes-preserve-unknown-fields`), then OpenAPI v3 validation with upstream's
//! field error wording.

use regex::Regex;
use serde_json::{Map, Value};

use super::CustomVersion;
use crate::object::Object;
use crate::status::ApiError;
use crate::validation::{self, FieldError};

/// Fields of `object` its schema does not declare (would be pruned), by path.
pub fn unknown_fields(custom: &CustomVersion, object: &Map<String, Value>) -> Vec<String> {
    let Some(schema) = custom.schema.as_deref() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk_unknown(
        schema,
        &Value::Object(object.clone()),
        &mut String::new(),
        true,
        &mut found,
    );
    found
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

fn embedded(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true)
}

fn push(path: &mut String, name: &str) -> usize {
    let mark = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
    mark
}

/// Walks `value` against `schema`, calling back on fields the schema lacks.
fn walk_unknown(
    schema: &Value,
    value: &Value,
    path: &mut String,
    root: bool,
    found: &mut Vec<String>,
) {
    match value {
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (name, child) in object {
                let meta_field = (root || embedded(schema))
                    && matches!(name.as_str(), "apiVersion" | "kind" | "metadata");
                let mark = push(path, name);
                match (properties.and_then(|p| p.get(name)), additional) {
                    (Some(property), _) => walk_unknown(property, child, path, false, found),
                    (None, Some(values)) => walk_unknown(values, child, path, false, found),
                    (None, None) if meta_field || preserves(schema) => {}
                    (None, None) => found.push(path.clone()),
                }
                path.truncate(mark);
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|i| i.is_object()) {
                for (index, item) in items.iter().enumerate() {
                    let mark = path.len();
                    path.push_str(&format!("[{index}]"));
                    walk_unknown(item_schema, item, path, false, found);
                    path.truncate(mark);
                }
            }
        }
        _ => {}
    }
}

/// Defaults, prunes and validates a custom object of `custom`'s version.
pub fn admit(custom: &CustomVersion, object: &mut Object) -> Result<(), ApiError> {
    let Some(schema) = custom.schema.as_deref() else {
        return Ok(());
    };
    let mut value = Value::Object(std::mem::take(&mut object.0));
    apply_defaults(schema, &mut value);
    prune(schema, &mut value, true);
    let mut errors = Vec::new();
    let mut at_root = value.clone();
    if let Some(map) = at_root.as_object_mut() {
        // Metadata is validated by the generic rules; the schema speaks for the rest.
        map.shift_remove("metadata");
        map.shift_remove("apiVersion");
        map.shift_remove("kind");
    }
    validate(schema, &at_root, &mut String::new(), &mut errors);
    object.0 = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if errors.is_empty() {
        return Ok(());
    }
    let kind = object.str_field("kind").unwrap_or_default().to_owned();
    let group = object
        .str_field("apiVersion")
        .and_then(|v| v.split_once('/'))
        .map(|(group, _)| group.to_owned())
        .unwrap_or_default();
    let name = object.name().unwrap_or_default().to_owned();
    Err(validation::invalid(&kind, &group, &name, errors))
}

/// Fills in `default`s of absent properties of present objects.
fn apply_defaults(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    if !object.contains_key(name) {
                        if let Some(default) = property.get("default") {
                            object.insert(name.clone(), default.clone());
                        }
                    }
                }
                for (name, child) in object.iter_mut() {
                    if let Some(property) = properties.get(name) {
                        apply_defaults(property, child);
                    }
                }
            } else if let Some(values) =
                schema.get("additionalProperties").filter(|a| a.is_object())
            {
                for child in object.values_mut() {
                    apply_defaults(values, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|i| i.is_object()) {
                for item in items {
                    apply_defaults(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

/// Drops fields the schema does not declare.
fn prune(schema: &Value, value: &mut Value, root: bool) {
    match value {
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            let keep_meta = root || embedded(schema);
            let preserve = preserves(schema);
            object.retain(|name, _| {
                properties.is_some_and(|p| p.contains_key(name))
                    || additional.is_some()
                    || preserve
                    || (keep_meta && matches!(name.as_str(), "apiVersion" | "kind" | "metadata"))
            });
            for (name, child) in object.iter_mut() {
                if let Some(property) = properties.and_then(|p| p.get(name)) {
                    prune(property, child, false);
                } else if let Some(values) = additional {
                    prune(values, child, false);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|i| i.is_object()) {
                for item in items {
                    prune(item_schema, item, false);
                }
            }
        }
        _ => {}
    }
}

/// `Invalid value: <v>: why`, with the value as upstream prints it (strings quoted,
/// numbers and booleans bare).
fn invalid_value(field: &str, value: &Value, why: &str) -> FieldError {
    let shown = match value {
        Value::String(text) => format!("{text:?}"),
        other => other.to_string(),
    };
    FieldError {
        reason: "FieldValueInvalid",
        field: field.to_owned(),
        message: format!("Invalid value: {shown}: {why}"),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// OpenAPI v3 validation of the subset structural schemas use.
fn validate(schema: &Value, value: &Value, path: &mut String, errors: &mut Vec<FieldError>) {
    let field = if path.is_empty() {
        "<root>".to_owned()
    } else {
        path.clone()
    };
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) != Some(true) && !path.is_empty() {
            let expected = schema
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("object");
            errors.push(invalid_value(
                &field,
                value,
                &format!("{field} in body must be of type {expected}: \"null\""),
            ));
        }
        return;
    }
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let actual = type_name(value);
        let fits = actual == expected || (expected == "number" && actual == "integer");
        if !fits && !int_or_string {
            errors.push(invalid_value(
                &field,
                value,
                &format!("{field} in body must be of type {expected}: \"{actual}\""),
            ));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let supported: Vec<String> = allowed.iter().map(shown).collect();
            let supported: Vec<&str> = supported.iter().map(String::as_str).collect();
            errors.push(FieldError::not_supported(&field, &shown(value), &supported));
        }
    }
    match value {
        Value::Object(object) => {
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = required.as_str() {
                    if !object.contains_key(name) {
                        let child = if path.is_empty() {
                            name.to_owned()
                        } else {
                            format!("{path}.{name}")
                        };
                        errors.push(FieldError::required(child, ""));
                    }
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (name, child) in object {
                let child_schema = properties.and_then(|p| p.get(name)).or(additional);
                if let Some(child_schema) = child_schema {
                    let mark = push(path, name);
                    validate(child_schema, child, path, errors);
                    path.truncate(mark);
                }
            }
            count_bounds(
                schema,
                object.len(),
                "minProperties",
                "maxProperties",
                &field,
                "properties",
                errors,
            );
        }
        Value::Array(items) => {
            count_bounds(
                schema,
                items.len(),
                "minItems",
                "maxItems",
                &field,
                "items",
                errors,
            );
            if let Some(item_schema) = schema.get("items").filter(|i| i.is_object()) {
                for (index, item) in items.iter().enumerate() {
                    let mark = path.len();
                    path.push_str(&format!("[{index}]"));
                    validate(item_schema, item, path, errors);
                    path.truncate(mark);
                }
            }
        }
        Value::String(text) => {
            let length = text.chars().count();
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                if length as u64 > max {
                    errors.push(FieldError {
                        reason: "FieldValueTooLong",
                        field: field.clone(),
                        message: format!("Too long: may not be more than {max} bytes"),
                    });
                }
            }
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if (length as u64) < min {
                    errors.push(invalid_value(
                        &field,
                        value,
                        &format!("{field} in body should be at least {min} chars long"),
                    ));
                }
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                if Regex::new(pattern).is_ok_and(|regex| !regex.is_match(text)) {
                    errors.push(invalid_value(
                        &field,
                        value,
                        &format!("{field} in body should match '{pattern}'"),
                    ));
                }
            }
        }
        Value::Number(number) => {
            let Some(n) = number.as_f64() else { return };
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
            let exclusive = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
            if let Some(min) = bound("minimum") {
                if n < min || (exclusive("exclusiveMinimum") && n <= min) {
                    let relation = if exclusive("exclusiveMinimum") {
                        "greater than"
                    } else {
                        "greater than or equal to"
                    };
                    errors.push(invalid_value(
                        &field,
                        value,
                        &format!(
                            "{field} in body should be {relation} {}",
                            format_number(min)
                        ),
                    ));
                }
            }
            if let Some(max) = bound("maximum") {
                if n > max || (exclusive("exclusiveMaximum") && n >= max) {
                    let relation = if exclusive("exclusiveMaximum") {
                        "less than"
                    } else {
                        "less than or equal to"
                    };
                    errors.push(invalid_value(
                        &field,
                        value,
                        &format!(
                            "{field} in body should be {relation} {}",
                            format_number(max)
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn count_bounds(
    schema: &Value,
    count: usize,
    min_key: &str,
    max_key: &str,
    field: &str,
    noun: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Some(max) = schema.get(max_key).and_then(Value::as_u64) {
        if count as u64 > max {
            errors.push(FieldError {
                reason: "FieldValueTooMany",
                field: field.to_owned(),
                message: format!("Too many: {count}: must have at most {max} {noun}"),
            });
        }
    }
    if let Some(min) = schema.get(min_key).and_then(Value::as_u64) {
        if (count as u64) < min {
            errors.push(invalid_value(
                field,
                &Value::from(count),
                &format!("{field} in body should have at least {min} {noun}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::{admit, unknown_fields};
    use crate::crd::CustomVersion;
    use crate::object::Object;

    fn custom(schema: Value) -> CustomVersion {
        CustomVersion {
            crd: "widgets.example.com".to_owned(),
            schema: Some(Arc::new(schema)),
            storage: true,
            scale: None,
            printer_columns: Vec::new(),
            list_kind: "WidgetList".to_owned(),
        }
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["image"], "properties": {
                "image": {"type": "string", "pattern": "^[a-z]+$"},
                "replicas": {"type": "integer", "minimum": 1, "default": 1},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            }},
        }})
    }

    fn object(value: Value) -> Object {
        match value {
            Value::Object(map) => Object(map),
            _ => Object(serde_json::Map::new()),
        }
    }

    #[test]
    fn defaults_and_pruning() -> Result<(), crate::status::ApiError> {
        let version = custom(schema());
        let mut widget = object(json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"image": "nginx", "bogus": 1, "extra": {"anything": true}}, "top": 1}));
        assert_eq!(unknown_fields(&version, &widget.0), ["spec.bogus", "top"]);
        admit(&version, &mut widget)?;
        assert_eq!(
            Value::Object(widget.0),
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                "spec": {"image": "nginx", "extra": {"anything": true}, "replicas": 1}})
        );
        Ok(())
    }

    #[test]
    fn validation_errors_name_fields_as_upstream() {
        let version = custom(schema());
        let mut widget = object(json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "spec": {"image": "Bad1", "replicas": 0, "mode": "warp"}}));
        let error = admit(&version, &mut widget)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(
            error.contains(
                "spec.image: Invalid value: \"Bad1\": spec.image in body should match '^[a-z]+$'"
            ),
            "{error}"
        );
        assert!(error.contains("spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"), "{error}");
        assert!(
            error.contains(
                "spec.mode: Unsupported value: \"warp\": supported values: \"fast\", \"slow\""
            ),
            "{error}"
        );
        let mut missing = object(json!({"metadata": {"name": "w"}, "spec": {"replicas": "two"}}));
        let error = admit(&version, &mut missing)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(error.contains("spec.image: Required value"), "{error}");
        assert!(error.contains("spec.replicas: Invalid value: \"two\": spec.replicas in body must be of type integer: \"string\""), "{error}");
    }
}
