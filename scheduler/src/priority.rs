//! Pod priorities: `spec.priority` when admission set it, else the value of the pod's
//! PriorityClass (or the global default class), as the Priority admission plugin resolves it.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::scheduling::v1::PriorityClass;

/// Known PriorityClasses.
#[derive(Default)]
pub struct PriorityClasses {
    values: HashMap<String, (i32, bool)>,
}

impl PriorityClasses {
    /// Records a class.
    pub fn upsert(&mut self, class: &PriorityClass) {
        if let Some(name) = class.metadata.name.clone() {
            self.values
                .insert(name, (class.value, class.global_default.unwrap_or(false)));
        }
    }

    /// Forgets a class.
    pub fn remove(&mut self, name: &str) {
        self.values.remove(name);
    }

    /// The priority the pod is scheduled with. A named, known class wins over
    /// `spec.priority`: with upstream's admission they agree, and an API server that
    /// defaults `spec.priority` to 0 without resolving the class would otherwise hide it.
    pub fn of(&self, pod: &Pod) -> i32 {
        let spec = pod.spec.as_ref();
        if let Some(class) = spec.and_then(|s| s.priority_class_name.as_deref()) {
            match class {
                "system-node-critical" => return 2_000_001_000,
                "system-cluster-critical" => return 2_000_000_000,
                _ => {}
            }
            if let Some((value, _)) = self.values.get(class) {
                return *value;
            }
        }
        if let Some(priority) = spec.and_then(|s| s.priority) {
            return priority;
        }
        self.values
            .values()
            .filter(|(_, global)| *global)
            .map(|(value, _)| *value)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn class_values_and_defaults() {
        let mut classes = PriorityClasses::default();
        let high: PriorityClass =
            serde_json::from_value(json!({"metadata": {"name": "high"}, "value": 1000}))
                .expect("class");
        classes.upsert(&high);
        let pod = |spec: serde_json::Value| -> Pod {
            serde_json::from_value(json!({"spec": spec})).expect("pod")
        };
        assert_eq!(
            classes.of(&pod(json!({"containers": [], "priorityClassName": "high"}))),
            1000
        );
        assert_eq!(
            classes.of(&pod(
                json!({"containers": [], "priority": 0, "priorityClassName": "high"})
            )),
            1000
        );
        assert_eq!(
            classes.of(&pod(json!({"containers": [], "priority": 7}))),
            7
        );
        assert_eq!(classes.of(&pod(json!({"containers": []}))), 0);
        let default: PriorityClass = serde_json::from_value(
            json!({"metadata": {"name": "d"}, "value": 50, "globalDefault": true}),
        )
        .expect("class");
        classes.upsert(&default);
        assert_eq!(classes.of(&pod(json!({"containers": []}))), 50);
    }
}
