//! The table-driven encoder, the decoder's inverse: a JSON object of a GA kind to upstream's
//! protobuf envelope, for protobuf responses and for checking the decoder against
//! round trips. Non-repeated fields are written only when present in the JSON (upstream
//! writes every non-pointer scalar; the decoded JSON is the same either way).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::schema::{self, Field, Label, Message, Type};
use super::MAGIC;

/// Why an object has no protobuf form.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// `apiVersion` and `kind` name no kind of the table.
    #[error("no protobuf message for kind {kind:?} in version {api_version:?}")]
    UnknownKind {
        /// The object's `apiVersion`.
        api_version: String,
        /// The object's `kind`.
        kind: String,
    },
    /// A field's JSON value does not fit its type.
    #[error("{path}: {problem}")]
    Field {
        /// Dotted JSON path of the field.
        path: String,
        /// What does not fit.
        problem: String,
    },
}

/// Encodes `object` (which names its `apiVersion` and `kind`) as upstream's protobuf
/// envelope: `k8s\0` and a `runtime.Unknown`.
pub fn encode_protobuf(object: &Map<String, Value>) -> Result<Vec<u8>, EncodeError> {
    let text = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let message =
        schema::message_of_kind(api_version, kind).ok_or_else(|| EncodeError::UnknownKind {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        })?;
    let raw = encode_message(message, object, "")?;
    let mut type_meta = Vec::new();
    put_bytes(&mut type_meta, 1, api_version.as_bytes());
    put_bytes(&mut type_meta, 2, kind.as_bytes());
    let mut unknown = Vec::with_capacity(raw.len() + type_meta.len() + 16);
    put_bytes(&mut unknown, 1, &type_meta);
    put_bytes(&mut unknown, 2, &raw);
    put_bytes(&mut unknown, 3, b"");
    put_bytes(&mut unknown, 4, b"");
    let mut out = MAGIC.to_vec();
    out.extend(unknown);
    Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, tag: u32, wire: u8) {
    put_varint(out, (u64::from(tag) << 3) | u64::from(wire));
}

fn put_bytes(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_key(out, tag, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn mistyped(path: &str, problem: impl Into<String>) -> EncodeError {
    EncodeError::Field {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// One message's fields, in table order.
fn encode_message(
    message: &Message,
    object: &Map<String, Value>,
    path: &str,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    for field in message.fields() {
        if field.label() == Label::Inline {
            if let Type::Msg(name) = field.ty() {
                let target = lookup(name, path)?;
                put_bytes(
                    &mut out,
                    field.tag(),
                    &encode_message(target, object, path)?,
                );
            }
            continue;
        }
        let Some(value) = object.get(field.json()) else {
            continue;
        };
        if value.is_null() {
            // A zero time is `null` in JSON and an empty message on the wire.
            if matches!(field.ty(), Type::Time | Type::MicroTime)
                && field.label() != Label::OmitZero
            {
                put_bytes(&mut out, field.tag(), b"");
            }
            continue;
        }
        encode_field(&mut out, field, value, &join(path, field.json()))?;
    }
    Ok(out)
}

fn lookup(name: &str, path: &str) -> Result<&'static Message, EncodeError> {
    schema::message(name).ok_or_else(|| mistyped(path, format!("no message {name}")))
}

fn encode_field(
    out: &mut Vec<u8>,
    field: &Field,
    value: &Value,
    path: &str,
) -> Result<(), EncodeError> {
    match field.label() {
        Label::Rep => {
            let items = value
                .as_array()
                .ok_or_else(|| mistyped(path, "expected an array"))?;
            for item in items {
                put_value(out, field.tag(), field.ty(), item, path)?;
            }
        }
        Label::Map => {
            let entries = value
                .as_object()
                .ok_or_else(|| mistyped(path, "expected an object"))?;
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            for (key, item) in sorted {
                let mut entry = Vec::new();
                put_bytes(&mut entry, 1, key.as_bytes());
                put_value(&mut entry, 2, field.ty(), item, &join(path, key))?;
                put_bytes(out, field.tag(), &entry);
            }
        }
        _ => put_value(out, field.tag(), field.ty(), value, path)?,
    }
    Ok(())
}

fn integer(value: &Value, path: &str) -> Result<i64, EncodeError> {
    value
        .as_i64()
        .or_else(|| value.as_u64().map(|number| number as i64))
        .or_else(|| {
            value
                .as_f64()
                .filter(|number| number.fract() == 0.0)
                .map(|number| number as i64)
        })
        .ok_or_else(|| mistyped(path, "expected an integer"))
}

fn string<'v>(value: &'v Value, path: &str) -> Result<&'v str, EncodeError> {
    value
        .as_str()
        .ok_or_else(|| mistyped(path, "expected a string"))
}

/// One value of a field (an item, for lists and map values).
fn put_value(
    out: &mut Vec<u8>,
    tag: u32,
    ty: Type,
    value: &Value,
    path: &str,
) -> Result<(), EncodeError> {
    match ty {
        Type::Str => put_bytes(out, tag, string(value, path)?.as_bytes()),
        Type::Bytes => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(string(value, path)?)
                .map_err(|error| mistyped(path, error.to_string()))?;
            put_bytes(out, tag, &decoded);
        }
        Type::Bool => {
            let flag = value
                .as_bool()
                .ok_or_else(|| mistyped(path, "expected a boolean"))?;
            put_key(out, tag, 0);
            put_varint(out, u64::from(flag));
        }
        // Negative int32s take ten bytes, sign-extended, as in Go.
        Type::I32 | Type::I64 => {
            put_key(out, tag, 0);
            put_varint(out, integer(value, path)? as u64);
        }
        Type::F64 => {
            let number = value
                .as_f64()
                .ok_or_else(|| mistyped(path, "expected a number"))?;
            put_key(out, tag, 1);
            out.extend_from_slice(&number.to_le_bytes());
        }
        Type::Msg(name) => {
            let object = value
                .as_object()
                .ok_or_else(|| mistyped(path, "expected an object"))?;
            put_bytes(
                out,
                tag,
                &encode_message(lookup(name, path)?, object, path)?,
            );
        }
        special => put_bytes(out, tag, &encode_special(special, value, path)?),
    }
    Ok(())
}

