//! Decodes the served bytes back and checks them against the JSON document they came from.

use prost::Message as _;
use serde_json::{json, Map, Value};

use super::encode;
use super::messages::{
    Document, NonBodyParameterKind, Operation, ParameterKind, ParametersItemKind,
    ResponseValueKind, SchemaItemKind, SecurityKind,
};
use super::schema::{AdditionalProperties, Any, NamedAny, Schema};
use crate::openapi::documents::Documents;
use crate::registry::Registry;

struct Fixture {
    json: Value,
    document: Document,
}

fn fixture() -> Result<Fixture, String> {
    let documents = Documents::build(&Registry::builtin()).map_err(|error| error.to_string())?;
    let bytes = encode(&documents.v2.body).map_err(|error| error.to_string())?;
    Ok(Fixture {
        json: serde_json::from_slice(&documents.v2.body).map_err(|error| error.to_string())?,
        document: Document::decode(bytes.as_slice()).map_err(|error| error.to_string())?,
    })
}

/// An `Any` read back as kubectl reads it: YAML 1.1, through go-yaml v2's rules.
fn parsed(any: &Any) -> Result<Value, String> {
    let mut wrapped = String::from("v:\n");
    for line in any.yaml.lines() {
        wrapped.push_str("  ");
        wrapped.push_str(line);
        wrapped.push('\n');
    }
    let decoded = crate::codec::decode_yaml(wrapped.as_bytes())
        .map_err(|error| format!("{error}: {:?}", any.yaml))?;
    decoded
        .object
        .get("v")
        .cloned()
        .ok_or_else(|| format!("unreadable YAML {:?}", any.yaml))
}

fn extensions(named: &[NamedAny], into: &mut Map<String, Value>) -> Result<(), String> {
    for extension in named {
        let value = extension.value.as_ref().ok_or("extension without value")?;
        into.insert(extension.name.clone(), parsed(value)?);
    }
    Ok(())
}

/// The JSON schema a decoded `Schema` stands for, for every key our documents use.
fn schema_json(schema: &Schema) -> Result<Value, String> {
    let mut out = Map::new();
    let mut text = |key: &str, value: &str| {
        if !value.is_empty() {
            out.insert(key.to_owned(), Value::from(value));
        }
    };
    text("$ref", &schema.xref);
    text("format", &schema.format);
    text("title", &schema.title);
    text("description", &schema.description);
    if let Some(kind) = &schema.r#type {
        out.insert("type".to_owned(), json!(kind.value.join(",")));
    }
    if !schema.required.is_empty() {
        out.insert("required".to_owned(), json!(schema.required));
    }
    if let Some(items) = &schema.items {
        let [item] = items.schema.as_slice() else {
            return Err("items without exactly one schema".to_owned());
        };
        out.insert("items".to_owned(), schema_json(item)?);
    }
    if let Some(properties) = &schema.properties {
        let mut fields = Map::new();
        for field in &properties.additional_properties {
            let value = field.value.as_ref().ok_or("property without schema")?;
            fields.insert(field.name.clone(), schema_json(value)?);
        }
        out.insert("properties".to_owned(), Value::Object(fields));
    }
    match schema
        .additional_properties
        .as_deref()
        .and_then(|item| item.oneof.as_ref())
    {
        Some(AdditionalProperties::Schema(value)) => {
            out.insert("additionalProperties".to_owned(), schema_json(value)?);
        }
        Some(AdditionalProperties::Boolean(allowed)) => {
            out.insert("additionalProperties".to_owned(), json!(allowed));
        }
        None => {}
    }
    if !schema.all_of.is_empty() {
        let all: Result<Vec<Value>, String> = schema.all_of.iter().map(schema_json).collect();
        out.insert("allOf".to_owned(), Value::Array(all?));
    }
    if !schema.r#enum.is_empty() {
        let values: Result<Vec<Value>, String> = schema.r#enum.iter().map(parsed).collect();
        out.insert("enum".to_owned(), Value::Array(values?));
    }
    if let Some(default) = &schema.default {
        out.insert("default".to_owned(), parsed(default)?);
    }
    extensions(&schema.vendor_extension, &mut out)?;
    Ok(Value::Object(out))
}

