//! Pod spec validation shared by Pods and every pod template (Deployments, ReplicaSets,
//! DaemonSets, Jobs, CronJobs, ReplicationControllers, PodTemplates): upstream's
//! `ValidatePodSpec` and `ValidatePodTemplateSpec`, with their field paths and messages.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::containers;
use super::fields::{arr, child, index, int, obj, present, string};
use super::labels::validate_labels;
use crate::validation::{self, go_quote, FieldError};

/// Volume sources in upstream's order (the first one given wins; the others are refused).
const VOLUME_SOURCES: &[&str] = &[
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];
const FILE_MODE_HELP: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Which object the spec belongs to: a Pod gets a few checks templates do not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SpecOf {
    /// A Pod's own spec.
    Pod,
    /// A pod template inside another object.
    Template,
}

fn file_mode(source: &Value, name: &str, field: &str, errors: &mut Vec<FieldError>) {
    if let Some(mode) = int(source, &[name]).filter(|mode| !(0..=0o777).contains(mode)) {
        errors.push(FieldError::invalid_raw(
            child(field, name),
            &mode.to_string(),
            FILE_MODE_HELP,
        ));
    }
}

fn key_to_paths(source: &Value, field: &str, errors: &mut Vec<FieldError>) {
    for (at, item) in arr(source, &["items"]).iter().enumerate() {
        let path = index(&child(field, "items"), at);
        if string(item, &["key"]).is_empty() {
            errors.push(FieldError::required(child(&path, "key"), ""));
        }
        let item_path = string(item, &["path"]);
        if item_path.is_empty() {
            errors.push(FieldError::required(child(&path, "path"), ""));
        }
        containers::local_descending_path(item_path, &child(&path, "path"), errors);
        file_mode(item, "mode", &path, errors);
    }
}

fn validate_source(kind: &str, source: &Value, field: &str, errors: &mut Vec<FieldError>) {
    let required = |name: &str, errors: &mut Vec<FieldError>| {
        if string(source, &[name]).is_empty() {
            errors.push(FieldError::required(child(field, name), ""));
        }
    };
    match kind {
        "hostPath" => {
            let path = string(source, &["path"]);
            if path.is_empty() {
                errors.push(FieldError::required(child(field, "path"), ""));
            } else if path.split('/').any(|part| part == "..") {
                errors.push(FieldError::invalid(
                    child(field, "path"),
                    path,
                    "must not contain '..'",
                ));
            }
        }
        "secret" => {
            required("secretName", errors);
            file_mode(source, "defaultMode", field, errors);
            key_to_paths(source, field, errors);
        }
        "configMap" => {
            required("name", errors);
            file_mode(source, "defaultMode", field, errors);
            key_to_paths(source, field, errors);
        }
        "persistentVolumeClaim" => required("claimName", errors),
        "nfs" => {
            required("server", errors);
            required("path", errors);
            let path = string(source, &["path"]);
            if !path.starts_with('/') {
                errors.push(FieldError::invalid(
                    child(field, "path"),
                    path,
                    "must be an absolute path",
                ));
            }
        }
        "downwardAPI" | "projected" => file_mode(source, "defaultMode", field, errors),
        _ => {}
    }
}

