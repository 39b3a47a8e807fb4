//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which client-go's typed
//! clients send (kubectl's `create` generators, Helm's release Secrets): upstream's envelope
//! (`k8s\0` and a `runtime.Unknown` holding the kind and the object's message) decoded into
//! the JSON object the JSON codec would produce for the same object, so the rest of the
//! request path cannot tell the two apart.
//!
//! The decoder is one walker over the wire format (`wire`, `decode`) driven by a table of
//! every message reachable from a GA kind (`schema`, `messages.rs`), generated from k8s-pb's
//! prost sources with the JSON names of k8s-openapi (`generate`, a test that fails when the
//! table is stale); the special types' JSON forms are in `special`.

mod decode;
mod encode;
#[cfg(test)]
mod generate;
mod schema;
mod special;
#[cfg(test)]
mod tests;
mod wire;

use serde_json::{Map, Value};

use super::{DecodeError, DecodedBody, Duplicates};
use wire::{Reader, WireError, WireValue};

pub use encode::{encode_protobuf, EncodeError};

/// The magic number upstream puts before every protobuf-encoded object.
pub(super) const MAGIC: &[u8] = b"k8s\x00";

/// The media type of protobuf bodies.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// What a body is decoded as when its envelope names no kind (the kind the request's path
/// serves), and the kind upstream names in its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected<'a> {
    /// `apps/v1`, or `v1` for the core group.
    pub api_version: &'a str,
    /// `Deployment`.
    pub kind: &'a str,
}

/// Why an envelope could not be decoded.
#[derive(Debug)]
pub(super) struct EnvelopeError {
    /// What went wrong, as upstream words it.
    pub(super) detail: String,
    /// The version and kind the envelope was being decoded as, once known: upstream's
    /// message names them.
    decoded_as: Option<(String, String)>,
}

impl EnvelopeError {
    fn unread(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            decoded_as: None,
        }
    }
}

/// Decodes a protobuf body into its JSON object; the message of an error is upstream's 400.
pub fn decode_protobuf(body: &[u8], expected: &Expected<'_>) -> Result<DecodedBody, DecodeError> {
    let decoded = envelope(body, Some(expected), 0);
    if let Err(error) = &decoded {
        tracing::debug!(
            kind = expected.kind,
            bytes = body.len(),
            error = %error.detail,
            "protobuf body refused"
        );
    }
    match decoded {
        Ok(object) => Ok(DecodedBody {
            object,
            duplicates: Duplicates::None,
        }),
        Err(EnvelopeError {
            detail,
            decoded_as: Some((version, kind)),
        }) => Err(DecodeError::Protobuf(format!(
            "{kind} in version {version:?} cannot be handled as a {}: {detail}",
            expected.kind
        ))),
        Err(EnvelopeError { detail, .. }) => Err(DecodeError::Protobuf(format!(
            "the object provided is unrecognized (must be of type {}): {detail} ({})",
            expected.kind,
            summarize(body)
        ))),
    }
}

/// Upstream's summary of a body it could not recognize: up to 30 bytes, as text for what
/// looks like JSON, else in hex.
fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let head = body.get(..MAX).unwrap_or(body);
    let more = if body.len() > MAX { " ..." } else { "" };
    match body.first() {
        None => "<empty>".to_owned(),
        Some(b'{') => format!("{}{more}", String::from_utf8_lossy(head)),
        Some(_) => {
            let hex: String = head.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("{hex}{more}")
        }
    }
}

/// The object of an envelope, with its API version and kind (defaulted from `expected`, as
/// upstream defaults them from the request's).
pub(super) fn envelope(
    body: &[u8],
    expected: Option<&Expected<'_>>,
    depth: usize,
) -> Result<Map<String, Value>, EnvelopeError> {
    let data = match body {
        [] => return Err(EnvelopeError::unread("empty data")),
        _ if !body.starts_with(MAGIC) => {
            return Err(EnvelopeError::unread(
                "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
            ))
        }
        _ if body.len() == MAGIC.len() => return Err(EnvelopeError::unread("empty body")),
        _ => body.get(MAGIC.len()..).unwrap_or_default(),
    };
    let unknown = unknown(data).map_err(|error| EnvelopeError::unread(error.to_string()))?;
    let (mut api_version, mut kind) = (unknown.api_version, unknown.kind);
    if let Some(expected) = expected {
        if kind.is_empty() {
            kind = expected.kind.to_owned();
        }
        if version_of(&api_version).is_empty() {
            api_version = expected.api_version.to_owned();
        }
    }
    let decoded_as = Some((version_of(&api_version).to_owned(), kind.clone()));
    let fail = |detail: String| EnvelopeError {
        detail,
        decoded_as: decoded_as.clone(),
    };
    if kind.is_empty() {
        return Err(fail(format!(
            "Object 'Kind' is missing in 'runtime.TypeMeta{{APIVersion:{api_version:?}, Kind:\"\"}}'"
        )));
    }
    let message = schema::message_of_kind(&api_version, &kind).ok_or_else(|| {
        fail(format!(
            "no kind {kind:?} is registered for version {api_version:?} in scheme \"pkg/api/legacyscheme/scheme.go:30\""
        ))
    })?;
    let decoded =
        decode::message(message, &[unknown.raw], depth).map_err(|error| fail(error.to_string()))?;
    let mut object = Map::with_capacity(decoded.len() + 2);
    object.insert("apiVersion".to_owned(), Value::String(api_version));
    object.insert("kind".to_owned(), Value::String(kind));
    object.extend(decoded);
    Ok(object)
}

/// The version part of an API version (`v1` of `apps/v1`).
fn version_of(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// A `runtime.Unknown`: its type meta and raw bytes.
struct Unknown<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
}

fn unknown(data: &[u8]) -> Result<Unknown<'_>, WireError> {
    let mut out = Unknown {
        api_version: String::new(),
        kind: String::new(),
        raw: &[],
    };
    let mut reader = Reader::new(data, "Unknown");
    while let Some((tag, value)) = reader.next_field()? {
        match (tag, value) {
            (1, WireValue::Bytes(type_meta)) => {
                let mut meta = Reader::new(type_meta, "TypeMeta");
                while let Some((tag, value)) = meta.next_field()? {
                    let text = match value {
                        WireValue::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                        other if tag <= 2 => {
                            return Err(WireError::WrongWireType {
                                wire: other.wire_type(),
                                field: if tag == 1 { "APIVersion" } else { "Kind" }.to_owned(),
                            })
                        }
                        _ => continue,
                    };
                    match tag {
                        1 => out.api_version = text,
                        2 => out.kind = text,
                        _ => {}
                    }
                }
            }
            (2, WireValue::Bytes(raw)) => out.raw = raw,
            (3 | 4, WireValue::Bytes(_)) => {}
            (1..=4, other) => {
                let field = ["TypeMeta", "Raw", "ContentEncoding", "ContentType"]
                    .get(tag as usize - 1)
                    .copied()
                    .unwrap_or_default();
                return Err(WireError::WrongWireType {
                    wire: other.wire_type(),
                    field: field.to_owned(),
                });
            }
            _ => {}
        }
    }
    Ok(out)
}
