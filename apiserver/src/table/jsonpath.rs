//! The JSONPath of `additionalPrinterColumns` (client-go's dialect, as the CRD table
//! convertor evaluates it with missing keys allowed): fields (`.spec.replicas`,
//! `['a.b']`), recursive descent (`..name`), wildcards, indexes and slices (`[0]`, `[-1]`,
//! `[1:3]`), unions (`[0,2]`) and filters (`[?(@.type=="Ready")]`).

use serde_json::{Map, Value};

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    /// `.name` or `['name']` (several names: a union).
    Fields(Vec<String>),
    /// `..name`, or `..*` (`None`).
    Descend(Option<String>),
    /// `.*` or `[*]`.
    Wildcard,
    /// `[i]`, `[i,j]`.
    Indexes(Vec<i64>),
    /// `[start:end:step]`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `[?(...)]`.
    Filter(Filter),
}

/// A filter's left side compared to a literal (or tested for existence).
#[derive(Clone, Debug, PartialEq)]
struct Filter {
    path: Vec<Step>,
    comparison: Option<(String, Value)>,
}

/// Why a path could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unrecognized JSONPath {0:?}")]
pub struct PathError(pub String);

/// A parsed path.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonPath(Vec<Step>);

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.at += prefix.len();
            true
        } else {
            false
        }
    }

    fn error(&self) -> PathError {
        PathError(self.text.to_owned())
    }

    fn name(&mut self) -> String {
        let rest = self.rest();
        let end = rest
            .find(['.', '[', ' ', ')', '=', '!', '<', '>', ','])
            .unwrap_or(rest.len());
        self.at += end;
        rest[..end].to_owned()
    }

    fn steps(&mut self, stop_at_operator: bool) -> Result<Vec<Step>, PathError> {
        let mut steps = Vec::new();
        loop {
            let rest = self.rest();
            if rest.is_empty() || (stop_at_operator && !rest.starts_with(['.', '['])) {
                return Ok(steps);
            }
            if self.eat("..") {
                let name = if self.eat("*") {
                    None
                } else {
                    Some(self.name())
                };
                steps.push(Step::Descend(name));
            } else if self.eat(".") {
                if self.eat("*") {
                    steps.push(Step::Wildcard);
                } else {
                    let name = self.name();
                    if !name.is_empty() {
                        steps.push(Step::Fields(vec![name]));
                    }
                }
            } else if self.eat("[") {
                let close = self.rest().find(']').ok_or_else(|| self.error())?;
                let inner = &self.rest()[..close];
                if inner.starts_with("?(") {
                    // Filters may hold `]` in literals; find the `)]` that ends this one.
                    let end = self.rest().find(")]").ok_or_else(|| self.error())?;
                    let body = self.rest()[2..end].to_owned();
                    self.at += end + 2;
                    steps.push(Step::Filter(
                        parse_filter(&body).ok_or_else(|| self.error())?,
                    ));
                    continue;
                }
                self.at += close + 1;
                steps.push(bracket(inner.trim()).ok_or_else(|| self.error())?);
            } else {
                return Err(self.error());
            }
        }
    }
}

fn quoted(text: &str) -> Option<String> {
    let text = text.trim();
    let inner = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .or_else(|| text.strip_prefix('"').and_then(|t| t.strip_suffix('"')))?;
    Some(inner.to_owned())
}

fn bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::Wildcard);
    }
    if inner.starts_with(['\'', '"']) {
        let names = inner.split(',').map(quoted).collect::<Option<Vec<_>>>()?;
        return Some(Step::Fields(names));
    }
    if inner.contains(':') {
        let parts: Vec<&str> = inner.split(':').collect();
        if parts.len() > 3 {
            return None;
        }
        let number = |index: usize| -> Option<Option<i64>> {
            match parts.get(index).map(|part| part.trim()) {
                None | Some("") => Some(None),
                Some(text) => text.parse().ok().map(Some),
            }
        };
        return Some(Step::Slice(number(0)?, number(1)?, number(2)?));
    }
    let indexes = inner
        .split(',')
        .map(|part| part.trim().parse().ok())
        .collect::<Option<Vec<i64>>>()?;
    Some(Step::Indexes(indexes))
}

fn literal(text: &str) -> Option<Value> {
    let text = text.trim();
    if let Some(string) = quoted(text) {
        return Some(Value::String(string));
    }
    match text {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "nil" | "null" => Some(Value::Null),
        number => number
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| number.parse::<f64>().ok().map(Value::from)),
    }
}

fn parse_filter(body: &str) -> Option<Filter> {
    let body = body.trim();
    let path = body.strip_prefix('@')?;
    let mut parser = Parser { text: path, at: 0 };
    let steps = parser.steps(true).ok()?;
    let rest = parser.rest().trim();
    if rest.is_empty() {
        return Some(Filter {
            path: steps,
            comparison: None,
        });
    }
    for operator in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some(right) = rest.strip_prefix(operator) {
            return Some(Filter {
                path: steps,
                comparison: Some((operator.to_owned(), literal(right)?)),
            });
        }
    }
    None
}

