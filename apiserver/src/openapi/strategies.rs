//! How each field patches and merges, in the published schemas: the
//! `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` extensions kube-openapi writes from
//! upstream's Go tags. k8s-openapi's JSON schemas carry none of them; `patch_meta` holds the
//! tags of the v1.35 types, and this writes them where kube-apiserver's documents have them:
//! on the field's property, and `x-kubernetes-map-type: atomic` on the definition of each
//! `+structType=atomic` struct.

use serde_json::{json, Map, Value};

use super::patch_meta::{self, PatchMeta};

/// Adds the extensions of every field `patch_meta` lists to `definitions` (Swagger
/// `definitions`, keyed by upstream name). Definitions and fields the documents do not
/// publish are skipped.
pub(super) fn extensions(definitions: &mut Map<String, Value>) {
    for (definition, field, meta) in patch_meta::fields() {
        if let Some(property) = definitions
            .get_mut(definition)
            .and_then(|schema| schema.get_mut("properties"))
            .and_then(|properties| properties.get_mut(field))
            .and_then(Value::as_object_mut)
        {
            insert(property, meta);
        }
    }
    for definition in patch_meta::atomic_structs() {
        if let Some(schema) = definitions
            .get_mut(definition)
            .and_then(Value::as_object_mut)
        {
            schema.insert("x-kubernetes-map-type".to_owned(), json!("atomic"));
        }
    }
}

/// Writes one field's extensions, spelled as kube-openapi spells them.
fn insert(property: &mut Map<String, Value>, meta: &PatchMeta) {
    if let Some(strategy) = meta.strategy {
        property.insert(
            "x-kubernetes-patch-strategy".to_owned(),
            json!(strategy.as_str()),
        );
    }
    if let Some(key) = meta.merge_key {
        property.insert("x-kubernetes-patch-merge-key".to_owned(), json!(key));
    }
    if let Some(list_type) = meta.list_type {
        property.insert(
            "x-kubernetes-list-type".to_owned(),
            json!(list_type.as_str()),
        );
    }
    if !meta.map_keys.is_empty() {
        property.insert(
            "x-kubernetes-list-map-keys".to_owned(),
            json!(meta.map_keys),
        );
    }
    if let Some(map_type) = meta.map_type {
        property.insert("x-kubernetes-map-type".to_owned(), json!(map_type.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::extensions;
    use crate::openapi::patch_meta;
    use crate::openapi::source;

    #[test]
    fn extensions_follow_upstream_spelling() -> Result<(), String> {
        let mut definitions: Map<String, Value> = serde_json::from_value(json!({
            "io.k8s.api.core.v1.PodSpec": {"properties": {
                "volumes": {"type": "array"},
                "tolerations": {"type": "array"},
                "nodeSelector": {"type": "object"},
            }},
            "io.k8s.api.core.v1.Container": {"properties": {"ports": {"type": "array"}}},
            "io.k8s.api.apps.v1.DeploymentSpec": {"properties": {"strategy": {"$ref": "x"}}},
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"properties": {
                "finalizers": {"type": "array"},
                "labels": {"type": "object"},
            }},
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector": {"type": "object"},
        }))
        .map_err(|error| error.to_string())?;
        extensions(&mut definitions);
        let at = |definition: &str, pointer: &str| {
            definitions
                .get(definition)
                .and_then(|schema| schema.pointer(pointer))
                .cloned()
        };
        assert_eq!(
            at("io.k8s.api.core.v1.PodSpec", "/properties/volumes"),
            Some(json!({
                "type": "array",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge,retainKeys",
            }))
        );
        assert_eq!(
            at("io.k8s.api.core.v1.Container", "/properties/ports"),
            Some(json!({
                "type": "array",
                "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "containerPort",
                "x-kubernetes-patch-strategy": "merge",
            }))
        );
        assert_eq!(
            at("io.k8s.api.core.v1.PodSpec", "/properties/tolerations"),
            Some(json!({"type": "array", "x-kubernetes-list-type": "atomic"}))
        );
        assert_eq!(
            at("io.k8s.api.core.v1.PodSpec", "/properties/nodeSelector"),
            Some(json!({"type": "object", "x-kubernetes-map-type": "atomic"}))
        );
        assert_eq!(
            at("io.k8s.api.apps.v1.DeploymentSpec", "/properties/strategy"),
            Some(json!({"$ref": "x", "x-kubernetes-patch-strategy": "retainKeys"}))
        );
        assert_eq!(
            at(
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "/properties/finalizers"
            ),
            Some(json!({
                "type": "array",
                "x-kubernetes-list-type": "set",
                "x-kubernetes-patch-strategy": "merge",
            }))
        );
        assert_eq!(
            at(
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "/properties/labels"
            ),
            Some(json!({"type": "object"}))
        );
        assert_eq!(
            at("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", ""),
            Some(json!({"type": "object", "x-kubernetes-map-type": "atomic"}))
        );
        Ok(())
    }

    /// Every row names a property of the published definition it names (when that
    /// definition is published at all), and the published schemas carry the row.
    #[test]
    fn every_published_row_lands_on_a_property() -> Result<(), String> {
        let definitions = source::definitions().map_err(|error| error.to_string())?;
        let mut landed = 0;
        for (definition, field, meta) in patch_meta::fields() {
            let Some(schema) = definitions.get(definition) else {
                continue;
            };
            let property = schema
                .pointer(&format!("/properties/{field}"))
                .ok_or_else(|| format!("{definition} has no property {field}"))?;
            if let Some(list_type) = meta.list_type {
                assert_eq!(
                    property.get("x-kubernetes-list-type"),
                    Some(&json!(list_type.as_str())),
                    "{definition}.{field}"
                );
            }
            landed += 1;
        }
        assert!(landed > 250, "only {landed} rows published");
        for definition in patch_meta::atomic_structs() {
            if let Some(schema) = definitions.get(definition) {
                assert_eq!(
                    schema.get("x-kubernetes-map-type"),
                    Some(&json!("atomic")),
                    "{definition}"
                );
            }
        }
        Ok(())
    }
}