/// The message of a special type.
fn encode_special(ty: Type, value: &Value, path: &str) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    match ty {
        Type::Time | Type::MicroTime => {
            let timestamp: jiff::Timestamp = string(value, path)?
                .parse()
                .map_err(|error: jiff::Error| mistyped(path, error.to_string()))?;
            put_key(&mut out, 1, 0);
            put_varint(&mut out, timestamp.as_second() as u64);
            let nanos = timestamp.subsec_nanosecond();
            if ty == Type::MicroTime && nanos != 0 {
                put_key(&mut out, 2, 0);
                put_varint(&mut out, nanos as u64);
            }
        }
        Type::IntOrStr => match value {
            Value::String(text) => {
                put_key(&mut out, 1, 0);
                put_varint(&mut out, 1);
                put_bytes(&mut out, 3, text.as_bytes());
            }
            other => {
                put_key(&mut out, 1, 0);
                put_varint(&mut out, 0);
                put_key(&mut out, 2, 0);
                put_varint(&mut out, integer(other, path)? as u64);
            }
        },
        Type::Quantity => put_bytes(&mut out, 1, string(value, path)?.as_bytes()),
        Type::RawJson => {
            let raw =
                serde_json::to_vec(value).map_err(|error| mistyped(path, error.to_string()))?;
            put_bytes(&mut out, 1, &raw);
        }
        Type::StrList => {
            for item in value
                .as_array()
                .ok_or_else(|| mistyped(path, "expected an array"))?
            {
                put_bytes(&mut out, 1, string(item, path)?.as_bytes());
            }
        }
        Type::SchemaOrArray | Type::SchemaOrBool | Type::SchemaOrStrings => {
            let props = lookup(schema::JSON_SCHEMA_PROPS, path)?;
            let schema = |object: &Value| -> Result<Vec<u8>, EncodeError> {
                let object = object
                    .as_object()
                    .ok_or_else(|| mistyped(path, "expected a schema"))?;
                encode_message(props, object, path)
            };
            match (ty, value) {
                (Type::SchemaOrBool, Value::Bool(allows)) => {
                    put_key(&mut out, 1, 0);
                    put_varint(&mut out, u64::from(*allows));
                }
                (Type::SchemaOrBool, object) => {
                    put_key(&mut out, 1, 0);
                    put_varint(&mut out, 1);
                    put_bytes(&mut out, 2, &schema(object)?);
                }
                (Type::SchemaOrArray, Value::Array(items)) => {
                    for item in items {
                        put_bytes(&mut out, 2, &schema(item)?);
                    }
                }
                (Type::SchemaOrStrings, Value::Array(items)) => {
                    for item in items {
                        put_bytes(&mut out, 2, string(item, path)?.as_bytes());
                    }
                }
                (_, object) => put_bytes(&mut out, 1, &schema(object)?),
            }
        }
        _ => return Err(mistyped(path, "not a special type")),
    }
    Ok(out)
}
