//! The published schemas as strategic merge patch reads them: each field's
//! `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`, following `$ref`s, so
//! the server merges exactly as kubectl (which reads the same documents) expects.

use serde_json::{Map, Value};

use super::fields::{kind_schema, resolve};
use super::source;
use super::OpenApiError;
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
