//! Storage objects: PersistentVolumeClaims (access modes, a storage request, a spec fixed
//! after creation but for the request), PersistentVolumes (capacity, exactly one source,
//! the source fixed after creation) and StorageClasses (provisioner, fixed parameters),
//! with upstream's defaults (`volumeMode`, reclaim policies, binding mode, `Pending`).

use serde_json::{json, Value};

use super::fields::{arr, at, child, key, obj, present, string};
use super::labels::validate_selector;
use super::pod::object_at;
use super::quantity;
use super::rules::Rules;
use crate::object::Object;
use crate::validation::{self, go_quote, FieldError};

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
const VOLUME_MODES: &[&str] = &["Block", "Filesystem"];
const IMMUTABLE: &str = "field is immutable";
/// PersistentVolume sources in upstream's order.
const PV_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];
const MAX_PARAMETERS: usize = 512;
const MAX_PARAMETERS_BYTES: usize = 256 * 1024;

/// The PersistentVolumeClaims strategy.
pub static CLAIMS: Rules = Rules {
    kind: "PersistentVolumeClaim",
    group: "",
    default: default_claim,
    validate: validate_claim,
    validate_update: validate_claim_update,
};

/// The PersistentVolumes strategy.
pub static VOLUMES: Rules = Rules {
    kind: "PersistentVolume",
    group: "",
    default: default_volume,
    validate: validate_volume,
    validate_update: validate_volume_update,
};

/// The StorageClasses strategy.
pub static STORAGE_CLASSES: Rules = Rules {
    kind: "StorageClass",
    group: "storage.k8s.io",
    default: default_storage_class,
    validate: validate_storage_class,
    validate_update: validate_storage_class_update,
};

fn pending(object: &mut Object) {
    object_at(&mut object.0, "status")
        .entry("phase")
        .or_insert_with(|| json!("Pending"));
}

fn default_claim(object: &mut Object) {
    object_at(&mut object.0, "spec")
        .entry("volumeMode")
        .or_insert_with(|| json!("Filesystem"));
    pending(object);
}

