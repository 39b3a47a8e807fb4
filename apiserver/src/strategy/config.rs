//! ConfigMaps and Secrets: key names, the 1 MiB size limit, the Secret types' required
//! keys, `immutable: true`, and (as upstream's conversion does) a Secret's `stringData`
//! folded into `data`.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::containers::config_key_problems;
use super::fields::{at, key, obj, string};
use super::rules::{no_defaults, Rules};
use crate::object::Object;
use crate::validation::{go_quote, FieldError};

/// Upstream's `MaxSecretSize`, which bounds ConfigMaps too.
const MAX_SIZE: usize = 1024 * 1024;
const IMMUTABLE_SET: &str = "field is immutable when `immutable` is set";
const SERVICE_ACCOUNT_NAME: &str = "kubernetes.io/service-account.name";
const REDACTED: &str = "<secret contents redacted>";

/// The ConfigMaps strategy.
pub static CONFIG_MAPS: Rules = Rules {
    kind: "ConfigMap",
    group: "",
    default: no_defaults,
    validate: validate_config_map,
    validate_update: validate_config_map_update,
};

/// The Secrets strategy.
pub static SECRETS: Rules = Rules {
    kind: "Secret",
    group: "",
    default: default_secret,
    validate: validate_secret,
    validate_update: validate_secret_update,
};

fn decoded_len(value: &Value) -> usize {
    let text = value.as_str().unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_or(text.len(), |bytes| bytes.len())
}

fn decoded(value: Option<&Value>) -> Option<Vec<u8>> {
    let text = value?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn check_keys(map: Option<&Map<String, Value>>, field: &str, errors: &mut Vec<FieldError>) {
    for name in map.into_iter().flat_map(Map::keys) {
        for problem in config_key_problems(name) {
            errors.push(FieldError::invalid(key(field, name), name, &problem));
        }
    }
}

fn validate_config_map(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let data = obj(object, &["data"]);
    let binary = obj(object, &["binaryData"]);
    let mut total = 0;
    for (name, value) in data.into_iter().flatten() {
        for problem in config_key_problems(name) {
            errors.push(FieldError::invalid(key("data", name), name, &problem));
        }
        if binary.is_some_and(|binary| binary.contains_key(name)) {
            errors.push(FieldError::invalid(
                key("data", name),
                name,
                "duplicate of key present in binaryData",
            ));
        }
        total += value.as_str().map_or(0, str::len);
    }
    check_keys(binary, "binaryData", &mut errors);
    total += binary
        .into_iter()
        .flatten()
        .map(|(_, value)| decoded_len(value))
        .sum::<usize>();
    if total > MAX_SIZE {
        errors.push(FieldError::too_long("", MAX_SIZE));
    }
    errors
}

fn is_immutable(object: &Value) -> bool {
    at(object, &["immutable"]).and_then(Value::as_bool) == Some(true)
}

/// A map field, with an absent one and `null` the same.
fn map_of<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn immutable_contents(old: &Value, new: &Value, fields: &[&str], errors: &mut Vec<FieldError>) {
    if !is_immutable(old) {
        return;
    }
    if !is_immutable(new) {
        errors.push(FieldError::forbidden("immutable", IMMUTABLE_SET));
    }
    for field in fields {
        if map_of(old, field) != map_of(new, field) {
            errors.push(FieldError::forbidden(*field, IMMUTABLE_SET));
        }
    }
}

fn validate_config_map_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    immutable_contents(old, new, &["data", "binaryData"], &mut errors);
    errors.extend(validate_config_map(new));
    errors
}

/// `type` defaults to Opaque, and `stringData` is written into `data` (base64), replacing
/// keys of the same name, then dropped: it is write-only, as upstream stores it.
fn default_secret(object: &mut Object) {
    object.0.entry("type").or_insert_with(|| json!("Opaque"));
    if object
        .0
        .get("type")
        .is_some_and(|kind| kind.as_str() == Some(""))
    {
        object.0.insert("type".into(), json!("Opaque"));
    }
    let Some(Value::Object(strings)) = object.0.shift_remove("stringData") else {
        return;
    };
    let data = object.0.entry("data").or_insert_with(|| json!({}));
    if !data.is_object() {
        *data = json!({});
    }
    if let Value::Object(data) = data {
        for (name, value) in strings {
            let text = value.as_str().unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            data.insert(name, json!(encoded));
        }
    }
}

/// What Go's `json.Unmarshal` into a map says about `bytes`, if it refuses them.
fn json_object_problem(bytes: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(_)) => None,
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                _ => return None,
            };
            Some(format!(
                "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            ))
        }
        Err(error) if error.is_eof() => Some("unexpected end of JSON input".to_owned()),
        Err(error) => {
            let column = error.column().saturating_sub(1);
            let line = String::from_utf8_lossy(bytes)
                .lines()
                .nth(error.line().saturating_sub(1))
                .unwrap_or_default()
                .to_owned();
            let found = line.chars().nth(column).unwrap_or(' ');
            Some(format!(
                "invalid character '{found}' looking for beginning of value"
            ))
        }
    }
}

