//! What a printer is: its columns (name, type, format, description, priority) and the
//! function that turns one object into a row of cells, as upstream's
//! `pkg/printers/internalversion` registers them per kind.

use std::sync::OnceLock;

use jiff::Timestamp;
use serde_json::{json, Value};

use super::node::Node;

/// Where a column's description comes from.
#[derive(Clone, Copy)]
pub enum Doc {
    /// Fixed text.
    Text(&'static str),
    /// A property's description in the API schema of a type (upstream's `SwaggerDoc()`).
    Field(fn(&str) -> String, &'static str),
}

/// One column of a table.
#[derive(Clone, Copy)]
pub struct Column {
    /// The header, e.g. `Ready`.
    pub name: &'static str,
    /// The OpenAPI type of its cells: `string`, `integer`, `boolean`, `date`, `number`.
    pub kind: &'static str,
    /// `name` for the column naming the object, else empty.
    pub format: &'static str,
    /// Its description.
    pub doc: Doc,
    /// 0 for default output, 1 for columns kubectl shows only with `-o wide`.
    pub priority: i32,
}

impl Column {
    /// A column shown by default.
    pub const fn new(name: &'static str, kind: &'static str, doc: Doc) -> Self {
        Self {
            name,
            kind,
            format: "",
            doc,
            priority: 0,
        }
    }

    /// A column shown only with `-o wide`.
    pub const fn wide(name: &'static str, kind: &'static str, doc: Doc) -> Self {
        Self {
            name,
            kind,
            format: "",
            doc,
            priority: 1,
        }
    }

    /// The column's `TableColumnDefinition`.
    pub fn definition(&self) -> Value {
        let description = match self.doc {
            Doc::Text(text) => text.to_owned(),
            Doc::Field(describe, property) => describe(property),
        };
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": description,
            "priority": self.priority,
        })
    }
}

/// What every row function may need besides the object.
pub struct Context {
    /// The time ages are measured to, the same for every row of a response.
    pub now: Timestamp,
}

/// The cells of one row, and the row's conditions (`Completed` for finished pods).
#[derive(Debug, Default, PartialEq)]
pub struct Row {
    /// One value per column.
    pub cells: Vec<Value>,
    /// `TableRowCondition`s; usually none.
    pub conditions: Vec<Value>,
}

impl From<Vec<Value>> for Row {
    fn from(cells: Vec<Value>) -> Self {
        Self {
            cells,
            conditions: Vec::new(),
        }
    }
}

/// Whether a convertor leaves its column definitions out after the first event of a watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Headers {
    /// Left out when the client has them (every convertor but the aggregator's).
    Optional,
    /// Always sent (kube-aggregator's APIService convertor ignores the option).
    Always,
}

/// How an empty list's rows are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyRows {
    /// `[]`, as printers build them.
    Array,
    /// `null`, as the default convertor leaves them.
    Null,
}

/// A printer of one kind.
pub struct Printer {
    /// Its columns, in order.
    pub columns: &'static [Column],
    /// One object's row.
    pub row: fn(Node<'_>, &Context) -> Row,
    /// Column definitions handling.
    pub headers: Headers,
    /// Empty list handling.
    pub empty: EmptyRows,
    /// The order rows of a list are printed in, when not the list's.
    pub order: Option<fn(Node<'_>, Node<'_>) -> std::cmp::Ordering>,
    rendered: OnceLock<Vec<Value>>,
}

impl Printer {
    /// A printer as upstream's `TableGenerator` runs them.
    pub const fn new(columns: &'static [Column], row: fn(Node<'_>, &Context) -> Row) -> Self {
        Self {
            columns,
            row,
            headers: Headers::Optional,
            empty: EmptyRows::Array,
            order: None,
            rendered: OnceLock::new(),
        }
    }

    /// The same printer with other header and empty-list handling.
    pub const fn with(mut self, headers: Headers, empty: EmptyRows) -> Self {
        self.headers = headers;
        self.empty = empty;
        self
    }

    /// The same printer with its rows sorted.
    pub const fn ordered(mut self, order: fn(Node<'_>, Node<'_>) -> std::cmp::Ordering) -> Self {
        self.order = Some(order);
        self
    }

    /// The column definitions, rendered once per process.
    pub fn definitions(&self) -> &[Value] {
        self.rendered
            .get_or_init(|| self.columns.iter().map(Column::definition).collect())
    }
}
