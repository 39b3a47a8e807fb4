//! `/openapi/v2` and `/openapi/v3`, as kube-apiserver serves them. kubectl decides from the
//! v3 document of an object's group version whether the server validates fields itself
//! (the `fieldValidation` parameter on the kind's PATCH operation); without these documents
//! every `kubectl create`/`apply` fails unless `--validate=false` is given. `kubectl
//! explain`, kubectl's client-side apply and Helm read the same documents.
//!
//! The schemas are generated once from k8s-openapi's `JsonSchema` impls (`source`, which
//! carry upstream's v1.35 descriptions, types, formats and required fields) with the patch
//! and merge extensions of upstream's Go tags (`patch_meta`, written by `strategies`); the
//! paths and operations are generated from the registry (`paths`) and grouped into documents
//! (`select`), converted to v3 (`v3`), serialized and hashed once (`documents`) and served
//! with upstream's caching headers (`http`); v2 also in gnostic's protobuf form
//! (`v2_protobuf`), which kubectl up to 1.28 requires. The same schemas find unknown fields for
//! server-side strict field validation (`fields`).

mod custom;
mod documents;
mod fields;
mod http;
mod negotiate;
mod patch_meta;
mod patch_schema;
mod paths;
mod select;
mod source;
mod strategies;
mod v2_protobuf;
mod v3;

pub use fields::{
    field_problems, prune_unknown_fields, strict_decoding_message, unknown_fields, FieldProblem,
};
pub use http::routes;
pub use patch_meta::{is_atomic_struct, patch_meta, ListType, MapType, PatchMeta, PatchStrategy};
pub use patch_schema::{patch_schema, SchemaNode};

/// Why the OpenAPI documents could not be built (only a broken build can cause this: the
/// input is compiled into the binary).
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    /// The generated definitions lack something every document needs.
    #[error("malformed generated OpenAPI definitions: {0}")]
    Malformed(String),
    /// A document could not be serialized.
    #[error("serializing an OpenAPI document: {0}")]
    Serialize(serde_json::Error),
    /// The build task died.
    #[error("building the OpenAPI documents: {0}")]
    Build(String),
}
