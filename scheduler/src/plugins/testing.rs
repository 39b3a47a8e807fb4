//! Builders for plugin unit tests.

use std::sync::Arc;

use serde_json::Value;

use crate::framework::{NodeInfo, PodInfo};

/// A pod from JSON (namespace `default` unless given).
pub fn pod(value: Value) -> PodInfo {
    let mut value = value;
    if value.pointer("/metadata/namespace").is_none() {
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), "default".into());
        }
    }
    if value.pointer("/spec/containers").is_none() {
        if let Some(spec) = value.as_object_mut() {
            let mut s = spec.remove("spec").unwrap_or_else(|| serde_json::json!({}));
            if let Some(obj) = s.as_object_mut() {
                obj.insert("containers".into(), serde_json::json!([{"name": "c"}]));
            }
            spec.insert("spec".into(), s);
        }
    }
    PodInfo::new(Arc::new(serde_json::from_value(value).expect("pod")), 0)
}

/// A node from JSON.
pub fn node(value: Value) -> NodeInfo {
    NodeInfo::new(Arc::new(serde_json::from_value(value).expect("node")))
}

/// A node with `pods` on it.
pub fn node_with(value: Value, pods: Vec<PodInfo>) -> NodeInfo {
    let mut info = node(value);
    for p in pods {
        info.add_pod(Arc::new(p));
    }
    info
}
