//! The published schemas as the server's merge code reads them: each field's
//! `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` for strategic merge
//! patch, and `x-kubernetes-list-type`, `-list-map-keys` and `-map-type` for server-side
//! apply, following `$ref`s, so the server merges exactly as kubectl (which reads the same
//! documents) expects.

use serde_json::{Map, Value};

use super::fields::{kind_schema, resolve};
use super::source;
use super::OpenApiError;
use crate::apply::{ApplySchema, ListKind};
use crate::patch::{FieldPatch, PatchSchema};

/// A place in a kind's schema.
#[derive(Clone, Copy, Debug)]
pub struct SchemaNode {
    definitions: &'static Map<String, Value>,
    schema: &'static Value,
}

/// The schema of a `group`/`version` `kind`, for strategic merge patch; `None` for kinds
/// without one.
pub fn patch_schema(
    group: &str,
    version: &str,
    kind: &str,
) -> Result<Option<SchemaNode>, OpenApiError> {
    let definitions = source::definitions()?;
    Ok(kind_schema(group, version, kind)?.map(|schema| SchemaNode {
        definitions,
        schema,
    }))
}

impl SchemaNode {
    fn at(&self, schema: &'static Value) -> Self {
        Self {
            definitions: self.definitions,
            schema,
        }
    }

    fn resolved(&self) -> &'static Value {
        resolve(self.definitions, self.schema)
    }
}

impl PatchSchema for SchemaNode {
    fn field(&self, name: &str) -> (Option<Self>, FieldPatch) {
        let schema = self.resolved();
        if let Some(property) = schema.get("properties").and_then(|p| p.get(name)) {
            let strategy = property
                .get("x-kubernetes-patch-strategy")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let meta = FieldPatch {
                merge: strategy.split(',').any(|part| part == "merge"),
                retain_keys: strategy.split(',').any(|part| part == "retainKeys"),
                merge_key: property
                    .get("x-kubernetes-patch-merge-key")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            return (Some(self.at(property)), meta);
        }
        let values = schema
            .get("additionalProperties")
            .filter(|values| values.is_object());
        (values.map(|values| self.at(values)), FieldPatch::default())
    }

    fn element(&self) -> Option<Self> {
        self.resolved()
            .get("items")
            .filter(|items| items.is_object())
            .map(|items| self.at(items))
    }
}

impl ApplySchema for SchemaNode {
    fn field(&self, name: &str) -> (Option<Self>, bool) {
        let schema = self.resolved();
        if let Some(property) = schema.get("properties").and_then(|p| p.get(name)) {
            return (Some(self.at(property)), true);
        }
        let values = schema
            .get("additionalProperties")
            .filter(|values| values.is_object());
        (values.map(|values| self.at(values)), false)
    }

    fn element(&self) -> Option<Self> {
        PatchSchema::element(self)
    }

    /// The list type, or, for lists that only carry patch metadata, what upstream's schema
    /// conversion derives from it (a merge key makes a list-map, `merge` alone a set);
    /// anything else is atomic.
    fn list_kind(&self) -> ListKind {
        let own = self.schema;
        let resolved = self.resolved();
        let extension = |name: &str| own.get(name).or_else(|| resolved.get(name));
        let keys = || -> Vec<String> {
            extension("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|key| key.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        match extension("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => return ListKind::Map(keys()),
            Some("set") => return ListKind::Set,
            Some(_) => return ListKind::Atomic,
            None => {}
        }
        let strategy = extension("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if strategy.split(',').any(|part| part == "merge") {
            return match extension("x-kubernetes-patch-merge-key").and_then(Value::as_str) {
                Some(key) => ListKind::Map(vec![key.to_owned()]),
                None => ListKind::Set,
            };
        }
        ListKind::Atomic
    }

    fn map_atomic(&self) -> bool {
        let atomic = |schema: &Value| {
            schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
        };
        atomic(self.schema) || atomic(self.resolved())
    }

    /// The key field's schema default; `protocol` (the one list-map key with a default in
    /// the built-in API, e.g. of container and service ports) defaults to `TCP`.
    fn key_default(&self, key: &str) -> Option<Value> {
        let property = self.resolved().get("properties")?.get(key)?;
        property
            .get("default")
            .cloned()
            .or_else(|| (key == "protocol").then(|| Value::String("TCP".to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::patch_schema;
    use crate::patch::PatchSchema;

    #[test]
    fn pod_containers_merge_by_name() -> Result<(), String> {
        let pod = patch_schema("", "v1", "Pod")
            .map_err(|error| error.to_string())?
            .ok_or("no Pod schema")?;
        let (spec, _) = pod.field("spec");
        let spec = spec.ok_or("no spec")?;
        let (containers, meta) = spec.field("containers");
        assert!(meta.merge, "{meta:?}");
        assert_eq!(meta.merge_key.as_deref(), Some("name"));
        let container = containers
            .and_then(|c| c.element())
            .ok_or("no container schema")?;
        let (env, meta) = container.field("env");
        assert!(env.is_some() && meta.merge && meta.merge_key.as_deref() == Some("name"));
        let (_, args) = container.field("args");
        assert!(!args.merge);
        let (labels, _) = pod
            .field("metadata")
            .0
            .ok_or("no metadata")?
            .field("labels");
        assert!(labels.is_some());
        Ok(())
    }
}
