//! Containers of a pod spec: upstream's `validateContainerCommon` (name, image, ports, env,
//! volume mounts, pull policy, resources) and the probe and lifecycle handler rules.

use std::collections::BTreeSet;

use serde_json::Value;

use super::fields::{arr, at, child, index, int, key, present, scalar, string};
use super::quantity;
use crate::validation::{self, go_quote, FieldError};

const PORT_NAME_MAX: usize = 15;
const ENV_NAME_HELP: &str =
    "a valid environment variable name must consist only of printable ASCII characters other than '='";
const CONFIG_MAP_KEY_HELP: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `IsValidPortNum`.
pub(super) fn port_number_problems(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec!["must be between 1 and 65535, inclusive".to_owned()]
    }
}

/// `IsValidPortName` (an IANA service name).
pub(super) fn port_name_problems(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if name.len() > PORT_NAME_MAX {
        problems.push(format!("must be no more than {PORT_NAME_MAX} characters"));
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        problems.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned(),
        );
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        problems.push("must contain at least one letter (a-z)".to_owned());
    }
    if name.contains("--") {
        problems.push("must not contain consecutive hyphens".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') {
        problems.push("must not begin or end with a hyphen".to_owned());
    }
    problems
}

/// `IsConfigMapKey`: the rule for ConfigMap and Secret keys and key references.
pub(super) fn config_key_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 253 {
        problems.push("must be no more than 253 characters".to_owned());
    }
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        problems.push(CONFIG_MAP_KEY_HELP.to_owned());
    }
    match value {
        "." => problems.push("must not be '.'".to_owned()),
        ".." => problems.push("must not be '..'".to_owned()),
        other if other.starts_with("..") => problems.push("must not start with '..'".to_owned()),
        _ => {}
    }
    problems
}

/// A port given as a number or a name (`ValidatePortNumOrName`).
pub(super) fn port_num_or_name(port: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) {
    match port {
        Some(Value::String(name)) => {
            for problem in port_name_problems(name) {
                errors.push(FieldError::invalid(field, name, &problem));
            }
        }
        other => {
            let number = other.and_then(Value::as_i64).unwrap_or_default();
            for problem in port_number_problems(number) {
                errors.push(FieldError::invalid_raw(
                    field,
                    &number.to_string(),
                    &problem,
                ));
            }
        }
    }
}

fn validate_ports(container: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let mut names = BTreeSet::new();
    for (at_index, port) in arr(container, &["ports"]).iter().enumerate() {
        let path = index(field, at_index);
        let name = string(port, &["name"]);
        if !name.is_empty() {
            let problems = port_name_problems(name);
            if !problems.is_empty() {
                for problem in problems {
                    errors.push(FieldError::invalid(child(&path, "name"), name, &problem));
                }
            } else if !names.insert(name.to_owned()) {
                errors.push(FieldError::duplicate(child(&path, "name"), &go_quote(name)));
            }
        }
        match int(port, &["containerPort"]).unwrap_or_default() {
            0 => errors.push(FieldError::required(child(&path, "containerPort"), "")),
            number => {
                for problem in port_number_problems(number) {
                    errors.push(FieldError::invalid_raw(
                        child(&path, "containerPort"),
                        &number.to_string(),
                        &problem,
                    ));
                }
            }
        }
        if let Some(host) = int(port, &["hostPort"]).filter(|host| *host != 0) {
            for problem in port_number_problems(host) {
                errors.push(FieldError::invalid_raw(
                    child(&path, "hostPort"),
                    &host.to_string(),
                    &problem,
                ));
            }
        }
        match string(port, &["protocol"]) {
            "" => errors.push(FieldError::required(child(&path, "protocol"), "")),
            "TCP" | "UDP" | "SCTP" => {}
            other => errors.push(FieldError::not_supported(
                child(&path, "protocol"),
                other,
                &["SCTP", "TCP", "UDP"],
            )),
        }
    }
}

fn env_name_problems(name: &str) -> Vec<String> {
    if name
        .chars()
        .all(|ch| ch.is_ascii() && !ch.is_ascii_control() && ch != '=')
    {
        Vec::new()
    } else {
        vec![ENV_NAME_HELP.to_owned()]
    }
}

fn key_selector(selector: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let name = string(selector, &["name"]);
    for problem in validation::dns1123_subdomain(name) {
        errors.push(FieldError::invalid(child(field, "name"), name, &problem));
    }
    let key_name = string(selector, &["key"]);
    if key_name.is_empty() {
        errors.push(FieldError::required(child(field, "key"), ""));
    } else {
        for problem in config_key_problems(key_name) {
            errors.push(FieldError::invalid(child(field, "key"), key_name, &problem));
        }
    }
}

