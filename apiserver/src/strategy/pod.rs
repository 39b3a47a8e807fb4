//! Pods: upstream's defaults (pod spec, containers, status phase and QoS class), basic
//! validation, and graceful deletion (a pod bound to a node is marked for deletion and
//! left to its kubelet; an unbound one goes at once).

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::Strategy;
use crate::object::Object;
use crate::status::ApiError;
use crate::storage::Store;
use crate::validation::{self, FieldError};

/// The default grace period of a pod.
const DEFAULT_GRACE_SECONDS: i64 = 30;

/// The Pods strategy.
pub struct PodStrategy;

pub(super) fn object_at<'a>(
    map: &'a mut Map<String, Value>,
    field: &str,
) -> &'a mut Map<String, Value> {
    let slot = map.entry(field).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(inner) => inner,
        _ => unreachable!("made an object above"),
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`, as upstream defaults.
fn default_pull_policy(image: &str) -> &'static str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    match last.split_once(':') {
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) if image.contains('@') => "IfNotPresent",
        Some(_) => "IfNotPresent",
    }
}

fn default_container(container: &mut Map<String, Value>) {
    container
        .entry("terminationMessagePath")
        .or_insert_with(|| json!("/dev/termination-log"));
    container
        .entry("terminationMessagePolicy")
        .or_insert_with(|| json!("File"));
    let image = container
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    container
        .entry("imagePullPolicy")
        .or_insert_with(|| json!(default_pull_policy(&image)));
    container.entry("resources").or_insert_with(|| json!({}));
    if let Some(Value::Array(ports)) = container.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            port.entry("protocol").or_insert_with(|| json!("TCP"));
        }
    }
}

/// The pod spec defaults every kube-apiserver applies, to pods and pod templates alike.
pub fn default_pod_spec(spec: &mut Map<String, Value>) {
    spec.entry("restartPolicy")
        .or_insert_with(|| json!("Always"));
    spec.entry("terminationGracePeriodSeconds")
        .or_insert_with(|| json!(DEFAULT_GRACE_SECONDS));
    spec.entry("dnsPolicy")
        .or_insert_with(|| json!("ClusterFirst"));
    spec.entry("securityContext").or_insert_with(|| json!({}));
    spec.entry("schedulerName")
        .or_insert_with(|| json!("default-scheduler"));
    spec.entry("enableServiceLinks")
        .or_insert_with(|| json!(true));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(containers)) = spec.get_mut(list) {
            for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                default_container(container);
            }
        }
    }
}

/// What the default admission plugins add to pods only (Priority,
/// DefaultTolerationSeconds).
fn admit_pod_spec(spec: &mut Map<String, Value>) {
    spec.entry("priority").or_insert_with(|| json!(0));
    spec.entry("preemptionPolicy")
        .or_insert_with(|| json!("PreemptLowerPriority"));
    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    if let Value::Array(tolerations) = tolerations {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let present = tolerations
                .iter()
                .any(|toleration| toleration.get("key").and_then(Value::as_str) == Some(key));
            if !present {
                tolerations.push(json!({
                    "key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300
                }));
            }
        }
    }
}

/// BestEffort, Burstable or Guaranteed, from the containers' requests and limits.
pub fn qos_class(spec: &Map<String, Value>) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|list| spec.get(*list).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for container in &containers {
        let resources = container.get("resources");
        let requests = resources
            .and_then(|r| r.get("requests"))
            .and_then(Value::as_object);
        let limits = resources
            .and_then(|r| r.get("limits"))
            .and_then(Value::as_object);
        let relevant = |map: Option<&Map<String, Value>>| -> BTreeSet<String> {
            map.map(|map| {
                map.keys()
                    .filter(|name| matches!(name.as_str(), "cpu" | "memory"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
        };
        let request_names = relevant(requests);
        let limit_names = relevant(limits);
        if !request_names.is_empty() || !limit_names.is_empty() {
            any = true;
        }
        let full_limits = limit_names.len() == 2;
        let requests_match = request_names
            .iter()
            .all(|name| requests.and_then(|r| r.get(name)) == limits.and_then(|l| l.get(name)));
        if !full_limits || !requests_match {
            guaranteed = false;
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn validate(object: &Object) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.0.get("spec").and_then(Value::as_object);
    let containers = spec
        .and_then(|spec| spec.get("containers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if containers.is_empty() {
        errors.push(FieldError::required("spec.containers", ""));
    }
    let mut names = BTreeSet::new();
    for (index, container) in containers.iter().enumerate() {
        let field = format!("spec.containers[{index}]");
        let name = container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.is_empty() {
            errors.push(FieldError::required(format!("{field}.name"), ""));
        } else {
            for problem in validation::dns1123_label(name) {
                errors.push(FieldError::invalid(format!("{field}.name"), name, &problem));
            }
            if !names.insert(name.to_owned()) {
                errors.push(FieldError {
                    reason: "FieldValueDuplicate",
                    field: format!("{field}.name"),
                    message: format!("Duplicate value: {name:?}"),
                });
            }
        }
        if container
            .get("image")
            .and_then(Value::as_str)
            .is_none_or(|image| image.trim().is_empty())
        {
            errors.push(FieldError::required(format!("{field}.image"), ""));
        }
    }
    errors
}

#[async_trait]
impl Strategy for PodStrategy {
    async fn before_create(&self, _store: &dyn Store, object: &mut Object) -> Result<(), ApiError> {
        let errors = validate(object);
        if !errors.is_empty() {
            return Err(validation::invalid(
                "Pod",
                "",
                object.name().unwrap_or_default(),
                errors,
            ));
        }
        let spec = object_at(&mut object.0, "spec");
        default_pod_spec(spec);
        admit_pod_spec(spec);
        let qos = qos_class(spec);
        object.set("status", json!({"phase": "Pending", "qosClass": qos}));
        Ok(())
    }

    async fn before_update(
        &self,
        _store: &dyn Store,
        old: &Object,
        new: &mut Object,
    ) -> Result<(), ApiError> {
        let errors = validate(new);
        if !errors.is_empty() {
            return Err(validation::invalid(
                "Pod",
                "",
                new.name().unwrap_or_default(),
                errors,
            ));
        }
        let spec = object_at(&mut new.0, "spec");
        default_pod_spec(spec);
        admit_pod_spec(spec);
        // Pod specs are immutable but for images and a few fields; the binding subresource
        // and kubelets set nodeName, never a plain update.
        let old_node = old.0.get("spec").and_then(|spec| spec.get("nodeName"));
        let spec = object_at(&mut new.0, "spec");
        match old_node {
            Some(node) => {
                spec.insert("nodeName".into(), node.clone());
            }
            None => {
                spec.shift_remove("nodeName");
            }
        }
        Ok(())
    }

    fn deletion_grace(&self, object: &Object, requested: Option<i64>) -> Option<i64> {
        let spec = object.0.get("spec")?;
        // Unbound pods have no kubelet to stop them; finished ones have nothing to stop.
        spec.get("nodeName")
            .and_then(Value::as_str)
            .filter(|node| !node.is_empty())?;
        let phase = object
            .0
            .get("status")
            .and_then(|status| status.get("phase"))
            .and_then(Value::as_str);
        if matches!(phase, Some("Succeeded" | "Failed")) {
            return None;
        }
        let grace = requested.unwrap_or_else(|| {
            spec.get("terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_GRACE_SECONDS)
        });
        // Upstream turns a requested 0 into 1 for bound pods unless the caller forces it
        // (gracePeriodSeconds=0 with force); a 0 here means delete now.
        (grace > 0).then_some(grace)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::{default_pod_spec, default_pull_policy, qos_class};

    fn spec(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(default_pull_policy("busybox"), "Always");
        assert_eq!(default_pull_policy("busybox:latest"), "Always");
        assert_eq!(default_pull_policy("busybox:1.36"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/busybox"), "Always");
        assert_eq!(
            default_pull_policy("registry.k8s.io/pause:3.10"),
            "IfNotPresent"
        );
    }

    #[test]
    fn qos_classes() {
        let best = spec(json!({"containers": [{"name": "a", "image": "x"}]}));
        assert_eq!(qos_class(&best), "BestEffort");
        let guaranteed = spec(
            json!({"containers": [{"name": "a", "image": "x", "resources": {
            "limits": {"cpu": "1", "memory": "1Gi"}}}]}),
        );
        assert_eq!(qos_class(&guaranteed), "Guaranteed");
        let burstable = spec(
            json!({"containers": [{"name": "a", "image": "x", "resources": {
            "requests": {"cpu": "100m"}}}]}),
        );
        assert_eq!(qos_class(&burstable), "Burstable");
    }

    #[test]
    fn defaults() {
        let mut pod = spec(
            json!({"containers": [{"name": "a", "image": "busybox", "ports": [{"containerPort": 80}]}]}),
        );
        default_pod_spec(&mut pod);
        super::admit_pod_spec(&mut pod);
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(pod["tolerations"].as_array().map(Vec::len), Some(2));
    }
}
