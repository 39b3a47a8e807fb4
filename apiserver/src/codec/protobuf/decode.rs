//! The table-driven decoder: walks a message's wire fields with the table's description of
//! that message and builds the JSON object Go's JSON encoder would write for the Go struct
//! upstream decodes (zero scalars left out unless kept, maps as objects, bytes as base64,
//! the special types in their own JSON forms).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::schema::{self, Field, Label, Message, Type};
use super::special;
use super::wire::{Reader, WireError, WireValue};

/// Deepest nesting of messages followed (a 3 MiB body could otherwise nest a million deep).
const MAX_DEPTH: usize = 200;

/// What a field has collected over the message's bytes.
enum Slot<'a> {
    Empty,
    /// A singular scalar: the last value wins.
    Scalar(WireValue<'a>),
    /// A singular message: every occurrence, merged as protobuf merges them (by decoding
    /// the occurrences one after another).
    Segments(Vec<&'a [u8]>),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

/// Decodes one message from its occurrences.
pub(super) fn message(
    message: &'static Message,
    segments: &[&[u8]],
    depth: usize,
) -> Result<Map<String, Value>, WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    let fields = message.fields();
    let mut slots: Vec<Slot<'_>> = fields.iter().map(|_| Slot::Empty).collect();
    for segment in segments {
        let mut reader = Reader::new(segment, message.go_name());
        while let Some((tag, value)) = reader.next_field()? {
            let Some(index) = fields.iter().position(|field| field.tag() == tag) else {
                continue; // unknown fields are skipped, as gogo skips them
            };
            let (Some(field), Some(slot)) = (fields.get(index), slots.get_mut(index)) else {
                continue;
            };
            collect(field, slot, value, depth)?;
        }
    }
    let mut object = Map::new();
    for (field, slot) in fields.iter().zip(slots) {
        finish(field, slot, &mut object, depth)?;
    }
    Ok(object)
}

/// Whether a type travels length-delimited (strings, bytes and every message).
fn is_length_delimited(ty: Type) -> bool {
    !matches!(ty, Type::Bool | Type::I32 | Type::I64 | Type::F64)
}

/// The Go field name upstream's wire-type errors name (`Replicas` for `replicas`).
fn go_field_name(field: &Field) -> String {
    let mut chars = field.json().chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn wrong_wire_type(field: &Field, value: &WireValue<'_>) -> WireError {
    WireError::WrongWireType {
        wire: value.wire_type(),
        field: go_field_name(field),
    }
}

/// Records one wire value of `field`.
fn collect<'a>(
    field: &Field,
    slot: &mut Slot<'a>,
    value: WireValue<'a>,
    depth: usize,
) -> Result<(), WireError> {
    let ty = field.ty();
    match field.label() {
        Label::Opt | Label::Keep | Label::OmitZero | Label::Inline => {
            match (is_length_delimited(ty), value) {
                (true, WireValue::Bytes(bytes)) if !is_scalar(ty) => match slot {
                    Slot::Segments(segments) => segments.push(bytes),
                    other => *other = Slot::Segments(vec![bytes]),
                },
                (true, WireValue::Bytes(_)) => *slot = Slot::Scalar(value),
                (false, WireValue::Varint(_)) if ty != Type::F64 => *slot = Slot::Scalar(value),
                (false, WireValue::Fixed64(_)) if ty == Type::F64 => *slot = Slot::Scalar(value),
                _ => return Err(wrong_wire_type(field, &value)),
            }
        }
        Label::Rep => {
            let mut items = Vec::new();
            match (is_length_delimited(ty), value) {
                (true, WireValue::Bytes(_)) if is_scalar(ty) => items.push(scalar(ty, value).0),
                (true, WireValue::Bytes(bytes)) => items.push(element(ty, &[bytes], depth)?),
                // A packed list of numbers.
                (false, WireValue::Bytes(bytes)) => {
                    let mut reader = Reader::new(bytes, "");
                    while !reader.at_end() {
                        let value = if ty == Type::F64 {
                            WireValue::Fixed64(reader.fixed64()?)
                        } else {
                            WireValue::Varint(reader.varint()?)
                        };
                        items.push(scalar(ty, value).0);
                    }
                }
                (false, WireValue::Varint(_)) if ty != Type::F64 => {
                    items.push(scalar(ty, value).0);
                }
                (false, WireValue::Fixed64(_)) if ty == Type::F64 => {
                    items.push(scalar(ty, value).0);
                }
                _ => return Err(wrong_wire_type(field, &value)),
            }
            match slot {
                Slot::List(list) => list.extend(items),
                other => *other = Slot::List(items),
            }
        }
        Label::Map => {
            let WireValue::Bytes(entry) = value else {
                return Err(wrong_wire_type(field, &value));
            };
            let (key, value) = map_entry(field, entry, depth)?;
            match slot {
                Slot::Map(map) => {
                    map.insert(key, value);
                }
                other => *other = Slot::Map(BTreeMap::from([(key, value)])),
            }
        }
    }
    Ok(())
}

/// Whether a type is a scalar of the wire (its value read directly, not as a message).
fn is_scalar(ty: Type) -> bool {
    matches!(
        ty,
        Type::Str | Type::Bool | Type::I32 | Type::I64 | Type::F64 | Type::Bytes
    )
}

/// One map entry: key (field 1, a string) and value (field 2), either possibly absent.
fn map_entry(field: &Field, entry: &[u8], depth: usize) -> Result<(String, Value), WireError> {
    let ty = field.ty();
    let mut reader = Reader::new(entry, "");
    let mut key = String::new();
    let mut value = None;
    let mut segments = Vec::new();
    while let Some((tag, wire)) = reader.next_field()? {
        match (tag, wire) {
            (1, WireValue::Bytes(bytes)) => key = String::from_utf8_lossy(bytes).into_owned(),
            (2, WireValue::Bytes(bytes)) if !is_scalar(ty) => segments.push(bytes),
            (2, wire) if is_scalar(ty) => value = Some(wire),
            (1 | 2, wire) => return Err(wrong_wire_type(field, &wire)),
            _ => {}
        }
    }
    let value = if is_scalar(ty) {
        match value {
            Some(wire) => check_scalar(field, ty, wire)?,
            None => zero(ty),
        }
    } else {
        element(ty, &segments, depth)?
    };
    Ok((key, value))
}

/// A scalar map value, checked against its type's wire type.
fn check_scalar(field: &Field, ty: Type, wire: WireValue<'_>) -> Result<Value, WireError> {
    let fits = match wire {
        WireValue::Bytes(_) => matches!(ty, Type::Str | Type::Bytes),
        WireValue::Varint(_) => matches!(ty, Type::Bool | Type::I32 | Type::I64),
        WireValue::Fixed64(_) => ty == Type::F64,
        _ => false,
    };
    if fits {
        Ok(scalar(ty, wire).0)
    } else {
        Err(wrong_wire_type(field, &wire))
    }
}

/// The JSON of a scalar type's zero value.
fn zero(ty: Type) -> Value {
    match ty {
        Type::Bool => Value::Bool(false),
        Type::I32 | Type::I64 | Type::F64 => Value::from(0),
        _ => Value::String(String::new()),
    }
}

/// A scalar's JSON, and whether it is Go's zero value.
fn scalar(ty: Type, value: WireValue<'_>) -> (Value, bool) {
    match (ty, value) {
        (Type::Str, WireValue::Bytes(bytes)) => (
            Value::String(String::from_utf8_lossy(bytes).into_owned()),
            bytes.is_empty(),
        ),
        (Type::Bytes, WireValue::Bytes(bytes)) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
            bytes.is_empty(),
        ),
        (Type::Bool, WireValue::Varint(number)) => (Value::Bool(number != 0), number == 0),
        // Go truncates to the field's width.
        (Type::I32, WireValue::Varint(number)) => {
            let number = number as u32 as i32;
            (Value::from(number), number == 0)
        }
        (Type::I64, WireValue::Varint(number)) => {
            let number = number as i64;
            (Value::from(number), number == 0)
        }
        (Type::F64, WireValue::Fixed64(bits)) => {
            let number = f64::from_bits(bits);
            (special::double(number), number == 0.0)
        }
        _ => (Value::Null, true),
    }
}