/// `ValidateVolumes`: the names of the volumes that are valid, for the mounts to refer to.
fn validate_volumes(spec: &Value, field: &str, errors: &mut Vec<FieldError>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, volume) in arr(spec, &["volumes"]).iter().enumerate() {
        let path = index(field, at);
        let name = string(volume, &["name"]);
        let mut own = Vec::new();
        let mut sources = 0;
        for kind in VOLUME_SOURCES {
            let Some(source) = volume.get(*kind).filter(|source| !source.is_null()) else {
                continue;
            };
            let source_path = child(&path, kind);
            if sources > 0 {
                own.push(FieldError::forbidden(
                    source_path,
                    "may not specify more than 1 volume type",
                ));
                continue;
            }
            sources += 1;
            validate_source(kind, source, &source_path, &mut own);
        }
        if sources == 0 {
            own.push(FieldError::required(&path, "must specify a volume type"));
        }
        if name.is_empty() {
            own.push(FieldError::required(child(&path, "name"), ""));
        } else {
            for problem in validation::dns1123_label(name) {
                own.push(FieldError::invalid(child(&path, "name"), name, &problem));
            }
        }
        if names.contains(name) {
            own.push(FieldError::duplicate(child(&path, "name"), &go_quote(name)));
        }
        if own.is_empty() {
            names.insert(name.to_owned());
        } else {
            errors.extend(own);
        }
    }
    names
}

fn host_port_conflicts(list: &[Value], field: &str, errors: &mut Vec<FieldError>) {
    let mut seen = BTreeSet::new();
    for (at, container) in list.iter().enumerate() {
        for (port_at, port) in arr(container, &["ports"]).iter().enumerate() {
            let Some(host) = int(port, &["hostPort"]).filter(|host| *host != 0) else {
                continue;
            };
            let key = format!(
                "{}/{}/{host}",
                string(port, &["protocol"]),
                string(port, &["hostIP"])
            );
            if !seen.insert(key.clone()) {
                errors.push(FieldError::duplicate(
                    child(
                        &index(&child(&index(field, at), "ports"), port_at),
                        "hostPort",
                    ),
                    &go_quote(&key),
                ));
            }
        }
    }
}

