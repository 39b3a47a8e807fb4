//! A custom resource's schema as server-side apply walks it: list and map types from the
//! CRD's `x-kubernetes-list-type`, `-list-map-keys` and `-map-type` (lists without one are
//! atomic, as upstream treats CRD lists).

use std::sync::Arc;

use serde_json::Value;

use crate::apply::{ApplySchema, ListKind};

/// A place in a CRD version's `openAPIV3Schema`.
#[derive(Clone, Debug)]
pub struct CrdNode {
    root: Arc<Value>,
    pointer: String,
}

impl CrdNode {
    /// The root of a version's schema.
    pub fn new(root: Arc<Value>) -> Self {
        Self {
            root,
            pointer: String::new(),
        }
    }

    fn value(&self) -> &Value {
        self.root.pointer(&self.pointer).unwrap_or(&Value::Null)
    }

    fn at(&self, suffix: &str) -> Self {
        Self {
            root: Arc::clone(&self.root),
            pointer: format!("{}{suffix}", self.pointer),
        }
    }
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

impl ApplySchema for CrdNode {
    fn field(&self, name: &str) -> (Option<Self>, bool) {
        let schema = self.value();
        if schema.get("properties").and_then(|p| p.get(name)).is_some() {
            return (
                Some(self.at(&format!("/properties/{}", escape(name)))),
                true,
            );
        }
        if schema
            .get("additionalProperties")
            .is_some_and(Value::is_object)
        {
            return (Some(self.at("/additionalProperties")), false);
        }
        (None, false)
    }

    fn element(&self) -> Option<Self> {
        self.value()
            .get("items")
            .filter(|items| items.is_object())
            .map(|_| self.at("/items"))
    }

    fn list_kind(&self) -> ListKind {
        let schema = self.value();
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => ListKind::Map(
                schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| {
                        keys.iter()
                            .filter_map(|key| key.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            Some("set") => ListKind::Set,
            _ => ListKind::Atomic,
        }
    }

    fn map_atomic(&self) -> bool {
        self.value()
            .get("x-kubernetes-map-type")
            .and_then(Value::as_str)
            == Some("atomic")
    }

    fn key_default(&self, key: &str) -> Option<Value> {
        self.value()
            .pointer(&format!("/items/properties/{}/default", escape(key)))
            .cloned()
    }
}
