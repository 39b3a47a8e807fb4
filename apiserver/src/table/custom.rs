//! Tables of custom resources: `Name`, then the version's `additionalPrinterColumns` (or
//! `Age` when it declares none), each cell the first match of the column's JSONPath, typed
//! as the column says, as apiextensions-apiserver's table convertor builds them.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::common::{meta, text, NAME};
use super::format;
use super::jsonpath::JsonPath;
use super::node::Node;
use super::printer::{Column, Context, Row};

/// The `Name` column's definition and `creationTimestamp`'s description, rendered once.
fn meta_definitions() -> &'static (Value, String) {
    static RENDERED: OnceLock<(Value, String)> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let age = Column::new("Age", "date", meta("creationTimestamp")).definition();
        let description = age["description"].as_str().unwrap_or_default().to_owned();
        (NAME.definition(), description)
    })
}

/// One declared column.
struct CustomColumn {
    kind: String,
    path: JsonPath,
}

/// The table of one served version of a custom resource.
pub struct CustomTable {
    definitions: Vec<Value>,
    columns: Vec<CustomColumn>,
}

fn field<'a>(column: &'a Value, name: &str) -> &'a str {
    column.get(name).and_then(Value::as_str).unwrap_or_default()
}

impl CustomTable {
    /// The table of a version with these `additionalPrinterColumns`. Columns stop at the
    /// first unparsable path, as upstream's convertor does.
    pub fn new(printer_columns: &[Value]) -> Self {
        let default_columns = [json!({
            "name": "Age",
            "type": "date",
            "jsonPath": ".metadata.creationTimestamp",
        })];
        let declared = if printer_columns.is_empty() {
            &default_columns[..]
        } else {
            printer_columns
        };
        let mut definitions = vec![meta_definitions().0.clone()];
        let mut columns = Vec::new();
        for column in declared {
            let json_path = field(column, "jsonPath");
            let Ok(path) = JsonPath::parse(json_path) else {
                tracing::warn!(
                    json_path,
                    "unparsable printer column; later columns dropped"
                );
                break;
            };
            let description = match field(column, "description") {
                "" if printer_columns.is_empty() => meta_definitions().1.clone(),
                "" => {
                    format!("Custom resource definition column (in JSONPath format): {json_path}")
                }
                given => given.to_owned(),
            };
            definitions.push(json!({
                "name": field(column, "name"),
                "type": field(column, "type"),
                "format": field(column, "format"),
                "description": description,
                "priority": column.get("priority").and_then(Value::as_i64).unwrap_or(0),
            }));
            columns.push(CustomColumn {
                kind: field(column, "type").to_owned(),
                path,
            });
        }
        Self {
            definitions,
            columns,
        }
    }

    /// The column definitions.
    pub fn definitions(&self) -> &[Value] {
        &self.definitions
    }

    /// One object's row.
    pub fn row(&self, object: &Map<String, Value>, context: &Context) -> Row {
        let name = Node::Root(object).at(&["metadata", "name"]).str();
        let mut cells = vec![text(name)];
        for column in &self.columns {
            let cell = match column.path.first_in(object) {
                None => Value::Null,
                Some(value) if column.kind == "string" => printed(&value),
                Some(value) => typed(&column.kind, &value, context),
            };
            cells.push(cell);
        }
        cells.into()
    }
}

/// A `string` column's cell, as client-go's JSONPath prints a value.
fn printed(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(text.clone()),
        Value::Null => Value::String("null".to_owned()),
        Value::Bool(flag) => Value::String(flag.to_string()),
        Value::Number(number) => Value::String(match number.as_i64() {
            Some(integer) => integer.to_string(),
            None => go_float(number.as_f64().unwrap_or_default()),
        }),
        Value::Array(_) | Value::Object(_) => Value::String(go_json(value)),
    }
}

/// `cellForJSONValue`: the value as the column's type, `null` when it is not one.
fn typed(kind: &str, value: &Value, context: &Context) -> Value {
    match (kind, value) {
        ("integer", Value::Number(number)) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float.trunc() as i64))
            .map_or(Value::Null, Value::from),
        ("number", Value::Number(number)) => {
            let float = number.as_f64().unwrap_or_default();
            if float.fract() == 0.0 && float.abs() < 1e15 {
                Value::from(float as i64)
            } else {
                Value::from(float)
            }
        }
        ("boolean", Value::Bool(flag)) => Value::Bool(*flag),
        ("string", Value::String(text)) => Value::String(text.clone()),
        ("date", Value::String(stamp)) => {
            if stamp.is_empty() || stamp == "null" {
                return Value::String("<unknown>".to_owned());
            }
            match stamp.parse::<jiff::Timestamp>() {
                Ok(time) => Value::String(format::human_duration(context.now.duration_since(time))),
                Err(_) => Value::String("<invalid>".to_owned()),
            }
        }
        _ => Value::Null,
    }
}

/// Go's `%v` of a float64 (shortest digits; exponent form below 1e-4 or from 1e6 up).
fn go_float(value: f64) -> String {
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or_default();
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    value.to_string()
}

/// Go's `json.Marshal` of a decoded value: keys sorted, `<`, `>` and `&` escaped.
fn go_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|key| (key.clone(), sorted(&map[key])))
                        .collect(),
                )
            }
            Value::Array(list) => Value::Array(list.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(value))
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::{go_float, CustomTable};
    use crate::table::printer::Context;

    #[test]
    fn columns_cells_and_defaults() {
        let table = CustomTable::new(&[
            json!({"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}),
            json!({"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status", "priority": 1}),
            json!({"name": "Spec", "type": "string", "jsonPath": ".spec"}),
            json!({"name": "Missing", "type": "string", "jsonPath": ".status.nope"}),
        ]);
        let names: Vec<&str> = table
            .definitions()
            .iter()
            .filter_map(|definition| definition["name"].as_str())
            .collect();
        assert_eq!(names, ["Name", "Replicas", "Ready", "Spec", "Missing"]);
        assert_eq!(table.definitions()[2]["priority"], 1);
        assert_eq!(
            table.definitions()[1]["description"],
            "Custom resource definition column (in JSONPath format): .spec.replicas"
        );
        let object = json!({
            "metadata": {"name": "x"},
            "spec": {"replicas": 2, "b": "<", "a": 1},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        });
        let context = Context {
            now: Timestamp::UNIX_EPOCH,
        };
        let row = table.row(
            object.as_object().unwrap_or(&serde_json::Map::new()),
            &context,
        );
        assert_eq!(
            row.cells,
            vec![
                json!("x"),
                json!(2),
                json!("True"),
                json!(r#"{"a":1,"b":"\u003c","replicas":2}"#),
                json!(null)
            ]
        );
        let default = CustomTable::new(&[]);
        assert_eq!(default.definitions()[1]["name"], "Age");
        assert_eq!(default.definitions()[1]["type"], "date");
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(0.00001), "1e-05");
    }
}