impl JsonPath {
    /// Parses a column's `jsonPath` (`.status.phase`), without the template braces.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let trimmed = text.trim();
        let inner = trimmed
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(trimmed);
        let inner = inner.strip_prefix('$').unwrap_or(inner);
        let mut parser = Parser { text: inner, at: 0 };
        Ok(Self(parser.steps(false)?))
    }

    /// Every match, in document order.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        walk(&self.0, vec![root])
    }

    /// The first match in an object, read in place when the path starts with a field (as
    /// printer columns do).
    pub fn first_in(&self, object: &Map<String, Value>) -> Option<Value> {
        match self.0.split_first() {
            Some((Step::Fields(names), rest)) => {
                let start = names.iter().filter_map(|name| object.get(name)).collect();
                walk(rest, start).first().map(|value| (*value).clone())
            }
            _ => {
                let root = Value::Object(object.clone());
                self.find(&root).first().map(|value| (*value).clone())
            }
        }
    }
}

fn index(length: usize, at: i64) -> Option<usize> {
    let length = i64::try_from(length).ok()?;
    let at = if at < 0 { length + at } else { at };
    (0..length)
        .contains(&at)
        .then(|| usize::try_from(at).ok())
        .flatten()
}

fn descend<'a>(value: &'a Value, name: Option<&str>, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            match name {
                Some(name) => out.extend(map.get(name)),
                None => out.extend(map.values()),
            }
            for child in map.values() {
                descend(child, name, out);
            }
        }
        Value::Array(list) => {
            if name.is_none() {
                out.extend(list.iter());
            }
            for child in list {
                descend(child, name, out);
            }
        }
        _ => {}
    }
}

fn compare(left: &Value, operator: &str, right: &Value) -> bool {
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match operator {
        "==" => left == right || ordering == Some(std::cmp::Ordering::Equal),
        "!=" => !(left == right || ordering == Some(std::cmp::Ordering::Equal)),
        "<" => ordering == Some(std::cmp::Ordering::Less),
        ">" => ordering == Some(std::cmp::Ordering::Greater),
        "<=" => matches!(
            ordering,
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        ),
        ">=" => matches!(
            ordering,
            Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
        ),
        _ => false,
    }
}

fn walk<'a>(steps: &[Step], mut current: Vec<&'a Value>) -> Vec<&'a Value> {
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            match (step, value) {
                (Step::Fields(names), Value::Object(map)) => {
                    next.extend(names.iter().filter_map(|name| map.get(name)));
                }
                (Step::Descend(name), value) => descend(value, name.as_deref(), &mut next),
                (Step::Wildcard, Value::Object(map)) => next.extend(map.values()),
                (Step::Wildcard, Value::Array(list)) => next.extend(list.iter()),
                (Step::Indexes(indexes), Value::Array(list)) => next.extend(
                    indexes
                        .iter()
                        .filter_map(|at| index(list.len(), *at).map(|at| &list[at])),
                ),
                (Step::Slice(start, end, stride), Value::Array(list)) => {
                    let length = i64::try_from(list.len()).unwrap_or(i64::MAX);
                    let clamp = |at: i64| {
                        if at < 0 {
                            (length + at).max(0)
                        } else {
                            at.min(length)
                        }
                    };
                    let start = clamp(start.unwrap_or(0));
                    let end = clamp(end.unwrap_or(length));
                    let stride = stride.unwrap_or(1).max(1);
                    let mut at = start;
                    while at < end {
                        if let Some(item) = usize::try_from(at).ok().and_then(|at| list.get(at)) {
                            next.push(item);
                        }
                        at += stride;
                    }
                }
                (Step::Filter(filter), Value::Array(list)) => {
                    next.extend(list.iter().filter(|item| {
                        let found = walk(&filter.path, vec![*item]);
                        match &filter.comparison {
                            None => !found.is_empty(),
                            Some((operator, right)) => found
                                .first()
                                .is_some_and(|left| compare(left, operator, right)),
                        }
                    }));
                }
                _ => {}
            }
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::JsonPath;

    fn first(path: &str, value: &serde_json::Value) -> Option<serde_json::Value> {
        JsonPath::parse(path)
            .ok()?
            .find(value)
            .first()
            .map(|value| (*value).clone())
    }

    #[test]
    fn printer_column_paths() {
        let object = json!({
            "metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 443}]},
            "status": {"conditions": [
                {"type": "Synced", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "Waiting"}
            ]}
        });
        assert_eq!(first(".spec.replicas", &object), Some(json!(3)));
        assert_eq!(first(".spec.ports[1].port", &object), Some(json!(443)));
        assert_eq!(first(".spec.ports[-1].port", &object), Some(json!(443)));
        assert_eq!(first(".spec.ports[*].port", &object), Some(json!(80)));
        assert_eq!(
            first(".status.conditions[?(@.type==\"Ready\")].status", &object),
            Some(json!("False"))
        );
        assert_eq!(
            first(".status.conditions[?(@.type=='Ready')].reason", &object),
            Some(json!("Waiting"))
        );
        assert_eq!(
            first(".metadata.labels['app.kubernetes.io/name']", &object),
            Some(json!("web"))
        );
        assert_eq!(first("..port", &object), Some(json!(80)));
        assert_eq!(first(".spec.missing", &object), None);
        assert_eq!(first(".spec.replicas[0]", &object), None);
        assert!(JsonPath::parse(".spec[").is_err());
    }
}