/// A non-scalar value (a message or a special type) from its occurrences.
fn element(ty: Type, segments: &[&[u8]], depth: usize) -> Result<Value, WireError> {
    let depth = depth + 1;
    match ty {
        Type::Msg(name) => {
            let target = schema::message(name)
                .ok_or_else(|| WireError::Invalid(format!("no message {name} in the table")))?;
            Ok(Value::Object(message(target, segments, depth)?))
        }
        // Upstream reads an empty time as Go's zero time, `null` in JSON.
        Type::Time | Type::MicroTime if segments.iter().all(|segment| segment.is_empty()) => {
            Ok(Value::Null)
        }
        Type::Time => {
            let fields = scalars(segments)?;
            special::time(varint(&fields, 1) as i64)
        }
        Type::MicroTime => {
            let fields = scalars(segments)?;
            special::micro_time(varint(&fields, 1) as i64, varint(&fields, 2) as u32 as i32)
        }
        Type::IntOrStr => {
            let fields = scalars(segments)?;
            special::int_or_string(
                varint(&fields, 1) as i64,
                varint(&fields, 2) as u32 as i32,
                text(&fields, 3),
            )
        }
        Type::Quantity => {
            let fields = scalars(segments)?;
            let quantity = text(&fields, 1);
            Ok(Value::String(if quantity.is_empty() {
                "0".to_owned()
            } else {
                quantity
            }))
        }
        Type::RawJson => raw_json(&bytes(&scalars(segments)?, 1), depth),
        Type::StrList => Ok(Value::Array(
            strings(segments, 1)?
                .into_iter()
                .map(Value::String)
                .collect(),
        )),
        Type::SchemaOrArray => {
            let (schema, schemas) = schema_parts(segments, 1, Some(2), depth)?;
            Ok(if schemas.is_empty() {
                schema.unwrap_or(Value::Null)
            } else {
                Value::Array(schemas)
            })
        }
        Type::SchemaOrBool => {
            let (schema, _) = schema_parts(segments, 2, None, depth)?;
            Ok(match schema {
                Some(schema) => schema,
                None => Value::Bool(varint(&scalars(segments)?, 1) != 0),
            })
        }
        Type::SchemaOrStrings => {
            let (schema, _) = schema_parts(segments, 1, None, depth)?;
            let property = strings(segments, 2)?;
            Ok(if !property.is_empty() {
                Value::Array(property.into_iter().map(Value::String).collect())
            } else {
                schema.unwrap_or(Value::Null)
            })
        }
        scalar_type => Ok(zero(scalar_type)),
    }
}

