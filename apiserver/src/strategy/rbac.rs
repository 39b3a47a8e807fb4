//! RBAC: policy rules of Roles and ClusterRoles, and the `roleRef` (required, fixed once
//! set) and subjects of RoleBindings and ClusterRoleBindings, with upstream's defaults for
//! their API groups.

use serde_json::{json, Value};

use super::fields::{arr, child, index, obj, string};
use super::names::path_segment_problems;
use super::rules::{no_defaults, Rules};
use crate::object::Object;
use crate::validation::{self, go_quote, FieldError};

const GROUP: &str = "rbac.authorization.k8s.io";

/// The Roles strategy.
pub static ROLES: Rules = Rules {
    kind: "Role",
    group: GROUP,
    default: no_defaults,
    validate: |role| validate_rules(role, true),
    validate_update: |_old, new| validate_rules(new, true),
};

/// The ClusterRoles strategy.
pub static CLUSTER_ROLES: Rules = Rules {
    kind: "ClusterRole",
    group: GROUP,
    default: no_defaults,
    validate: |role| validate_rules(role, false),
    validate_update: |_old, new| validate_rules(new, false),
};

/// The RoleBindings strategy.
pub static ROLE_BINDINGS: Rules = Rules {
    kind: "RoleBinding",
    group: GROUP,
    default: default_binding,
    validate: |binding| validate_binding(binding, true),
    validate_update: |old, new| validate_binding_update(old, new, true),
};

/// The ClusterRoleBindings strategy.
pub static CLUSTER_ROLE_BINDINGS: Rules = Rules {
    kind: "ClusterRoleBinding",
    group: GROUP,
    default: default_binding,
    validate: |binding| validate_binding(binding, false),
    validate_update: |old, new| validate_binding_update(old, new, false),
};

