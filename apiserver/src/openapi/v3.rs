//! OpenAPI v3 documents from the Swagger 2.0 definitions and paths, converted the way kube-openapi's v3
//! builder lays out the same definitions: schemas under `components.schemas`, a `$ref` with
//! siblings wrapped in `allOf`, parameters inlined with a `schema`, bodies as `requestBody`,
//! responses with one `content` entry per media type, and the `oneOf` forms of
//! `IntOrString` and `Quantity`. kubectl reads these documents for field-validation support,
//! `explain` and strategic-merge-patch metadata.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

const DEFINITIONS: &str = "#/definitions/";
const SCHEMAS: &str = "#/components/schemas/";
const PARAMETERS: &str = "#/parameters/";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// Where a schema sits, which decides the `default` kube-openapi gives it.
#[derive(Clone, Copy)]
enum Slot<'a> {
    /// A named definition, or anywhere no default is implied.
    Plain,
    /// A property of an object.
    Property {
        /// The property name.
        name: &'a str,
        /// Whether the parent lists it as required.
        required: bool,
        /// Whether the parent is a top-level kind (has a GVK).
        in_kind: bool,
    },
    /// The element schema of an array or a map.
    Element,
}

/// Converts against one upstream v2 document.
pub(super) struct Converter<'a> {
    definitions: &'a Map<String, Value>,
    parameters: &'a Map<String, Value>,
}

impl<'a> Converter<'a> {
    /// A converter resolving references against upstream's `definitions` and `parameters`.
    pub(super) fn new(
        definitions: &'a Map<String, Value>,
        parameters: &'a Map<String, Value>,
    ) -> Self {
        Self {
            definitions,
            parameters,
        }
    }

