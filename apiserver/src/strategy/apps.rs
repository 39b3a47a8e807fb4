//! Validation of the replicated workloads (Deployments, ReplicaSets, StatefulSets,
//! DaemonSets, ReplicationControllers and PodTemplates): upstream's `ValidateXSpec` and
//! `ValidateXUpdate` from `pkg/apis/apps/validation` and the core ones for the v1 kinds.

use serde_json::{Map, Value};

use super::fields::{
    at, child, int, int_or_string, label_selector, nonnegative, obj, present, string, string_map,
};
use super::labels::{selector_is_empty, selector_matches, validate_labels, validate_selector};
use super::podspec::{validate_annotations, validate_template};
use super::WorkloadKind;
use crate::validation::FieldError;

const PERCENT_HELP: &str = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const IMMUTABLE: &str = "field is immutable";

fn spec(object: &Value) -> &Value {
    object.get("spec").unwrap_or(&Value::Null)
}

/// The numeric value of an int-or-percent (`getIntOrPercentValue`).
fn int_or_percent_value(value: &Value) -> i64 {
    match value {
        Value::String(text) => text
            .strip_suffix('%')
            .unwrap_or(text)
            .parse()
            .unwrap_or_default(),
        other => other.as_i64().unwrap_or_default(),
    }
}

fn is_percent(text: &str) -> bool {
    text.strip_suffix('%')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// `ValidatePositiveIntOrPercent`.
pub(super) fn int_or_percent(value: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) {
    match value.filter(|value| !value.is_null()) {
        None => {}
        Some(Value::String(text)) if !is_percent(text) => {
            errors.push(FieldError::invalid_raw(field, text, PERCENT_HELP));
        }
        Some(Value::String(_)) => {}
        Some(other) => nonnegative(other.as_i64(), field, errors),
    }
}

/// `IsNotMoreThan100Percent`.
pub(super) fn at_most_100_percent(
    value: Option<&Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Some(Value::String(text)) = value {
        if is_percent(text) && int_or_percent_value(&Value::String(text.clone())) > 100 {
            errors.push(FieldError::invalid_raw(
                field,
                text,
                "must not be greater than 100%",
            ));
        }
    }
}

/// The selector rules shared by Deployments and ReplicaSets (and, with other messages,
/// StatefulSets). Returns whether the template's labels should be checked against it.
fn required_selector(
    spec: &Value,
    owner: &str,
    bad_selector: &str,
    errors: &mut Vec<FieldError>,
) -> bool {
    let selector = spec.get("selector").filter(|selector| !selector.is_null());
    let parses = match selector {
        None => {
            errors.push(FieldError::required("spec.selector", ""));
            true
        }
        Some(selector) => {
            let parses = validate_selector(Some(selector), "spec.selector", errors);
            if selector_is_empty(selector) {
                errors.push(FieldError::invalid_raw(
                    "spec.selector",
                    &label_selector(Some(selector)),
                    &format!("empty selector is invalid for {owner}"),
                ));
            }
            parses
        }
    };
    if !parses {
        errors.push(FieldError::invalid_raw(
            "spec.selector",
            &label_selector(selector),
            bad_selector,
        ));
    }
    parses
}

fn template_labels(spec: &Value) -> Option<&Map<String, Value>> {
    obj(spec, &["template", "metadata", "labels"])
}

fn check_template_labels(spec: &Value, errors: &mut Vec<FieldError>) {
    let selector = spec.get("selector").filter(|selector| !selector.is_null());
    let everything = selector.is_some_and(selector_is_empty);
    if !everything && !selector_matches(selector, template_labels(spec)) {
        errors.push(FieldError::invalid_raw(
            "spec.template.metadata.labels",
            &string_map(template_labels(spec)),
            "`selector` does not match template `labels`",
        ));
    }
}

/// The template checks of Deployments, ReplicaSets, DaemonSets and ReplicationControllers.
fn replicated_template(spec: &Value, owner: &str, errors: &mut Vec<FieldError>) {
    let template = spec.get("template").unwrap_or(&Value::Null);
    validate_template(template, "spec.template", errors);
    let restart = string(template, &["spec", "restartPolicy"]);
    if restart != "Always" {
        errors.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            restart,
            &["Always"],
        ));
    }
    if present(template, &["spec", "activeDeadlineSeconds"]) {
        errors.push(FieldError::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            &format!("activeDeadlineSeconds in {owner} is not Supported"),
        ));
    }
}

