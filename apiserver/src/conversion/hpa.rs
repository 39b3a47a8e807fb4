//! `autoscaling/v2` (stored) ⇄ `autoscaling/v1` HorizontalPodAutoscalers. v1 only knows a
//! CPU utilization target; like upstream, every other v2 field a v1 client cannot see is
//! carried in annotations so that a v1 read-modify-write loses nothing.

use serde_json::{json, Map, Value};

const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
/// v1's implicit target when no metric is given.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// Fields both versions share, in `spec` and `status`.
const COMMON_SPEC: &[&str] = &["scaleTargetRef", "minReplicas", "maxReplicas"];
const COMMON_STATUS: &[&str] = &[
    "observedGeneration",
    "lastScaleTime",
    "currentReplicas",
    "desiredReplicas",
];

/// Whether a metric is the CPU resource metric v1 has a field for.
fn is_cpu(metric: &Value) -> bool {
    metric["type"] == "Resource" && metric["resource"]["name"] == "cpu"
}

/// A stored v2 object as v1 shows it.
pub(super) fn v2_to_v1(mut object: Map<String, Value>) -> Map<String, Value> {
    let mut annotations = Map::new();
    if let Some(Value::Object(mut spec)) = object.remove("spec") {
        let mut out = take(&mut spec, COMMON_SPEC);
        let metrics = array(spec.remove("metrics"));
        let mut others = Vec::new();
        for metric in metrics {
            let utilization = &metric["resource"]["target"]["averageUtilization"];
            if is_cpu(&metric) && metric["resource"]["target"]["type"] == "Utilization" {
                if !out.contains_key("targetCPUUtilizationPercentage") && utilization.is_number() {
                    out.insert(
                        "targetCPUUtilizationPercentage".to_owned(),
                        utilization.clone(),
                    );
                }
                continue;
            }
            others.push(metric);
        }
        annotate(&mut annotations, METRICS_ANNOTATION, others);
        if let Some(behavior) = spec.remove("behavior") {
            annotations.insert(BEHAVIOR_ANNOTATION.to_owned(), json!(behavior.to_string()));
        }
        object.insert("spec".to_owned(), Value::Object(out));
    }
    if let Some(Value::Object(mut status)) = object.remove("status") {
        let mut out = take(&mut status, COMMON_STATUS);
        let current = array(status.remove("currentMetrics"));
        if let Some(cpu) = current.iter().find(|metric| is_cpu(metric)) {
            let utilization = &cpu["resource"]["current"]["averageUtilization"];
            if utilization.is_number() {
                out.insert(
                    "currentCPUUtilizationPercentage".to_owned(),
                    utilization.clone(),
                );
            }
        }
        annotate(&mut annotations, CURRENT_METRICS_ANNOTATION, current);
        annotate(
            &mut annotations,
            CONDITIONS_ANNOTATION,
            array(status.remove("conditions")),
        );
        object.insert("status".to_owned(), Value::Object(out));
    }
    if !annotations.is_empty() {
        let metadata = object
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            let existing = metadata
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(existing) = existing.as_object_mut() {
                existing.extend(annotations);
            }
        }
    }
    object
}

