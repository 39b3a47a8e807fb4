//! The document-level messages of gnostic's `openapi.v2` package (`OpenAPIv2.proto`), with
//! its field numbers: the document, its paths, operations, parameters, responses and
//! security. The schema messages are in `schema`. Messages and fields our documents never
//! carry (OAuth2 security, response headers and examples, file schemas) are left out;
//! a decoder skips what it does not know, and an absent field is the proto3 default.

use super::schema::{Any, NamedAny, NamedSchema, Schema};

/// `Document`: the whole Swagger 2.0 document.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Document {
    /// `swagger`.
    #[prost(string, tag = "1")]
    pub(crate) swagger: String,
    /// `info`.
    #[prost(message, optional, tag = "2")]
    pub(crate) info: Option<Info>,
    /// `host`.
    #[prost(string, tag = "3")]
    pub(crate) host: String,
    /// `basePath`.
    #[prost(string, tag = "4")]
    pub(crate) base_path: String,
    /// `schemes`.
    #[prost(string, repeated, tag = "5")]
    pub(crate) schemes: Vec<String>,
    /// `consumes`.
    #[prost(string, repeated, tag = "6")]
    pub(crate) consumes: Vec<String>,
    /// `produces`.
    #[prost(string, repeated, tag = "7")]
    pub(crate) produces: Vec<String>,
    /// `paths`.
    #[prost(message, optional, tag = "8")]
    pub(crate) paths: Option<Paths>,
    /// `definitions`.
    #[prost(message, optional, tag = "9")]
    pub(crate) definitions: Option<Definitions>,
    /// `parameters`: the shared parameters.
    #[prost(message, optional, tag = "10")]
    pub(crate) parameters: Option<ParameterDefinitions>,
    /// `responses`: the shared responses.
    #[prost(message, optional, tag = "11")]
    pub(crate) responses: Option<ResponseDefinitions>,
    /// `security`.
    #[prost(message, repeated, tag = "12")]
    pub(crate) security: Vec<SecurityRequirement>,
    /// `securityDefinitions`.
    #[prost(message, optional, tag = "13")]
    pub(crate) security_definitions: Option<SecurityDefinitions>,
    /// `tags`.
    #[prost(message, repeated, tag = "14")]
    pub(crate) tags: Vec<Tag>,
    /// `externalDocs`.
    #[prost(message, optional, tag = "15")]
    pub(crate) external_docs: Option<ExternalDocs>,
    /// `x-*`.
    #[prost(message, repeated, tag = "16")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `Info`: the API's title and version.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Info {
    /// `title`.
    #[prost(string, tag = "1")]
    pub(crate) title: String,
    /// `version`.
    #[prost(string, tag = "2")]
    pub(crate) version: String,
    /// `description`.
    #[prost(string, tag = "3")]
    pub(crate) description: String,
    /// `termsOfService`.
    #[prost(string, tag = "4")]
    pub(crate) terms_of_service: String,
    /// `x-*` (tag 7; contact and license, 5 and 6, are never published).
    #[prost(message, repeated, tag = "7")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `Definitions`: the named schemas.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Definitions {
    /// Every definition, in document order.
    #[prost(message, repeated, tag = "1")]
    pub(crate) additional_properties: Vec<NamedSchema>,
}

/// `Paths`: every path and its item.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Paths {
    /// `x-*`.
    #[prost(message, repeated, tag = "1")]
    pub(crate) vendor_extension: Vec<NamedAny>,
    /// Keys starting with `/`.
    #[prost(message, repeated, tag = "2")]
    pub(crate) path: Vec<NamedPathItem>,
}

/// `NamedPathItem`: one path.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedPathItem {
    /// The path template.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// Its operations.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<PathItem>,
}

/// `PathItem`: the operations on one path.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PathItem {
    /// `$ref`.
    #[prost(string, tag = "1")]
    pub(crate) xref: String,
    /// `get`.
    #[prost(message, optional, tag = "2")]
    pub(crate) get: Option<Operation>,
    /// `put`.
    #[prost(message, optional, tag = "3")]
    pub(crate) put: Option<Operation>,
    /// `post`.
    #[prost(message, optional, tag = "4")]
    pub(crate) post: Option<Operation>,
    /// `delete`.
    #[prost(message, optional, tag = "5")]
    pub(crate) delete: Option<Operation>,
    /// `options`.
    #[prost(message, optional, tag = "6")]
    pub(crate) options: Option<Operation>,
    /// `head`.
    #[prost(message, optional, tag = "7")]
    pub(crate) head: Option<Operation>,
    /// `patch`.
    #[prost(message, optional, tag = "8")]
    pub(crate) patch: Option<Operation>,
    /// `parameters` shared by the path's operations.
    #[prost(message, repeated, tag = "9")]
    pub(crate) parameters: Vec<ParametersItem>,
    /// `x-*`.
    #[prost(message, repeated, tag = "10")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `Operation`: one verb on one path. kubectl reads its `x-kubernetes-group-version-kind`
