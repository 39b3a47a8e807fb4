//! JSON bodies decoded in one pass that also notes repeated keys, which serde_json's own
//! `Value` decoding silently collapses (last value wins, as in upstream's decoder).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::{into_object, DecodeError, DecodedBody, Duplicates};

/// Decodes a JSON body, recording the path of every repeated key.
pub fn decode_json(body: &[u8]) -> Result<DecodedBody, DecodeError> {
    let tracker = RefCell::new(Tracker::default());
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = TrackedValue(&tracker)
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|error| DecodeError::Json(error.to_string()))?;
    let object = into_object(value)?;
    let duplicates = tracker.into_inner().duplicates;
    Ok(DecodedBody {
        object,
        duplicates: if duplicates.is_empty() {
            Duplicates::None
        } else {
            Duplicates::Json(duplicates)
        },
    })
}

/// Where the decoder is, and what it found repeated.
#[derive(Default)]
struct Tracker {
    path: Vec<Segment>,
    duplicates: HashSet<String>,
}

enum Segment {
    Key(String),
    Index(usize),
}

impl Tracker {
    /// The current path plus `key`, as upstream's strict decoder names fields.
    fn path_to(&self, key: &str) -> String {
        let mut path = String::new();
        for segment in &self.path {
            match segment {
                Segment::Key(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Segment::Index(index) => path.push_str(&format!("[{index}]")),
            }
        }
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        path
    }
}

/// A `Value` decoded at the tracker's current path.
struct TrackedValue<'a>(&'a RefCell<Tracker>);

impl<'de> DeserializeSeed<'de> for TrackedValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TrackedValue<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::with_capacity(items.size_hint().unwrap_or(0));
        loop {
            self.0.borrow_mut().path.push(Segment::Index(values.len()));
            let item = items.next_element_seed(TrackedValue(self.0));
            self.0.borrow_mut().path.pop();
            match item? {
                Some(value) => values.push(value),
                None => break,
            }
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if object.contains_key(&key) {
                let mut tracker = self.0.borrow_mut();
                let path = tracker.path_to(&key);
                tracker.duplicates.insert(path);
            }
            self.0.borrow_mut().path.push(Segment::Key(key.clone()));
            let value = entries.next_value_seed(TrackedValue(self.0));
            self.0.borrow_mut().path.pop();
            object.insert(key, value?);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::decode_json;
    use crate::codec::{DecodeError, Duplicates};

    #[test]
    fn repeated_keys_are_named_by_path() {
        let body = br#"{"metadata":{"name":"a","name":"b"},"spec":{"paused":true,"paused":false,
            "template":{"spec":{"containers":[{"name":"c"},{"image":"x","image":"y"}]}}}}"#;
        let decoded = decode_json(body).expect("decodes");
        let Duplicates::Json(paths) = &decoded.duplicates else {
            panic!("duplicates expected: {:?}", decoded.duplicates);
        };
        let mut paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "metadata.name",
                "spec.paused",
                "spec.template.spec.containers[1].image"
            ]
        );
        assert_eq!(
            decoded.object["metadata"]["name"], "b",
            "the last value wins"
        );
        assert_eq!(decoded.object["spec"]["paused"], false);
    }

    #[test]
    fn plain_bodies_have_no_duplicates_and_keep_order() {
        let decoded =
            decode_json(br#"{"kind":"Pod","apiVersion":"v1","a":[1,2.5,null]}"#).expect("decodes");
        assert_eq!(decoded.duplicates, Duplicates::None);
        let keys: Vec<&String> = decoded.object.keys().collect();
        assert_eq!(keys, ["kind", "apiVersion", "a"]);
    }

    #[test]
    fn malformed_and_non_object_bodies_are_refused() {
        assert!(matches!(decode_json(b"{\"a\":"), Err(DecodeError::Json(_))));
        assert!(matches!(decode_json(b"{} x"), Err(DecodeError::Json(_))));
        assert!(matches!(
            decode_json(b"[1]"),
            Err(DecodeError::NotAnObject(_))
        ));
    }
}