/// The last value of each field of a small special message.
fn scalars<'a>(segments: &[&'a [u8]]) -> Result<BTreeMap<u32, WireValue<'a>>, WireError> {
    let mut fields = BTreeMap::new();
    for segment in segments {
        let mut reader = Reader::new(segment, "");
        while let Some((tag, value)) = reader.next_field()? {
            fields.insert(tag, value);
        }
    }
    Ok(fields)
}

fn varint(fields: &BTreeMap<u32, WireValue<'_>>, tag: u32) -> u64 {
    match fields.get(&tag) {
        Some(WireValue::Varint(value)) => *value,
        _ => 0,
    }
}

fn bytes(fields: &BTreeMap<u32, WireValue<'_>>, tag: u32) -> Vec<u8> {
    match fields.get(&tag) {
        Some(WireValue::Bytes(bytes)) => bytes.to_vec(),
        _ => Vec::new(),
    }
}

fn text(fields: &BTreeMap<u32, WireValue<'_>>, tag: u32) -> String {
    String::from_utf8_lossy(&bytes(fields, tag)).into_owned()
}

/// Every string of a repeated string field.
fn strings(segments: &[&[u8]], tag: u32) -> Result<Vec<String>, WireError> {
    let mut out = Vec::new();
    for segment in segments {
        let mut reader = Reader::new(segment, "");
        while let Some((number, value)) = reader.next_field()? {
            if let (true, WireValue::Bytes(bytes)) = (number == tag, value) {
                out.push(String::from_utf8_lossy(bytes).into_owned());
            }
        }
    }
    Ok(out)
}

/// A schema union's schema (field `single`, merged) and schema list (field `list`).
fn schema_parts(
    segments: &[&[u8]],
    single: u32,
    list: Option<u32>,
    depth: usize,
) -> Result<(Option<Value>, Vec<Value>), WireError> {
    let props = schema::message(schema::JSON_SCHEMA_PROPS)
        .ok_or_else(|| WireError::Invalid("no JSONSchemaProps in the table".to_owned()))?;
    let mut schema_segments = Vec::new();
    let mut schemas = Vec::new();
    for segment in segments {
        let mut reader = Reader::new(segment, "");
        while let Some((tag, value)) = reader.next_field()? {
            let WireValue::Bytes(bytes) = value else {
                continue;
            };
            if tag == single {
                schema_segments.push(bytes);
            } else if Some(tag) == list {
                schemas.push(Value::Object(message(props, &[bytes], depth + 1)?));
            }
        }
    }
    let schema = if schema_segments.is_empty() {
        None
    } else {
        Some(Value::Object(message(props, &schema_segments, depth + 1)?))
    };
    Ok((schema, schemas))
}

/// Embedded JSON (`RawExtension`, apiextensions `JSON`, `FieldsV1`): `null` when empty; an
/// embedded protobuf object (`k8s\0...`) is decoded in turn.
fn raw_json(raw: &[u8], depth: usize) -> Result<Value, WireError> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    if raw.starts_with(super::MAGIC) {
        return super::envelope(raw, None, depth + 1)
            .map(Value::Object)
            .map_err(|error| WireError::Invalid(error.detail));
    }
    serde_json::from_slice(raw).map_err(|error| WireError::Invalid(error.to_string()))
}

/// Writes a field's collected value into `object`, as Go's JSON encoder would.
fn finish(
    field: &Field,
    slot: Slot<'_>,
    object: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), WireError> {
    let value = match slot {
        Slot::Empty => return Ok(()),
        Slot::Scalar(value) => {
            let (json, is_zero) = scalar(field.ty(), value);
            if is_zero && field.label() != Label::Keep {
                return Ok(());
            }
            json
        }
        Slot::Segments(segments) => {
            let value = element(field.ty(), &segments, depth)?;
            match (field.label(), value) {
                (Label::Inline, Value::Object(inner)) => {
                    object.extend(inner);
                    return Ok(());
                }
                (Label::Inline, _) | (Label::OmitZero, Value::Null) => return Ok(()),
                (_, value) => value,
            }
        }
        Slot::List(items) => Value::Array(items),
        Slot::Map(entries) => Value::Object(entries.into_iter().collect()),
    };
    object.insert(field.json().to_owned(), value);
    Ok(())
}