/// and query parameters to learn whether the server validates fields itself.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Operation {
    /// `tags`.
    #[prost(string, repeated, tag = "1")]
    pub(crate) tags: Vec<String>,
    /// `summary`.
    #[prost(string, tag = "2")]
    pub(crate) summary: String,
    /// `description`.
    #[prost(string, tag = "3")]
    pub(crate) description: String,
    /// `externalDocs`.
    #[prost(message, optional, tag = "4")]
    pub(crate) external_docs: Option<ExternalDocs>,
    /// `operationId`.
    #[prost(string, tag = "5")]
    pub(crate) operation_id: String,
    /// `produces`.
    #[prost(string, repeated, tag = "6")]
    pub(crate) produces: Vec<String>,
    /// `consumes`.
    #[prost(string, repeated, tag = "7")]
    pub(crate) consumes: Vec<String>,
    /// `parameters`.
    #[prost(message, repeated, tag = "8")]
    pub(crate) parameters: Vec<ParametersItem>,
    /// `responses`.
    #[prost(message, optional, tag = "9")]
    pub(crate) responses: Option<Responses>,
    /// `schemes`.
    #[prost(string, repeated, tag = "10")]
    pub(crate) schemes: Vec<String>,
    /// `deprecated`.
    #[prost(bool, tag = "11")]
    pub(crate) deprecated: bool,
    /// `security`.
    #[prost(message, repeated, tag = "12")]
    pub(crate) security: Vec<SecurityRequirement>,
    /// `x-*`.
    #[prost(message, repeated, tag = "13")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `ParametersItem`: a parameter or a reference to a shared one.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ParametersItem {
    /// Which of the two.
    #[prost(oneof = "ParametersItemKind", tags = "1, 2")]
    pub(crate) oneof: Option<ParametersItemKind>,
}

/// `ParametersItem.oneof`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum ParametersItemKind {
    /// An inline parameter.
    #[prost(message, tag = "1")]
    Parameter(Box<Parameter>),
    /// `{"$ref": ...}`.
    #[prost(message, tag = "2")]
    JsonReference(JsonReference),
}

/// `JsonReference`: `$ref` with an optional description.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct JsonReference {
    /// `$ref`.
    #[prost(string, tag = "1")]
    pub(crate) xref: String,
    /// `description`.
    #[prost(string, tag = "2")]
    pub(crate) description: String,
}

/// `Parameter`: a body parameter or any other.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Parameter {
    /// Which of the two.
    #[prost(oneof = "ParameterKind", tags = "1, 2")]
    pub(crate) oneof: Option<ParameterKind>,
}

/// `Parameter.oneof`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum ParameterKind {
    /// `in: body`.
    #[prost(message, tag = "1")]
    BodyParameter(BodyParameter),
    /// `in: header`, `formData`, `query` or `path`.
    #[prost(message, tag = "2")]
    NonBodyParameter(NonBodyParameter),
}

/// `BodyParameter`: the request body and its schema.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BodyParameter {
    /// `description`.
    #[prost(string, tag = "1")]
    pub(crate) description: String,
    /// `name`.
    #[prost(string, tag = "2")]
    pub(crate) name: String,
    /// `in`.
    #[prost(string, tag = "3")]
    pub(crate) r#in: String,
    /// `required`.
    #[prost(bool, tag = "4")]
    pub(crate) required: bool,
    /// `schema`.
    #[prost(message, optional, tag = "5")]
    pub(crate) schema: Option<Schema>,
    /// `x-*`.
    #[prost(message, repeated, tag = "6")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `NonBodyParameter`: one sub-schema per location.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NonBodyParameter {
    /// By `in`.
    #[prost(oneof = "NonBodyParameterKind", tags = "1, 2, 3, 4")]
    pub(crate) oneof: Option<NonBodyParameterKind>,
}

