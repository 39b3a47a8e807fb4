//! The Swagger 2.0 JSON document into gnostic's `openapi.v2.Document`, as gnostic's
//! `ParseDocument` builds it for kube-openapi: maps become repeated name/value pairs in
//! document order, each oneof is chosen by the keys gnostic's matchers require (`$ref`
//! makes a reference, `in` picks the parameter kind, `type` the security scheme), and
//! `x-` keys become vendor extensions.

use serde_json::{Map, Value};

use super::json::{boolean, float, integer, string, strings, vendor_extensions};
use super::messages::{
    ApiKeySecurity, BasicAuthenticationSecurity, BodyParameter, Definitions, Document, Info,
    JsonReference, NamedParameter, NamedPathItem, NamedResponse, NamedResponseValue,
    NamedSecurityDefinitionsItem, NamedStringArray, NonBodyParameter, NonBodyParameterKind,
    Operation, Parameter, ParameterDefinitions, ParameterKind, ParametersItem, ParametersItemKind,
    PathItem, Paths, PrimitivesItems, QueryParameter, Response, ResponseDefinitions, ResponseValue,
    ResponseValueKind, Responses, SchemaItem, SchemaItemKind, SecurityDefinitions,
    SecurityDefinitionsItem, SecurityKind, SecurityRequirement, SimpleParameter, StringArray, Tag,
};
use super::schema::{anys, external_docs, named_schemas, schema, Any};

/// The whole document.
pub(super) fn document(object: &Map<String, Value>) -> Document {
    Document {
        swagger: string(object, "swagger"),
        info: object.get("info").and_then(Value::as_object).map(info),
        host: string(object, "host"),
        base_path: string(object, "basePath"),
        schemes: strings(object, "schemes"),
        consumes: strings(object, "consumes"),
        produces: strings(object, "produces"),
        paths: object.get("paths").and_then(Value::as_object).map(paths),
        definitions: object
            .get("definitions")
            .and_then(Value::as_object)
            .map(|definitions| Definitions {
                additional_properties: named_schemas(definitions),
            }),
        parameters: object
            .get("parameters")
            .and_then(Value::as_object)
            .map(|shared| ParameterDefinitions {
                additional_properties: shared
                    .iter()
                    .map(|(name, value)| NamedParameter {
                        name: name.clone(),
                        value: value.as_object().map(parameter),
                    })
                    .collect(),
            }),
        responses: object
            .get("responses")
            .and_then(Value::as_object)
            .map(|shared| ResponseDefinitions {
                additional_properties: shared
                    .iter()
                    .map(|(name, value)| NamedResponse {
                        name: name.clone(),
                        value: value.as_object().map(response),
                    })
                    .collect(),
            }),
        security: security(object),
        security_definitions: object
            .get("securityDefinitions")
            .and_then(Value::as_object)
            .map(security_definitions),
        tags: object
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(Value::as_object).map(tag).collect())
            .unwrap_or_default(),
        external_docs: object
            .get("externalDocs")
            .and_then(Value::as_object)
            .map(external_docs),
        vendor_extension: vendor_extensions(object),
    }
}

fn info(object: &Map<String, Value>) -> Info {
    Info {
        title: string(object, "title"),
        version: string(object, "version"),
        description: string(object, "description"),
        terms_of_service: string(object, "termsOfService"),
        vendor_extension: vendor_extensions(object),
    }
}

fn paths(object: &Map<String, Value>) -> Paths {
    Paths {
        vendor_extension: vendor_extensions(object),
        path: object
            .iter()
            .filter(|(name, _)| name.starts_with('/'))
            .map(|(name, item)| NamedPathItem {
                name: name.clone(),
                value: item.as_object().map(path_item),
            })
            .collect(),
    }
}

fn path_item(object: &Map<String, Value>) -> PathItem {
    let operation = |verb: &str| object.get(verb).and_then(Value::as_object).map(operation);
    PathItem {
        xref: string(object, "$ref"),
        get: operation("get"),
        put: operation("put"),
        post: operation("post"),
        delete: operation("delete"),
        options: operation("options"),
        head: operation("head"),
        patch: operation("patch"),
        parameters: parameters_items(object),
        vendor_extension: vendor_extensions(object),
    }
}

