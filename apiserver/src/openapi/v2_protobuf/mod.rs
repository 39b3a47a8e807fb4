//! `/openapi/v2` in protobuf: gnostic's `openapi.v2.Document`, which kube-openapi makes from
//! the JSON document (`ToProtoBinary`) and serves for
//! `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`. kubectl up to 1.28 asks
//! for nothing else: without it `apply`, `create --validate` and `explain` fail. Our own
//! prost messages stand for gnostic's generated ones, with the same field numbers.

mod convert;
mod json;
mod messages;
mod schema;
mod yaml;

use prost::Message as _;
use serde_json::Value;

use super::OpenApiError;

/// The protobuf encoding of the Swagger 2.0 JSON document `json`.
pub(super) fn encode(json: &[u8]) -> Result<Vec<u8>, OpenApiError> {
    let document: Value = serde_json::from_slice(json).map_err(|error| {
        OpenApiError::Malformed(format!("the v2 document is not JSON: {error}"))
    })?;
    let object = document
        .as_object()
        .ok_or_else(|| OpenApiError::Malformed("the v2 document is not an object".to_owned()))?;
    Ok(convert::document(object).encode_to_vec())
}

#[cfg(test)]
mod tests;
