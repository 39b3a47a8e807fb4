//! Unknown-field detection for `fieldValidation=Strict|Warn`. kube-apiserver decodes built-in
//! objects into Go structs with a strict decoder and reports every JSON field the struct
//! lacks; the generated schemas list exactly those struct fields (inline members flattened),
//! so walking the object against them finds the same fields, named the same way
//! (`spec.template.spec.containers[0].imagee`). Since kubectl finds `fieldValidation` in our
//! v3 documents, it leaves this check to the server instead of validating client-side.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::paths::{self, Kinds};
use super::source::{self, DEFINITIONS};
use super::OpenApiError;

/// One finding of upstream's strict decoder, worded as it words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    /// A field the type does not have: `unknown field "spec.replicass"`.
    Unknown(String),
    /// A field given twice: `duplicate field "spec.paused"`.
    Duplicate(String),
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(path) => write!(formatter, "unknown field \"{path}\""),
            Self::Duplicate(path) => write!(formatter, "duplicate field \"{path}\""),
        }
    }
}

/// The fields of `object` (a `group`/`version` `kind`, as decoded from the request body) that
/// its upstream type does not have, in document order, each named by its path as upstream's
/// strict decoder names it. `None` when there is no schema for the kind (nothing to
/// check against).
pub fn unknown_fields(
    group: &str,
    version: &str,
    kind: &str,
    object: &Map<String, Value>,
) -> Result<Option<Vec<String>>, OpenApiError> {
    let problems = field_problems(group, version, kind, object, &HashSet::new())?;
    Ok(problems.map(|problems| {
        problems
            .into_iter()
            .filter_map(|problem| match problem {
                FieldProblem::Unknown(path) => Some(path),
                FieldProblem::Duplicate(_) => None,
            })
            .collect()
    }))
}

/// Unknown fields and the `duplicates` (paths of keys the body repeated) in document order,
/// as upstream reports them: a repeated field the type lacks counts only as unknown, and
/// nothing below an unknown field is reported. `None` when there is no schema for the kind.
pub fn field_problems(
    group: &str,
    version: &str,
    kind: &str,
    object: &Map<String, Value>,
    duplicates: &HashSet<String>,
) -> Result<Option<Vec<FieldProblem>>, OpenApiError> {
    let definitions = source::definitions()?;
    let key = (group.to_owned(), version.to_owned(), kind.to_owned());
    let Some(schema) = kinds(definitions)
        .get(&key)
        .and_then(|name| definitions.get(name))
    else {
        return Ok(None);
    };
    let mut findings = Findings {
        duplicates,
        problems: Vec::new(),
    };
    walk_object(
        definitions,
        schema,
        object,
        &mut String::new(),
        &mut findings,
    );
    Ok(Some(findings.problems))
}

/// What a walk is looking for and what it found.
struct Findings<'a> {
    duplicates: &'a HashSet<String>,
    problems: Vec<FieldProblem>,
}

impl Findings<'_> {
    /// Notes a known field at `path` if the body repeated it.
    fn known(&mut self, path: &str) {
        if !self.duplicates.is_empty() && self.duplicates.contains(path) {
            self.problems.push(FieldProblem::Duplicate(path.to_owned()));
        }
    }
}

/// `object` without the fields [`unknown_fields`] reports, as upstream's decoder drops
/// them: what is stored when validation only warns or ignores.
pub fn prune_unknown_fields(
    group: &str,
    version: &str,
    kind: &str,
    object: &mut Map<String, Value>,
) -> Result<(), OpenApiError> {
    let definitions = source::definitions()?;
    let key = (group.to_owned(), version.to_owned(), kind.to_owned());
    if let Some(schema) = kinds(definitions)
        .get(&key)
        .and_then(|name| definitions.get(name))
    {
        prune_object(definitions, schema, object);
    }
    Ok(())
}

fn prune(definitions: &Map<String, Value>, schema: &Value, value: &mut Value) {
    match value {
        Value::Object(object) => prune_object(definitions, schema, object),
        Value::Array(items) => {
            let schema = resolve(definitions, schema);
            if let Some(item_schema) = schema.get("items").filter(|items| items.is_object()) {
                for item in items {
                    prune(definitions, item_schema, item);
                }
            }
        }
        _ => {}
    }
}

