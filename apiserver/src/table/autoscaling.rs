//! HorizontalPodAutoscalers, printed from their stored `autoscaling/v2` form whichever
//! version is read: reference, targets (`cpu: 40%/80%`), min and max pods, replicas.

use k8s_openapi::api::autoscaling::v1::{ScaleSpec, ScaleStatus};
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscalerSpec, HorizontalPodAutoscalerStatus,
};

use super::common::{age, doc, int, meta, name, text, AGE, NAME};
use super::node::Node;
use super::printer::{Column, Printer};
use super::quantity;

/// `horizontalpodautoscalers`, in either version.
pub static HORIZONTAL_POD_AUTOSCALER: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Reference",
            "string",
            doc::<HorizontalPodAutoscalerSpec>("scaleTargetRef"),
        ),
        Column::new(
            "Targets",
            "string",
            doc::<HorizontalPodAutoscalerSpec>("metrics"),
        ),
        Column::new(
            "MinPods",
            "string",
            doc::<HorizontalPodAutoscalerSpec>("minReplicas"),
        ),
        Column::new(
            "MaxPods",
            "string",
            doc::<HorizontalPodAutoscalerSpec>("maxReplicas"),
        ),
        Column::new(
            "Replicas",
            "string",
            doc::<HorizontalPodAutoscalerStatus>("currentReplicas"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let target = spec.get("scaleTargetRef");
        // The API defaults minReplicas to 1.
        let min = spec.get("minReplicas").as_i64().unwrap_or(1);
        vec![
            name(object),
            text(format!(
                "{}/{}",
                target.get("kind").str(),
                target.get("name").str()
            )),
            text(metrics(
                spec.get("metrics"),
                object.at(&["status", "currentMetrics"]),
            )),
            text(min.to_string()),
            int(spec.get("maxReplicas").int()),
            int(object.at(&["status", "currentReplicas"]).int()),
            age(object, context),
        ]
        .into()
    },
);

/// The `scale` subresource's `Scale` (upstream's `Name` column has no `name` format here).
pub static SCALE: Printer = Printer::new(
    &[
        Column::new("Name", "string", meta("name")),
        Column::new("Desired", "integer", doc::<ScaleSpec>("replicas")),
        Column::new("Available", "integer", doc::<ScaleStatus>("replicas")),
        AGE,
    ],
    |scale, context| {
        vec![
            name(scale),
            int(scale.at(&["spec", "replicas"]).int()),
            int(scale.at(&["status", "replicas"]).int()),
            age(scale, context),
        ]
        .into()
    },
);

/// A quantity that is set, canonically.
fn set_quantity(node: Node<'_>) -> Option<String> {
    node.is_set().then(|| quantity::of(node))
}

/// A quantity pointer as Go's `String()` prints it: `<nil>` when unset.
fn pointer(node: Node<'_>) -> String {
    set_quantity(node).unwrap_or_else(|| "<nil>".to_owned())
}

/// `current/target` of a metric whose target is a value or an average value.
fn value_pair(target: Node<'_>, current: Option<Node<'_>>, average_suffix: bool) -> String {
    if let Some(average) = set_quantity(target.get("averageValue")) {
        let current = current
            .and_then(|current| set_quantity(current.get("averageValue")))
            .unwrap_or_else(|| "<unknown>".to_owned());
        if average_suffix {
            return format!("{current}/{average} (avg)");
        }
        return format!("{current}/{average}");
    }
    let current = current.map_or_else(
        || "<unknown>".to_owned(),
        |current| pointer(current.get("value")),
    );
    format!("{current}/{}", pointer(target.get("value")))
}

/// `name: current/target` of a resource metric (utilization or average value).
fn resource_pair(source: Node<'_>, current: Option<Node<'_>>) -> String {
    let resource = source.get("name").str();
    let target = source.get("target");
    if let Some(average) = set_quantity(target.get("averageValue")) {
        let current = current
            .map(|current| pointer(current.at(&["current", "averageValue"])))
            .unwrap_or_else(|| "<unknown>".to_owned());
        return format!("{resource}: {current}/{average}");
    }
    let current = current
        .and_then(|current| current.at(&["current", "averageUtilization"]).as_i64())
        .map_or_else(|| "<unknown>".to_owned(), |value| format!("{value}%"));
    let target = target
        .get("averageUtilization")
        .as_i64()
        .map_or_else(|| "<auto>".to_owned(), |value| format!("{value}%"));
    format!("{resource}: {current}/{target}")
}

/// `formatHPAMetrics`: up to two metrics, then `+ N more...`.
pub fn metrics(specs: Node<'_>, statuses: Node<'_>) -> String {
    const MAX: usize = 2;
    let statuses: Vec<Node<'_>> = statuses.items().collect();
    let default_metric = serde_json::json!([{
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}
    }]);
    // The API defaults an autoscaler without metrics to 80% CPU utilization.
    let specs = if specs.count() == 0 {
        Node::of(&default_metric)
    } else {
        specs
    };
    let mut list: Vec<String> = Vec::new();
    for (index, spec) in specs.items().enumerate() {
        let status = statuses.get(index).copied();
        let status_of = |field: &str| {
            status
                .map(|status| status.get(field))
                .filter(|n| n.is_set())
        };
        let entry = match spec.get("type").str() {
            "External" => value_pair(
                spec.at(&["external", "target"]),
                status_of("external").map(|status| status.get("current")),
                true,
            ),
            "Pods" => {
                let current = status_of("pods")
                    .map(|status| pointer(status.at(&["current", "averageValue"])))
                    .unwrap_or_else(|| "<unknown>".to_owned());
                format!(
                    "{current}/{}",
                    pointer(spec.at(&["pods", "target", "averageValue"]))
                )
            }
            "Object" => value_pair(
                spec.at(&["object", "target"]),
                status_of("object").map(|status| status.get("current")),
                true,
            ),
            "Resource" => resource_pair(spec.get("resource"), status_of("resource")),
            "ContainerResource" => resource_pair(
                spec.get("containerResource"),
                status_of("containerResource"),
            ),
            _ => "<unknown type>".to_owned(),
        };
        list.push(entry);
    }
    let count = list.len();
    if count > MAX {
        list.truncate(MAX);
        return format!("{} + {} more...", list.join(", "), count - MAX);
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::metrics;
    use crate::table::node::Node;

    #[test]
    fn targets_show_current_over_target() {
        let specs = json!([
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1024Mi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
        ]);
        let statuses = json!([
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}},
        ]);
        assert_eq!(
            metrics(Node::of(&specs), Node::of(&statuses)),
            "cpu: 40%/80%, memory: <unknown>/1Gi + 1 more..."
        );
        assert_eq!(
            metrics(Node::of(&json!([])), Node::of(&json!([]))),
            "cpu: <unknown>/80%"
        );
    }
}