/// `NonBodyParameter.oneof`. Header and path parameters share one field layout, query and
/// form parameters another (they add `allowEmptyValue` as field 5).
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum NonBodyParameterKind {
    /// `HeaderParameterSubSchema`.
    #[prost(message, tag = "1")]
    Header(SimpleParameter),
    /// `FormDataParameterSubSchema`.
    #[prost(message, tag = "2")]
    FormData(QueryParameter),
    /// `QueryParameterSubSchema`.
    #[prost(message, tag = "3")]
    Query(QueryParameter),
    /// `PathParameterSubSchema`.
    #[prost(message, tag = "4")]
    Path(SimpleParameter),
}

/// `HeaderParameterSubSchema` and `PathParameterSubSchema`, which number their fields alike.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SimpleParameter {
    /// `required`.
    #[prost(bool, tag = "1")]
    pub(crate) required: bool,
    /// `in`.
    #[prost(string, tag = "2")]
    pub(crate) r#in: String,
    /// `description`.
    #[prost(string, tag = "3")]
    pub(crate) description: String,
    /// `name`.
    #[prost(string, tag = "4")]
    pub(crate) name: String,
    /// `type`.
    #[prost(string, tag = "5")]
    pub(crate) r#type: String,
    /// `format`.
    #[prost(string, tag = "6")]
    pub(crate) format: String,
    /// `items`.
    #[prost(message, optional, tag = "7")]
    pub(crate) items: Option<PrimitivesItems>,
    /// `collectionFormat`.
    #[prost(string, tag = "8")]
    pub(crate) collection_format: String,
    /// `default`.
    #[prost(message, optional, tag = "9")]
    pub(crate) default: Option<Any>,
    /// `maximum`.
    #[prost(double, tag = "10")]
    pub(crate) maximum: f64,
    /// `exclusiveMaximum`.
    #[prost(bool, tag = "11")]
    pub(crate) exclusive_maximum: bool,
    /// `minimum`.
    #[prost(double, tag = "12")]
    pub(crate) minimum: f64,
    /// `exclusiveMinimum`.
    #[prost(bool, tag = "13")]
    pub(crate) exclusive_minimum: bool,
    /// `maxLength`.
    #[prost(int64, tag = "14")]
    pub(crate) max_length: i64,
    /// `minLength`.
    #[prost(int64, tag = "15")]
    pub(crate) min_length: i64,
    /// `pattern`.
    #[prost(string, tag = "16")]
    pub(crate) pattern: String,
    /// `maxItems`.
    #[prost(int64, tag = "17")]
    pub(crate) max_items: i64,
    /// `minItems`.
    #[prost(int64, tag = "18")]
    pub(crate) min_items: i64,
    /// `uniqueItems`.
    #[prost(bool, tag = "19")]
    pub(crate) unique_items: bool,
    /// `enum`.
    #[prost(message, repeated, tag = "20")]
    pub(crate) r#enum: Vec<Any>,
    /// `multipleOf`.
    #[prost(double, tag = "21")]
    pub(crate) multiple_of: f64,
    /// `x-*`.
    #[prost(message, repeated, tag = "22")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `QueryParameterSubSchema` and `FormDataParameterSubSchema`, which number their fields
