//! Pods: upstream's defaults (pod spec, containers, status phase and QoS class), the pod
//! spec validation shared with the pod templates (`podspec`), and graceful deletion (a pod bound to a node is marked for deletion and
//! left to its kubelet; an unbound one goes at once).

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

pub use super::pod_defaults::default_pod_spec;
pub(super) use super::pod_defaults::object_at;
use super::pod_defaults::DEFAULT_GRACE_SECONDS;
use super::podspec::{validate_annotations, validate_pod_spec, SpecOf};
use super::Strategy;
use crate::object::Object;
use crate::status::ApiError;
use crate::storage::Store;
use crate::validation::{self, FieldError};

/// The Pods strategy.
pub struct PodStrategy;

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
    validate_annotations(
        object
            .metadata()
            .and_then(|meta| meta.get("annotations"))
            .and_then(Value::as_object),
        "metadata.annotations",
        &mut errors,
    );
    let spec = object.0.get("spec").unwrap_or(&Value::Null);
    validate_pod_spec(spec, "spec", SpecOf::Pod, &mut errors);
    errors
}

fn reject(object: &Object, errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(validation::invalid(
        "Pod",
        "",
        object.name().unwrap_or_default(),
        errors,
    ))
}

#[async_trait]
impl Strategy for PodStrategy {
    async fn before_create(&self, store: &dyn Store, object: &mut Object) -> Result<(), ApiError> {
        let spec = object_at(&mut object.0, "spec");
        default_pod_spec(spec);
        super::pod_priority::admit(store, object).await?;
        let spec = object_at(&mut object.0, "spec");
        admit_pod_spec(spec);
        reject(object, validate(object))?;
        let qos = qos_class(object_at(&mut object.0, "spec"));
        object.set("status", json!({"phase": "Pending", "qosClass": qos}));
        Ok(())
    }

    async fn before_update(
        &self,
        _store: &dyn Store,
        old: &Object,
        new: &mut Object,
    ) -> Result<(), ApiError> {
        let spec = object_at(&mut new.0, "spec");
        default_pod_spec(spec);
        admit_pod_spec(spec);
        reject(new, validate(new))?;
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

    use super::{default_pod_spec, qos_class};

    fn spec(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
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
    fn invalid_pods_are_refused_with_every_cause() {
        let pod = crate::object::Object(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [
                {"name": "Web"}, {"name": "db", "image": "postgres", "ports": [{"containerPort": 0}]}]}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
        let mut pod = pod;
        default_pod_spec(super::object_at(&mut pod.0, "spec"));
        let errors = super::validate(&pod);
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.containers[0].name",
                "spec.containers[0].image",
                "spec.containers[1].ports[0].containerPort",
            ]
        );
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