fn validate_rules(role: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (at, rule) in arr(role, &["rules"]).iter().enumerate() {
        let path = index("rules", at);
        let has = |name: &str| !arr(rule, &[name]).is_empty();
        if !has("verbs") {
            errors.push(FieldError::required(
                child(&path, "verbs"),
                "verbs must contain at least one value",
            ));
        }
        if has("nonResourceURLs") {
            let urls =
                super::fields::string_slice(rule.get("nonResourceURLs").and_then(Value::as_array));
            if namespaced {
                errors.push(FieldError::invalid_raw(
                    child(&path, "nonResourceURLs"),
                    &urls,
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if has("apiGroups") || has("resources") || has("resourceNames") {
                errors.push(FieldError::invalid_raw(
                    child(&path, "nonResourceURLs"),
                    &urls,
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if !has("apiGroups") {
            errors.push(FieldError::required(
                child(&path, "apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if !has("resources") {
            errors.push(FieldError::required(
                child(&path, "resources"),
                "resource rules must supply at least one resource",
            ));
        }
        if has("resourceNames") && arr(rule, &["resources"]).len() > 1 {
            errors.push(FieldError::required(
                child(&path, "resourceNames"),
                "resource names cannot apply to multiple resources",
            ));
        }
    }
    errors
}

/// `roleRef.apiGroup` defaults to RBAC's group; a User or Group subject's `apiGroup` too.
fn default_binding(object: &mut Object) {
    let role_ref = super::pod::object_at(&mut object.0, "roleRef");
    let group = role_ref.entry("apiGroup").or_insert_with(|| json!(""));
    if group.as_str().unwrap_or_default().is_empty() {
        *group = json!(GROUP);
    }
    if let Some(Value::Array(subjects)) = object.0.get_mut("subjects") {
        for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
            let kind = subject
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let group = match kind {
                "User" | "Group" => GROUP,
                _ => continue,
            };
            let empty = subject
                .get("apiGroup")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if empty {
                subject.insert("apiGroup".into(), json!(group));
            }
        }
    }
}

fn validate_subject(subject: &Value, namespaced: bool, path: &str, errors: &mut Vec<FieldError>) {
    let name = string(subject, &["name"]);
    let group = string(subject, &["apiGroup"]);
    if name.is_empty() {
        errors.push(FieldError::required(child(path, "name"), ""));
    }
    match string(subject, &["kind"]) {
        "ServiceAccount" => {
            if !name.is_empty() {
                for problem in validation::dns1123_subdomain(name) {
                    errors.push(FieldError::invalid(child(path, "name"), name, &problem));
                }
            }
            if !group.is_empty() {
                errors.push(FieldError::not_supported(
                    child(path, "apiGroup"),
                    group,
                    &[""],
                ));
            }
            if !namespaced && string(subject, &["namespace"]).is_empty() {
                errors.push(FieldError::required(child(path, "namespace"), ""));
            }
        }
        kind @ ("User" | "Group") => {
            if name.is_empty() {
                let what = if kind == "User" { "user" } else { "group" };
                errors.push(FieldError::invalid(
                    child(path, "name"),
                    name,
                    &format!("{what} name cannot be empty"),
                ));
            }
            if group != GROUP {
                errors.push(FieldError::not_supported(
                    child(path, "apiGroup"),
                    group,
                    &[GROUP],
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            child(path, "kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
}

fn validate_binding(binding: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let group = string(binding, &["roleRef", "apiGroup"]);
    if group != GROUP {
        errors.push(FieldError::not_supported(
            "roleRef.apiGroup",
            group,
            &[GROUP],
        ));
    }
    let kind = string(binding, &["roleRef", "kind"]);
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errors.push(FieldError::not_supported("roleRef.kind", kind, kinds));
    }
    let name = string(binding, &["roleRef", "name"]);
    if name.is_empty() {
        errors.push(FieldError::required("roleRef.name", ""));
    } else {
        for problem in path_segment_problems(name) {
            errors.push(FieldError::invalid("roleRef.name", name, &problem));
        }
    }
    for (at, subject) in arr(binding, &["subjects"]).iter().enumerate() {
        validate_subject(subject, namespaced, &index("subjects", at), &mut errors);
    }
    errors
}

fn role_ref(binding: &Value) -> String {
    format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        go_quote(string(binding, &["roleRef", "apiGroup"])),
        go_quote(string(binding, &["roleRef", "kind"])),
        go_quote(string(binding, &["roleRef", "name"])),
    )
}

fn validate_binding_update(old: &Value, new: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errors = validate_binding(new, namespaced);
    let fields = |binding: &Value| {
        ["apiGroup", "kind", "name"].map(|name| string(binding, &["roleRef", name]).to_owned())
    };
    if obj(old, &["roleRef"]).is_some() && fields(old) != fields(new) {
        errors.push(FieldError::invalid_raw(
            "roleRef",
            &role_ref(new),
            "cannot change roleRef",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{default_binding, validate_binding, validate_binding_update, validate_rules};
    use crate::object::Object;

    fn lines(errors: Vec<crate::validation::FieldError>) -> Vec<String> {
        errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect()
    }

    #[test]
    fn rules_need_verbs_groups_and_resources() {
        assert_eq!(
            lines(validate_rules(&json!({"rules": [{"resources": ["pods"]}]}), true)),
            [
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
            ]
        );
    }

    #[test]
    fn bindings_need_a_role_and_known_subjects() {
        let mut binding = Object(
            json!({"subjects": [{"kind": "Robot", "name": "r"}, {"kind": "User", "name": "u"}]})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        default_binding(&mut binding);
        assert_eq!(
            binding.0["subjects"][1]["apiGroup"],
            "rbac.authorization.k8s.io"
        );
        assert_eq!(
            lines(validate_binding(&serde_json::Value::Object(binding.0), true)),
            [
                "roleRef.kind: Unsupported value: \"\": supported values: \"Role\", \"ClusterRole\"",
                "roleRef.name: Required value",
                "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            ]
        );
    }

    #[test]
    fn role_ref_is_fixed() {
        let old = json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}});
        let new = json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}});
        assert_eq!(
            lines(validate_binding_update(&old, &new, true)),
            ["roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"]
        );
    }
}
