//! Every OpenAPI document the server publishes, built from the registry's paths and the
//! generated definitions, serialized once and hashed once: clients cache v3 documents by that hash, so
//! the bytes must not change while the server runs.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::select::{self, References};
use super::v3::Converter;
use super::{custom, paths, source, OpenApiError};
use crate::handlers::version::VersionInfo;
use crate::registry::Registry;

/// One document's bytes and its hash.
pub(super) struct Served {
    /// The JSON text.
    pub(super) body: Bytes,
    /// kube-openapi's ETag: the SHA-512 of `body` in upper-case hex, unquoted. It is also
    /// the `hash` of the document's v3 URL.
    pub(super) etag: String,
}

impl Served {
    fn new(document: &Value) -> Result<Self, OpenApiError> {
        let body = serde_json::to_vec(document).map_err(OpenApiError::Serialize)?;
        let etag = etag(&body);
        Ok(Self {
            body: Bytes::from(body),
            etag,
        })
    }
}

/// The hash kube-openapi computes (`%X` of SHA-512), which clients see in URLs and ETags.
pub(super) fn etag(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, data);
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect()
}

/// Everything under `/openapi`.
pub(super) struct Documents {
    /// `/openapi/v3`: where each v3 document lives, with its hash.
    pub(super) index: Served,
    /// `/openapi/v3/{name}` by name (`api/v1`, `apis/apps/v1`, `apis/apps`, ...).
    pub(super) v3: BTreeMap<String, Served>,
    /// `/openapi/v2`: one Swagger 2.0 document with every served path.
    pub(super) v2: Served,
    /// When they were built: their `Last-Modified`.
    pub(super) built: SystemTime,
}

impl Documents {
    /// Builds every document for what `registry` serves.
    pub(super) fn build(registry: &Registry) -> Result<Self, OpenApiError> {
        let definitions = custom::with_custom(source::definitions()?, registry);
        let definitions = definitions.as_ref();
        let parameters = Map::new();
        let all_paths = paths::paths(registry, &paths::kinds(definitions));
        let version = server_version();

        let mut grouped: BTreeMap<String, Vec<(&str, &Value)>> = BTreeMap::new();
        for (path, item) in &all_paths {
            if let Some(document) = select::document_of(path, registry) {
                grouped
                    .entry(document)
                    .or_default()
                    .push((path.as_str(), item));
            }
        }

        let converter = Converter::new(definitions, &parameters);
        let security_schemes = security_definitions();
        let mut v3 = BTreeMap::new();
        for (name, items) in &grouped {
            let references = References::of(
                items.iter().map(|(_, item)| *item),
                definitions,
                &parameters,
            );
            let document = converter.document(
                items.iter().copied(),
                &references.definitions,
                &security_schemes,
                &version,
            );
            v3.insert(name.clone(), Served::new(&document)?);
        }

        let mut index = Map::new();
        for (name, served) in &v3 {
            index.insert(
                name.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{name}?hash={}", served.etag)}),
            );
        }
        let index = Served::new(&json!({ "paths": index }))?;

        let mut served_paths: Vec<(&str, &Value)> = grouped.values().flatten().copied().collect();
        served_paths.sort_by(|a, b| a.0.cmp(b.0));
        let v2 = Served::new(&swagger(&served_paths, definitions, &parameters, &version))?;

        Ok(Self {
            index,
            v3,
            v2,
            built: SystemTime::now(),
        })
    }
}

/// The Swagger 2.0 document of `paths`, with the definitions and shared parameters they
/// reach, in upstream's key order.
fn swagger(
    paths: &[(&str, &Value)],
    definitions: &Map<String, Value>,
    parameters: &Map<String, Value>,
    version: &str,
) -> Value {
    let references = References::of(paths.iter().map(|(_, item)| *item), definitions, parameters);
    let pick = |names: &std::collections::BTreeSet<String>, from: &Map<String, Value>| {
        names
            .iter()
            .filter_map(|name| from.get(name).map(|value| (name.clone(), value.clone())))
            .collect::<Map<String, Value>>()
    };
    let paths: Map<String, Value> = paths
        .iter()
        .map(|(path, item)| ((*path).to_owned(), (*item).clone()))
        .collect();
    json!({
        "definitions": pick(&references.definitions, definitions),
        "info": {"title": "Kubernetes", "version": version},
        "parameters": pick(&references.parameters, parameters),
        "paths": paths,
        "security": [{"BearerToken": []}],
        "securityDefinitions": security_definitions(),
        "swagger": "2.0",
    })
}

/// How clients authenticate: kube-apiserver documents bearer tokens only.
fn security_definitions() -> Value {
    json!({
        "BearerToken": {
            "description": "Bearer Token authentication",
            "in": "header",
            "name": "authorization",
            "type": "apiKey",
        }
    })
}