fn operation(object: &Map<String, Value>) -> Operation {
    Operation {
        tags: strings(object, "tags"),
        summary: string(object, "summary"),
        description: string(object, "description"),
        external_docs: object
            .get("externalDocs")
            .and_then(Value::as_object)
            .map(external_docs),
        operation_id: string(object, "operationId"),
        produces: strings(object, "produces"),
        consumes: strings(object, "consumes"),
        parameters: parameters_items(object),
        responses: object
            .get("responses")
            .and_then(Value::as_object)
            .map(responses),
        schemes: strings(object, "schemes"),
        deprecated: boolean(object, "deprecated"),
        security: security(object),
        vendor_extension: vendor_extensions(object),
    }
}

/// `parameters` of a path item or operation: references or inline parameters.
fn parameters_items(object: &Map<String, Value>) -> Vec<ParametersItem> {
    object
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|item| ParametersItem {
            oneof: Some(if item.contains_key("$ref") {
                ParametersItemKind::JsonReference(json_reference(item))
            } else {
                ParametersItemKind::Parameter(Box::new(parameter(item)))
            }),
        })
        .collect()
}

fn json_reference(object: &Map<String, Value>) -> JsonReference {
    JsonReference {
        xref: string(object, "$ref"),
        description: string(object, "description"),
    }
}

/// A parameter by its `in`; one gnostic would match to no kind is left empty.
fn parameter(object: &Map<String, Value>) -> Parameter {
    let location = string(object, "in");
    let oneof = match location.as_str() {
        "body" => Some(ParameterKind::BodyParameter(BodyParameter {
            description: string(object, "description"),
            name: string(object, "name"),
            r#in: location,
            required: boolean(object, "required"),
            schema: object.get("schema").map(schema),
            vendor_extension: vendor_extensions(object),
        })),
        "query" => non_body(NonBodyParameterKind::Query(query_parameter(object))),
        "formData" => non_body(NonBodyParameterKind::FormData(query_parameter(object))),
        "path" => non_body(NonBodyParameterKind::Path(simple_parameter(object))),
        "header" => non_body(NonBodyParameterKind::Header(simple_parameter(object))),
        _ => None,
    };
    Parameter { oneof }
}

fn non_body(kind: NonBodyParameterKind) -> Option<ParameterKind> {
    Some(ParameterKind::NonBodyParameter(NonBodyParameter {
        oneof: Some(kind),
    }))
}

fn query_parameter(object: &Map<String, Value>) -> QueryParameter {
    QueryParameter {
        required: boolean(object, "required"),
        r#in: string(object, "in"),
        description: string(object, "description"),
        name: string(object, "name"),
        allow_empty_value: boolean(object, "allowEmptyValue"),
        r#type: string(object, "type"),
        format: string(object, "format"),
        items: primitives(object),
        collection_format: string(object, "collectionFormat"),
        default: object.get("default").map(Any::of),
        maximum: float(object, "maximum"),
        exclusive_maximum: boolean(object, "exclusiveMaximum"),
        minimum: float(object, "minimum"),
        exclusive_minimum: boolean(object, "exclusiveMinimum"),
        max_length: integer(object, "maxLength"),
        min_length: integer(object, "minLength"),
        pattern: string(object, "pattern"),
        max_items: integer(object, "maxItems"),
        min_items: integer(object, "minItems"),
        unique_items: boolean(object, "uniqueItems"),
        r#enum: anys(object, "enum"),
        multiple_of: float(object, "multipleOf"),
        vendor_extension: vendor_extensions(object),
    }
}

fn simple_parameter(object: &Map<String, Value>) -> SimpleParameter {
    SimpleParameter {
        required: boolean(object, "required"),
        r#in: string(object, "in"),
        description: string(object, "description"),
        name: string(object, "name"),
        r#type: string(object, "type"),
        format: string(object, "format"),
        items: primitives(object),
        collection_format: string(object, "collectionFormat"),
        default: object.get("default").map(Any::of),
        maximum: float(object, "maximum"),
        exclusive_maximum: boolean(object, "exclusiveMaximum"),
        minimum: float(object, "minimum"),
        exclusive_minimum: boolean(object, "exclusiveMinimum"),
        max_length: integer(object, "maxLength"),
        min_length: integer(object, "minLength"),
        pattern: string(object, "pattern"),
        max_items: integer(object, "maxItems"),
        min_items: integer(object, "minItems"),
        unique_items: boolean(object, "uniqueItems"),
        r#enum: anys(object, "enum"),
        multiple_of: float(object, "multipleOf"),
        vendor_extension: vendor_extensions(object),
    }
}