    /// The whole v3 document for `paths`, with the schemas `schemas` names.
    pub(super) fn document<'p>(
        &self,
        paths: impl IntoIterator<Item = (&'p str, &'p Value)>,
        schemas: &BTreeSet<String>,
        security_schemes: &Value,
        version: &str,
    ) -> Value {
        let mut converted_schemas = Map::new();
        for name in schemas {
            if let Some(schema) = self.definitions.get(name) {
                converted_schemas.insert(name.clone(), self.definition(name, schema));
            }
        }
        let mut converted_paths = Map::new();
        for (path, item) in paths {
            converted_paths.insert(path.to_owned(), self.path_item(item));
        }
        converted_paths.sort_keys();
        json!({
            "components": {
                "schemas": converted_schemas,
                "securitySchemes": sorted(security_schemes.clone()),
            },
            "info": {"title": "Kubernetes", "version": version},
            "openapi": "3.0.0",
            "paths": converted_paths,
        })
    }

    /// A named schema; `IntOrString` and `Quantity` get the `oneOf` v3 gives them in place of
    /// v2's plain `string`.
    fn definition(&self, name: &str, schema: &Value) -> Value {
        let mut converted = self.schema(schema, Slot::Plain);
        let alternatives: &[&str] = match name {
            INT_OR_STRING => &["integer", "string"],
            QUANTITY => &["string", "number"],
            _ => return converted,
        };
        if let Some(object) = converted.as_object_mut() {
            object.remove("type");
            object.insert(
                "oneOf".to_owned(),
                alternatives
                    .iter()
                    .map(|kind| json!({"type": kind}))
                    .collect(),
            );
            object.sort_keys();
        }
        converted
    }

    fn schema(&self, schema: &Value, slot: Slot<'_>) -> Value {
        let Some(object) = schema.as_object() else {
            return schema.clone();
        };
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let in_kind = object.contains_key("x-kubernetes-group-version-kind");
        let mut out = Map::new();
        for (key, value) in object {
            let converted = match key.as_str() {
                "$ref" => value
                    .as_str()
                    .map(|target| Value::from(schema_ref(target)))
                    .unwrap_or_else(|| value.clone()),
                "properties" => match value.as_object() {
                    Some(properties) => {
                        let mut converted = Map::new();
                        for (name, property) in properties {
                            let slot = Slot::Property {
                                name,
                                required: required.contains(&name.as_str()),
                                in_kind,
                            };
                            converted.insert(name.clone(), self.schema(property, slot));
                        }
                        Value::Object(converted)
                    }
                    None => value.clone(),
                },
                "items" | "additionalProperties" if value.is_object() => {
                    self.schema(value, Slot::Element)
                }
                "allOf" | "anyOf" | "oneOf" => match value.as_array() {
                    Some(items) => items
                        .iter()
                        .map(|item| self.schema(item, Slot::Plain))
                        .collect(),
                    None => value.clone(),
                },
                "not" => self.schema(value, Slot::Plain),
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        if !out.contains_key("default") {
            if let Some(default) = self.implied_default(object, slot) {
                out.insert("default".to_owned(), default);
            }
        }
        wrap_reference(&mut out);
        out.sort_keys();
        Value::Object(out)
    }

    /// The `default` kube-openapi's generator writes for a Go field it knows is neither a
    /// pointer nor `omitempty`: `{}` for value structs, the zero value for scalars. The v2
    /// text does not say which fields those are, so only the cases that hold for every
    /// built-in type are derived: object metadata, a kind's `spec` and `status`, slice and
    /// map elements (never pointers in the Kubernetes API), and required scalars.
    fn implied_default(&self, schema: &Map<String, Value>, slot: Slot<'_>) -> Option<Value> {
        match slot {
            Slot::Plain => None,
            Slot::Element => match self.struct_reference(schema) {
                Some(_) => Some(json!({})),
                None => zero_value(schema),
            },
            Slot::Property {
                name,
                required,
                in_kind,
            } => match self.struct_reference(schema) {
                Some(target) => {
                    let metadata =
                        name == "metadata" && (target == OBJECT_META || target == LIST_META);
                    let body = in_kind && (name == "spec" || name == "status");
                    (metadata || body).then(|| json!({}))
                }
                None if required => zero_value(schema),
                None => None,
            },
        }
    }

    /// The definition a schema refers to, if that definition is a plain Go struct (an
    /// object with properties, not a custom-marshalled type such as `Time` or
    /// `RawExtension`).
    fn struct_reference<'s>(&self, schema: &'s Map<String, Value>) -> Option<&'s str> {
        let name = schema
            .get("$ref")
            .and_then(Value::as_str)?
            .strip_prefix(DEFINITIONS)?;
        let target = self.definitions.get(name)?;
        let is_struct = target.get("type").and_then(Value::as_str) == Some("object")
            && target
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|properties| !properties.is_empty());
        is_struct.then_some(name)
    }

    fn path_item(&self, item: &Value) -> Value {
        let Some(item) = item.as_object() else {
            return item.clone();
        };
        let mut out = Map::new();
        for (key, value) in item {
            let converted = match key.as_str() {
                "parameters" => Value::Array(
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|parameter| self.parameter(self.resolve_parameter(parameter)))
                        .collect(),
                ),
                "get" | "put" | "post" | "delete" | "patch" | "options" | "head" => {
                    self.operation(value)
                }
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        out.sort_keys();
        Value::Object(out)
    }

    fn resolve_parameter<'v>(&'v self, parameter: &'v Value) -> &'v Value {
        parameter
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|target| target.strip_prefix(PARAMETERS))
            .and_then(|name| self.parameters.get(name))
            .unwrap_or(parameter)
    }

    /// A query, path or header parameter: its type moves into a `schema`.
    fn parameter(&self, parameter: &Value) -> Value {
        let Some(parameter) = parameter.as_object() else {
            return parameter.clone();
        };
        let mut out = Map::new();
        let mut schema = Map::new();
        for (key, value) in parameter {
            match key.as_str() {
                "name" | "in" | "description" | "required" | "allowEmptyValue" => {
                    out.insert(key.clone(), value.clone());
                }
                "collectionFormat" => {}
                _ => {
                    schema.insert(key.clone(), self.schema(value, Slot::Plain));
                }
            }
        }
        if !schema.is_empty() {
            schema.sort_keys();
            out.insert("schema".to_owned(), Value::Object(schema));
        }
        out.sort_keys();
        Value::Object(out)
    }

    fn operation(&self, operation: &Value) -> Value {
        let Some(operation) = operation.as_object() else {
            return operation.clone();
        };
        let media_types = |key: &str| -> Vec<&str> {
            operation
                .get(key)
                .and_then(Value::as_array)
                .map(|types| types.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let consumes = media_types("consumes");
        let produces = media_types("produces");
        let mut out = Map::new();
        for (key, value) in operation {
            match key.as_str() {
                "consumes" | "produces" | "schemes" => {}
                "parameters" => {
                    let mut parameters = Vec::new();
                    for parameter in value.as_array().into_iter().flatten() {
                        let parameter = self.resolve_parameter(parameter);
                        if parameter.get("in").and_then(Value::as_str) == Some("body") {
                            out.insert(
                                "requestBody".to_owned(),
                                self.request_body(parameter, &consumes),
                            );
                        } else {
                            parameters.push(self.parameter(parameter));
                        }
                    }
                    if !parameters.is_empty() {
                        out.insert("parameters".to_owned(), Value::Array(parameters));
                    }
                }
                "responses" => {
                    let mut responses = Map::new();
                    for (code, response) in value.as_object().into_iter().flatten() {
                        responses.insert(code.clone(), self.response(response, &produces));
                    }
                    responses.sort_keys();
                    out.insert(key.clone(), Value::Object(responses));
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        out.sort_keys();
        Value::Object(out)
    }

    fn request_body(&self, parameter: &Value, consumes: &[&str]) -> Value {
        let mut body = Map::new();
        if let Some(schema) = parameter.get("schema") {
            let schema = self.schema(schema, Slot::Plain);
            let types: &[&str] = if consumes.is_empty() {
                &["*/*"]
            } else {
                consumes
            };
            body.insert("content".to_owned(), content(&schema, types));
        }
        if let Some(description) = parameter.get("description") {
            body.insert("description".to_owned(), description.clone());
        }
        if let Some(required) = parameter.get("required") {
            body.insert("required".to_owned(), required.clone());
        }
        Value::Object(body)
    }

    fn response(&self, response: &Value, produces: &[&str]) -> Value {
        let Some(response) = response.as_object() else {
            return response.clone();
        };
        let mut out = Map::new();
        for (key, value) in response {
            if key == "schema" {
                if !produces.is_empty() {
                    let schema = self.schema(value, Slot::Plain);
                    out.insert("content".to_owned(), content(&schema, produces));
                }
            } else {
                out.insert(key.clone(), value.clone());
            }
        }
        out.sort_keys();
        Value::Object(out)
    }
}

/// `{media type: {"schema": schema}}` for each media type.
fn content(schema: &Value, media_types: &[&str]) -> Value {
    let mut content = Map::new();
    for media_type in media_types {
        content.insert((*media_type).to_owned(), json!({"schema": schema}));
    }
    content.sort_keys();
    Value::Object(content)
}

/// `#/definitions/X` → `#/components/schemas/X`.
fn schema_ref(target: &str) -> String {
    match target.strip_prefix(DEFINITIONS) {
        Some(name) => format!("{SCHEMAS}{name}"),
        None => target.to_owned(),
    }
}

/// OpenAPI 3.0 ignores a `$ref`'s siblings, so kube-openapi moves the reference into an
/// `allOf` whenever the schema says more (a description, a default, patch metadata).
fn wrap_reference(schema: &mut Map<String, Value>) {
    if schema.len() > 1 {
        if let Some(target) = schema.remove("$ref") {
            schema.insert("allOf".to_owned(), json!([{"$ref": target}]));
        }
    }
}

/// The JSON zero value of a scalar Go type; `None` for `[]byte` (a slice) and non-scalars.
fn zero_value(schema: &Map<String, Value>) -> Option<Value> {
    if schema.contains_key("$ref") || schema.get("format").and_then(Value::as_str) == Some("byte") {
        return None;
    }
    match schema.get("type").and_then(Value::as_str)? {
        "string" => Some(json!("")),
        "integer" | "number" => Some(json!(0)),
        "boolean" => Some(json!(false)),
        _ => None,
    }
}

/// A copy with every object's keys in order, as upstream's published documents are.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut out: Map<String, Value> = object
                .into_iter()
                .map(|(key, value)| (key, sorted(value)))
                .collect();
            out.sort_keys();
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Map, Value};

    use super::Converter;

    /// Upstream's `definitions` and `parameters` sections.
    type Sections = (Map<String, Value>, Map<String, Value>);

    fn maps(definitions: Value, parameters: Value) -> Result<Sections, String> {
        Ok((
            serde_json::from_value(definitions).map_err(|error| error.to_string())?,
            serde_json::from_value(parameters).map_err(|error| error.to_string())?,
        ))
    }

    #[test]
    fn references_with_siblings_move_into_all_of_with_implied_defaults() -> Result<(), String> {
        let (definitions, parameters) = maps(
            json!({
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Spec": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
                "Time": {"type": "string", "format": "date-time"},
                "Kind": {
                    "type": "object",
                    "required": ["count"],
                    "properties": {
                        "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "description": "m"},
                        "spec": {"$ref": "#/definitions/Spec", "description": "s"},
                        "selector": {"$ref": "#/definitions/Spec", "description": "a pointer"},
                        "when": {"$ref": "#/definitions/Time", "description": "t"},
                        "count": {"type": "integer", "format": "int32"},
                        "optional": {"type": "string"},
                        "names": {"type": "array", "items": {"type": "string"}},
                        "blob": {"type": "string", "format": "byte"},
                        "specs": {"type": "array", "items": {"$ref": "#/definitions/Spec"}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    "x-kubernetes-group-version-kind": [{"group": "", "kind": "Kind", "version": "v1"}],
                },
            }),
            json!({}),
        )?;
        let converter = Converter::new(&definitions, &parameters);
        let kind = definitions.get("Kind").ok_or("no Kind")?;
        let converted = converter.definition("Kind", kind);
        let property = |name: &str| converted.pointer(&format!("/properties/{name}")).cloned();
        assert_eq!(
            property("metadata"),
            Some(json!({
                "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
                "default": {},
                "description": "m",
            }))
        );
        assert_eq!(
            property("spec"),
            Some(
                json!({"allOf": [{"$ref": "#/components/schemas/Spec"}], "default": {}, "description": "s"})
            )
        );
        assert_eq!(
            property("selector"),
            Some(
                json!({"allOf": [{"$ref": "#/components/schemas/Spec"}], "description": "a pointer"})
            )
        );
        assert_eq!(
            property("when"),
            Some(json!({"allOf": [{"$ref": "#/components/schemas/Time"}], "description": "t"}))
        );
        assert_eq!(
            property("count"),
            Some(json!({"default": 0, "format": "int32", "type": "integer"}))
        );
        assert_eq!(property("optional"), Some(json!({"type": "string"})));
        assert_eq!(
            property("names"),
            Some(json!({"items": {"default": "", "type": "string"}, "type": "array"}))
        );
        assert_eq!(
            property("blob"),
            Some(json!({"format": "byte", "type": "string"}))
        );
        assert_eq!(
            property("specs"),
            Some(
                json!({"items": {"allOf": [{"$ref": "#/components/schemas/Spec"}], "default": {}}, "type": "array"})
            )
        );
        assert_eq!(
            property("labels"),
            Some(
                json!({"additionalProperties": {"default": "", "type": "string"}, "type": "object"})
            )
        );
        Ok(())
    }

    #[test]
    fn int_or_string_and_quantity_become_one_of() -> Result<(), String> {
        let (definitions, parameters) = maps(
            json!({
                "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"description": "d", "format": "int-or-string", "type": "string"},
                "io.k8s.apimachinery.pkg.api.resource.Quantity": {"description": "q", "type": "string"},
            }),
            json!({}),
        )?;
        let converter = Converter::new(&definitions, &parameters);
        let names: BTreeSet<String> = definitions.keys().cloned().collect();
        let document = converter.document([], &names, &json!({}), "v1.35.0");
        assert_eq!(
            document.pointer("/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
            Some(
                &json!({"description": "d", "format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]})
            )
        );
        assert_eq!(
            document.pointer("/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"),
            Some(&json!({"description": "q", "oneOf": [{"type": "string"}, {"type": "number"}]}))
        );
        assert_eq!(document.get("openapi"), Some(&json!("3.0.0")));
        Ok(())
    }

    #[test]
    fn operations_get_request_bodies_inline_parameters_and_content() -> Result<(), String> {
        let (definitions, parameters) = maps(
            json!({"Patch": {"type": "object"}, "Thing": {"type": "object", "properties": {"a": {"type": "string"}}}}),
            json!({
                "body-p": {"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/Patch"}},
                "pretty-x": {"description": "pretty", "in": "query", "name": "pretty", "type": "string", "uniqueItems": true},
            }),
        )?;
        let converter = Converter::new(&definitions, &parameters);
        let item = json!({
            "parameters": [{"$ref": "#/parameters/pretty-x"}],
            "patch": {
                "consumes": ["application/merge-patch+json", "application/json-patch+json"],
                "produces": ["application/json", "application/yaml"],
                "schemes": ["https"],
                "operationId": "patchThing",
                "parameters": [
                    {"$ref": "#/parameters/body-p"},
                    {"description": "fv", "in": "query", "name": "fieldValidation", "type": "string", "uniqueItems": true},
                ],
                "responses": {
                    "200": {"description": "OK", "schema": {"$ref": "#/definitions/Thing"}},
                    "401": {"description": "Unauthorized"},
                },
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": "", "kind": "Thing", "version": "v1"},
            },
        });
        let document = converter.document(
            [("/api/v1/things/{name}", &item)],
            &BTreeSet::new(),
            &json!({}),
            "v",
        );
        let item = document
            .pointer("/paths/~1api~1v1~1things~1{name}")
            .ok_or("no path")?;
        assert_eq!(
            item.get("parameters"),
            Some(
                &json!([{"description": "pretty", "in": "query", "name": "pretty", "schema": {"type": "string", "uniqueItems": true}}])
            )
        );
        let patch = item.get("patch").ok_or("no patch")?;
        assert_eq!(patch.get("consumes"), None);
        assert_eq!(patch.get("schemes"), None);
        assert_eq!(
            patch.get("parameters"),
            Some(
                &json!([{"description": "fv", "in": "query", "name": "fieldValidation", "schema": {"type": "string", "uniqueItems": true}}])
            )
        );
        assert_eq!(
            patch.get("requestBody"),
            Some(&json!({
                "content": {
                    "application/json-patch+json": {"schema": {"$ref": "#/components/schemas/Patch"}},
                    "application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/Patch"}},
                },
                "required": true,
            }))
        );
        assert_eq!(
            patch.pointer("/responses/200"),
            Some(&json!({
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}},
                    "application/yaml": {"schema": {"$ref": "#/components/schemas/Thing"}},
                },
                "description": "OK",
            }))
        );
        assert_eq!(
            patch.pointer("/responses/401"),
            Some(&json!({"description": "Unauthorized"}))
        );
        Ok(())
    }
}
