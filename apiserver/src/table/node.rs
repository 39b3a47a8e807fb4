//! Read-only, default-tolerant access to an object's JSON, as Go's printers read typed
//! structs: a missing field reads as the zero value (`""`, `0`, `false`, empty list).

use serde_json::{Map, Value};

/// A position in an object's JSON, possibly missing.
#[derive(Clone, Copy, Debug)]
pub enum Node<'a> {
    /// Absent (or reached through something absent).
    Missing,
    /// The top-level object.
    Root(&'a Map<String, Value>),
    /// Any nested value.
    Value(&'a Value),
}

impl<'a> Node<'a> {
    /// The node of a value.
    pub fn of(value: &'a Value) -> Self {
        Self::Value(value)
    }

    fn object(self) -> Option<&'a Map<String, Value>> {
        match self {
            Self::Root(map) => Some(map),
            Self::Value(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// A field of an object.
    pub fn get(self, key: &str) -> Self {
        self.object()
            .and_then(|map| map.get(key))
            .map_or(Self::Missing, Self::Value)
    }

    /// A nested field.
    pub fn at(self, path: &[&str]) -> Self {
        path.iter().fold(self, |node, key| node.get(key))
    }

    /// Whether the field is present and not `null` (a Go pointer that is set).
    pub fn is_set(self) -> bool {
        match self {
            Self::Missing | Self::Value(Value::Null) => false,
            Self::Root(_) | Self::Value(_) => true,
        }
    }

    /// The string, if it is one.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Self::Value(Value::String(text)) => Some(text),
            _ => None,
        }
    }

    /// The string, `""` otherwise.
    pub fn str(self) -> &'a str {
        self.as_str().unwrap_or_default()
    }

    /// The integer, if it is one.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Self::Value(Value::Number(number)) => number
                .as_i64()
                .or_else(|| number.as_f64().map(|float| float as i64)),
            _ => None,
        }
    }

    /// The integer, `0` otherwise.
    pub fn int(self) -> i64 {
        self.as_i64().unwrap_or_default()
    }

    /// The boolean, if it is one.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            Self::Value(Value::Bool(flag)) => Some(*flag),
            _ => None,
        }
    }

    /// The boolean, `false` otherwise.
    pub fn bool(self) -> bool {
        self.as_bool().unwrap_or_default()
    }

    /// The elements of a list (none if it is not one).
    pub fn items(self) -> impl Iterator<Item = Node<'a>> + Clone {
        let list: &'a [Value] = match self {
            Self::Value(Value::Array(list)) => list,
            _ => &[],
        };
        list.iter().map(Node::Value)
    }

    /// The number of elements of a list, or of entries of a map.
    pub fn count(self) -> usize {
        match self {
            Self::Value(Value::Array(list)) => list.len(),
            other => other.object().map_or(0, Map::len),
        }
    }

    /// The entries of a map, in stored order.
    pub fn entries(self) -> impl Iterator<Item = (&'a str, Node<'a>)> {
        self.object().into_iter().flat_map(|map| {
            map.iter()
                .map(|(key, value)| (key.as_str(), Node::Value(value)))
        })
    }

    /// The raw value, if present.
    pub fn value(self) -> Option<&'a Value> {
        match self {
            Self::Value(value) => Some(value),
            _ => None,
        }
    }
}