fn validate_value_from(var: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let Some(from) = var.get("valueFrom").filter(|from| !from.is_null()) else {
        return;
    };
    let mut sources = 0;
    if let Some(field_ref) = from.get("fieldRef").filter(|value| !value.is_null()) {
        sources += 1;
        let path = child(field, "fieldRef");
        if string(field_ref, &["apiVersion"]).is_empty() {
            errors.push(FieldError::required(child(&path, "apiVersion"), ""));
        } else {
            let field_path = string(field_ref, &["fieldPath"]);
            let subscripted = field_path.starts_with("metadata.labels[")
                || field_path.starts_with("metadata.annotations[");
            if field_path.is_empty() {
                errors.push(FieldError::required(child(&path, "fieldPath"), ""));
            } else if !subscripted && !ENV_FIELD_PATHS.contains(&field_path) {
                errors.push(FieldError::not_supported(
                    child(&path, "fieldPath"),
                    field_path,
                    ENV_FIELD_PATHS,
                ));
            }
        }
    }
    if let Some(resource) = from
        .get("resourceFieldRef")
        .filter(|value| !value.is_null())
    {
        sources += 1;
        if string(resource, &["resource"]).is_empty() {
            errors.push(FieldError::required(
                child(&child(field, "resourceFieldRef"), "resource"),
                "",
            ));
        }
    }
    for (name, source) in [
        ("configMapKeyRef", "configMapKeyRef"),
        ("secretKeyRef", "secretKeyRef"),
    ] {
        if let Some(selector) = from.get(source).filter(|value| !value.is_null()) {
            sources += 1;
            key_selector(selector, &child(field, name), errors);
        }
    }
    let has_value = !string(var, &["value"]).is_empty();
    if sources == 0 {
        errors.push(FieldError::invalid(
            field,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if has_value {
        errors.push(FieldError::invalid(
            field,
            "",
            "may not be specified when `value` is not empty",
        ));
    } else if sources > 1 {
        errors.push(FieldError::invalid(
            field,
            "",
            "may not have more than one field specified at a time",
        ));
    }
}

fn validate_env(container: &Value, field: &str, errors: &mut Vec<FieldError>) {
    for (at_index, var) in arr(container, &["env"]).iter().enumerate() {
        let path = index(&child(field, "env"), at_index);
        let name = string(var, &["name"]);
        if name.is_empty() {
            errors.push(FieldError::required(child(&path, "name"), ""));
        } else {
            for problem in env_name_problems(name) {
                errors.push(FieldError::invalid(child(&path, "name"), name, &problem));
            }
        }
        validate_value_from(var, &child(&path, "valueFrom"), errors);
    }
    let env_from_path = child(field, "envFrom");
    for (at_index, source) in arr(container, &["envFrom"]).iter().enumerate() {
        let path = index(&env_from_path, at_index);
        let prefix = string(source, &["prefix"]);
        for problem in env_name_problems(prefix) {
            errors.push(FieldError::invalid(
                child(&path, "prefix"),
                prefix,
                &problem,
            ));
        }
        let mut sources = 0;
        for name in ["configMapRef", "secretRef"] {
            if let Some(reference) = source.get(name).filter(|value| !value.is_null()) {
                sources += 1;
                let reference_name = string(reference, &["name"]);
                if reference_name.is_empty() {
                    errors.push(FieldError::required(child(&child(&path, name), "name"), ""));
                } else {
                    // A prefix name: a trailing dash is allowed.
                    let masked = match reference_name.strip_suffix('-') {
                        Some(stem) => format!("{stem}a"),
                        None => reference_name.to_owned(),
                    };
                    for problem in validation::dns1123_subdomain(&masked) {
                        errors.push(FieldError::invalid(
                            child(&child(&path, name), "name"),
                            reference_name,
                            &problem,
                        ));
                    }
                }
            }
        }
        if sources == 0 {
            errors.push(FieldError::invalid(
                &env_from_path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if sources > 1 {
            errors.push(FieldError::invalid(
                &env_from_path,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
}

fn validate_mounts(
    container: &Value,
    volumes: &BTreeSet<String>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    let mounts_path = child(field, "volumeMounts");
    let mut paths = BTreeSet::new();
    for (at_index, mount) in arr(container, &["volumeMounts"]).iter().enumerate() {
        let path = index(&mounts_path, at_index);
        let name = string(mount, &["name"]);
        if name.is_empty() {
            errors.push(FieldError::required(child(&path, "name"), ""));
        }
        if !volumes.contains(name) {
            errors.push(FieldError::not_found(child(&path, "name"), &go_quote(name)));
        }
        let mount_path = string(mount, &["mountPath"]);
        if mount_path.is_empty() {
            errors.push(FieldError::required(child(&path, "mountPath"), ""));
        }
        if !paths.insert(mount_path.to_owned()) {
            errors.push(FieldError::invalid(
                child(&path, "mountPath"),
                mount_path,
                "must be unique",
            ));
        }
        let sub_path = string(mount, &["subPath"]);
        if !sub_path.is_empty() {
            // Upstream reports these at `volumeMounts.subPath`, without the index.
            local_descending_path(sub_path, &child(&mounts_path, "subPath"), errors);
        }
    }
}

/// `validateLocalDescendingPath`: relative and without `..`.
pub(super) fn local_descending_path(path: &str, field: &str, errors: &mut Vec<FieldError>) {
    if path.starts_with('/') {
        errors.push(FieldError::invalid(field, path, "must be a relative path"));
    }
    if path.split('/').any(|part| part == "..") {
        errors.push(FieldError::invalid(field, path, "must not contain '..'"));
    }
}

fn standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

fn overcommit_allowed(name: &str) -> bool {
    let native = !name.contains('/') || name.contains("kubernetes.io/");
    native && !name.starts_with("hugepages-")
}

fn validate_resources(container: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let resources_path = child(field, "resources");
    let limits = at(container, &["resources", "limits"]).and_then(Value::as_object);
    let requests = at(container, &["resources", "requests"]).and_then(Value::as_object);
    let check_name = |name: &str, path: &str, errors: &mut Vec<FieldError>| {
        let problems = validation::qualified_name(name);
        if !problems.is_empty() {
            for problem in problems {
                errors.push(FieldError::invalid(path, name, &problem));
            }
        } else if !name.contains('/') && !standard_container_resource(name) {
            errors.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            ));
        }
    };
    let check_amount = |amount: &Value, path: &str, errors: &mut Vec<FieldError>| {
        if quantity::of(amount).is_some_and(|value| value < 0.0) {
            errors.push(FieldError::invalid(
                path,
                &quantity::text(amount),
                "must be greater than or equal to 0",
            ));
        }
    };
    let limits_path = child(&resources_path, "limits");
    for (name, amount) in limits.into_iter().flatten() {
        let path = key(&limits_path, name);
        check_name(name, &path, errors);
        check_amount(amount, &path, errors);
    }
    let requests_path = child(&resources_path, "requests");
    for (name, amount) in requests.into_iter().flatten() {
        let path = key(&requests_path, name);
        check_name(name, &path, errors);
        check_amount(amount, &path, errors);
        match limits.and_then(|limits| limits.get(name)) {
            Some(limit) => {
                let (request_value, limit_value) = (quantity::of(amount), quantity::of(limit));
                if let (Some(request_value), Some(limit_value)) = (request_value, limit_value) {
                    if request_value != limit_value && !overcommit_allowed(name) {
                        errors.push(FieldError::invalid(
                            &requests_path,
                            &quantity::text(amount),
                            &format!("must be equal to {name} limit of {}", quantity::text(limit)),
                        ));
                    } else if request_value > limit_value {
                        errors.push(FieldError::invalid(
                            &requests_path,
                            &quantity::text(amount),
                            &format!(
                                "must be less than or equal to {name} limit of {}",
                                quantity::text(limit)
                            ),
                        ));
                    }
                }
            }
            None if !overcommit_allowed(name) => errors.push(FieldError::required(
                &limits_path,
                "Limit must be set for non overcommitable resources",
            )),
            None => {}
        }
    }
}

fn validate_security_context(container: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let path = child(field, "securityContext");
    for name in ["runAsUser", "runAsGroup"] {
        if let Some(id) = int(container, &["securityContext", name]) {
            if !(0..=0xffff_ffff).contains(&id) {
                errors.push(FieldError::invalid_raw(
                    child(&path, name),
                    &id.to_string(),
                    "must be between 0 and 4294967295, inclusive",
                ));
            }
        }
    }
}

/// The checks every kind of container gets (`validateContainerCommon`).
pub(super) fn validate_common(
    container: &Value,
    volumes: &BTreeSet<String>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    let name = string(container, &["name"]);
    if name.is_empty() {
        errors.push(FieldError::required(child(field, "name"), ""));
    } else {
        for problem in validation::dns1123_label(name) {
            errors.push(FieldError::invalid(child(field, "name"), name, &problem));
        }
    }
    if string(container, &["image"]).is_empty() {
        errors.push(FieldError::required(child(field, "image"), ""));
    }
    match string(container, &["terminationMessagePolicy"]) {
        "File" | "FallbackToLogsOnError" => {}
        "" => errors.push(FieldError::required(
            child(field, "terminationMessagePolicy"),
            "",
        )),
        other => errors.push(FieldError::not_supported(
            child(field, "terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    validate_ports(container, &child(field, "ports"), errors);
    validate_env(container, field, errors);
    validate_mounts(container, volumes, field, errors);
    match string(container, &["imagePullPolicy"]) {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errors.push(FieldError::required(child(field, "imagePullPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            child(field, "imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    validate_resources(container, field, errors);
    validate_security_context(container, field, errors);
}

/// A probe or lifecycle handler: exactly one action, each well formed.
fn validate_handler(handler: &Value, kinds: &[&str], field: &str, errors: &mut Vec<FieldError>) {
    let mut count = 0;
    for kind in kinds {
        let Some(action) = handler.get(*kind).filter(|value| !value.is_null()) else {
            continue;
        };
        let path = child(field, kind);
        if count > 0 {
            errors.push(FieldError::forbidden(
                &path,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        count += 1;
        match *kind {
            "exec" if arr(action, &["command"]).is_empty() => {
                errors.push(FieldError::required(child(&path, "command"), ""));
            }
            "httpGet" => {
                if string(action, &["path"]).is_empty() {
                    errors.push(FieldError::required(child(&path, "path"), ""));
                }
                port_num_or_name(action.get("port"), &child(&path, "port"), errors);
                let scheme = string(action, &["scheme"]);
                if !matches!(scheme, "HTTP" | "HTTPS") {
                    errors.push(FieldError::not_supported(
                        child(&path, "scheme"),
                        scheme,
                        &["HTTP", "HTTPS"],
                    ));
                }
            }
            "tcpSocket" | "grpc" => {
                port_num_or_name(action.get("port"), &child(&path, "port"), errors);
            }
            _ => {}
        }
    }
    if count == 0 {
        errors.push(FieldError::required(field, "must specify a handler type"));
    }
}

fn validate_probe(container: &Value, name: &str, field: &str, errors: &mut Vec<FieldError>) {
    let Some(probe) = container.get(name).filter(|probe| !probe.is_null()) else {
        return;
    };
    let path = child(field, name);
    validate_handler(
        probe,
        &["exec", "httpGet", "tcpSocket", "grpc"],
        &path,
        errors,
    );
    for number in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        super::fields::nonnegative(int(probe, &[number]), &child(&path, number), errors);
    }
    if let Some(grace) = int(probe, &["terminationGracePeriodSeconds"]).filter(|grace| *grace <= 0)
    {
        errors.push(FieldError::invalid_raw(
            child(&path, "terminationGracePeriodSeconds"),
            &grace.to_string(),
            "must be greater than 0",
        ));
    }
    match name {
        "readinessProbe" if present(probe, &["terminationGracePeriodSeconds"]) => {
            errors.push(FieldError::invalid_raw(
                child(&path, "terminationGracePeriodSeconds"),
                &scalar(&probe["terminationGracePeriodSeconds"]),
                "must not be set for readinessProbes",
            ));
        }
        "livenessProbe" | "startupProbe" => {
            let threshold = int(probe, &["successThreshold"]).unwrap_or(1);
            if threshold != 1 {
                errors.push(FieldError::invalid_raw(
                    child(&path, "successThreshold"),
                    &threshold.to_string(),
                    "must be 1",
                ));
            }
        }
        _ => {}
    }
}

/// Probes and lifecycle hooks, allowed on regular and restartable init containers.
pub(super) fn validate_probes_and_lifecycle(
    container: &Value,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    for hook in ["postStart", "preStop"] {
        if let Some(handler) = at(container, &["lifecycle", hook]).filter(|hook| !hook.is_null()) {
            validate_handler(
                handler,
                &["exec", "httpGet", "tcpSocket", "sleep"],
                &child(&child(field, "lifecycle"), hook),
                errors,
            );
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        validate_probe(container, probe, field, errors);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::{config_key_problems, port_name_problems, validate_common};

    #[test]
    fn port_names() {
        assert!(port_name_problems("http").is_empty());
        assert!(!port_name_problems("8080").is_empty());
        assert!(!port_name_problems("way-too-long-port-name").is_empty());
    }

    #[test]
    fn config_keys() {
        assert!(config_key_problems("app.properties").is_empty());
        assert_eq!(config_key_problems("a b").len(), 1);
        assert_eq!(config_key_problems("..x"), vec!["must not start with '..'"]);
    }

    #[test]
    fn container_errors_use_upstream_paths() {
        let container = json!({"name": "Web", "ports": [{"containerPort": 70000, "protocol": "TCP"}],
            "imagePullPolicy": "Always", "terminationMessagePolicy": "File",
            "volumeMounts": [{"name": "data", "mountPath": "/data"}]});
        let mut errors = Vec::new();
        validate_common(
            &container,
            &BTreeSet::new(),
            "spec.containers[0]",
            &mut errors,
        );
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.containers[0].name",
                "spec.containers[0].image",
                "spec.containers[0].ports[0].containerPort",
                "spec.containers[0].volumeMounts[0].name",
            ]
        );
        assert_eq!(errors[3].message, "Not found: \"data\"");
    }
}