/// alike.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct QueryParameter {
    /// `required`.
    #[prost(bool, tag = "1")]
    pub(crate) required: bool,
    /// `in`.
    #[prost(string, tag = "2")]
    pub(crate) r#in: String,
    /// `description`.
    #[prost(string, tag = "3")]
    pub(crate) description: String,
    /// `name`.
    #[prost(string, tag = "4")]
    pub(crate) name: String,
    /// `allowEmptyValue`.
    #[prost(bool, tag = "5")]
    pub(crate) allow_empty_value: bool,
    /// `type`.
    #[prost(string, tag = "6")]
    pub(crate) r#type: String,
    /// `format`.
    #[prost(string, tag = "7")]
    pub(crate) format: String,
    /// `items`.
    #[prost(message, optional, tag = "8")]
    pub(crate) items: Option<PrimitivesItems>,
    /// `collectionFormat`.
    #[prost(string, tag = "9")]
    pub(crate) collection_format: String,
    /// `default`.
    #[prost(message, optional, tag = "10")]
    pub(crate) default: Option<Any>,
    /// `maximum`.
    #[prost(double, tag = "11")]
    pub(crate) maximum: f64,
    /// `exclusiveMaximum`.
    #[prost(bool, tag = "12")]
    pub(crate) exclusive_maximum: bool,
    /// `minimum`.
    #[prost(double, tag = "13")]
    pub(crate) minimum: f64,
    /// `exclusiveMinimum`.
    #[prost(bool, tag = "14")]
    pub(crate) exclusive_minimum: bool,
    /// `maxLength`.
    #[prost(int64, tag = "15")]
    pub(crate) max_length: i64,
    /// `minLength`.
    #[prost(int64, tag = "16")]
    pub(crate) min_length: i64,
    /// `pattern`.
    #[prost(string, tag = "17")]
    pub(crate) pattern: String,
    /// `maxItems`.
    #[prost(int64, tag = "18")]
    pub(crate) max_items: i64,
    /// `minItems`.
    #[prost(int64, tag = "19")]
    pub(crate) min_items: i64,
    /// `uniqueItems`.
    #[prost(bool, tag = "20")]
    pub(crate) unique_items: bool,
    /// `enum`.
    #[prost(message, repeated, tag = "21")]
    pub(crate) r#enum: Vec<Any>,
    /// `multipleOf`.
    #[prost(double, tag = "22")]
    pub(crate) multiple_of: f64,
    /// `x-*`.
    #[prost(message, repeated, tag = "23")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `PrimitivesItems`: the element type of an array parameter.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PrimitivesItems {
    /// `type`.
    #[prost(string, tag = "1")]
    pub(crate) r#type: String,
    /// `format`.
    #[prost(string, tag = "2")]
    pub(crate) format: String,
    /// `items`.
    #[prost(message, optional, boxed, tag = "3")]
    pub(crate) items: Option<Box<PrimitivesItems>>,
    /// `collectionFormat`.
    #[prost(string, tag = "4")]
    pub(crate) collection_format: String,
    /// `default`.
    #[prost(message, optional, tag = "5")]
    pub(crate) default: Option<Any>,
    /// `maximum`.
    #[prost(double, tag = "6")]
    pub(crate) maximum: f64,
    /// `exclusiveMaximum`.
    #[prost(bool, tag = "7")]
    pub(crate) exclusive_maximum: bool,
    /// `minimum`.
    #[prost(double, tag = "8")]
    pub(crate) minimum: f64,
    /// `exclusiveMinimum`.
    #[prost(bool, tag = "9")]
    pub(crate) exclusive_minimum: bool,
    /// `maxLength`.
    #[prost(int64, tag = "10")]
    pub(crate) max_length: i64,
    /// `minLength`.
    #[prost(int64, tag = "11")]
    pub(crate) min_length: i64,
    /// `pattern`.
    #[prost(string, tag = "12")]
    pub(crate) pattern: String,
    /// `maxItems`.
    #[prost(int64, tag = "13")]
    pub(crate) max_items: i64,
    /// `minItems`.
    #[prost(int64, tag = "14")]
    pub(crate) min_items: i64,
    /// `uniqueItems`.
    #[prost(bool, tag = "15")]
    pub(crate) unique_items: bool,
    /// `enum`.
    #[prost(message, repeated, tag = "16")]
    pub(crate) r#enum: Vec<Any>,
    /// `multipleOf`.
    #[prost(double, tag = "17")]
    pub(crate) multiple_of: f64,
    /// `x-*`.
    #[prost(message, repeated, tag = "18")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `Responses`: an operation's responses by status code.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Responses {
    /// Keys that are three digits or `default`.
    #[prost(message, repeated, tag = "1")]
    pub(crate) response_code: Vec<NamedResponseValue>,
    /// `x-*`.
    #[prost(message, repeated, tag = "2")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `NamedResponseValue`: one status code's response.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedResponseValue {
    /// The status code.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// The response.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<ResponseValue>,
}

/// `ResponseValue`: a response or a reference to a shared one.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ResponseValue {
    /// Which of the two.
    #[prost(oneof = "ResponseValueKind", tags = "1, 2")]
    pub(crate) oneof: Option<ResponseValueKind>,
}

/// `ResponseValue.oneof`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum ResponseValueKind {
    /// An inline response.
    #[prost(message, tag = "1")]
    Response(Box<Response>),
    /// `{"$ref": ...}`.
    #[prost(message, tag = "2")]
    JsonReference(JsonReference),
}

/// `Response`: its description and body schema.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Response {
    /// `description`.
    #[prost(string, tag = "1")]
    pub(crate) description: String,
    /// `schema`.
    #[prost(message, optional, tag = "2")]
    pub(crate) schema: Option<SchemaItem>,
    /// `x-*` (tag 5; headers and examples, 3 and 4, are never published).
    #[prost(message, repeated, tag = "5")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `SchemaItem`: a response body's schema (a `FileSchema` only for `type: file`, which
