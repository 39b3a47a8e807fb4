//! YAML bodies (`application/yaml`), converted to JSON the way upstream's sigs.k8s.io/yaml
//! does on top of go-yaml v2: YAML 1.1 plain scalars (`yes`/`on` are booleans, `0755` is
//! octal, `1_000` is a number), anchors, aliases and `<<` merge keys, only the first
//! document, and repeated keys reported by line as go-yaml's strict mode words them.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::{into_object, DecodeError, DecodedBody, Duplicates};

/// Decodes a YAML body's first document, recording repeated keys.
pub fn decode_yaml(body: &[u8]) -> Result<DecodedBody, DecodeError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| DecodeError::Yaml("invalid leading UTF-8 octet".to_owned()))?;
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    let root = loop {
        let (event, mark) = parser.next_token().map_err(scan_error)?;
        if let Some(root) = builder.event(event, mark)? {
            break root;
        }
    };
    Ok(DecodedBody {
        object: into_object(root)?,
        duplicates: if builder.duplicates.is_empty() {
            Duplicates::None
        } else {
            Duplicates::Yaml(builder.duplicates)
        },
    })
}

fn scan_error(error: ScanError) -> DecodeError {
    DecodeError::Yaml(format!("line {}: {}", error.marker().line(), error.info()))
}

/// A collection being built.
enum Frame {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
    },
    Mapping {
        object: Map<String, Value>,
        anchor: usize,
        /// The key read, waiting for its value.
        key: Option<Key>,
        /// Values of `<<` keys, merged in at the end.
        merges: Vec<Value>,
    },
}

enum Key {
    Named(String),
    Merge,
}

/// Builds the first document's value from parser events.
#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    duplicates: Vec<String>,
}

impl Builder {
    /// Takes one event; answers the document's value once it is complete.
    fn event(&mut self, event: Event, mark: Marker) -> Result<Option<Value>, DecodeError> {
        match event {
            Event::StreamEnd => Ok(Some(Value::Null)),
            Event::Nothing | Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => {
                Ok(None)
            }
            Event::SequenceStart(anchor, _) => {
                self.expect_value(mark)?;
                self.stack.push(Frame::Sequence {
                    items: Vec::new(),
                    anchor,
                });
                Ok(None)
            }
            Event::MappingStart(anchor, _) => {
                self.expect_value(mark)?;
                self.stack.push(Frame::Mapping {
                    object: Map::new(),
                    anchor,
                    key: None,
                    merges: Vec::new(),
                });
                Ok(None)
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Sequence { items, anchor }) => {
                    self.complete(Value::Array(items), anchor)
                }
                Some(Frame::Mapping {
                    mut object,
                    anchor,
                    merges,
                    ..
                }) => {
                    merge_into(&mut object, merges, mark)?;
                    self.complete(Value::Object(object), anchor)
                }
                None => Ok(None),
            },
            Event::Alias(anchor) => {
                let value = self.anchors.get(&anchor).cloned().ok_or_else(|| {
                    DecodeError::Yaml(format!("line {}: unknown anchor referenced", mark.line()))
                })?;
                if self.wants_key() {
                    return Err(invalid_key(mark));
                }
                self.complete(value, 0)
            }
            Event::Scalar(text, style, anchor, tag) => {
                if self.wants_key() {
                    self.set_key(text, style, mark);
                    return Ok(None);
                }
                let value = scalar(text, style, tag.as_ref(), mark)?;
                self.complete(value, anchor)
            }
        }
    }

    /// Whether the innermost collection is a mapping waiting for a key.
    fn wants_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. }))
    }

    /// Refuses collections used as mapping keys (JSON has none).
    fn expect_value(&self, mark: Marker) -> Result<(), DecodeError> {
        if self.wants_key() {
            return Err(invalid_key(mark));
        }
        Ok(())
    }

    fn set_key(&mut self, text: String, style: TScalarStyle, mark: Marker) {
        if let Some(Frame::Mapping { object, key, .. }) = self.stack.last_mut() {
            if text == "<<" && style == TScalarStyle::Plain {
                *key = Some(Key::Merge);
                return;
            }
            if object.contains_key(&text) {
                self.duplicates.push(format!(
                    "line {}: key {:?} already set in map",
                    mark.line(),
                    text
                ));
            }
            *key = Some(Key::Named(text));
        }
    }

    /// A finished value: remembered under its anchor, then placed in its parent (or
    /// returned, when it is the document).
    fn complete(&mut self, value: Value, anchor: usize) -> Result<Option<Value>, DecodeError> {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => Ok(Some(value)),
            Some(Frame::Sequence { items, .. }) => {
                items.push(value);
                Ok(None)
            }
            Some(Frame::Mapping {
                object,
                key,
                merges,
                ..
            }) => {
                match key.take() {
                    Some(Key::Named(name)) => {
                        object.insert(name, value);
                    }
                    Some(Key::Merge) => merges.push(value),
                    None => {}
                }
                Ok(None)
            }
        }
    }
}