fn validate_containers(
    spec: &Value,
    volumes: &BTreeSet<String>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    let path = child(field, "containers");
    let list = arr(spec, &["containers"]);
    if list.is_empty() {
        errors.push(FieldError::required(&path, ""));
    } else {
        let mut names = BTreeSet::new();
        for (at, container) in list.iter().enumerate() {
            let container_path = index(&path, at);
            containers::validate_common(container, volumes, &container_path, errors);
            let name = string(container, &["name"]);
            if !names.insert(name.to_owned()) {
                errors.push(FieldError::duplicate(
                    child(&container_path, "name"),
                    &go_quote(name),
                ));
            }
            containers::validate_probes_and_lifecycle(container, &container_path, errors);
            if present(container, &["restartPolicy"]) {
                errors.push(FieldError::forbidden(
                    child(&container_path, "restartPolicy"),
                    "may not be set for non-init containers",
                ));
            }
        }
        host_port_conflicts(list, &path, errors);
    }
    let init_path = child(field, "initContainers");
    let mut names: BTreeSet<String> = list
        .iter()
        .map(|container| string(container, &["name"]).to_owned())
        .collect();
    for (at, container) in arr(spec, &["initContainers"]).iter().enumerate() {
        let container_path = index(&init_path, at);
        containers::validate_common(container, volumes, &container_path, errors);
        let restart = string(container, &["restartPolicy"]);
        let restartable = restart == "Always";
        if present(container, &["restartPolicy"]) && !restartable {
            errors.push(FieldError::not_supported(
                child(&container_path, "restartPolicy"),
                restart,
                &["Always"],
            ));
        }
        let name = string(container, &["name"]);
        if names.contains(name) {
            errors.push(FieldError::duplicate(
                child(&container_path, "name"),
                &go_quote(name),
            ));
        } else if !name.is_empty() {
            names.insert(name.to_owned());
        }
        host_port_conflicts(std::slice::from_ref(container), &init_path, errors);
        if restartable {
            containers::validate_probes_and_lifecycle(container, &container_path, errors);
        } else {
            for forbidden in [
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
            ] {
                if present(container, &[forbidden]) {
                    errors.push(FieldError::forbidden(
                        child(&container_path, forbidden),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}

fn validate_tolerations(spec: &Value, field: &str, errors: &mut Vec<FieldError>) {
    for (at, toleration) in arr(spec, &["tolerations"]).iter().enumerate() {
        let path = index(field, at);
        let toleration_key = string(toleration, &["key"]);
        let operator = string(toleration, &["operator"]);
        let effect = string(toleration, &["effect"]);
        for problem in validation::qualified_name(toleration_key)
            .into_iter()
            .filter(|_| !toleration_key.is_empty())
        {
            errors.push(FieldError::invalid(
                child(&path, "key"),
                toleration_key,
                &problem,
            ));
        }
        if toleration_key.is_empty() && operator != "Exists" {
            errors.push(FieldError::invalid(
                child(&path, "operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if present(toleration, &["tolerationSeconds"]) && effect != "NoExecute" {
            errors.push(FieldError::invalid(
                child(&path, "effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = string(toleration, &["value"]);
        match operator {
            "Equal" | "" => {
                let problems = validation::label_value(value);
                if !problems.is_empty() {
                    errors.push(FieldError::invalid(
                        child(&path, "operator"),
                        value,
                        &problems.join(";"),
                    ));
                }
            }
            "Exists" if !value.is_empty() => errors.push(FieldError::invalid(
                child(&path, "operator"),
                value,
                "value must be empty when `operator` is 'Exists'",
            )),
            "Exists" => {}
            other => errors.push(FieldError::not_supported(
                child(&path, "operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute")
        {
            errors.push(FieldError::not_supported(
                child(&path, "effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
}

fn name_fields(spec: &Value, field: &str, errors: &mut Vec<FieldError>) {
    for (name, label) in [
        ("serviceAccountName", false),
        ("nodeName", false),
        ("hostname", true),
        ("subdomain", true),
        ("priorityClassName", false),
    ] {
        let value = string(spec, &[name]);
        if value.is_empty() {
            continue;
        }
        let problems = if label {
            validation::dns1123_label(value)
        } else {
            validation::dns1123_subdomain(value)
        };
        for problem in problems {
            errors.push(FieldError::invalid(child(field, name), value, &problem));
        }
    }
}

/// `ValidatePodSpec`.
pub(super) fn validate_pod_spec(
    spec: &Value,
    field: &str,
    of: SpecOf,
    errors: &mut Vec<FieldError>,
) {
    let volumes = validate_volumes(spec, &child(field, "volumes"), errors);
    validate_containers(spec, &volumes, field, errors);
    match string(spec, &["restartPolicy"]) {
        "Always" | "OnFailure" | "Never" => {}
        "" => errors.push(FieldError::required(child(field, "restartPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            child(field, "restartPolicy"),
            other,
            &["Always", "OnFailure", "Never"],
        )),
    }
    let dns_policy = string(spec, &["dnsPolicy"]);
    match dns_policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errors.push(FieldError::required(child(field, "dnsPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            child(field, "dnsPolicy"),
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    validate_labels(
        obj(spec, &["nodeSelector"]),
        &child(field, "nodeSelector"),
        errors,
    );
    if dns_policy == "None" {
        if !present(spec, &["dnsConfig"]) {
            errors.push(FieldError::required(
                child(field, "dnsConfig"),
                "must provide `dnsConfig` when `dnsPolicy` is None",
            ));
        } else if arr(spec, &["dnsConfig", "nameservers"]).is_empty() {
            errors.push(FieldError::required(
                child(&child(field, "dnsConfig"), "nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            ));
        }
    }
    name_fields(spec, field, errors);
    if let Some(deadline) = int(spec, &["activeDeadlineSeconds"])
        .filter(|deadline| !(1..=i64::from(i32::MAX)).contains(deadline))
    {
        errors.push(FieldError::invalid_raw(
            child(field, "activeDeadlineSeconds"),
            &deadline.to_string(),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    validate_tolerations(spec, &child(field, "tolerations"), errors);
    match string(spec, &["preemptionPolicy"]) {
        "" | "PreemptLowerPriority" | "Never" => {}
        other => errors.push(FieldError::not_supported(
            child(field, "preemptionPolicy"),
            other,
            &["PreemptLowerPriority", "Never"],
        )),
    }
    if of == SpecOf::Pod {
        for list in ["containers", "initContainers"] {
            for (at, container) in arr(spec, &[list]).iter().enumerate() {
                let image = string(container, &["image"]);
                if image.trim() != image {
                    errors.push(FieldError::invalid(
                        child(&index(&child(field, list), at), "image"),
                        image,
                        "must not have leading or trailing whitespace",
                    ));
                }
            }
        }
    }
}

/// `ValidateAnnotations`: lower-cased keys must be qualified names, 256 KiB at most.
pub(super) fn validate_annotations(
    annotations: Option<&Map<String, Value>>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    let mut total = 0;
    for (name, value) in annotations.into_iter().flatten() {
        for problem in validation::qualified_name(&name.to_lowercase()) {
            errors.push(FieldError::invalid(field, name, &problem));
        }
        total += name.len() + value.as_str().map_or(0, str::len);
    }
    if total > ANNOTATIONS_MAX_BYTES {
        errors.push(FieldError::too_long(field, ANNOTATIONS_MAX_BYTES));
    }
}

/// `ValidatePodTemplateSpec`: the template's labels and annotations (reported at
/// `<template>.labels`, as upstream does) and its pod spec.
pub(super) fn validate_template(template: &Value, field: &str, errors: &mut Vec<FieldError>) {
    validate_labels(
        obj(template, &["metadata", "labels"]),
        &child(field, "labels"),
        errors,
    );
    validate_annotations(
        obj(template, &["metadata", "annotations"]),
        &child(field, "annotations"),
        errors,
    );
    let spec = template.get("spec").unwrap_or(&Value::Null);
    validate_pod_spec(spec, &child(field, "spec"), SpecOf::Template, errors);
    if !arr(spec, &["ephemeralContainers"]).is_empty() {
        errors.push(FieldError::forbidden(
            child(&child(field, "spec"), "ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{validate_pod_spec, validate_template, SpecOf};

    fn lines(errors: &[crate::validation::FieldError]) -> Vec<String> {
        errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect()
    }

    #[test]
    fn containers_are_required() {
        let mut errors = Vec::new();
        validate_pod_spec(
            &json!({"restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}),
            "spec",
            SpecOf::Pod,
            &mut errors,
        );
        assert_eq!(lines(&errors), ["spec.containers: Required value"]);
    }

    #[test]
    fn duplicate_names_and_bad_policy() {
        let container = json!({"name": "a", "image": "x", "imagePullPolicy": "Always",
            "terminationMessagePolicy": "File"});
        let mut errors = Vec::new();
        validate_template(
            &json!({"metadata": {"labels": {"app": "x"}},
                    "spec": {"containers": [container.clone(), container],
                             "restartPolicy": "Sometimes", "dnsPolicy": "ClusterFirst"}}),
            "spec.template",
            &mut errors,
        );
        assert_eq!(
            lines(&errors),
            [
                "spec.template.spec.containers[1].name: Duplicate value: \"a\"",
                "spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            ]
        );
    }

    #[test]
    fn volume_mounts_need_valid_volumes() {
        let mut errors = Vec::new();
        validate_pod_spec(
            &json!({"restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                    "volumes": [{"name": "cfg", "configMap": {}}],
                    "containers": [{"name": "a", "image": "x", "imagePullPolicy": "Always",
                        "terminationMessagePolicy": "File",
                        "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]}]}),
            "spec",
            SpecOf::Pod,
            &mut errors,
        );
        assert_eq!(
            lines(&errors),
            [
                "spec.volumes[0].configMap.name: Required value",
                "spec.containers[0].volumeMounts[0].name: Not found: \"cfg\"",
            ]
        );
    }
}