/// `prune` for a JSON object, by the rules of [`walk_object`].
fn prune_object(definitions: &Map<String, Value>, schema: &Value, object: &mut Map<String, Value>) {
    let schema = resolve(definitions, schema);
    if schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        object.retain(|name, _| properties.contains_key(name));
        for (name, child) in object.iter_mut() {
            if let Some(property) = properties.get(name) {
                prune(definitions, property, child);
            }
        }
    } else if let Some(values) = schema
        .get("additionalProperties")
        .filter(|values| values.is_object())
    {
        for child in object.values_mut() {
            prune(definitions, values, child);
        }
    }
}

/// The message of upstream's 400 for strict validation, e.g. `Deployment in version "v1"
/// cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"`,
/// from the problems as worded (see [`FieldProblem`]). kubectl prints it after
/// `Error from server (BadRequest): error when creating "...": `.
pub fn strict_decoding_message(version: &str, kind: &str, problems: &[String]) -> String {
    format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
        problems.join(", ")
    )
}

/// Which definition each group-version-kind decodes into.
/// The schema a `group`/`version` `kind` decodes into, if it has one.
pub(super) fn kind_schema(
    group: &str,
    version: &str,
    kind: &str,
) -> Result<Option<&'static Value>, OpenApiError> {
    let definitions = source::definitions()?;
    let key = (group.to_owned(), version.to_owned(), kind.to_owned());
    Ok(kinds(definitions)
        .get(&key)
        .and_then(|name| definitions.get(name)))
}

fn kinds(definitions: &Map<String, Value>) -> &'static Kinds {
    static KINDS: OnceLock<Kinds> = OnceLock::new();
    KINDS.get_or_init(|| paths::kinds(definitions))
}

pub(super) fn resolve<'a>(definitions: &'a Map<String, Value>, schema: &'a Value) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|target| target.strip_prefix(DEFINITIONS))
        .and_then(|name| definitions.get(name))
        .unwrap_or(schema)
}

/// Records every field of `value` that `schema` does not declare, below `path`.
fn walk(
    definitions: &Map<String, Value>,
    schema: &Value,
    value: &Value,
    path: &mut String,
    findings: &mut Findings<'_>,
) {
    match value {
        Value::Object(object) => walk_object(definitions, schema, object, path, findings),
        Value::Array(items) => {
            let schema = resolve(definitions, schema);
            if let Some(item_schema) = schema.get("items").filter(|items| items.is_object()) {
                let mark = path.len();
                for (index, child) in items.iter().enumerate() {
                    path.push_str(&format!("[{index}]"));
                    walk(definitions, item_schema, child, path, findings);
                    path.truncate(mark);
                }
            }
        }
        _ => {}
    }
}

/// `walk` for a JSON object: a struct's fields must be declared; a map's values are checked
/// against the value schema; free-form objects (`RawExtension`, CRD `JSON`) take anything.
fn walk_object(
    definitions: &Map<String, Value>,
    schema: &Value,
    object: &Map<String, Value>,
    path: &mut String,
    findings: &mut Findings<'_>,
) {
    let schema = resolve(definitions, schema);
    if schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    let mark = path.len();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, child) in object {
            push_field(path, name);
            match properties.get(name) {
                Some(property) => {
                    findings.known(path);
                    walk(definitions, property, child, path, findings);
                }
                None => findings.problems.push(FieldProblem::Unknown(path.clone())),
            }
            path.truncate(mark);
        }
    } else if let Some(values) = schema
        .get("additionalProperties")
        .filter(|values| values.is_object())
    {
        for (name, child) in object {
            push_field(path, name);
            findings.known(path);
            walk(definitions, values, child, path, findings);
            path.truncate(mark);
        }
    }
}