fn access_modes(spec: &Value, required_detail: &str, errors: &mut Vec<FieldError>) {
    let modes = arr(spec, &["accessModes"]);
    if modes.is_empty() {
        errors.push(FieldError::required("spec.accessModes", required_detail));
    }
    let (mut once_pod, mut others) = (false, false);
    for mode in modes {
        let mode = mode.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&mode) {
            errors.push(FieldError::not_supported(
                "spec.accessModes",
                mode,
                ACCESS_MODES,
            ));
        } else if mode == "ReadWriteOncePod" {
            once_pod = true;
        } else {
            others = true;
        }
    }
    if once_pod && others {
        errors.push(FieldError::forbidden(
            "spec.accessModes",
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
}

fn class_name(spec: &Value, errors: &mut Vec<FieldError>) {
    let class = string(spec, &["storageClassName"]);
    if !class.is_empty() {
        for problem in validation::dns1123_subdomain(class) {
            errors.push(FieldError::invalid(
                "spec.storageClassName",
                class,
                &problem,
            ));
        }
    }
}

fn volume_mode(spec: &Value, errors: &mut Vec<FieldError>) {
    if let Some(mode) = at(spec, &["volumeMode"]).and_then(Value::as_str) {
        if !VOLUME_MODES.contains(&mode) {
            errors.push(FieldError::not_supported(
                "spec.volumeMode",
                mode,
                VOLUME_MODES,
            ));
        }
    }
}

fn validate_claim(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    access_modes(spec, "at least 1 access mode is required", &mut errors);
    validate_selector(spec.get("selector"), "spec.selector", &mut errors);
    let storage_path = key("spec.resources", "storage");
    match at(spec, &["resources", "requests", "storage"]) {
        None => errors.push(FieldError::required(storage_path, "")),
        Some(amount) => {
            if quantity::of(amount).is_some_and(|value| value <= 0.0) {
                errors.push(FieldError::invalid(
                    storage_path,
                    &quantity::text(amount),
                    "must be greater than zero",
                ));
            }
        }
    }
    class_name(spec, &mut errors);
    volume_mode(spec, &mut errors);
    for source in ["dataSource", "dataSourceRef"] {
        if let Some(reference) = spec.get(source).filter(|value| !value.is_null()) {
            let path = child("spec", source);
            for name in ["name", "kind"] {
                if string(reference, &[name]).is_empty() {
                    errors.push(FieldError::required(child(&path, name), ""));
                }
            }
            let kind = string(reference, &["kind"]);
            if string(reference, &["apiGroup"]).is_empty() && kind != "PersistentVolumeClaim" {
                errors.push(FieldError::invalid(
                    path,
                    kind,
                    "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
                ));
            }
        }
    }
    errors
}

fn without_mutable(spec: &Value, old_volume_name: &str, bound: bool) -> Value {
    let mut spec = spec.clone();
    if let Some(map) = spec.as_object_mut() {
        if old_volume_name.is_empty() {
            map.shift_remove("volumeName");
        }
        if bound {
            if let Some(Value::Object(requests)) = map
                .get_mut("resources")
                .and_then(|resources| resources.get_mut("requests"))
            {
                requests.shift_remove("storage");
            }
            map.shift_remove("volumeAttributesClassName");
        }
    }
    spec
}

fn validate_claim_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = validate_claim(new);
    let (old_spec, new_spec) = (
        old.get("spec").unwrap_or(&Value::Null),
        new.get("spec").unwrap_or(&Value::Null),
    );
    let bound = string(old, &["status", "phase"]) == "Bound";
    let old_volume = string(old_spec, &["volumeName"]);
    if without_mutable(old_spec, old_volume, bound) != without_mutable(new_spec, old_volume, bound)
    {
        errors.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n",
        ));
    }
    let size = |spec: &Value| {
        at(spec, &["resources", "requests", "storage"])
            .and_then(quantity::of)
            .unwrap_or_default()
    };
    if size(new_spec) < size(old_spec) {
        let capacity = at(old, &["status", "capacity", "storage"])
            .and_then(quantity::of)
            .unwrap_or_default();
        if size(new_spec) <= capacity {
            errors.push(FieldError::forbidden(
                "spec.resources.requests.storage",
                "field can not be less than status.capacity",
            ));
        }
    }
    let (old_mode, new_mode) = (
        string(old_spec, &["volumeMode"]),
        string(new_spec, &["volumeMode"]),
    );
    if old_mode != new_mode {
        errors.push(FieldError::invalid_raw(
            "volumeMode",
            &go_quote(new_mode),
            IMMUTABLE,
        ));
    }
    errors
}

fn default_volume(object: &mut Object) {
    let spec = object_at(&mut object.0, "spec");
    spec.entry("persistentVolumeReclaimPolicy")
        .or_insert_with(|| json!("Retain"));
    spec.entry("volumeMode")
        .or_insert_with(|| json!("Filesystem"));
    pending(object);
}

fn resource_list(map: Option<&serde_json::Map<String, Value>>) -> String {
    match map {
        None => "core.ResourceList(nil)".to_owned(),
        Some(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(name, amount)| format!("{}:{}", go_quote(name), quantity::text(amount)))
                .collect();
            format!("core.ResourceList{{{}}}", entries.join(", "))
        }
    }
}

