//! Ingresses (rules or a default backend, paths with a `pathType`, backends naming a
//! Service port) and NetworkPolicies (selectors, ports, peers, policy types, defaulted as
//! upstream defaults them).

use serde_json::{json, Value};

use super::cluster::is_cidr;
use super::containers::{port_name_problems, port_number_problems};
use super::fields::{arr, child, index, int, present, string};
use super::labels::validate_selector;
use super::names::{dns1035_label_problems, path_segment_problems};
use super::pod::object_at;
use super::rules::{no_defaults, Rules};
use crate::object::Object;
use crate::validation::{self, FieldError};

const INGRESS_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
const INVALID_PATH_SEQUENCES: &[&str] = &["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: &[&str] = &["/..", "/."];
const WILDCARD_HELP: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const CIDR_HELP: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// The Ingresses strategy.
pub static INGRESSES: Rules = Rules {
    kind: "Ingress",
    group: "networking.k8s.io",
    default: no_defaults,
    validate: validate_ingress_create,
    validate_update: |_old, new| validate_ingress(new),
};

/// The NetworkPolicies strategy.
pub static NETWORK_POLICIES: Rules = Rules {
    kind: "NetworkPolicy",
    group: "networking.k8s.io",
    default: default_network_policy,
    validate: validate_network_policy,
    validate_update: |_old, new| validate_network_policy(new),
};

fn host_problems(host: &str) -> Vec<String> {
    if !host.contains('*') {
        return validation::dns1123_subdomain(host);
    }
    let mut problems = Vec::new();
    if host.len() > 253 {
        problems.push("must be no more than 253 characters".to_owned());
    }
    let valid = host
        .strip_prefix("*.")
        .is_some_and(|rest| validation::dns1123_subdomain(rest).is_empty());
    if !valid {
        problems.push(WILDCARD_HELP.to_owned());
    }
    problems
}

fn validate_backend(backend: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let resource = backend.get("resource").filter(|value| !value.is_null());
    let service = backend.get("service").filter(|value| !value.is_null());
    match (resource, service) {
        (Some(_), Some(_)) => errors.push(FieldError::invalid(
            field,
            "",
            "cannot set both resource and service backends",
        )),
        (Some(resource), None) => {
            let path = child(field, "resource");
            for name in ["kind", "name"] {
                let value = string(resource, &[name]);
                if value.is_empty() {
                    errors.push(FieldError::required(child(&path, name), ""));
                } else {
                    for problem in path_segment_problems(value) {
                        errors.push(FieldError::invalid(child(&path, name), value, &problem));
                    }
                }
            }
        }
        (None, Some(service)) => {
            let name = string(service, &["name"]);
            let name_path = child(field, "service.name");
            if name.is_empty() {
                errors.push(FieldError::required(&name_path, ""));
            } else {
                for problem in dns1035_label_problems(name) {
                    errors.push(FieldError::invalid(&name_path, name, &problem));
                }
            }
            let port_name = string(service, &["port", "name"]);
            let port_number = int(service, &["port", "number"]).unwrap_or_default();
            match (port_name.is_empty(), port_number) {
                (false, number) if number != 0 => errors.push(FieldError::invalid(
                    field,
                    "",
                    "cannot set both port name & port number",
                )),
                (false, _) => {
                    for problem in port_name_problems(port_name) {
                        errors.push(FieldError::invalid(
                            child(field, "service.port.name"),
                            port_name,
                            &problem,
                        ));
                    }
                }
                (true, 0) => errors.push(FieldError::required(
                    field,
                    "port name or number is required",
                )),
                (true, number) => {
                    for problem in port_number_problems(number) {
                        errors.push(FieldError::invalid_raw(
                            child(field, "service.port.number"),
                            &number.to_string(),
                            &problem,
                        ));
                    }
                }
            }
        }
        (None, None) => errors.push(FieldError::invalid(
            field,
            "",
            "resource or service backend is required",
        )),
    }
}

fn validate_path(path: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let Some(path_type) = path.get("pathType").and_then(Value::as_str) else {
        errors.push(FieldError::required(
            child(field, "pathType"),
            "pathType must be specified",
        ));
        return;
    };
    let text = string(path, &["path"]);
    let path_field = child(field, "path");
    match path_type {
        "Exact" | "Prefix" => {
            if !text.starts_with('/') {
                errors.push(FieldError::invalid(
                    &path_field,
                    text,
                    "must be an absolute path",
                ));
            }
            if !text.is_empty() {
                for sequence in INVALID_PATH_SEQUENCES {
                    if text.contains(sequence) {
                        errors.push(FieldError::invalid(
                            &path_field,
                            text,
                            &format!("must not contain '{sequence}'"),
                        ));
                    }
                }
                for suffix in INVALID_PATH_SUFFIXES {
                    if text.ends_with(suffix) {
                        errors.push(FieldError::invalid(
                            &path_field,
                            text,
                            &format!("cannot end with '{suffix}'"),
                        ));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !text.is_empty() && !text.starts_with('/') {
                errors.push(FieldError::invalid(
                    &path_field,
                    text,
                    "must be an absolute path",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            child(field, "pathType"),
            other,
            &["Exact", "ImplementationSpecific", "Prefix"],
        )),
    }
    validate_backend(
        path.get("backend").unwrap_or(&Value::Null),
        &child(field, "backend"),
        errors,
    );
}

fn validate_ingress(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    let rules = arr(spec, &["rules"]);
    let default_backend = spec.get("defaultBackend").filter(|value| !value.is_null());
    if rules.is_empty() && default_backend.is_none() {
        let rendered = if spec.get("rules").is_some_and(Value::is_array) {
            "[]networking.IngressRule{}"
        } else {
            "[]networking.IngressRule(nil)"
        };
        errors.push(FieldError::invalid_raw(
            "spec",
            rendered,
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(backend) = default_backend {
        validate_backend(backend, "spec.defaultBackend", &mut errors);
    }
    for (at, rule) in rules.iter().enumerate() {
        let path = index("spec.rules", at);
        let host = string(rule, &["host"]);
        if !host.is_empty() {
            if host.parse::<std::net::IpAddr>().is_ok() {
                errors.push(FieldError::invalid(
                    child(&path, "host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            for problem in host_problems(host) {
                errors.push(FieldError::invalid(child(&path, "host"), host, &problem));
            }
        }
        if let Some(http) = rule.get("http").filter(|value| !value.is_null()) {
            let http_path = child(&path, "http");
            let paths = arr(http, &["paths"]);
            if paths.is_empty() {
                errors.push(FieldError::required(child(&http_path, "paths"), ""));
            }
            for (path_at, item) in paths.iter().enumerate() {
                validate_path(
                    item,
                    &index(&child(&http_path, "paths"), path_at),
                    &mut errors,
                );
            }
        }
    }
    for (at, tls) in arr(spec, &["tls"]).iter().enumerate() {
        let path = index("spec.tls", at);
        for (host_at, host) in arr(tls, &["hosts"]).iter().enumerate() {
            let host = host.as_str().unwrap_or_default();
            for problem in host_problems(host) {
                errors.push(FieldError::invalid(
                    index(&child(&path, "hosts"), host_at),
                    host,
                    &problem,
                ));
            }
        }
        let secret = string(tls, &["secretName"]);
        if !secret.is_empty() {
            for problem in validation::dns1123_subdomain(secret) {
                errors.push(FieldError::invalid(
                    child(&path, "secretName"),
                    secret,
                    &problem,
                ));
            }
        }
    }
    let class = string(spec, &["ingressClassName"]);
    if present(spec, &["ingressClassName"]) {
        for problem in validation::dns1123_subdomain(class) {
            errors.push(FieldError::invalid(
                "spec.ingressClassName",
                class,
                &problem,
            ));
        }
    }
    errors
}

fn validate_ingress_create(object: &Value) -> Vec<FieldError> {
    let mut errors = validate_ingress(object);
    let annotation = object
        .get("metadata")
        .and_then(|meta| meta.get("annotations"))
        .and_then(|annotations| annotations.get(INGRESS_CLASS_ANNOTATION))
        .and_then(Value::as_str);
    let class = object
        .get("spec")
        .and_then(|spec| spec.get("ingressClassName"))
        .and_then(Value::as_str);
    if let (Some(annotation), Some(class)) = (annotation, class) {
        if annotation != class {
            errors.push(FieldError::invalid(
                format!("annotations.{INGRESS_CLASS_ANNOTATION}"),
                annotation,
                "must match `ingressClassName` when both are specified",
            ));
        }
    }
    errors
}

/// Ports default to TCP, and `policyTypes` to Ingress (plus Egress when egress rules are
/// given), as upstream's `SetDefaults_NetworkPolicy` does.
fn default_network_policy(object: &mut Object) {
    let spec = object_at(&mut object.0, "spec");
    for direction in ["ingress", "egress"] {
        if let Some(Value::Array(rules)) = spec.get_mut(direction) {
            for rule in rules.iter_mut() {
                if let Some(Value::Array(ports)) = rule.get_mut("ports") {
                    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                        port.entry("protocol").or_insert_with(|| json!("TCP"));
                    }
                }
            }
        }
    }
    let has_types = spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_some_and(|types| !types.is_empty());
    if !has_types {
        let egress = spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|rules| !rules.is_empty());
        let types = if egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
        spec.insert("policyTypes".into(), types);
    }
}

fn validate_policy_port(port: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let protocol = string(port, &["protocol"]);
    if present(port, &["protocol"]) && !matches!(protocol, "TCP" | "UDP" | "SCTP") {
        errors.push(FieldError::not_supported(
            child(field, "protocol"),
            protocol,
            &["TCP", "UDP", "SCTP"],
        ));
    }
    let end = int(port, &["endPort"]);
    match port.get("port").filter(|value| !value.is_null()) {
        Some(Value::String(name)) => {
            if let Some(end) = end {
                errors.push(FieldError::invalid_raw(
                    child(field, "endPort"),
                    &end.to_string(),
                    "may not be specified when `port` is non-numeric",
                ));
            }
            for problem in port_name_problems(name) {
                errors.push(FieldError::invalid(child(field, "port"), name, &problem));
            }
        }
        Some(number) => {
            let number = number.as_i64().unwrap_or_default();
            for problem in port_number_problems(number) {
                errors.push(FieldError::invalid_raw(
                    child(field, "port"),
                    &number.to_string(),
                    &problem,
                ));
            }
            if let Some(end) = end {
                if end < number {
                    errors.push(FieldError::invalid_raw(
                        child(field, "endPort"),
                        &end.to_string(),
                        "must be greater than or equal to `port`",
                    ));
                }
                for problem in port_number_problems(end) {
                    errors.push(FieldError::invalid_raw(
                        child(field, "endPort"),
                        &end.to_string(),
                        &problem,
                    ));
                }
            }
        }
        None => {
            if let Some(end) = end {
                errors.push(FieldError::invalid_raw(
                    child(field, "endPort"),
                    &end.to_string(),
                    "may not be specified when `port` is not specified",
                ));
            }
        }
    }
}

fn validate_peer(peer: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let mut peers = 0;
    for selector in ["podSelector", "namespaceSelector"] {
        if let Some(value) = peer.get(selector).filter(|value| !value.is_null()) {
            peers += 1;
            validate_selector(Some(value), &child(field, selector), errors);
        }
    }
    let block = peer.get("ipBlock").filter(|value| !value.is_null());
    if let Some(block) = block {
        peers += 1;
        let path = child(field, "ipBlock");
        let cidr = string(block, &["cidr"]);
        if cidr.is_empty() {
            errors.push(FieldError::required(child(&path, "cidr"), ""));
        } else if !is_cidr(cidr) {
            errors.push(FieldError::invalid(child(&path, "cidr"), cidr, CIDR_HELP));
        } else {
            for (at, except) in arr(block, &["except"]).iter().enumerate() {
                let except = except.as_str().unwrap_or_default();
                if !is_cidr(except) {
                    errors.push(FieldError::invalid(
                        index(&child(&path, "except"), at),
                        except,
                        CIDR_HELP,
                    ));
                }
            }
        }
    }
    if peers == 0 {
        errors.push(FieldError::required(field, "must specify a peer"));
    } else if peers > 1 && block.is_some() {
        errors.push(FieldError::forbidden(
            field,
            "may not specify both ipBlock and another peer",
        ));
    }
}

fn validate_network_policy(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    validate_selector(spec.get("podSelector"), "spec.podSelector", &mut errors);
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (at, rule) in arr(spec, &[direction]).iter().enumerate() {
            let path = index(&child("spec", direction), at);
            for (port_at, port) in arr(rule, &["ports"]).iter().enumerate() {
                validate_policy_port(port, &index(&child(&path, "ports"), port_at), &mut errors);
            }
            for (peer_at, peer) in arr(rule, &[peers]).iter().enumerate() {
                validate_peer(peer, &index(&child(&path, peers), peer_at), &mut errors);
            }
        }
    }
    let types = arr(spec, &["policyTypes"]);
    if types.len() > 2 {
        errors.push(FieldError::invalid_raw(
            "spec.policyTypes",
            &super::fields::string_slice(Some(&types.to_vec()))
                .replace("[]string", "&[]networking.PolicyType"),
            "may not specify more than two policyTypes",
        ));
        return errors;
    }
    for (at, kind) in types.iter().enumerate() {
        let kind = kind.as_str().unwrap_or_default();
        if !matches!(kind, "Ingress" | "Egress") {
            errors.push(FieldError::not_supported(
                index("spec.policyTypes", at),
                kind,
                &["Ingress", "Egress"],
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{default_network_policy, validate_ingress, validate_network_policy};
    use crate::object::Object;

    fn lines(errors: Vec<crate::validation::FieldError>) -> Vec<String> {
        errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect()
    }

    #[test]
    fn ingress_paths_need_a_type_and_backend() {
        let ingress = json!({"spec": {"rules": [{"host": "example.com", "http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
            {"path": "api", "pathType": "Prefix", "backend": {"service": {"name": "web"}}}]}}]}});
        assert_eq!(
            lines(validate_ingress(&ingress)),
            [
                "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
                "spec.rules[0].http.paths[1].path: Invalid value: \"api\": must be an absolute path",
                "spec.rules[0].http.paths[1].backend: Required value: port name or number is required",
            ]
        );
        assert_eq!(
            lines(validate_ingress(&json!({"spec": {}}))),
            ["spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"]
        );
    }

    #[test]
    fn network_policy_defaults_and_ports() {
        let mut policy = Object(
            json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 70000}]}]}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        default_network_policy(&mut policy);
        assert_eq!(
            policy.0["spec"]["policyTypes"],
            json!(["Ingress", "Egress"])
        );
        assert_eq!(policy.0["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            lines(validate_network_policy(&serde_json::Value::Object(policy.0))),
            ["spec.egress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"]
        );
    }
}