fn invalid_key(mark: Marker) -> DecodeError {
    DecodeError::Yaml(format!(
        "line {}: invalid map key: only scalar keys can be converted to JSON",
        mark.line()
    ))
}

/// Applies `<<` merges: keys the mapping sets itself win, then earlier merges over later.
fn merge_into(
    object: &mut Map<String, Value>,
    merges: Vec<Value>,
    mark: Marker,
) -> Result<(), DecodeError> {
    let mut sources = Vec::new();
    for merge in merges {
        match merge {
            Value::Object(source) => sources.push(source),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(source) => sources.push(source),
                        _ => return Err(bad_merge(mark)),
                    }
                }
            }
            _ => return Err(bad_merge(mark)),
        }
    }
    for source in sources {
        for (name, value) in source {
            object.entry(name).or_insert(value);
        }
    }
    Ok(())
}

fn bad_merge(mark: Marker) -> DecodeError {
    DecodeError::Yaml(format!(
        "line {}: map merge requires map or sequence of maps as the value",
        mark.line()
    ))
}

/// A scalar's JSON value: quoted and block scalars are strings; plain ones are resolved by
/// YAML 1.1's rules, as go-yaml v2 resolves them; `!!str` and friends force a type.
fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    mark: Marker,
) -> Result<Value, DecodeError> {
    let forced = tag
        .filter(|tag| tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
        .map(|tag| tag.suffix.as_str());
    match forced {
        Some("str" | "binary" | "timestamp") => return Ok(Value::String(text)),
        Some("int" | "float" | "bool" | "null") => {
            let value = resolve_plain(&text, mark)?;
            return match value {
                Value::String(_) => Err(DecodeError::Yaml(format!(
                    "line {}: cannot decode !!{} `{text}`",
                    mark.line(),
                    forced.unwrap_or_default()
                ))),
                other => Ok(other),
            };
        }
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text));
    }
    resolve_plain(&text, mark)
}