fn volume_source(spec: &Value, errors: &mut Vec<FieldError>) {
    let mut sources = 0;
    for kind in PV_SOURCES {
        let Some(source) = spec.get(*kind).filter(|value| !value.is_null()) else {
            continue;
        };
        let path = child("spec", kind);
        if sources > 0 && *kind != "flexVolume" {
            errors.push(FieldError::forbidden(
                path,
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        sources += 1;
        let required = |name: &str, errors: &mut Vec<FieldError>| {
            if string(source, &[name]).is_empty() {
                errors.push(FieldError::required(child(&path, name), ""));
            }
        };
        match *kind {
            "hostPath" | "local" => {
                let host_path = string(source, &["path"]);
                if host_path.is_empty() {
                    errors.push(FieldError::required(child(&path, "path"), ""));
                } else if host_path.split('/').any(|part| part == "..") {
                    errors.push(FieldError::invalid(
                        child(&path, "path"),
                        host_path,
                        "must not contain '..'",
                    ));
                }
                if *kind == "local" && !present(spec, &["nodeAffinity"]) {
                    errors.push(FieldError::required(
                        "spec.nodeAffinity",
                        "Local volume requires node affinity",
                    ));
                }
            }
            "nfs" => {
                required("server", errors);
                required("path", errors);
                let nfs_path = string(source, &["path"]);
                if !nfs_path.starts_with('/') {
                    errors.push(FieldError::invalid(
                        child(&path, "path"),
                        nfs_path,
                        "must be an absolute path",
                    ));
                }
            }
            "csi" => {
                let driver = string(source, &["driver"]);
                if driver.is_empty() {
                    errors.push(FieldError::required(child(&path, "driver"), ""));
                }
                if driver.len() > 63 {
                    errors.push(FieldError::too_long(child(&path, "driver"), 63));
                }
                for problem in validation::dns1123_subdomain(&driver.to_lowercase()) {
                    errors.push(FieldError::invalid(
                        child(&path, "driver"),
                        driver,
                        &problem,
                    ));
                }
                required("volumeHandle", errors);
            }
            _ => {}
        }
    }
    if sources == 0 {
        errors.push(FieldError::required("spec", "must specify a volume type"));
    }
}

fn validate_volume(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    access_modes(spec, "", &mut errors);
    let capacity = obj(spec, &["capacity"]);
    if capacity.is_none_or(|capacity| capacity.is_empty()) {
        errors.push(FieldError::required("spec.capacity", ""));
    }
    if capacity.is_none_or(|capacity| !capacity.contains_key("storage") || capacity.len() > 1) {
        errors.push(FieldError::not_supported_raw(
            "spec.capacity",
            &resource_list(capacity),
            &["storage"],
        ));
    }
    for (name, amount) in capacity.into_iter().flatten() {
        let path = key("spec.capacity", name);
        let value = quantity::of(amount).unwrap_or_default();
        if value < 0.0 {
            errors.push(FieldError::invalid_raw(
                &path,
                &(value as i64).to_string(),
                "must be a valid resource quantity",
            ));
        }
        if value <= 0.0 {
            errors.push(FieldError::invalid(
                &path,
                &quantity::text(amount),
                "must be greater than zero",
            ));
        }
    }
    let policy = string(spec, &["persistentVolumeReclaimPolicy"]);
    if !policy.is_empty() && !matches!(policy, "Delete" | "Recycle" | "Retain") {
        errors.push(FieldError::not_supported(
            "spec.persistentVolumeReclaimPolicy",
            policy,
            &["Delete", "Recycle", "Retain"],
        ));
    }
    volume_source(spec, &mut errors);
    class_name(spec, &mut errors);
    volume_mode(spec, &mut errors);
    errors
}

fn validate_volume_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = validate_volume(new);
    let (old_spec, new_spec) = (
        old.get("spec").unwrap_or(&Value::Null),
        new.get("spec").unwrap_or(&Value::Null),
    );
    let source = |spec: &Value| -> Vec<Option<Value>> {
        PV_SOURCES
            .iter()
            .map(|kind| spec.get(*kind).filter(|value| !value.is_null()).cloned())
            .collect()
    };
    if source(old_spec) != source(new_spec) {
        errors.push(FieldError::forbidden(
            "spec.persistentvolumesource",
            "spec.persistentvolumesource is immutable after creation\n",
        ));
    }
    let new_mode = string(new_spec, &["volumeMode"]);
    if string(old_spec, &["volumeMode"]) != new_mode {
        errors.push(FieldError::invalid_raw(
            "volumeMode",
            &go_quote(new_mode),
            IMMUTABLE,
        ));
    }
    errors
}

fn default_storage_class(object: &mut Object) {
    object
        .0
        .entry("reclaimPolicy")
        .or_insert_with(|| json!("Delete"));
    object
        .0
        .entry("volumeBindingMode")
        .or_insert_with(|| json!("Immediate"));
}

fn validate_storage_class(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let provisioner = string(object, &["provisioner"]);
    if provisioner.is_empty() {
        errors.push(FieldError::required("provisioner", ""));
    } else {
        for problem in validation::qualified_name(&provisioner.to_lowercase()) {
            errors.push(FieldError::invalid("provisioner", provisioner, &problem));
        }
    }
    let parameters = obj(object, &["parameters"]);
    if parameters.is_some_and(|parameters| parameters.len() > MAX_PARAMETERS) {
        errors.push(FieldError::too_long("parameters", MAX_PARAMETERS));
    } else {
        let mut total = 0;
        for (name, value) in parameters.into_iter().flatten() {
            if name.is_empty() {
                errors.push(FieldError::invalid(
                    "parameters",
                    name,
                    "field can not be empty.",
                ));
            }
            total += name.len() + value.as_str().map_or(0, str::len);
        }
        if total > MAX_PARAMETERS_BYTES {
            errors.push(FieldError::too_long("parameters", MAX_PARAMETERS_BYTES));
        }
    }
    let reclaim = string(object, &["reclaimPolicy"]);
    if !reclaim.is_empty() && !matches!(reclaim, "Delete" | "Retain") {
        errors.push(FieldError::not_supported(
            "reclaimPolicy",
            reclaim,
            &["Delete", "Retain"],
        ));
    }
    match at(object, &["volumeBindingMode"]).and_then(Value::as_str) {
        None => errors.push(FieldError::required("volumeBindingMode", "")),
        Some("Immediate" | "WaitForFirstConsumer") => {}
        Some(other) => errors.push(FieldError::not_supported(
            "volumeBindingMode",
            other,
            &["Immediate", "WaitForFirstConsumer"],
        )),
    }
    errors
}

fn validate_storage_class_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = validate_storage_class(new);
    let parameters = |object: &Value| {
        object
            .get("parameters")
            .filter(|value| !value.is_null())
            .cloned()
    };
    if parameters(old) != parameters(new) {
        errors.push(FieldError::forbidden(
            "parameters",
            "updates to parameters are forbidden.",
        ));
    }
    if string(old, &["provisioner"]) != string(new, &["provisioner"]) {
        errors.push(FieldError::forbidden(
            "provisioner",
            "updates to provisioner are forbidden.",
        ));
    }
    if string(old, &["reclaimPolicy"]) != string(new, &["reclaimPolicy"]) {
        errors.push(FieldError::forbidden(
            "reclaimPolicy",
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    let mode = string(new, &["volumeBindingMode"]);
    if string(old, &["volumeBindingMode"]) != mode {
        errors.push(FieldError::invalid("volumeBindingMode", mode, IMMUTABLE));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{
        validate_claim, validate_claim_update, validate_storage_class,
        validate_storage_class_update, validate_volume,
    };

    fn lines(errors: Vec<crate::validation::FieldError>) -> Vec<String> {
        errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect()
    }

    #[test]
    fn claims_need_modes_and_storage() {
        assert_eq!(
            lines(validate_claim(
                &json!({"spec": {"volumeMode": "Filesystem"}})
            )),
            [
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ]
        );
    }

    #[test]
    fn claim_spec_is_fixed_but_a_bound_claim_may_grow() {
        let old = json!({"spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
            "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Bound"}});
        let mut grown = old.clone();
        grown["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert!(validate_claim_update(&old, &grown).is_empty());
        let mut changed = old.clone();
        changed["spec"]["accessModes"] = json!(["ReadWriteMany"]);
        assert_eq!(validate_claim_update(&old, &changed)[0].field, "spec");
    }

    #[test]
    fn volumes_need_capacity_and_a_source() {
        assert_eq!(
            lines(validate_volume(&json!({"spec": {"accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain"}}))),
            [
                "spec.capacity: Required value",
                "spec.capacity: Unsupported value: core.ResourceList(nil): supported values: \"storage\"",
                "spec: Required value: must specify a volume type",
            ]
        );
    }

    #[test]
    fn storage_classes() {
        let class = json!({"reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
            "provisioner": "example.com/disk", "parameters": {"type": "ssd"}});
        assert!(validate_storage_class(&class).is_empty());
        assert_eq!(
            lines(validate_storage_class(&json!({"reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate"}))),
            ["provisioner: Required value"]
        );
        let mut changed = class.clone();
        changed["parameters"]["type"] = json!("hdd");
        assert_eq!(
            lines(validate_storage_class_update(&class, &changed)),
            ["parameters: Forbidden: updates to parameters are forbidden."]
        );
    }
}
