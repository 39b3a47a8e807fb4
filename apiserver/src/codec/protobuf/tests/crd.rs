//! A CustomResourceDefinition: the schema unions, embedded JSON and deep nesting.

use std::collections::BTreeMap;

use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use serde_json::{json, Value};

use super::{decode, envelope, string};

fn raw(value: Value) -> ext::Json {
    ext::Json {
        raw: Some(value.to_string().into_bytes()),
    }
}

fn typed(ty: &str) -> ext::JsonSchemaProps {
    ext::JsonSchemaProps {
        r#type: string(ty),
        ..Default::default()
    }
}

#[test]
fn custom_resource_definition() -> Result<(), String> {
    let spec_schema = ext::JsonSchemaProps {
        r#type: string("object"),
        properties: BTreeMap::from([
            (
                "replicas".to_owned(),
                ext::JsonSchemaProps {
                    minimum: Some(0.0),
                    default: Some(raw(json!(1))),
                    ..typed("integer")
                },
            ),
            (
                "mode".to_owned(),
                ext::JsonSchemaProps {
                    r#enum: vec![raw(json!("fast")), raw(json!("safe"))],
                    ..typed("string")
                },
            ),
            (
                "tags".to_owned(),
                ext::JsonSchemaProps {
                    items: Some(Box::new(ext::JsonSchemaPropsOrArray {
                        schema: Some(Box::new(typed("string"))),
                        j_son_schemas: Vec::new(),
                    })),
                    x_kubernetes_list_type: string("set"),
                    ..typed("array")
                },
            ),
            (
                "labels".to_owned(),
                ext::JsonSchemaProps {
                    additional_properties: Some(Box::new(ext::JsonSchemaPropsOrBool {
                        allows: Some(true),
                        schema: Some(Box::new(typed("string"))),
                    })),
                    ..typed("object")
                },
            ),
            (
                "closed".to_owned(),
                ext::JsonSchemaProps {
                    additional_properties: Some(Box::new(ext::JsonSchemaPropsOrBool {
                        allows: Some(false),
                        schema: None,
                    })),
                    ..typed("object")
                },
            ),
            (
                "anything".to_owned(),
                ext::JsonSchemaProps {
                    x_kubernetes_preserve_unknown_fields: Some(true),
                    ..typed("object")
                },
            ),
        ]),
        required: vec!["mode".to_owned()],
        ..Default::default()
    };
    let crd = ext::CustomResourceDefinition {
        metadata: Some(meta::ObjectMeta {
            name: string("widgets.example.com"),
            ..Default::default()
        }),
        spec: Some(ext::CustomResourceDefinitionSpec {
            group: string("example.com"),
            names: Some(ext::CustomResourceDefinitionNames {
                plural: string("widgets"),
                singular: string("widget"),
                kind: string("Widget"),
                list_kind: string(""),
                short_names: vec!["wd".to_owned()],
                categories: Vec::new(),
            }),
            scope: string("Namespaced"),
            versions: vec![ext::CustomResourceDefinitionVersion {
                name: string("v1"),
                served: Some(true),
                storage: Some(true),
                deprecated: Some(false),
                schema: Some(ext::CustomResourceValidation {
                    open_apiv3_schema: Some(ext::JsonSchemaProps {
                        properties: BTreeMap::from([("spec".to_owned(), spec_schema)]),
                        ..typed("object")
                    }),
                }),
                subresources: Some(ext::CustomResourceSubresources {
                    status: Some(ext::CustomResourceSubresourceStatus {}),
                    scale: None,
                }),
                ..Default::default()
            }],
            preserve_unknown_fields: Some(false),
            ..Default::default()
        }),
        status: None,
    };
    let body = envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", &crd);
    let object = decode(&body, "apiextensions.k8s.io/v1", "CustomResourceDefinition")?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1",
                    // `served` and `storage` have no omitempty.
                    "served": true,
                    "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {
                            "type": "object",
                            "required": ["mode"],
                            "properties": {
                                "anything": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                "closed": {"type": "object", "additionalProperties": false},
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "mode": {"type": "string", "enum": ["fast", "safe"]},
                                "replicas": {"type": "integer", "default": 1, "minimum": 0},
                                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                            },
                        }},
                    }},
                    "subresources": {"status": {}},
                }],
            },
        })
    );
    Ok(())
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let mut schema = typed("object");
    for _ in 0..2000 {
        schema = ext::JsonSchemaProps {
            not: Some(Box::new(schema)),
            ..Default::default()
        };
    }
    let crd = ext::CustomResourceDefinition {
        spec: Some(ext::CustomResourceDefinitionSpec {
            versions: vec![ext::CustomResourceDefinitionVersion {
                schema: Some(ext::CustomResourceValidation {
                    open_apiv3_schema: Some(schema),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let body = envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", &crd);
    let error = super::decode_protobuf(
        &body,
        &super::Expected {
            api_version: "apiextensions.k8s.io/v1",
            kind: "CustomResourceDefinition",
        },
    )
    .err()
    .map(|error| error.to_string())
    .unwrap_or_default();
    assert!(error.contains("nested too deeply"), "{error}");
}
