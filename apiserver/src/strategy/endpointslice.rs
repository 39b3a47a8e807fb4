//! EndpointSlices: a supported (and then fixed) address type, addresses of that type that
//! are not loopback, link-local or unspecified, and named, unique, TCP/UDP/SCTP ports, with
//! upstream's port defaults.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::{json, Value};

use super::fields::{arr, at, child, index, string};
use super::rules::Rules;
use crate::object::Object;
use crate::validation::{self, go_quote, FieldError};

const MAX_ADDRESSES: usize = 100;
const MAX_ENDPOINTS: usize = 1000;
const MAX_PORTS: usize = 100;

/// The EndpointSlices strategy.
pub static ENDPOINT_SLICES: Rules = Rules {
    kind: "EndpointSlice",
    group: "discovery.k8s.io",
    default: default_slice,
    validate,
    validate_update,
};

/// Ports get an empty name and TCP unless given (`SetDefaults_EndpointPort`).
fn default_slice(object: &mut Object) {
    if let Some(Value::Array(ports)) = object.0.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            port.entry("name").or_insert_with(|| json!(""));
            port.entry("protocol").or_insert_with(|| json!("TCP"));
        }
    }
}

/// `ValidateNonSpecialIP`.
fn special_ip(address: &str, field: &str, errors: &mut Vec<FieldError>) {
    let Ok(ip) = address.parse::<IpAddr>() else {
        errors.push(FieldError::invalid(
            field,
            address,
            "must be a valid IP address",
        ));
        return;
    };
    if ip.is_unspecified() {
        errors.push(FieldError::invalid(
            field,
            address,
            &format!("may not be unspecified ({address})"),
        ));
    }
    if ip.is_loopback() {
        errors.push(FieldError::invalid(
            field,
            address,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let (link_local_unicast, link_local_multicast) = match ip {
        IpAddr::V4(v4) => (v4.is_link_local(), v4.octets()[..3] == [224, 0, 0]),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xffc0 == 0xfe80, first & 0xff0f == 0xff02)
        }
    };
    if link_local_unicast {
        errors.push(FieldError::invalid(
            field,
            address,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if link_local_multicast {
        errors.push(FieldError::invalid(
            field,
            address,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
}

fn fqdn(address: &str, field: &str, errors: &mut Vec<FieldError>) {
    if address.is_empty() {
        errors.push(FieldError::required(field, ""));
        return;
    }
    let name = address.strip_suffix('.').unwrap_or(address);
    let problems = validation::dns1123_subdomain(name);
    if !problems.is_empty() {
        errors.push(FieldError::invalid(field, name, &problems.join(",")));
    } else if !name.contains('.') {
        errors.push(FieldError::invalid(
            field,
            name,
            "should be a domain with at least two segments separated by dots",
        ));
    }
}

fn validate(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let address_type = string(object, &["addressType"]);
    match address_type {
        "" => errors.push(FieldError::required("addressType", "")),
        "IPv4" | "IPv6" | "FQDN" => {}
        other => errors.push(FieldError::not_supported(
            "addressType",
            other,
            &["FQDN", "IPv4", "IPv6"],
        )),
    }
    let endpoints = arr(object, &["endpoints"]);
    if endpoints.len() > MAX_ENDPOINTS {
        errors.push(FieldError::too_many(
            "endpoints",
            endpoints.len(),
            MAX_ENDPOINTS,
        ));
    } else {
        for (at_index, endpoint) in endpoints.iter().enumerate() {
            let path = index("endpoints", at_index);
            let addresses_path = child(&path, "addresses");
            let addresses = arr(endpoint, &["addresses"]);
            if addresses.is_empty() {
                errors.push(FieldError::required(
                    &addresses_path,
                    "must contain at least 1 address",
                ));
            } else if addresses.len() > MAX_ADDRESSES {
                errors.push(FieldError::too_many(
                    &addresses_path,
                    addresses.len(),
                    MAX_ADDRESSES,
                ));
            }
            for (address_at, address) in addresses.iter().enumerate() {
                let address = address.as_str().unwrap_or_default();
                let field = index(&addresses_path, address_at);
                match address_type {
                    "IPv4" | "IPv6" => {
                        let family_ok = match address.parse::<IpAddr>() {
                            Ok(IpAddr::V4(_)) => address_type == "IPv4",
                            Ok(IpAddr::V6(_)) => address_type == "IPv6",
                            Err(_) => false,
                        };
                        if !family_ok {
                            errors.push(FieldError::invalid(
                                &field,
                                address,
                                &format!("must be a valid {address_type} address"),
                            ));
                        }
                        special_ip(address, &field, &mut errors);
                    }
                    "FQDN" => fqdn(address, &field, &mut errors),
                    _ => {}
                }
            }
            if let Some(hostname) = at(endpoint, &["hostname"]).and_then(Value::as_str) {
                for problem in validation::dns1123_label(hostname) {
                    errors.push(FieldError::invalid(
                        child(&path, "hostname"),
                        hostname,
                        &problem,
                    ));
                }
            }
        }
    }
    let ports = arr(object, &["ports"]);
    if ports.len() > MAX_PORTS {
        errors.push(FieldError::too_many("ports", ports.len(), MAX_PORTS));
        return errors;
    }
    let mut names = BTreeSet::new();
    for (at_index, port) in ports.iter().enumerate() {
        let path = index("ports", at_index);
        let name = string(port, &["name"]);
        if !name.is_empty() {
            for problem in validation::dns1123_label(name) {
                errors.push(FieldError::invalid(child(&path, "name"), name, &problem));
            }
        }
        if !names.insert(name.to_owned()) {
            errors.push(FieldError::duplicate(child(&path, "name"), &go_quote(name)));
        }
        match at(port, &["protocol"]).and_then(Value::as_str) {
            None => errors.push(FieldError::required(child(&path, "protocol"), "")),
            Some("TCP" | "UDP" | "SCTP") => {}
            Some(other) => errors.push(FieldError::not_supported(
                child(&path, "protocol"),
                other,
                &["SCTP", "TCP", "UDP"],
            )),
        }
        if let Some(protocol) = at(port, &["appProtocol"]).and_then(Value::as_str) {
            for problem in validation::qualified_name(protocol) {
                errors.push(FieldError::invalid(
                    child(&path, "appProtocol"),
                    protocol,
                    &problem,
                ));
            }
        }
    }
    errors
}

fn validate_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = validate(new);
    let address_type = string(new, &["addressType"]);
    if string(old, &["addressType"]) != address_type {
        errors.push(FieldError::invalid(
            "addressType",
            address_type,
            "field is immutable",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::validate;

    #[test]
    fn addresses_and_ports() {
        let slice = json!({"addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1", "127.0.0.1", "fd00::1"]}, {"addresses": []}],
            "ports": [{"name": "http", "protocol": "TCP"}, {"name": "http", "protocol": "HTTP"}]});
        let lines: Vec<String> = validate(&slice)
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect();
        assert_eq!(
            lines,
            [
                "endpoints[0].addresses[1]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                "endpoints[0].addresses[2]: Invalid value: \"fd00::1\": must be a valid IPv4 address",
                "endpoints[1].addresses: Required value: must contain at least 1 address",
                "ports[1].name: Duplicate value: \"http\"",
                "ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            ]
        );
    }
}
