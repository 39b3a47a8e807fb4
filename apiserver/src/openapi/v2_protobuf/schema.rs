//! gnostic's `openapi.v2.Schema` and the messages it is built from, and the conversion of
//! one JSON schema into it as gnostic's `NewSchema` does: every key it knows in its own
//! field, every `x-` key as a `NamedAny` whose YAML text kubectl parses back, and any other
//! key dropped.

use serde_json::{Map, Value};

use super::json::{boolean, float, integer, string, strings, vendor_extensions};
use super::messages::ExternalDocs;
use super::yaml;

/// `Any`: a JSON value carried as YAML text (`google.protobuf.Any value = 1` is never set
/// for a parsed document).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Any {
    /// The value as go-yaml v3 would print it.
    #[prost(string, tag = "2")]
    pub(crate) yaml: String,
}

impl Any {
    /// gnostic's `NewAny`.
    pub(crate) fn of(value: &Value) -> Self {
        Self {
            yaml: yaml::to_yaml(value),
        }
    }
}

/// `NamedAny`: one vendor extension (or other free-form entry) by name.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedAny {
    /// The key, such as `x-kubernetes-group-version-kind`.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// Its value.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<Any>,
}

/// `NamedSchema`: a definition or a property.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedSchema {
    /// The definition's or property's name.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// Its schema.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<Schema>,
}

/// `Schema`: a deterministic form of a JSON schema, from which kubectl's `explain`,
/// client-side validation and strategic merge patch read types, descriptions and the
/// `x-kubernetes-*` patch metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Schema {
    /// `$ref`.
    #[prost(string, tag = "1")]
    pub(crate) xref: String,
    /// `format`.
    #[prost(string, tag = "2")]
    pub(crate) format: String,
    /// `title`.
    #[prost(string, tag = "3")]
    pub(crate) title: String,
    /// `description`.
    #[prost(string, tag = "4")]
    pub(crate) description: String,
    /// `default`.
    #[prost(message, optional, tag = "5")]
    pub(crate) default: Option<Any>,
    /// `multipleOf`.
    #[prost(double, tag = "6")]
    pub(crate) multiple_of: f64,
    /// `maximum`.
    #[prost(double, tag = "7")]
    pub(crate) maximum: f64,
    /// `exclusiveMaximum`.
    #[prost(bool, tag = "8")]
    pub(crate) exclusive_maximum: bool,
    /// `minimum`.
    #[prost(double, tag = "9")]
    pub(crate) minimum: f64,
    /// `exclusiveMinimum`.
    #[prost(bool, tag = "10")]
    pub(crate) exclusive_minimum: bool,
    /// `maxLength`.
    #[prost(int64, tag = "11")]
    pub(crate) max_length: i64,
    /// `minLength`.
    #[prost(int64, tag = "12")]
    pub(crate) min_length: i64,
    /// `pattern`.
    #[prost(string, tag = "13")]
    pub(crate) pattern: String,
    /// `maxItems`.
    #[prost(int64, tag = "14")]
    pub(crate) max_items: i64,
    /// `minItems`.
    #[prost(int64, tag = "15")]
    pub(crate) min_items: i64,
    /// `uniqueItems`.
    #[prost(bool, tag = "16")]
    pub(crate) unique_items: bool,
    /// `maxProperties`.
    #[prost(int64, tag = "17")]
    pub(crate) max_properties: i64,
    /// `minProperties`.
    #[prost(int64, tag = "18")]
    pub(crate) min_properties: i64,
    /// `required`.
    #[prost(string, repeated, tag = "19")]
    pub(crate) required: Vec<String>,
    /// `enum`.
    #[prost(message, repeated, tag = "20")]
    pub(crate) r#enum: Vec<Any>,
    /// `additionalProperties`.
    #[prost(message, optional, boxed, tag = "21")]
    pub(crate) additional_properties: Option<Box<AdditionalPropertiesItem>>,
    /// `type`.
    #[prost(message, optional, tag = "22")]
    pub(crate) r#type: Option<TypeItem>,
    /// `items`.
    #[prost(message, optional, tag = "23")]
    pub(crate) items: Option<ItemsItem>,
    /// `allOf`.
    #[prost(message, repeated, tag = "24")]
    pub(crate) all_of: Vec<Schema>,
    /// `properties`.
    #[prost(message, optional, tag = "25")]
    pub(crate) properties: Option<Properties>,
    /// `discriminator`.
    #[prost(string, tag = "26")]
    pub(crate) discriminator: String,
    /// `readOnly`.
    #[prost(bool, tag = "27")]
    pub(crate) read_only: bool,
    /// `xml`.
    #[prost(message, optional, tag = "28")]
    pub(crate) xml: Option<Xml>,
    /// `externalDocs`.
    #[prost(message, optional, tag = "29")]
    pub(crate) external_docs: Option<ExternalDocs>,
    /// `example`.
    #[prost(message, optional, tag = "30")]
    pub(crate) example: Option<Any>,
    /// `x-*`.
    #[prost(message, repeated, tag = "31")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `TypeItem`: `type`, a string or a list of them.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TypeItem {
    /// The types.
    #[prost(string, repeated, tag = "1")]
    pub(crate) value: Vec<String>,
}