fn docker_config(data: Option<&Map<String, Value>>, name: &str, errors: &mut Vec<FieldError>) {
    let field = key("data", name);
    match data.and_then(|data| data.get(name)) {
        None => errors.push(FieldError::required(field, "")),
        Some(value) => {
            let bytes = decoded(Some(value)).unwrap_or_default();
            if let Some(problem) = json_object_problem(&bytes) {
                errors.push(FieldError::invalid(field, REDACTED, &problem));
            }
        }
    }
}

fn validate_secret(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let data = obj(object, &["data"]);
    check_keys(data, "data", &mut errors);
    let total: usize = data
        .into_iter()
        .flatten()
        .map(|(_, value)| decoded_len(value))
        .sum();
    if total > MAX_SIZE {
        errors.push(FieldError::too_long("data", MAX_SIZE));
    }
    let has = |name: &str| data.is_some_and(|data| data.contains_key(name));
    match string(object, &["type"]) {
        "kubernetes.io/service-account-token"
            if string(object, &["metadata", "annotations", SERVICE_ACCOUNT_NAME]).is_empty() =>
        {
            errors.push(FieldError::required(
                key("metadata.annotations", SERVICE_ACCOUNT_NAME),
                "",
            ));
        }
        "kubernetes.io/dockercfg" => docker_config(data, ".dockercfg", &mut errors),
        "kubernetes.io/dockerconfigjson" => {
            docker_config(data, ".dockerconfigjson", &mut errors);
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errors.push(FieldError::required(key("data", "username"), ""));
            errors.push(FieldError::required(key("data", "password"), ""));
        }
        "kubernetes.io/ssh-auth" => {
            let private = decoded(data.and_then(|data| data.get("ssh-privatekey")));
            if private.is_none_or(|bytes| bytes.is_empty()) {
                errors.push(FieldError::required(key("data", "ssh-privatekey"), ""));
            }
        }
        "kubernetes.io/tls" => {
            for name in ["tls.crt", "tls.key"] {
                if !has(name) {
                    errors.push(FieldError::required(key("data", name), ""));
                }
            }
        }
        _ => {}
    }
    errors
}

fn validate_secret_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let (old_type, new_type) = (string(old, &["type"]), string(new, &["type"]));
    if old_type != new_type {
        errors.push(FieldError::invalid_raw(
            "type",
            &go_quote(new_type),
            "field is immutable",
        ));
    }
    immutable_contents(old, new, &["data"], &mut errors);
    errors.extend(validate_secret(new));
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{default_secret, validate_config_map, validate_config_map_update, validate_secret};
    use crate::object::Object;

    fn lines(errors: Vec<crate::validation::FieldError>) -> Vec<String> {
        errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect()
    }

    #[test]
    fn config_map_keys_and_size() {
        let errors = validate_config_map(&json!({"data": {"a b": "x", "ok": "y"},
            "binaryData": {"ok": "eQ=="}}));
        assert_eq!(
            lines(errors),
            [
                "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                "data[ok]: Invalid value: \"ok\": duplicate of key present in binaryData",
            ]
        );
        let big = "x".repeat(1024 * 1024 + 1);
        assert_eq!(
            lines(validate_config_map(&json!({"data": {"big": big}}))),
            [": Too long: must have at most 1048576 bytes"]
        );
    }

    #[test]
    fn immutable_config_maps_keep_their_data() {
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let new = json!({"data": {"a": "2"}});
        assert_eq!(
            lines(validate_config_map_update(&old, &new)),
            [
                "immutable: Forbidden: field is immutable when `immutable` is set",
                "data: Forbidden: field is immutable when `immutable` is set",
            ]
        );
    }

    #[test]
    fn secret_types_need_their_keys() {
        assert_eq!(
            lines(validate_secret(
                &json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}})
            )),
            ["data[tls.key]: Required value"]
        );
        let bad_docker = json!({"type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "eHl6"}});
        assert_eq!(
            lines(validate_secret(&bad_docker)),
            ["data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid character 'x' looking for beginning of value"]
        );
    }

    #[test]
    fn string_data_folds_into_data() {
        let mut secret = Object(
            json!({"stringData": {"password": "hunter2"}, "data": {"user": "YQ=="}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        default_secret(&mut secret);
        assert_eq!(secret.0["type"], "Opaque");
        assert_eq!(secret.0["data"]["password"], "aHVudGVyMg==");
        assert_eq!(secret.0["data"]["user"], "YQ==");
        assert!(secret.0.get("stringData").is_none());
    }
}
