//! Custom resources in the published documents: each served CRD version becomes a
//! definition named as upstream names it (the group reversed, e.g.
//! `com.example.stable.v1.CronTab`) with the standard `apiVersion`, `kind` and `metadata`
//! fields and the GVK extension, plus its list, so paths, `kubectl explain` and client-side
//! validation find them.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use crate::registry::Registry;

const OBJECT_META: &str = "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// `stable.example.com`, `v1`, `CronTab` → `com.example.stable.v1.CronTab`.
pub(super) fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

fn api_version_property() -> Value {
    json!({"description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources", "type": "string"})
}

fn kind_property() -> Value {
    json!({"description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds", "type": "string"})
}

/// The static definitions plus those of the registry's custom resources.
pub(super) fn with_custom<'a>(
    definitions: &'a Map<String, Value>,
    registry: &Registry,
) -> Cow<'a, Map<String, Value>> {
    let mut custom = registry.custom_versions().peekable();
    if custom.peek().is_none() {
        return Cow::Borrowed(definitions);
    }
    let mut all = definitions.clone();
    for (resource, version) in custom {
        let name = definition_name(resource.group, resource.version, resource.kind);
        let mut schema = version.schema.as_deref().cloned().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
        if let Some(object) = schema.as_object_mut() {
            object.entry("type").or_insert_with(|| json!("object"));
            let properties = object.entry("properties").or_insert_with(|| json!({}));
            if let Some(properties) = properties.as_object_mut() {
                properties.insert("apiVersion".to_owned(), api_version_property());
                properties.insert("kind".to_owned(), kind_property());
                properties.insert(
                    "metadata".to_owned(),
                    json!({"$ref": OBJECT_META, "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}),
                );
            }
            object.insert(
                "x-kubernetes-group-version-kind".to_owned(),
                json!([{"group": resource.group, "kind": resource.kind, "version": resource.version}]),
            );
        }
        all.insert(
            format!("{name}List"),
            json!({
                "description": format!("{}List is a list of {}", resource.kind, resource.kind),
                "type": "object",
                "required": ["items"],
                "properties": {
                    "apiVersion": api_version_property(),
                    "items": {
                        "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", resource.plural),
                        "type": "array",
                        "items": {"$ref": format!("#/definitions/{name}")},
                    },
                    "kind": kind_property(),
                    "metadata": {"$ref": LIST_META, "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"},
                },
                "x-kubernetes-group-version-kind": [{"group": resource.group, "kind": version.list_kind, "version": resource.version}],
            }),
        );
        all.insert(name, schema);
    }
    Cow::Owned(all)
}

#[cfg(test)]
mod tests {
    use super::definition_name;

    #[test]
    fn names_reverse_the_group() {
        assert_eq!(
            definition_name("stable.example.com", "v1", "CronTab"),
            "com.example.stable.v1.CronTab"
        );
    }
}