/// `ItemsItem`: an array's element schema.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ItemsItem {
    /// The element schema (gnostic accepts exactly one).
    #[prost(message, repeated, tag = "1")]
    pub(crate) schema: Vec<Schema>,
}

/// `Properties`: an object's fields, in document order.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Properties {
    /// The fields.
    #[prost(message, repeated, tag = "1")]
    pub(crate) additional_properties: Vec<NamedSchema>,
}

/// `AdditionalPropertiesItem`: a map's value schema, or whether other keys are allowed.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct AdditionalPropertiesItem {
    /// Which of the two.
    #[prost(oneof = "AdditionalProperties", tags = "1, 2")]
    pub(crate) oneof: Option<AdditionalProperties>,
}

/// `AdditionalPropertiesItem.oneof`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum AdditionalProperties {
    /// A schema for every other key.
    #[prost(message, tag = "1")]
    Schema(Box<Schema>),
    /// `true` or `false`.
    #[prost(bool, tag = "2")]
    Boolean(bool),
}

/// `Xml`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Xml {
    /// `name`.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// `namespace`.
    #[prost(string, tag = "2")]
    pub(crate) namespace: String,
    /// `prefix`.
    #[prost(string, tag = "3")]
    pub(crate) prefix: String,
    /// `attribute`.
    #[prost(bool, tag = "4")]
    pub(crate) attribute: bool,
    /// `wrapped`.
    #[prost(bool, tag = "5")]
    pub(crate) wrapped: bool,
    /// `x-*`.
    #[prost(message, repeated, tag = "6")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// One JSON schema object as gnostic reads it; anything but an object is an empty schema.
pub(crate) fn schema(value: &Value) -> Schema {
    let Some(object) = value.as_object() else {
        return Schema::default();
    };
    Schema {
        xref: string(object, "$ref"),
        format: string(object, "format"),
        title: string(object, "title"),
        description: string(object, "description"),
        default: object.get("default").map(Any::of),
        multiple_of: float(object, "multipleOf"),
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
        max_properties: integer(object, "maxProperties"),
        min_properties: integer(object, "minProperties"),
        required: strings(object, "required"),
        r#enum: anys(object, "enum"),
        additional_properties: object.get("additionalProperties").and_then(additional),
        r#type: object.get("type").and_then(type_item),
        items: object
            .get("items")
            .filter(|items| items.is_object())
            .map(|items| ItemsItem {
                schema: vec![schema(items)],
            }),
        all_of: object
            .get("allOf")
            .and_then(Value::as_array)
            .map(|all| all.iter().map(schema).collect())
            .unwrap_or_default(),
        properties: object
            .get("properties")
            .and_then(Value::as_object)
            .map(properties),
        discriminator: string(object, "discriminator"),
        read_only: boolean(object, "readOnly"),
        xml: object.get("xml").and_then(Value::as_object).map(xml),
        external_docs: object
            .get("externalDocs")
            .and_then(Value::as_object)
            .map(external_docs),
        example: object.get("example").map(Any::of),
        vendor_extension: vendor_extensions(object),
    }
}

/// Named schemas in document order: `definitions` and `properties`.
pub(crate) fn named_schemas(object: &Map<String, Value>) -> Vec<NamedSchema> {
    object
        .iter()
        .map(|(name, value)| NamedSchema {
            name: name.clone(),
            value: Some(schema(value)),
        })
        .collect()
}

/// `externalDocs`, shared with the document and its tags.
pub(crate) fn external_docs(object: &Map<String, Value>) -> ExternalDocs {
    ExternalDocs {
        description: string(object, "description"),
        url: string(object, "url"),
        vendor_extension: vendor_extensions(object),
    }
}

/// A list of free-form values (`enum`), each as YAML.
pub(crate) fn anys(object: &Map<String, Value>, key: &str) -> Vec<Any> {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(|values| values.iter().map(Any::of).collect())
        .unwrap_or_default()
}

fn properties(object: &Map<String, Value>) -> Properties {
    Properties {
        additional_properties: named_schemas(object),
    }
}

fn additional(value: &Value) -> Option<Box<AdditionalPropertiesItem>> {
    let oneof = match value {
        Value::Object(_) => AdditionalProperties::Schema(Box::new(schema(value))),
        Value::Bool(allowed) => AdditionalProperties::Boolean(*allowed),
        _ => return None,
    };
    Some(Box::new(AdditionalPropertiesItem { oneof: Some(oneof) }))
}

/// `type`: one string, or each scalar of a list.
fn type_item(value: &Value) -> Option<TypeItem> {
    let value = match value {
        Value::String(single) => vec![single.clone()],
        Value::Array(types) => types
            .iter()
            .filter_map(|kind| kind.as_str().map(str::to_owned))
            .collect(),
        _ => return None,
    };
    Some(TypeItem { value })
}

fn xml(object: &Map<String, Value>) -> Xml {
    Xml {
        name: string(object, "name"),
        namespace: string(object, "namespace"),
        prefix: string(object, "prefix"),
        attribute: boolean(object, "attribute"),
        wrapped: boolean(object, "wrapped"),
        vendor_extension: vendor_extensions(object),
    }
}