/// A v1 object in its stored v2 form.
pub(super) fn v1_to_v2(mut object: Map<String, Value>) -> Map<String, Value> {
    let mut carried = take_annotations(&mut object);
    let mut parse = |name: &str| -> Option<Value> {
        carried.remove(name).and_then(|text| {
            text.as_str()
                .and_then(|text| serde_json::from_str(text).ok())
        })
    };
    let metrics_note = parse(METRICS_ANNOTATION);
    let behavior_note = parse(BEHAVIOR_ANNOTATION);
    let current_note = parse(CURRENT_METRICS_ANNOTATION);
    let conditions_note = parse(CONDITIONS_ANNOTATION);

    let mut spec = match object.remove("spec") {
        Some(Value::Object(spec)) => spec,
        _ => Map::new(),
    };
    let mut out = take(&mut spec, COMMON_SPEC);
    let mut metrics = Vec::new();
    if let Some(target) = spec.remove("targetCPUUtilizationPercentage") {
        metrics.push(cpu_target(target));
    }
    metrics.extend(array(metrics_note));
    if metrics.is_empty() {
        metrics.push(cpu_target(json!(DEFAULT_CPU_UTILIZATION)));
    }
    out.insert("metrics".to_owned(), Value::Array(metrics));
    if let Some(behavior) = behavior_note {
        out.insert("behavior".to_owned(), behavior);
    }
    object.insert("spec".to_owned(), Value::Object(out));

    if let Some(Value::Object(mut status)) = object.remove("status") {
        let mut out = take(&mut status, COMMON_STATUS);
        let current = match (
            current_note,
            status.remove("currentCPUUtilizationPercentage"),
        ) {
            (Some(current), _) => array(Some(current)),
            (None, Some(utilization)) => vec![json!({
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": utilization}},
            })],
            (None, None) => Vec::new(),
        };
        if !current.is_empty() {
            out.insert("currentMetrics".to_owned(), Value::Array(current));
        }
        if let Some(conditions) = conditions_note {
            out.insert("conditions".to_owned(), conditions);
        }
        object.insert("status".to_owned(), Value::Object(out));
    }
    object
}

fn cpu_target(utilization: Value) -> Value {
    json!({
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}},
    })
}

/// The named fields of `from`, moved to a new map.
fn take(from: &mut Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for name in names {
        if let Some(value) = from.remove(*name) {
            out.insert((*name).to_owned(), value);
        }
    }
    out
}

fn array(value: Option<Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// Records `items` under `name` as JSON text, when there are any.
fn annotate(annotations: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    if !items.is_empty() {
        annotations.insert(name.to_owned(), json!(Value::Array(items).to_string()));
    }
}

/// Removes the carrier annotations from `object` and returns them (dropping an emptied
/// annotations map, as upstream omits it).
fn take_annotations(object: &mut Map<String, Value>) -> Map<String, Value> {
    let mut carried = Map::new();
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return carried;
    };
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        for name in [
            METRICS_ANNOTATION,
            CURRENT_METRICS_ANNOTATION,
            CONDITIONS_ANNOTATION,
            BEHAVIOR_ANNOTATION,
        ] {
            if let Some(value) = annotations.remove(name) {
                carried.insert(name.to_owned(), value);
            }
        }
        if annotations.is_empty() {
            metadata.remove("annotations");
        }
    }
    carried
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{v1_to_v2, v2_to_v1};

    fn map(value: Value) -> serde_json::Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }

    #[test]
    fn v1_sees_the_cpu_target_and_carries_the_rest() {
        let v2 = map(json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                "minReplicas": 1, "maxReplicas": 5,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}},
            },
            "status": {"currentReplicas": 2, "desiredReplicas": 3,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42}}}],
                "conditions": [{"type": "AbleToScale", "status": "True"}]},
        }));
        let v1 = v2_to_v1(v2.clone());
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);
        assert_eq!(v1["spec"].get("metrics"), None);
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 42);
        let annotations = &v1["metadata"]["annotations"];
        assert!(annotations["autoscaling.alpha.kubernetes.io/metrics"]
            .as_str()
            .is_some_and(|text| text.contains("memory")));
        let back = v1_to_v2(v1);
        assert_eq!(back["spec"], v2["spec"]);
        assert_eq!(back["status"], v2["status"]);
        assert_eq!(back["metadata"], json!({"name": "h"}));
    }

    #[test]
    fn v1_without_a_target_gets_upstreams_default() {
        let v1 = map(json!({
            "metadata": {"name": "h"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3},
        }));
        let v2 = v1_to_v2(v1);
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"],
            json!({"type": "Utilization", "averageUtilization": 80})
        );
    }
}