#[test]
fn every_definition_round_trips_through_the_protobuf() -> Result<(), String> {
    let fixture = fixture()?;
    let definitions = fixture
        .json
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or("no JSON definitions")?;
    let decoded = &fixture
        .document
        .definitions
        .as_ref()
        .ok_or("no definitions")?
        .additional_properties;
    let names: Vec<&str> = decoded.iter().map(|named| named.name.as_str()).collect();
    let expected: Vec<&str> = definitions.keys().map(String::as_str).collect();
    assert_eq!(names, expected, "definitions are in document order");
    for named in decoded {
        let schema = named.value.as_ref().ok_or("definition without schema")?;
        let mut original = definitions.get(&named.name).cloned().unwrap_or_default();
        flatten_types(&mut original);
        assert_eq!(schema_json(schema)?, original, "{}", named.name);
    }
    Ok(())
}

/// `type` lists as `schema_json` joins them.
fn flatten_types(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, item) in object.iter_mut() {
                if key == "type" {
                    if let Value::Array(kinds) = item {
                        let joined: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                        *item = json!(joined.join(","));
                    }
                } else if !key.starts_with("x-") {
                    flatten_types(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(flatten_types),
        _ => {}
    }
}

fn definition<'a>(document: &'a Document, name: &str) -> Result<&'a Schema, String> {
    document
        .definitions
        .as_ref()
        .and_then(|definitions| {
            definitions
                .additional_properties
                .iter()
                .find(|named| named.name == name)
        })
        .and_then(|named| named.value.as_ref())
        .ok_or_else(|| format!("no definition {name}"))
}

fn property<'a>(schema: &'a Schema, name: &str) -> Result<&'a Schema, String> {
    schema
        .properties
        .as_ref()
        .and_then(|properties| {
            properties
                .additional_properties
                .iter()
                .find(|named| named.name == name)
        })
        .and_then(|named| named.value.as_ref())
        .ok_or_else(|| format!("no property {name}"))
}

fn extension<'a>(extensions: &'a [NamedAny], name: &str) -> Option<&'a str> {
    extensions
        .iter()
        .find(|extension| extension.name == name)
        .and_then(|extension| extension.value.as_ref())
        .map(|value| value.yaml.as_str())
}

#[test]
fn kubectl_reads_types_docs_and_patch_metadata() -> Result<(), String> {
    let document = fixture()?.document;
    assert_eq!(document.swagger, "2.0");
    let info = document.info.as_ref().ok_or("no info")?;
    assert_eq!(info.title, "Kubernetes");
    assert!(info.version.starts_with("v1.35."), "{}", info.version);

    let deployment = definition(&document, "io.k8s.api.apps.v1.Deployment")?;
    assert_eq!(
        extension(
            &deployment.vendor_extension,
            "x-kubernetes-group-version-kind"
        ),
        Some("- group: apps\n  kind: Deployment\n  version: v1\n")
    );
    assert_eq!(
        property(deployment, "spec")?.xref,
        "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    );

    let spec = definition(&document, "io.k8s.api.apps.v1.DeploymentSpec")?;
    assert_eq!(spec.required, ["selector", "template"]);
    let replicas = property(spec, "replicas")?;
    assert_eq!(
        replicas.r#type.as_ref().map(|t| t.value.clone()),
        Some(vec!["integer".to_owned()])
    );
    assert_eq!(replicas.format, "int32");
    assert!(replicas.description.starts_with("Number of desired pods."));

    let pod_spec = definition(&document, "io.k8s.api.core.v1.PodSpec")?;
    let containers = property(pod_spec, "containers")?;
    assert_eq!(
        extension(&containers.vendor_extension, "x-kubernetes-patch-merge-key"),
        Some("name\n")
    );
    assert_eq!(
        extension(&containers.vendor_extension, "x-kubernetes-patch-strategy"),
        Some("merge\n")
    );
    assert_eq!(
        extension(&containers.vendor_extension, "x-kubernetes-list-type"),
        Some("map\n")
    );
    assert_eq!(
        extension(&containers.vendor_extension, "x-kubernetes-list-map-keys"),
        Some("- name\n")
    );
    let item = containers
        .items
        .as_ref()
        .and_then(|items| items.schema.first())
        .ok_or("containers without items")?;
    assert_eq!(item.xref, "#/definitions/io.k8s.api.core.v1.Container");

    let config_map = definition(&document, "io.k8s.api.core.v1.ConfigMap")?;
    let data = property(config_map, "data")?;
    match data
        .additional_properties
        .as_deref()
        .and_then(|a| a.oneof.as_ref())
    {
        Some(AdditionalProperties::Schema(value)) => assert_eq!(
            value.r#type.as_ref().map(|t| t.value.clone()),
            Some(vec!["string".to_owned()])
        ),
        other => return Err(format!("ConfigMap.data additionalProperties: {other:?}")),
    }
    Ok(())
}

fn patch_operation<'a>(document: &'a Document, path: &str) -> Result<&'a Operation, String> {
    document
        .paths
        .as_ref()
        .and_then(|paths| paths.path.iter().find(|named| named.name == path))
        .and_then(|named| named.value.as_ref())
        .and_then(|item| item.patch.as_ref())
        .ok_or_else(|| format!("no PATCH on {path}"))
}

