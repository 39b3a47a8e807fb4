//! CustomResourceDefinitions: a CRD's served versions become registry rows at run time
//! (so routing, discovery and OpenAPI pick them up), and its schema defaults, prunes and
//! validates the custom objects, as upstream's apiextensions-apiserver does.

mod controller;
mod node;
mod strategy;
mod structural;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::registry::{intern, intern_list, ResourceInfo, Subresource, Verb, ALL_VERBS};

pub use controller::run as run_controller;
pub use node::CrdNode;
pub use strategy::CrdStrategy;
pub use structural::{admit, unknown_fields};

/// Where CRDs are stored.
pub const CRD_PREFIX: &str = "/registry/apiextensions.k8s.io/customresourcedefinitions/";

/// The finalizer that holds a deleted CRD until its objects are gone.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// What one served version of a custom resource needs beyond its registry row.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomVersion {
    /// The CRD's name (`plural.group`).
    pub crd: String,
    /// `openAPIV3Schema` of this version, if any.
    pub schema: Option<Arc<Value>>,
    /// Whether this is the storage version.
    pub storage: bool,
    /// The scale subresource's paths, if it has one.
    pub scale: Option<ScalePaths>,
    /// `additionalPrinterColumns` of this version.
    pub printer_columns: Vec<Value>,
    /// The kind's list kind (`WidgetList`).
    pub list_kind: String,
}

/// `.spec.versions[].subresources.scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    /// e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// e.g. `.status.replicas`.
    pub status_replicas: String,
    /// e.g. `.status.selector`, if set.
    pub label_selector: Option<String>,
}

const STATUS_VERBS: &[Verb] = &[Verb::Get, Verb::Patch, Verb::Update];

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn strings(value: &Value, pointer: &str) -> Vec<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a CRD is live: established and not being deleted.
fn is_served(crd: &Value) -> bool {
    crd.pointer("/metadata/deletionTimestamp").is_none()
}

/// The registry rows and serving details of every served version of `crd`.
pub fn resources_of(crd: &Value) -> Vec<(ResourceInfo, Arc<CustomVersion>)> {
    if !is_served(crd) {
        return Vec::new();
    }
    let (Some(group), Some(plural), Some(kind)) = (
        text(crd, "/spec/group"),
        text(crd, "/spec/names/plural"),
        text(crd, "/spec/names/kind"),
    ) else {
        return Vec::new();
    };
    let singular = text(crd, "/spec/names/singular")
        .map(str::to_owned)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let list_kind = text(crd, "/spec/names/listKind")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{kind}List"));
    let namespaced = text(crd, "/spec/scope") != Some("Cluster");
    let name = text(crd, "/metadata/name").unwrap_or_default().to_owned();
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut served: Vec<&Value> = versions
        .iter()
        .filter(|version| version.get("served").and_then(Value::as_bool) == Some(true))
        .collect();
    served.sort_by(|a, b| {
        let name = |v: &Value| {
            v.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        compare_versions(&name(a), &name(b))
    });
    let short_names = intern_list(&strings(crd, "/spec/names/shortNames"));
    let categories = intern_list(&strings(crd, "/spec/names/categories"));
    served
        .into_iter()
        .filter_map(|version| {
            let version_name = version.get("name").and_then(Value::as_str)?;
            let group = intern(group);
            let version_name = intern(version_name);
            let kind = intern(kind);
            let has_status = version.pointer("/subresources/status").is_some();
            let scale = version
                .pointer("/subresources/scale")
                .map(|scale| ScalePaths {
                    spec_replicas: text(scale, "/specReplicasPath")
                        .unwrap_or(".spec.replicas")
                        .to_owned(),
                    status_replicas: text(scale, "/statusReplicasPath")
                        .unwrap_or(".status.replicas")
                        .to_owned(),
                    label_selector: text(scale, "/labelSelectorPath").map(str::to_owned),
                });
            let subresources =
                subresource_list(group, version_name, kind, has_status, scale.is_some());
            let info = ResourceInfo {
                group,
                version: version_name,
                kind,
                plural: intern(plural),
                singular: intern(&singular),
                namespaced,
                verbs: ALL_VERBS,
                short_names,
                categories,
                subresources,
            };
            let custom = CustomVersion {
                crd: name.clone(),
                schema: version
                    .pointer("/schema/openAPIV3Schema")
                    .cloned()
                    .map(Arc::new),
                storage: version.get("storage").and_then(Value::as_bool) == Some(true),
                scale,
                printer_columns: version
                    .get("additionalPrinterColumns")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                list_kind: list_kind.clone(),
            };
            Some((info, Arc::new(custom)))
        })
        .collect()
}

/// The subresources of a custom resource version, shared across rebuilds of the registry.
fn subresource_list(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    status: bool,
    scale: bool,
) -> &'static [Subresource] {
    type Key = (&'static str, &'static str, &'static str, bool, bool);
    static LISTS: OnceLock<Mutex<HashMap<Key, &'static [Subresource]>>> = OnceLock::new();
    let mut lists = LISTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    lists
        .entry((group, version, kind, status, scale))
        .or_insert_with(|| {
            let mut list = Vec::new();
            if status {
                list.push(Subresource {
                    name: "status",
                    group,
                    version,
                    kind,
                    verbs: STATUS_VERBS,
                });
            }
            if scale {
                list.push(Subresource {
                    name: "scale",
                    group: "autoscaling",
                    version: "v1",
                    kind: "Scale",
                    verbs: STATUS_VERBS,
                });
            }
            Box::leak(list.into_boxed_slice())
        })
}

/// Kubernetes' version priority: GA before beta before alpha, higher numbers first, then
/// anything else alphabetically.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn rank(version: &str) -> (u8, i64, u8, i64, String) {
        let Some(rest) = version.strip_prefix('v') else {
            return (3, 0, 0, 0, version.to_owned());
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(major) = digits.parse::<i64>() else {
            return (3, 0, 0, 0, version.to_owned());
        };
        let tail = &rest[digits.len()..];
        let (stage, minor) = if tail.is_empty() {
            (0, 0)
        } else if let Some(n) = tail.strip_prefix("beta") {
            (1, n.parse().unwrap_or(-1))
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (2, n.parse().unwrap_or(-1))
        } else {
            return (3, 0, 0, 0, version.to_owned());
        };
        if minor < 0 {
            return (3, 0, 0, 0, version.to_owned());
        }
        (stage, -major, 0, -minor, String::new())
    }
    rank(a).cmp(&rank(b))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{compare_versions, resources_of};

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut versions = vec!["v1alpha1", "v1", "v2beta1", "v1beta2", "v2", "foo"];
        versions.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            versions,
            ["v2", "v1", "v2beta1", "v1beta2", "v1alpha1", "foo"]
        );
    }

    #[test]
    fn served_versions_become_rows() {
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true,
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size"}},
                     "schema": {"openAPIV3Schema": {"type": "object"}}},
                    {"name": "v1beta1", "served": false, "storage": false},
                ],
            },
        });
        let rows = resources_of(&crd);
        assert_eq!(rows.len(), 1);
        let (info, custom) = &rows[0];
        assert_eq!(
            (info.group, info.version, info.plural, info.singular),
            ("example.com", "v1", "widgets", "widget")
        );
        assert_eq!(info.short_names, ["wd"]);
        assert_eq!(info.subresources.len(), 2);
        assert_eq!(
            custom.scale.as_ref().map(|s| s.spec_replicas.as_str()),
            Some(".spec.size")
        );
        assert!(custom.storage);
    }
}
