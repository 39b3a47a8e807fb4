//! Which paths and schemas each served document holds: a path belongs to its group
//! version's document (`apis/apps/v1`), and a document carries the schemas its operations
//! reach. Only what the registry routes is published, so a client never learns of an
//! operation this server would answer with 404.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::registry::Registry;

/// The v3 document an upstream path belongs to (`api/v1`, `apis/apps/v1`, `apis/apps`,
/// `api`, `apis`, `version`), or `None` when this server does not serve it.
pub(super) fn document_of(path: &str, registry: &Registry) -> Option<String> {
    match path {
        "/api/" => return has_group(registry, "").then(|| "api".to_owned()),
        "/apis/" => return Some("apis".to_owned()),
        "/version/" => return Some("version".to_owned()),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/api/v1/") {
        return serves(registry, "", "v1", rest).then(|| "api/v1".to_owned());
    }
    let rest = path.strip_prefix("/apis/")?;
    let (group, rest) = rest.split_once('/')?;
    if rest.is_empty() {
        return has_group(registry, group).then(|| format!("apis/{group}"));
    }
    let (version, rest) = rest.split_once('/')?;
    serves(registry, group, version, rest).then(|| format!("apis/{group}/{version}"))
}

fn has_group(registry: &Registry, group: &str) -> bool {
    registry.groups().iter().any(|(name, _)| name == group)
}

/// Whether the registry routes `rest`, a path below `/apis/{group}/{version}/` in upstream's
/// spelling (`namespaces/{namespace}/deployments/{name}/scale`, `watch/pods`, ``).
fn serves(registry: &Registry, group: &str, version: &str, rest: &str) -> bool {
    if registry.resources_of(group, version).next().is_none() {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let mut segments: Vec<&str> = rest.split('/').collect();
    if segments.first() == Some(&"watch") {
        segments.remove(0);
    }
    if let ["namespaces", "{namespace}", _, ..] = segments.as_slice() {
        segments.drain(..2);
    }
    let Some(resource) = segments
        .first()
        .and_then(|plural| registry.get(group, version, plural))
    else {
        return false;
    };
    match segments.get(2) {
        None => true,
        Some(name) => resource
            .subresources
            .iter()
            .any(|subresource| subresource.name == *name),
    }
}

/// Everything a set of path items refers to, directly or through other schemas.
#[derive(Debug, Default)]
pub(super) struct References {
    /// Names under `#/definitions/`.
    pub definitions: BTreeSet<String>,
    /// Names under `#/parameters/` (shared parameters, a v2 notion).
    pub parameters: BTreeSet<String>,
}

impl References {
    /// Walks `values` and every schema or parameter they reach.
    pub(super) fn of<'a>(
        values: impl IntoIterator<Item = &'a Value>,
        definitions: &Map<String, Value>,
        parameters: &Map<String, Value>,
    ) -> Self {
        let mut references = Self::default();
        let mut pending: Vec<&Value> = values.into_iter().collect();
        while let Some(value) = pending.pop() {
            match value {
                Value::Object(object) => {
                    for (key, child) in object {
                        if key == "$ref" {
                            if let Some(target) = child.as_str() {
                                references.add(target, definitions, parameters, &mut pending);
                            }
                        } else {
                            pending.push(child);
                        }
                    }
                }
                Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        references
    }

    fn add<'a>(
        &mut self,
        target: &str,
        definitions: &'a Map<String, Value>,
        parameters: &'a Map<String, Value>,
        pending: &mut Vec<&'a Value>,
    ) {
        if let Some(name) = target.strip_prefix("#/definitions/") {
            if let Some(schema) = definitions.get(name) {
                if self.definitions.insert(name.to_owned()) {
                    pending.push(schema);
                }
            }
        } else if let Some(name) = target.strip_prefix("#/parameters/") {
            if let Some(parameter) = parameters.get(name) {
                if self.parameters.insert(name.to_owned()) {
                    pending.push(parameter);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::{document_of, References};
    use crate::registry::Registry;

    #[test]
    fn paths_map_to_their_group_version_documents() {
        let registry = Registry::builtin();
        let doc = |path: &str| document_of(path, &registry);
        assert_eq!(doc("/api/").as_deref(), Some("api"));
        assert_eq!(doc("/apis/").as_deref(), Some("apis"));
        assert_eq!(doc("/version/").as_deref(), Some("version"));
        assert_eq!(doc("/apis/apps/").as_deref(), Some("apis/apps"));
        assert_eq!(doc("/api/v1/").as_deref(), Some("api/v1"));
        assert_eq!(doc("/api/v1/pods").as_deref(), Some("api/v1"));
        assert_eq!(doc("/api/v1/watch/pods").as_deref(), Some("api/v1"));
        assert_eq!(
            doc("/api/v1/namespaces/{namespace}/pods/{name}/status").as_deref(),
            Some("api/v1")
        );
        assert_eq!(
            doc("/api/v1/namespaces/{name}/finalize").as_deref(),
            Some("api/v1")
        );
        assert_eq!(
            doc("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale").as_deref(),
            Some("apis/apps/v1")
        );
        assert_eq!(
            doc("/apis/apps/v1/watch/namespaces/{namespace}/deployments").as_deref(),
            Some("apis/apps/v1")
        );
        // Not served: an unknown subresource, a version the registry lacks, other roots.
        assert_eq!(
            doc("/api/v1/namespaces/{namespace}/pods/{name}/bogus"),
            None
        );
        assert_eq!(doc("/apis/resource.k8s.io/v1alpha3/deviceclasses"), None);
        assert_eq!(doc("/logs/"), None);
        assert_eq!(doc("/.well-known/openid-configuration/"), None);
    }

    #[test]
    fn references_follow_schemas_and_shared_parameters() -> Result<(), String> {
        let definitions: Map<String, Value> = serde_json::from_value(json!({
            "A": {"properties": {"b": {"$ref": "#/definitions/B"}}},
            "B": {"items": {"$ref": "#/definitions/C"}},
            "C": {"type": "string"},
            "Unused": {"type": "string"},
            "Body": {"type": "object"},
        }))
        .map_err(|error| error.to_string())?;
        let parameters: Map<String, Value> = serde_json::from_value(json!({
            "body-x": {"in": "body", "name": "body", "schema": {"$ref": "#/definitions/Body"}},
            "other": {"in": "query", "name": "q", "type": "string"},
        }))
        .map_err(|error| error.to_string())?;
        let path = json!({
            "get": {
                "parameters": [{"$ref": "#/parameters/body-x"}],
                "responses": {"200": {"schema": {"$ref": "#/definitions/A"}}},
            }
        });
        let references = References::of([&path], &definitions, &parameters);
        let names: Vec<&str> = references.definitions.iter().map(String::as_str).collect();
        assert_eq!(names, ["A", "B", "Body", "C"]);
        let parameters: Vec<&str> = references.parameters.iter().map(String::as_str).collect();
        assert_eq!(parameters, ["body-x"]);
        Ok(())
    }
}