/// The `gitVersion` `/version` reports, which kube-apiserver also puts in `info.version`.
fn server_version() -> String {
    serde_json::to_value(VersionInfo::current())
        .ok()
        .and_then(|info| info.get("gitVersion")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unversioned".to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::{etag, Documents};
    use crate::registry::Registry;

    fn parse(bytes: &[u8]) -> Result<Value, String> {
        serde_json::from_slice(bytes).map_err(|error| error.to_string())
    }

    #[test]
    fn etag_is_upper_case_sha512() {
        let hash = etag(b"");
        assert_eq!(hash.len(), 128);
        assert!(hash.starts_with("CF83E1357EEFB8BDF1542850D66D8007"));
    }

    #[test]
    fn index_lists_exactly_the_registry_group_versions() -> Result<(), String> {
        let registry = Registry::builtin();
        let documents = Documents::build(&registry).map_err(|error| error.to_string())?;
        let index = parse(&documents.index.body)?;
        let paths = index
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("no paths")?;
        for (group, versions) in registry.groups() {
            for version in versions {
                let name = if group.is_empty() {
                    format!("api/{version}")
                } else {
                    format!("apis/{group}/{version}")
                };
                let url = paths
                    .get(&name)
                    .and_then(|entry| entry.get("serverRelativeURL"))
                    .and_then(Value::as_str)
                    .ok_or(format!("{name} missing"))?;
                let served = documents.v3.get(&name).ok_or(format!("{name} not built"))?;
                assert_eq!(url, format!("/openapi/v3/{name}?hash={}", served.etag));
            }
        }
        for name in paths.keys() {
            let served = name == "api"
                || name == "apis"
                || name == "version"
                || registry.groups().iter().any(|(group, versions)| {
                    (group.is_empty() && versions.iter().any(|v| *name == format!("api/{v}")))
                        || (!group.is_empty()
                            && (*name == format!("apis/{group}")
                                || versions
                                    .iter()
                                    .any(|v| *name == format!("apis/{group}/{v}"))))
                });
            assert!(served, "{name} is not in the registry");
        }
        assert!(!paths.contains_key("apis/resource.k8s.io/v1alpha3"));
        Ok(())
    }

    #[test]
    fn deployment_document_carries_upstream_schema_and_operations() -> Result<(), String> {
        let documents =
            Documents::build(&Registry::builtin()).map_err(|error| error.to_string())?;
        let apps = parse(&documents.v3.get("apis/apps/v1").ok_or("no apps/v1")?.body)?;
        let deployment = apps
            .pointer("/components/schemas/io.k8s.api.apps.v1.Deployment")
            .ok_or("no Deployment schema")?;
        assert_eq!(
            deployment.pointer("/x-kubernetes-group-version-kind/0/kind"),
            Some(&Value::from("Deployment"))
        );
        let replicas = apps
            .pointer("/components/schemas/io.k8s.api.apps.v1.DeploymentSpec/properties/replicas/description")
            .and_then(Value::as_str)
            .ok_or("no replicas description")?;
        assert!(
            replicas.starts_with("Number of desired pods."),
            "{replicas}"
        );
        let containers = apps
            .pointer("/components/schemas/io.k8s.api.core.v1.PodSpec/properties/containers")
            .ok_or("no PodSpec.containers")?;
        assert_eq!(
            containers.get("x-kubernetes-patch-merge-key"),
            Some(&Value::from("name"))
        );
        assert_eq!(
            containers.get("x-kubernetes-patch-strategy"),
            Some(&Value::from("merge"))
        );
        let patch = apps
            .pointer("/paths/~1apis~1apps~1v1~1namespaces~1{namespace}~1deployments~1{name}/patch")
            .ok_or("no deployment patch")?;
        let names: Vec<&str> = patch
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|parameter| parameter.get("name")?.as_str())
            .collect();
        assert!(names.contains(&"fieldValidation"), "{names:?}");
        assert!(names.contains(&"dryRun"), "{names:?}");
        // Only what apps/v1 reaches: no admission or CRD schemas.
        assert!(apps
            .pointer("/components/schemas/io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration")
            .is_none());
        Ok(())
    }

    #[test]
    fn swagger_holds_every_served_path_and_no_other() -> Result<(), String> {
        let documents =
            Documents::build(&Registry::builtin()).map_err(|error| error.to_string())?;
        let v2 = parse(&documents.v2.body)?;
        assert_eq!(v2.get("swagger"), Some(&Value::from("2.0")));
        let paths = v2
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("no paths")?;
        assert!(paths.contains_key("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"));
        assert!(paths.contains_key("/api/v1/namespaces/{namespace}/configmaps"));
        assert!(!paths.keys().any(|path| path.contains("v1alpha")));
        let definitions = v2
            .get("definitions")
            .and_then(Value::as_object)
            .ok_or("no definitions")?;
        assert!(definitions.contains_key("io.k8s.api.core.v1.Pod"));
        // Every reference resolves within the document.
        let text = String::from_utf8_lossy(&documents.v2.body);
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap_or_default();
            if let Some(name) = target.strip_prefix("#/definitions/") {
                assert!(definitions.contains_key(name), "dangling {target}");
            } else if let Some(name) = target.strip_prefix("#/parameters/") {
                assert!(
                    v2.pointer(&format!("/parameters/{name}")).is_some(),
                    "dangling {target}"
                );
            }
        }
        Ok(())
    }
}