fn resolve_plain(text: &str, mark: Marker) -> Result<Value, DecodeError> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false))
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return Err(DecodeError::Yaml(format!(
                "line {}: {text} has no JSON form",
                mark.line()
            )))
        }
        _ => {}
    }
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
        return Ok(Value::String(text.to_owned()));
    }
    let plain = text.replace('_', "");
    if let Some(number) = integer(&plain) {
        return Ok(number);
    }
    if is_yaml_float(&plain) {
        if let Ok(float) = plain.parse::<f64>() {
            return Ok(float_value(float));
        }
    }
    Ok(Value::String(text.to_owned()))
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: sign, `0x`/`0o`/`0b` prefixes and
/// a leading `0` for octal.
fn integer(plain: &str) -> Option<Value> {
    let (negative, digits) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain),
    };
    let (radix, digits) = match digits.get(..2) {
        Some("0x" | "0X") => (16, &digits[2..]),
        Some("0o" | "0O") => (8, &digits[2..]),
        Some("0b" | "0B") => (2, &digits[2..]),
        _ if digits.len() > 1 && digits.starts_with('0') => (8, &digits[1..]),
        _ => (10, digits),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let value = i64::try_from(magnitude)
            .ok()
            .map(|value| -value)
            .or_else(|| (magnitude == 1 << 63).then_some(i64::MIN))?;
        Some(Value::Number(value.into()))
    } else {
        Some(Value::Number(magnitude.into()))
    }
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(plain: &str) -> bool {
    let bytes = plain.trim_start_matches(['+', '-']).as_bytes();
    if plain.len() - bytes.len() > 1 {
        return false;
    }
    let digits = |bytes: &[u8]| bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = digits(bytes);
    if at == 0 {
        if bytes.first() != Some(&b'.') || digits(&bytes[1..]) == 0 {
            return false;
        }
        at = 1 + digits(&bytes[1..]);
    } else if bytes.get(at) == Some(&b'.') {
        at += 1 + digits(&bytes[at + 1..]);
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(&bytes[at..]);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

/// Floats as sigs.k8s.io/yaml writes them to JSON: whole numbers without a fraction.
fn float_value(float: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if float.fract() == 0.0 && float.abs() < EXACT {
        return Value::Number((float as i64).into());
    }
    Number::from_f64(float).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::decode_yaml;
    use crate::codec::{DecodeError, Duplicates};

    fn decode(text: &str) -> serde_json::Value {
        serde_json::Value::Object(decode_yaml(text.as_bytes()).expect("decodes").object)
    }

    #[test]
    fn scalars_resolve_as_yaml_1_1() {
        let value = decode(
            "a: 1\nb: -0x1F\nc: 0755\nd: 1_000\ne: 1.5\nf: 2.0\ng: yes\nh: off\ni: ~\nj: '1'\nk: \"yes\"\nl: 1e3\nm: 1.2.3\nn: 08\no: !!str 12\np: |\n  text\n",
        );
        assert_eq!(
            value,
            json!({"a": 1, "b": -31, "c": 493, "d": 1000, "e": 1.5, "f": 2, "g": true, "h": false,
                   "i": null, "j": "1", "k": "yes", "l": 1000, "m": "1.2.3", "n": 8, "o": "12",
                   "p": "text\n"})
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let value =
            decode("base: &base\n  a: 1\n  b: 2\nderived:\n  <<: *base\n  b: 3\nlist: [*base]\n");
        assert_eq!(value["derived"], json!({"b": 3, "a": 1}));
        assert_eq!(value["list"], json!([{"a": 1, "b": 2}]));
    }

    #[test]
    fn repeated_keys_are_reported_by_line() {
        let decoded = decode_yaml(
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  name: b\nspec:\n  paused: true\n  paused: false\n",
        )
        .expect("decodes");
        assert_eq!(
            decoded.duplicates,
            Duplicates::Yaml(vec![
                "line 5: key \"name\" already set in map".to_owned(),
                "line 8: key \"paused\" already set in map".to_owned(),
            ])
        );
        assert_eq!(decoded.object["metadata"]["name"], "b");
    }

    #[test]
    fn only_the_first_document_counts() {
        let value = decode("---\nkind: A\n---\nkind: B\n");
        assert_eq!(value, json!({"kind": "A"}));
    }

    #[test]
    fn malformed_yaml_is_refused_with_its_line() {
        let error = decode_yaml(b"a: b\n  c: d: e\n").expect_err("malformed");
        assert!(
            matches!(&error, DecodeError::Yaml(message) if message.starts_with("line 2")),
            "{error}"
        );
        assert!(matches!(
            decode_yaml(b"- 1\n- 2\n"),
            Err(DecodeError::NotAnObject(_))
        ));
        assert!(matches!(
            decode_yaml(b"? [a]\n: b\n"),
            Err(DecodeError::Yaml(_))
        ));
    }
}