fn deployment_strategy(spec: &Value, errors: &mut Vec<FieldError>) {
    let strategy = spec.get("strategy").unwrap_or(&Value::Null);
    let rolling = strategy
        .get("rollingUpdate")
        .filter(|value| !value.is_null());
    match (string(strategy, &["type"]), rolling) {
        ("Recreate", Some(_)) => errors.push(FieldError::forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        ("Recreate", None) => {}
        ("RollingUpdate", None) => errors.push(FieldError::required(
            "spec.strategy.rollingUpdate",
            "this should be defaulted and never be nil",
        )),
        ("RollingUpdate", Some(rolling)) => {
            let path = "spec.strategy.rollingUpdate";
            let unavailable = rolling.get("maxUnavailable").unwrap_or(&Value::Null);
            let surge = rolling.get("maxSurge").unwrap_or(&Value::Null);
            int_or_percent(Some(unavailable), &child(path, "maxUnavailable"), errors);
            int_or_percent(Some(surge), &child(path, "maxSurge"), errors);
            if int_or_percent_value(unavailable) == 0 && int_or_percent_value(surge) == 0 {
                errors.push(FieldError::invalid_raw(
                    child(path, "maxUnavailable"),
                    &int_or_string(unavailable),
                    "may not be 0 when `maxSurge` is 0",
                ));
            }
            at_most_100_percent(Some(unavailable), &child(path, "maxUnavailable"), errors);
        }
        (kind, rolling) => errors.push(FieldError::not_supported_raw(
            "spec.strategy",
            &format!(
                "apps.DeploymentStrategy{{Type:{}, RollingUpdate:{}}}",
                crate::validation::go_quote(kind),
                pointer("apps.RollingUpdateDeployment", rolling)
            ),
            &["Recreate", "RollingUpdate"],
        )),
    }
}

/// A pointer field inside a `%#v`-printed struct.
fn pointer(type_name: &str, value: Option<&Value>) -> String {
    match value {
        None => format!("(*{type_name})(nil)"),
        Some(_) => format!("(*{type_name})(0xc000000000)"),
    }
}

fn validate_deployment(spec: &Value, errors: &mut Vec<FieldError>) {
    nonnegative(int(spec, &["replicas"]), "spec.replicas", errors);
    if required_selector(spec, "deployment", "invalid label selector", errors) {
        check_template_labels(spec, errors);
        replicated_template(spec, "ReplicaSet", errors);
    }
    deployment_strategy(spec, errors);
    let min_ready = int(spec, &["minReadySeconds"]).unwrap_or_default();
    nonnegative(Some(min_ready), "spec.minReadySeconds", errors);
    nonnegative(
        int(spec, &["revisionHistoryLimit"]),
        "spec.revisionHistoryLimit",
        errors,
    );
    if let Some(deadline) = int(spec, &["progressDeadlineSeconds"]) {
        nonnegative(Some(deadline), "spec.progressDeadlineSeconds", errors);
        if deadline <= min_ready {
            errors.push(FieldError::invalid_raw(
                "spec.progressDeadlineSeconds",
                &deadline.to_string(),
                "must be greater than minReadySeconds",
            ));
        }
    }
}

fn validate_replica_set(spec: &Value, errors: &mut Vec<FieldError>) {
    nonnegative(int(spec, &["replicas"]), "spec.replicas", errors);
    nonnegative(
        int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errors,
    );
    if required_selector(spec, "deployment", "invalid label selector", errors) {
        check_template_labels(spec, errors);
        replicated_template(spec, "ReplicaSet", errors);
    }
}

fn stateful_update_strategy(spec: &Value, errors: &mut Vec<FieldError>) {
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    let rolling = strategy
        .get("rollingUpdate")
        .filter(|value| !value.is_null());
    let rendered = |kind: &str| {
        format!(
            "apps.StatefulSetUpdateStrategy{{Type:{}, RollingUpdate:{}}}",
            crate::validation::go_quote(kind),
            pointer("apps.RollingUpdateStatefulSetStrategy", rolling)
        )
    };
    match string(strategy, &["type"]) {
        "" => errors.push(FieldError::required("spec.updateStrategy", "")),
        "OnDelete" if rolling.is_some() => errors.push(FieldError::invalid_raw(
            "spec.updateStrategy.rollingUpdate",
            &pointer("apps.RollingUpdateStatefulSetStrategy", rolling),
            "only allowed for updateStrategy 'RollingUpdate'",
        )),
        "OnDelete" => {}
        "RollingUpdate" => {
            if let Some(rolling) = rolling {
                let path = "spec.updateStrategy.rollingUpdate";
                nonnegative(
                    int(rolling, &["partition"]),
                    &child(path, "partition"),
                    errors,
                );
                if let Some(unavailable) = rolling
                    .get("maxUnavailable")
                    .filter(|value| !value.is_null())
                {
                    let field = child(path, "maxUnavailable");
                    int_or_percent(Some(unavailable), &field, errors);
                    if int_or_percent_value(unavailable) == 0 {
                        errors.push(FieldError::invalid_raw(
                            &field,
                            &int_or_string(unavailable),
                            "cannot be 0",
                        ));
                    }
                    at_most_100_percent(Some(unavailable), &field, errors);
                }
            }
        }
        other => errors.push(FieldError::invalid_raw(
            "spec.updateStrategy",
            &rendered(other),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
}

fn validate_stateful_set(spec: &Value, errors: &mut Vec<FieldError>) {
    match string(spec, &["podManagementPolicy"]) {
        "" => errors.push(FieldError::required("spec.podManagementPolicy", "")),
        "OrderedReady" | "Parallel" => {}
        other => errors.push(FieldError::invalid(
            "spec.podManagementPolicy",
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    stateful_update_strategy(spec, errors);
    for policy in ["whenDeleted", "whenScaled"] {
        if let Some(value) = at(spec, &["persistentVolumeClaimRetentionPolicy", policy])
            .and_then(Value::as_str)
            .filter(|value| !matches!(*value, "Retain" | "Delete"))
        {
            errors.push(FieldError::not_supported(
                format!("spec.persistentVolumeClaimRetentionPolicy.{policy}"),
                value,
                &["Retain", "Delete"],
            ));
        }
    }
    nonnegative(int(spec, &["replicas"]), "spec.replicas", errors);
    nonnegative(
        int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errors,
    );
    nonnegative(
        int(spec, &["ordinals", "start"]),
        "spec.ordinals.start",
        errors,
    );
    if required_selector(spec, "statefulset", "", errors) {
        check_template_labels(spec, errors);
        // Upstream leaves a StatefulSet's pod spec to the pods it creates; only the
        // template's labels and annotations are checked here.
        validate_labels(
            obj(spec, &["template", "metadata", "labels"]),
            "spec.template.labels",
            errors,
        );
        validate_annotations(
            obj(spec, &["template", "metadata", "annotations"]),
            "spec.template.annotations",
            errors,
        );
    }
    let restart = string(spec, &["template", "spec", "restartPolicy"]);
    if restart != "Always" {
        errors.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            restart,
            &["Always"],
        ));
    }
    if present(spec, &["template", "spec", "activeDeadlineSeconds"]) {
        errors.push(FieldError::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
}

fn daemon_set_update_strategy(spec: &Value, errors: &mut Vec<FieldError>) {
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    let rolling = strategy
        .get("rollingUpdate")
        .filter(|value| !value.is_null());
    match string(strategy, &["type"]) {
        "OnDelete" => {}
        "RollingUpdate" => {
            let Some(rolling) = rolling else {
                errors.push(FieldError::required(
                    "spec.updateStrategy.rollingUpdate",
                    "",
                ));
                return;
            };
            let path = "spec.updateStrategy.rollingUpdate";
            let unavailable = rolling.get("maxUnavailable").unwrap_or(&Value::Null);
            let surge = rolling.get("maxSurge").unwrap_or(&Value::Null);
            for (name, value) in [("maxUnavailable", unavailable), ("maxSurge", surge)] {
                int_or_percent(Some(value), &child(path, name), errors);
            }
            for (name, value) in [("maxUnavailable", unavailable), ("maxSurge", surge)] {
                at_most_100_percent(Some(value), &child(path, name), errors);
            }
            let has_unavailable = int_or_percent_value(unavailable) != 0;
            let has_surge = int_or_percent_value(surge) != 0;
            if has_unavailable && has_surge {
                errors.push(FieldError::invalid_raw(
                    child(path, "maxSurge"),
                    &int_or_string(surge),
                    "may not be set when maxUnavailable is non-zero",
                ));
            } else if !has_unavailable && !has_surge {
                errors.push(FieldError::required(
                    child(path, "maxUnavailable"),
                    "cannot be 0 when maxSurge is 0",
                ));
            }
        }
        other => errors.push(FieldError::not_supported_raw(
            "spec.updateStrategy",
            &format!(
                "apps.DaemonSetUpdateStrategy{{Type:{}, RollingUpdate:{}}}",
                crate::validation::go_quote(other),
                pointer("apps.RollingUpdateDaemonSet", rolling)
            ),
            &["RollingUpdate", "OnDelete"],
        )),
    }
}

fn validate_daemon_set(spec: &Value, errors: &mut Vec<FieldError>) {
    let selector = spec.get("selector").filter(|selector| !selector.is_null());
    let parses = validate_selector(selector, "spec.selector", errors);
    if parses && !selector_matches(selector, template_labels(spec)) {
        errors.push(FieldError::invalid_raw(
            "spec.template.metadata.labels",
            &string_map(template_labels(spec)),
            "`selector` does not match template `labels`",
        ));
    }
    if let Some(selector) = selector.filter(|selector| selector_is_empty(selector)) {
        errors.push(FieldError::invalid_raw(
            "spec.selector",
            &label_selector(Some(selector)),
            "empty selector is invalid for daemonset",
        ));
    }
    replicated_template(spec, "DaemonSet", errors);
    nonnegative(
        int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errors,
    );
    daemon_set_update_strategy(spec, errors);
    nonnegative(
        int(spec, &["revisionHistoryLimit"]),
        "spec.revisionHistoryLimit",
        errors,
    );
}

fn validate_replication_controller(spec: &Value, errors: &mut Vec<FieldError>) {
    nonnegative(
        int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errors,
    );
    let selector = obj(spec, &["selector"]);
    if selector.is_none_or(Map::is_empty) {
        errors.push(FieldError::required("spec.selector", ""));
    }
    nonnegative(int(spec, &["replicas"]), "spec.replicas", errors);
    if !present(spec, &["template"]) {
        errors.push(FieldError::required("spec.template", ""));
        return;
    }
    if let Some(selector) = selector.filter(|selector| !selector.is_empty()) {
        let labels = template_labels(spec);
        let matches = selector.iter().all(|(name, value)| {
            labels
                .and_then(|labels| labels.get(name))
                .and_then(Value::as_str)
                == value.as_str()
        });
        if !matches {
            errors.push(FieldError::invalid_raw(
                "spec.template.metadata.labels",
                &string_map(labels),
                "`selector` does not match template `labels`",
            ));
        }
    }
    replicated_template(spec, "ReplicationController", errors);
}

/// Every problem with a new object of `kind` (one of the replicated kinds).
pub(super) fn validate(kind: WorkloadKind, object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = spec(object);
    match kind {
        WorkloadKind::Deployment => validate_deployment(spec, &mut errors),
        WorkloadKind::ReplicaSet => validate_replica_set(spec, &mut errors),
        WorkloadKind::StatefulSet => validate_stateful_set(spec, &mut errors),
        WorkloadKind::DaemonSet => validate_daemon_set(spec, &mut errors),
        WorkloadKind::ReplicationController => validate_replication_controller(spec, &mut errors),
        WorkloadKind::PodTemplate => validate_template(
            object.get("template").unwrap_or(&Value::Null),
            "template",
            &mut errors,
        ),
        WorkloadKind::Job | WorkloadKind::CronJob => {}
    }
    errors
}

/// Spec fields a StatefulSet update may change.
const STATEFUL_SET_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

fn without(spec: &Value, fields: &[&str]) -> Value {
    let mut spec = spec.clone();
    if let Some(map) = spec.as_object_mut() {
        for field in fields {
            map.shift_remove(*field);
        }
    }
    spec
}

/// Every problem with an update of `old` to `new`: the new object's own problems, then
/// the changes upstream refuses.
pub(super) fn validate_update(kind: WorkloadKind, old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = validate(kind, new);
    let (old_spec, new_spec) = (spec(old), spec(new));
    match kind {
        WorkloadKind::Deployment | WorkloadKind::ReplicaSet | WorkloadKind::DaemonSet
            if old_spec.get("selector") != new_spec.get("selector") =>
        {
            errors.push(FieldError::invalid_raw(
                "spec.selector",
                &label_selector(new_spec.get("selector")),
                IMMUTABLE,
            ));
        }
        WorkloadKind::StatefulSet
            if without(old_spec, STATEFUL_SET_MUTABLE)
                != without(new_spec, STATEFUL_SET_MUTABLE) =>
        {
            errors.push(FieldError::forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
        _ => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{validate, validate_update};
    use crate::strategy::WorkloadKind;

    fn lines(kind: WorkloadKind, object: &Value) -> Vec<String> {
        validate(kind, object)
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect()
    }

    fn template(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}, "spec": {"restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst", "containers": [{"name": "c", "image": "x",
            "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}]}})
    }

    fn deployment(spec: Value) -> Value {
        let mut full = json!({"replicas": 1, "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "strategy": {"type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}});
        if let (Some(full), Some(spec)) = (full.as_object_mut(), spec.as_object()) {
            full.extend(spec.clone());
        }
        json!({"spec": full})
    }

    #[test]
    fn selector_must_match_template() {
        let object = deployment(json!({"selector": {"matchLabels": {"app": "a"}},
            "template": template(json!({"app": "b"}))}));
        assert_eq!(
            lines(WorkloadKind::Deployment, &object),
            ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"b\"}: `selector` does not match template `labels`"]
        );
    }

    #[test]
    fn missing_selector_reports_both_problems() {
        let object = deployment(json!({"template": template(json!({"app": "a"}))}));
        assert_eq!(
            lines(WorkloadKind::Deployment, &object),
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn rolling_update_needs_some_room() {
        let object = deployment(
            json!({"replicas": -1, "selector": {"matchLabels": {"app": "a"}},
            "template": template(json!({"app": "a"})),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}}}),
        );
        assert_eq!(
            lines(WorkloadKind::Deployment, &object),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
            ]
        );
    }

    #[test]
    fn selector_is_immutable() {
        let old = deployment(json!({"selector": {"matchLabels": {"app": "a"}},
            "template": template(json!({"app": "a", "v": "b"}))}));
        let new = deployment(json!({"selector": {"matchLabels": {"v": "b"}},
            "template": template(json!({"app": "a", "v": "b"}))}));
        let errors = validate_update(WorkloadKind::Deployment, &old, &new);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"v\":\"b\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        );
    }

    #[test]
    fn stateful_set_spec_is_mostly_immutable() {
        let base = json!({"spec": {"replicas": 1, "serviceName": "a",
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "selector": {"matchLabels": {"app": "a"}}, "template": template(json!({"app": "a"}))}});
        let mut changed = base.clone();
        changed["spec"]["serviceName"] = json!("b");
        let errors = validate_update(WorkloadKind::StatefulSet, &base, &changed);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec");
        let mut scaled = base.clone();
        scaled["spec"]["replicas"] = json!(3);
        assert!(validate_update(WorkloadKind::StatefulSet, &base, &scaled).is_empty());
    }
}