/// kubectl's query-parameter verifier: the PATCH operation carrying the kind's GVK lists
/// `fieldValidation` as a query parameter.
#[test]
fn patch_operations_advertise_field_validation() -> Result<(), String> {
    let fixture = fixture()?;
    let document = &fixture.document;
    let patch = patch_operation(document, "/api/v1/namespaces/{namespace}/configmaps/{name}")?;
    let gvk = extension(&patch.vendor_extension, "x-kubernetes-group-version-kind")
        .ok_or("no GVK on the operation")?;
    assert_eq!(gvk, "group: \"\"\nkind: ConfigMap\nversion: v1\n");
    assert_eq!(
        extension(&patch.vendor_extension, "x-kubernetes-action"),
        Some("patch\n")
    );
    let query: Vec<&str> = patch
        .parameters
        .iter()
        .filter_map(|item| match item.oneof.as_ref()? {
            ParametersItemKind::Parameter(parameter) => match parameter.oneof.as_ref()? {
                ParameterKind::NonBodyParameter(non_body) => match non_body.oneof.as_ref()? {
                    NonBodyParameterKind::Query(query) => Some(query.name.as_str()),
                    _ => None,
                },
                ParameterKind::BodyParameter(_) => None,
            },
            ParametersItemKind::JsonReference(_) => None,
        })
        .collect();
    assert!(query.contains(&"fieldValidation"), "{query:?}");
    assert!(query.contains(&"dryRun"), "{query:?}");
    let has_body = patch
        .parameters
        .iter()
        .any(|item| match item.oneof.as_ref() {
            Some(ParametersItemKind::Parameter(parameter)) => matches!(
                &parameter.oneof,
                Some(ParameterKind::BodyParameter(body)) if body.schema.is_some()
            ),
            _ => false,
        });
    assert!(has_body, "PATCH without a body schema");
    let ok = patch
        .responses
        .as_ref()
        .and_then(|responses| {
            responses
                .response_code
                .iter()
                .find(|code| code.name == "200")
        })
        .and_then(|code| code.value.as_ref())
        .and_then(|value| value.oneof.as_ref())
        .ok_or("no 200 response")?;
    match ok {
        ResponseValueKind::Response(response) => match &response.schema {
            Some(schema) => match &schema.oneof {
                Some(SchemaItemKind::Schema(body)) => {
                    assert_eq!(body.xref, "#/definitions/io.k8s.api.core.v1.ConfigMap");
                }
                None => return Err("empty 200 schema".to_owned()),
            },
            None => return Err("200 without schema".to_owned()),
        },
        ResponseValueKind::JsonReference(_) => return Err("200 is a reference".to_owned()),
    }

    // Every path is kept, in document order, and the path-level parameters too.
    let json_paths = fixture
        .json
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("no JSON paths")?;
    let paths = &document.paths.as_ref().ok_or("no paths")?.path;
    let names: Vec<&str> = paths.iter().map(|named| named.name.as_str()).collect();
    let expected: Vec<&str> = json_paths.keys().map(String::as_str).collect();
    assert_eq!(names, expected);
    for named in paths {
        let item = named.value.as_ref().ok_or("empty path item")?;
        let expected = json_paths
            .get(&named.name)
            .and_then(|item| item.get("parameters"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(item.parameters.len(), expected, "{}", named.name);
        assert!(item
            .parameters
            .iter()
            .all(|parameter| parameter.oneof.is_some()));
    }
    Ok(())
}

#[test]
fn security_is_bearer_tokens() -> Result<(), String> {
    let document = fixture()?.document;
    let requirement = document.security.first().ok_or("no security")?;
    assert_eq!(requirement.additional_properties[0].name, "BearerToken");
    let definitions = document
        .security_definitions
        .as_ref()
        .ok_or("no security definitions")?;
    let scheme = definitions
        .additional_properties
        .first()
        .and_then(|named| named.value.as_ref())
        .and_then(|value| value.oneof.as_ref());
    match scheme {
        Some(SecurityKind::ApiKey(key)) => {
            assert_eq!(key.name, "authorization");
            assert_eq!(key.r#in, "header");
        }
        other => return Err(format!("unexpected scheme {other:?}")),
    }
    Ok(())
}
