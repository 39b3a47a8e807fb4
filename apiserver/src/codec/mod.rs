//! Request body decoding: the media types clients send objects in, decoded to one JSON
//! form, together with what upstream's strict decoder would report about the body itself
//! (duplicate fields). The schema-driven half of strict decoding (unknown fields) lives in
//! [`crate::openapi`], because it needs the type.

mod json;
mod protobuf;
mod yaml;

use std::collections::HashSet;

use serde_json::{Map, Value};

pub use json::decode_json;
pub use protobuf::{decode_protobuf, encode_protobuf, EncodeError, Expected, PROTOBUF};
pub use yaml::decode_yaml;

/// A request body's media type, from its `Content-Type` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`, also assumed when no type is given, as upstream does.
    Json,
    /// `application/yaml`.
    Yaml,
    /// `application/vnd.kubernetes.protobuf`: built-in kinds only.
    Protobuf,
}

impl MediaType {
    /// The media type of a `Content-Type` header value; `None` for types we cannot decode.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "" | "application/json" | "*/*" => Some(Self::Json),
            "application/yaml" => Some(Self::Yaml),
            PROTOBUF => Some(Self::Protobuf),
            _ => None,
        }
    }
}

/// Duplicate fields of a body, as upstream's decoder of its media type reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Duplicates {
    /// None found (or the body was not decoded from text, as for patches).
    #[default]
    None,
    /// JSON: the dotted paths of repeated keys (`spec.paused`,
    /// `spec.template.spec.containers[0].imagePullPolicy`); upstream names them in document
    /// order among the unknown fields, which needs the schema, so only the paths are kept.
    Json(HashSet<String>),
    /// YAML: upstream's lines, e.g. `line 5: key "name" already set in map`.
    Yaml(Vec<String>),
}

impl Duplicates {
    /// Whether nothing was repeated.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::None => true,
            Self::Json(paths) => paths.is_empty(),
            Self::Yaml(lines) => lines.is_empty(),
        }
    }

    /// The repeated JSON paths, for merging with the unknown fields.
    pub fn json_paths(&self) -> Option<&HashSet<String>> {
        match self {
            Self::Json(paths) => Some(paths),
            _ => None,
        }
    }
}

/// A decoded body: a JSON object and its duplicate fields.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedBody {
    /// The object, with the last value of any repeated key (as upstream keeps).
    pub object: Map<String, Value>,
    /// What was repeated.
    pub duplicates: Duplicates,
}

/// Why a body could not be decoded; the message is what upstream's 400 says.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not well-formed JSON.
    #[error("couldn't get version/kind; json parse error: {0}")]
    Json(String),
    /// Not well-formed YAML, or YAML that has no JSON form.
    #[error("error converting YAML to JSON: yaml: {0}")]
    Yaml(String),
    /// Not a well-formed protobuf envelope or object; the whole message is upstream's.
    #[error("{0}")]
    Protobuf(String),
    /// Well-formed, but not an object.
    #[error("Object 'Kind' is missing in '{0}'")]
    NotAnObject(String),
}

/// Decodes `body` sent as `media_type`, for a resource of the `expected` kind (which a
/// protobuf envelope that names no kind defaults to).
pub fn decode(
    media_type: MediaType,
    body: &[u8],
    expected: &Expected<'_>,
) -> Result<DecodedBody, DecodeError> {
    match media_type {
        MediaType::Json => decode_json(body),
        MediaType::Yaml => decode_yaml(body),
        MediaType::Protobuf => decode_protobuf(body, expected),
    }
}

/// The object of a decoded top-level value, or upstream's complaint about it.
fn into_object(value: Value) -> Result<Map<String, Value>, DecodeError> {
    match value {
        Value::Object(object) => Ok(object),
        other => {
            let mut text = other.to_string();
            text.truncate(200);
            Err(DecodeError::NotAnObject(text))
        }
    }
}
