//! Namespaces and Nodes: a Namespace's `spec.finalizers` names, and a Node's taints and
//! pod CIDRs (set once, then fixed) and provider ID, as upstream validates them.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::Value;

use super::fields::{arr, child, index, string};
use super::rules::{no_defaults, Rules};
use crate::validation::{self, go_quote, FieldError};

/// Finalizer names without a `/` that upstream knows.
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];
const CIDR_HELP: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
const NODE_UPDATE_CIDR: &str = "node updates may not change podCIDR except from \"\" to valid";

/// The Namespaces strategy.
pub static NAMESPACES: Rules = Rules {
    kind: "Namespace",
    group: "",
    default: no_defaults,
    validate: validate_namespace,
    validate_update: |_old, _new| Vec::new(),
};

/// The Nodes strategy.
pub static NODES: Rules = Rules {
    kind: "Node",
    group: "",
    default: no_defaults,
    validate: validate_node,
    validate_update: validate_node_update,
};

/// `validateFinalizerName`: a qualified name, and a known one when it has no domain.
pub(super) fn finalizer_problems(name: &str) -> Vec<String> {
    let mut problems = validation::qualified_name(name);
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        problems.push("name is neither a standard finalizer name nor is it fully qualified".into());
    }
    problems
}

fn validate_namespace(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for finalizer in arr(object, &["spec", "finalizers"]) {
        let name = finalizer.as_str().unwrap_or_default();
        for problem in finalizer_problems(name) {
            // Upstream reports these at the list, without an index.
            errors.push(FieldError::invalid("spec.finalizers", name, &problem));
        }
    }
    errors
}

/// Whether `text` is a CIDR (`address/prefix`) upstream would accept.
pub(super) fn is_cidr(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return false;
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_digit())
        && prefix.parse::<u32>().is_ok_and(|prefix| prefix <= max)
}

fn validate_taints(object: &Value, errors: &mut Vec<FieldError>) {
    // Upstream reports taints under `metadata.taints`.
    let field = "metadata.taints";
    let mut seen = BTreeSet::new();
    for (at, taint) in arr(object, &["spec", "taints"]).iter().enumerate() {
        let path = index(field, at);
        let taint_key = string(taint, &["key"]);
        for problem in validation::qualified_name(taint_key) {
            errors.push(FieldError::invalid(
                child(&path, "key"),
                taint_key,
                &problem,
            ));
        }
        let value = string(taint, &["value"]);
        let problems = validation::label_value(value);
        if !problems.is_empty() {
            errors.push(FieldError::invalid(
                child(&path, "value"),
                value,
                &problems.join(";"),
            ));
        }
        let effect = string(taint, &["effect"]);
        match effect {
            "" => errors.push(FieldError::required(child(&path, "effect"), "")),
            "NoSchedule" | "PreferNoSchedule" | "NoExecute" => {}
            other => errors.push(FieldError::not_supported(
                child(&path, "effect"),
                other,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            )),
        }
        if !seen.insert((effect.to_owned(), taint_key.to_owned())) {
            let added = if taint.get("timeAdded").is_some_and(|time| !time.is_null()) {
                "(*v1.Time)(0xc000000000)"
            } else {
                "(*v1.Time)(nil)"
            };
            errors.push(FieldError {
                reason: "FieldValueDuplicate",
                field: path,
                message: format!(
                    "Duplicate value: core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:{added}}}: taints must be unique by key and effect pair",
                    go_quote(taint_key),
                    go_quote(value),
                    go_quote(effect),
                ),
            });
        }
    }
}

fn validate_node(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_taints(object, &mut errors);
    let cidrs = arr(object, &["spec", "podCIDRs"]);
    for (at, cidr) in cidrs.iter().enumerate() {
        let cidr = cidr.as_str().unwrap_or_default();
        if !is_cidr(cidr) {
            errors.push(FieldError::invalid(
                index("spec.podCIDRs", at),
                cidr,
                CIDR_HELP,
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for (at, cidr) in cidrs.iter().enumerate() {
        let cidr = cidr.as_str().unwrap_or_default();
        if cidrs.len() > 1 && !seen.insert(cidr) {
            errors.push(FieldError::duplicate(
                index("spec.podCIDRs", at),
                &go_quote(cidr),
            ));
        }
    }
    errors
}

fn validate_node_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let (old_cidrs, new_cidrs) = (
        arr(old, &["spec", "podCIDRs"]),
        arr(new, &["spec", "podCIDRs"]),
    );
    if !old_cidrs.is_empty() {
        if old_cidrs.len() != new_cidrs.len() {
            errors.push(FieldError::forbidden("spec.podCIDRs", NODE_UPDATE_CIDR));
        } else {
            for (before, after) in old_cidrs.iter().zip(new_cidrs) {
                if before != after {
                    errors.push(FieldError::forbidden("spec.podCIDRs", NODE_UPDATE_CIDR));
                }
            }
        }
    }
    let old_provider = string(old, &["spec", "providerID"]);
    if !old_provider.is_empty() && old_provider != string(new, &["spec", "providerID"]) {
        errors.push(FieldError::forbidden(
            "spec.providerID",
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    validate_taints(new, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{is_cidr, validate_namespace, validate_node, validate_node_update};

    #[test]
    fn namespace_finalizers() {
        let errors = validate_namespace(&json!({"spec": {"finalizers": ["kubernetes", "mine"]}}));
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "Invalid value: \"mine\": name is neither a standard finalizer name nor is it fully qualified"
        );
    }

    #[test]
    fn node_taints_and_cidrs() {
        let node = json!({"spec": {"podCIDRs": ["10.0.0.0/24", "bad"],
            "taints": [{"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NoSchedule"},
                       {"key": "b", "effect": "Sometimes"}]}});
        let fields: Vec<String> = validate_node(&node)
            .into_iter()
            .map(|error| error.field)
            .collect();
        assert_eq!(
            fields,
            [
                "metadata.taints[1]",
                "metadata.taints[2].effect",
                "spec.podCIDRs[1]"
            ]
        );
        assert!(is_cidr("fd00::/64"));
        assert!(!is_cidr("10.0.0.0/33"));
        let old = json!({"spec": {"podCIDRs": ["10.0.0.0/24"]}});
        let new = json!({"spec": {"podCIDRs": ["10.0.1.0/24"]}});
        assert_eq!(validate_node_update(&old, &new).len(), 1);
    }
}
