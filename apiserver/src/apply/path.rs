//! Path elements of managed field sets, in the FieldsV1 spelling kube-apiserver stores
//! (`f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`) and the spelling conflict messages print
//! (`.spec.containers[name="web"].image`).

use serde_json::{Map, Value};

/// One step into an object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A field of a struct or a key of a map.
    Field(String),
    /// An element of a list-map, by its key fields (sorted by field name).
    Key(Vec<(String, Value)>),
    /// An element of a set, by its value.
    Value(Value),
    /// An element of a list without keys, by position.
    Index(usize),
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Fields first, then keys, values and indexes (structured-merge-diff's order, which is the
/// order FieldsV1 lists them in); within a kind, by spelling.
impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |element: &Self| match element {
            Self::Field(_) => 0,
            Self::Key(_) => 1,
            Self::Value(_) => 2,
            Self::Index(_) => 3,
        };
        match (self, other) {
            (Self::Field(a), Self::Field(b)) => a.cmp(b),
            (Self::Index(a), Self::Index(b)) => a.cmp(b),
            _ => rank(self)
                .cmp(&rank(other))
                .then_with(|| self.to_fields_v1().cmp(&other.to_fields_v1())),
        }
    }
}

impl PathElement {
    /// The FieldsV1 spelling.
    pub fn to_fields_v1(&self) -> String {
        match self {
            Self::Field(name) => format!("f:{name}"),
            Self::Key(fields) => {
                let object: Map<String, Value> = fields.iter().cloned().collect();
                format!("k:{}", Value::Object(object))
            }
            Self::Value(value) => format!("v:{value}"),
            Self::Index(index) => format!("i:{index}"),
        }
    }

    /// Parses the FieldsV1 spelling.
    pub fn from_fields_v1(text: &str) -> Option<Self> {
        let (prefix, rest) = text.split_once(':')?;
        match prefix {
            "f" => Some(Self::Field(rest.to_owned())),
            "k" => match serde_json::from_str::<Value>(rest).ok()? {
                Value::Object(fields) => {
                    let mut fields: Vec<(String, Value)> = fields.into_iter().collect();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    Some(Self::Key(fields))
                }
                _ => None,
            },
            "v" => serde_json::from_str(rest).ok().map(Self::Value),
            "i" => rest.parse().ok().map(Self::Index),
            _ => None,
        }
    }

    /// The spelling of conflict messages.
    pub fn display(&self) -> String {
        match self {
            Self::Field(name) => format!(".{name}"),
            Self::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                format!("[{}]", parts.join(","))
            }
            Self::Value(value) => format!("[={value}]"),
            Self::Index(index) => format!("[{index}]"),
        }
    }
}

/// A path from the object's root.
pub type Path = Vec<PathElement>;

/// A path as conflict messages print it.
pub fn display_path(path: &[PathElement]) -> String {
    path.iter().map(PathElement::display).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{display_path, PathElement};

    #[test]
    fn spellings_round_trip() {
        let key = PathElement::Key(vec![
            ("containerPort".to_owned(), json!(80)),
            ("protocol".to_owned(), json!("TCP")),
        ]);
        assert_eq!(
            key.to_fields_v1(),
            r#"k:{"containerPort":80,"protocol":"TCP"}"#
        );
        for element in [
            key,
            PathElement::Field("spec".to_owned()),
            PathElement::Value(json!("x")),
            PathElement::Index(3),
        ] {
            assert_eq!(
                PathElement::from_fields_v1(&element.to_fields_v1()),
                Some(element)
            );
        }
        let path = [
            PathElement::Field("spec".to_owned()),
            PathElement::Field("containers".to_owned()),
            PathElement::Key(vec![("name".to_owned(), json!("web"))]),
            PathElement::Field("image".to_owned()),
        ];
        assert_eq!(display_path(&path), r#".spec.containers[name="web"].image"#);
    }
}