/// Kubernetes never uses).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SchemaItem {
    /// The schema.
    #[prost(oneof = "SchemaItemKind", tags = "1")]
    pub(crate) oneof: Option<SchemaItemKind>,
}

/// `SchemaItem.oneof`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum SchemaItemKind {
    /// `Schema`.
    #[prost(message, tag = "1")]
    Schema(Schema),
}

/// `ParameterDefinitions`: the document's shared parameters.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ParameterDefinitions {
    /// By name.
    #[prost(message, repeated, tag = "1")]
    pub(crate) additional_properties: Vec<NamedParameter>,
}

/// `NamedParameter`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedParameter {
    /// The key under `parameters`.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// The parameter.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<Parameter>,
}

/// `ResponseDefinitions`: the document's shared responses.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ResponseDefinitions {
    /// By name.
    #[prost(message, repeated, tag = "1")]
    pub(crate) additional_properties: Vec<NamedResponse>,
}

/// `NamedResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedResponse {
    /// The key under `responses`.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// The response.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<Response>,
}

/// `SecurityRequirement`: scheme name to scopes.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SecurityRequirement {
    /// By scheme.
    #[prost(message, repeated, tag = "1")]
    pub(crate) additional_properties: Vec<NamedStringArray>,
}

/// `NamedStringArray`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedStringArray {
    /// The scheme.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// Its scopes.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<StringArray>,
}

/// `StringArray`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StringArray {
    /// The strings.
    #[prost(string, repeated, tag = "1")]
    pub(crate) value: Vec<String>,
}

/// `SecurityDefinitions`: the authentication schemes.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SecurityDefinitions {
    /// By name.
    #[prost(message, repeated, tag = "1")]
    pub(crate) additional_properties: Vec<NamedSecurityDefinitionsItem>,
}

/// `NamedSecurityDefinitionsItem`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NamedSecurityDefinitionsItem {
    /// The scheme's name.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// The scheme.
    #[prost(message, optional, tag = "2")]
    pub(crate) value: Option<SecurityDefinitionsItem>,
}

/// `SecurityDefinitionsItem`: basic or API-key authentication (the OAuth2 flows, tags 3 to
/// 6, are never published).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SecurityDefinitionsItem {
    /// By `type`.
    #[prost(oneof = "SecurityKind", tags = "1, 2")]
    pub(crate) oneof: Option<SecurityKind>,
}

/// `SecurityDefinitionsItem.oneof`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum SecurityKind {
    /// `type: basic`.
    #[prost(message, tag = "1")]
    Basic(BasicAuthenticationSecurity),
    /// `type: apiKey`.
    #[prost(message, tag = "2")]
    ApiKey(ApiKeySecurity),
}

/// `BasicAuthenticationSecurity`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BasicAuthenticationSecurity {
    /// `type`.
    #[prost(string, tag = "1")]
    pub(crate) r#type: String,
    /// `description`.
    #[prost(string, tag = "2")]
    pub(crate) description: String,
    /// `x-*`.
    #[prost(message, repeated, tag = "3")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `ApiKeySecurity`: kube-apiserver's bearer tokens.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ApiKeySecurity {
    /// `type`.
    #[prost(string, tag = "1")]
    pub(crate) r#type: String,
    /// `name`.
    #[prost(string, tag = "2")]
    pub(crate) name: String,
    /// `in`.
    #[prost(string, tag = "3")]
    pub(crate) r#in: String,
    /// `description`.
    #[prost(string, tag = "4")]
    pub(crate) description: String,
    /// `x-*`.
    #[prost(message, repeated, tag = "5")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `Tag`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Tag {
    /// `name`.
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    /// `description`.
    #[prost(string, tag = "2")]
    pub(crate) description: String,
    /// `externalDocs`.
    #[prost(message, optional, tag = "3")]
    pub(crate) external_docs: Option<ExternalDocs>,
    /// `x-*`.
    #[prost(message, repeated, tag = "4")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}

/// `ExternalDocs`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ExternalDocs {
    /// `description`.
    #[prost(string, tag = "1")]
    pub(crate) description: String,
    /// `url`.
    #[prost(string, tag = "2")]
    pub(crate) url: String,
    /// `x-*`.
    #[prost(message, repeated, tag = "3")]
    pub(crate) vendor_extension: Vec<NamedAny>,
}