/// The `items` of an array parameter, recursively.
fn primitives(object: &Map<String, Value>) -> Option<PrimitivesItems> {
    let items = object.get("items")?.as_object()?;
    Some(PrimitivesItems {
        r#type: string(items, "type"),
        format: string(items, "format"),
        items: primitives(items).map(Box::new),
        collection_format: string(items, "collectionFormat"),
        default: items.get("default").map(Any::of),
        maximum: float(items, "maximum"),
        exclusive_maximum: boolean(items, "exclusiveMaximum"),
        minimum: float(items, "minimum"),
        exclusive_minimum: boolean(items, "exclusiveMinimum"),
        max_length: integer(items, "maxLength"),
        min_length: integer(items, "minLength"),
        pattern: string(items, "pattern"),
        max_items: integer(items, "maxItems"),
        min_items: integer(items, "minItems"),
        unique_items: boolean(items, "uniqueItems"),
        r#enum: anys(items, "enum"),
        multiple_of: float(items, "multipleOf"),
        vendor_extension: vendor_extensions(items),
    })
}

/// An operation's responses: three-digit codes and `default`, then `x-` keys.
fn responses(object: &Map<String, Value>) -> Responses {
    let is_code = |name: &str| {
        name == "default" || (name.len() == 3 && name.bytes().all(|b| b.is_ascii_digit()))
    };
    Responses {
        response_code: object
            .iter()
            .filter(|(name, _)| is_code(name))
            .filter_map(|(name, value)| {
                let value = value.as_object()?;
                let oneof = if value.contains_key("$ref") {
                    ResponseValueKind::JsonReference(json_reference(value))
                } else {
                    ResponseValueKind::Response(Box::new(response(value)))
                };
                Some(NamedResponseValue {
                    name: name.clone(),
                    value: Some(ResponseValue { oneof: Some(oneof) }),
                })
            })
            .collect(),
        vendor_extension: vendor_extensions(object),
    }
}

fn response(object: &Map<String, Value>) -> Response {
    Response {
        description: string(object, "description"),
        schema: object.get("schema").map(|body| SchemaItem {
            oneof: Some(SchemaItemKind::Schema(schema(body))),
        }),
        vendor_extension: vendor_extensions(object),
    }
}

/// `security`: a list of scheme-to-scopes maps.
fn security(object: &Map<String, Value>) -> Vec<SecurityRequirement> {
    object
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|requirement| SecurityRequirement {
            additional_properties: requirement
                .iter()
                .map(|(name, scopes)| NamedStringArray {
                    name: name.clone(),
                    value: Some(StringArray {
                        value: scopes
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|scope| scope.as_str().map(str::to_owned))
                            .collect(),
                    }),
                })
                .collect(),
        })
        .collect()
}

/// `securityDefinitions`, by each scheme's `type`.
fn security_definitions(object: &Map<String, Value>) -> SecurityDefinitions {
    SecurityDefinitions {
        additional_properties: object
            .iter()
            .map(|(name, scheme)| {
                let oneof =
                    scheme
                        .as_object()
                        .and_then(|scheme| match string(scheme, "type").as_str() {
                            "apiKey" => Some(SecurityKind::ApiKey(ApiKeySecurity {
                                r#type: string(scheme, "type"),
                                name: string(scheme, "name"),
                                r#in: string(scheme, "in"),
                                description: string(scheme, "description"),
                                vendor_extension: vendor_extensions(scheme),
                            })),
                            "basic" => Some(SecurityKind::Basic(BasicAuthenticationSecurity {
                                r#type: string(scheme, "type"),
                                description: string(scheme, "description"),
                                vendor_extension: vendor_extensions(scheme),
                            })),
                            _ => None,
                        });
                NamedSecurityDefinitionsItem {
                    name: name.clone(),
                    value: Some(SecurityDefinitionsItem { oneof }),
                }
            })
            .collect(),
    }
}

fn tag(object: &Map<String, Value>) -> Tag {
    Tag {
        name: string(object, "name"),
        description: string(object, "description"),
        external_docs: object
            .get("externalDocs")
            .and_then(Value::as_object)
            .map(external_docs),
        vendor_extension: vendor_extensions(object),
    }
}