fn push_field(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use std::collections::HashSet;

    use super::{
        field_problems, prune_unknown_fields, strict_decoding_message, unknown_fields, FieldProblem,
    };

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn typos_are_found_at_their_paths_in_document_order() -> Result<(), String> {
        let deployment = object(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}, "bogus": 1},
            "spec": {
                "replicass": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [
                        {"name": "a", "image": "nginx"},
                        {"name": "b", "imagee": "nginx", "resources": {"limits": {"cpu": "1"}}},
                    ]},
                },
            },
            "status": {},
        }));
        let unknown = unknown_fields("apps", "v1", "Deployment", &deployment)
            .map_err(|error| error.to_string())?;
        assert_eq!(
            unknown,
            Some(vec![
                "metadata.bogus".to_owned(),
                "spec.replicass".to_owned(),
                "spec.template.spec.containers[1].imagee".to_owned(),
            ])
        );
        Ok(())
    }

    #[test]
    fn valid_objects_and_free_form_fields_pass() -> Result<(), String> {
        let config_map = object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {"any": "thing"}},
            "data": {"whatever": "x"},
        }));
        assert_eq!(
            unknown_fields("", "v1", "ConfigMap", &config_map).map_err(|e| e.to_string())?,
            Some(Vec::new())
        );
        // RawExtension and CRD JSON values take anything.
        let revision = object(
            json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "revision": 1, "data": {"free": {"form": true}}}),
        );
        assert_eq!(
            unknown_fields("apps", "v1", "ControllerRevision", &revision)
                .map_err(|e| e.to_string())?,
            Some(Vec::new())
        );
        assert_eq!(
            unknown_fields("example.com", "v1", "Widget", &Map::new()).map_err(|e| e.to_string())?,
            None
        );
        Ok(())
    }

    #[test]
    fn pruning_drops_exactly_the_unknown_fields() -> Result<(), String> {
        let mut pod = object(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"any": "label"}, "bogus": true},
            "spec": {
                "containers": [{"name": "c", "image": "i", "imagee": "typo", "ports": [{"containerPort": 80, "x": 1}]}],
                "nodeSelector": {"free": "form"},
            },
        }));
        prune_unknown_fields("", "v1", "Pod", &mut pod).map_err(|e| e.to_string())?;
        assert_eq!(
            Value::Object(pod.clone()),
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "labels": {"any": "label"}},
                "spec": {
                    "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}],
                    "nodeSelector": {"free": "form"},
                },
            })
        );
        assert_eq!(
            unknown_fields("", "v1", "Pod", &pod).map_err(|e| e.to_string())?,
            Some(Vec::new())
        );
        Ok(())
    }

    #[test]
    fn message_matches_upstream() {
        assert_eq!(
            strict_decoding_message(
                "v1",
                "Deployment",
                &[
                    FieldProblem::Unknown("spec.replicass".to_owned()).to_string(),
                    FieldProblem::Duplicate("spec.x".to_owned()).to_string()
                ]
            ),
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replicass\", duplicate field \"spec.x\""
        );
    }

    #[test]
    fn duplicates_interleave_with_unknown_fields_as_upstream() -> Result<(), String> {
        let deployment = object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "unknownMeta": 1},
            "spec": {
                "unknown1": "a", "unknownDupe": "b", "paused": false,
                "template": {"spec": {"containers": [{"name": "c", "unknownNested": 1, "imagePullPolicy": "Never"}]}},
            },
        }));
        let duplicates: HashSet<String> = [
            "metadata.name",
            "spec.unknownDupe",
            "spec.paused",
            "spec.unknownDupe.inner",
            "spec.template.spec.containers[0].imagePullPolicy",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        let problems = field_problems("apps", "v1", "Deployment", &deployment, &duplicates)
            .map_err(|error| error.to_string())?
            .unwrap_or_default();
        let worded: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            worded,
            [
                "duplicate field \"metadata.name\"",
                "unknown field \"metadata.unknownMeta\"",
                "unknown field \"spec.unknown1\"",
                "unknown field \"spec.unknownDupe\"",
                "duplicate field \"spec.paused\"",
                "unknown field \"spec.template.spec.containers[0].unknownNested\"",
                "duplicate field \"spec.template.spec.containers[0].imagePullPolicy\"",
            ]
        );
        Ok(())
    }
}
