//! Transformed responses: a `Table` (`metadata` carrying the list's resourceVersion,
//! continue token and remaining count; each row's `object` per `includeObject`), a
//! `PartialObjectMetadata` or a `PartialObjectMetadataList`, for get, list and each event of
//! a watch, as upstream's `transformObject` builds them.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::negotiate::{MetaVersion, Target};
use super::node::Node;
use super::printer::{Context, EmptyRows, Headers, Row};
use super::Convertor;
use crate::crd::CustomVersion;
use crate::object::Object;
use crate::registry::ResourceInfo;
use crate::status::{ApiError, Reason};

/// What each table row carries as its `object` (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Include {
    /// Nothing (`null`).
    None,
    /// A `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object, in the version served.
    Object,
}

/// What a transformed response carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A `Table`.
    Table(MetaVersion),
    /// A `PartialObjectMetadata`.
    Partial(MetaVersion),
    /// A `PartialObjectMetadataList`.
    PartialList(MetaVersion),
}

/// A response to transform, and how.
pub struct Transform {
    shape: Shape,
    include: Include,
    convertor: Convertor,
    /// The Go type upstream names in its 406s (`core.Pod`).
    go_type: String,
}

/// What the `scale` subresource serves: `autoscaling/v1` `Scale`.
const SCALE_RESOURCE: ResourceInfo = ResourceInfo {
    group: "autoscaling",
    version: "v1",
    kind: "Scale",
    plural: "scale",
    singular: "scale",
    namespaced: true,
    verbs: &[],
    short_names: &[],
    categories: &[],
    subresources: &[],
};

/// `*core.Pod` for a Pod, `*core.PodList` for its list, as Go's `%T` names upstream's
/// internal types.
fn go_type(resource: &ResourceInfo, custom: bool) -> String {
    if custom {
        return "unstructured.Unstructured".to_owned();
    }
    let package = match resource.group {
        "" | "events.k8s.io" => "core",
        group => group.split('.').next().unwrap_or(group),
    };
    format!("{package}.{}", resource.kind)
}

fn not_acceptable(message: String) -> ApiError {
    ApiError::new(Reason::NotAcceptable, message)
}

/// `PartialObjectMetadata` of an object.
fn partial(object: &Object, version: MetaVersion) -> Value {
    let metadata = object
        .0
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": version.api_version(),
        "metadata": metadata,
    })
}

impl Transform {
    /// How to transform a response negotiated to `target`; `None` when the response is the
    /// object itself. `include_object` is the `includeObject` query parameter; an unknown
    /// value is upstream's 400.
    pub fn new(
        target: Target,
        include_object: Option<&str>,
        resource: &ResourceInfo,
        custom: Option<&CustomVersion>,
    ) -> Result<Option<Self>, ApiError> {
        let shape = match target {
            Target::Object => return Ok(None),
            Target::Table(version) => Shape::Table(version),
            Target::PartialObjectMetadata(version) => Shape::Partial(version),
            Target::PartialObjectMetadataList(version) => Shape::PartialList(version),
        };
        let include = match (shape, include_object.unwrap_or_default()) {
            (Shape::Table(_), "Object") => Include::Object,
            (Shape::Table(_), "None") => Include::None,
            (Shape::Table(_), "" | "Metadata") | (Shape::Partial(_) | Shape::PartialList(_), _) => {
                Include::Metadata
            }
            (Shape::Table(_), other) => {
                return Err(ApiError::new(
                    Reason::BadRequest,
                    format!(
                        "Unable to convert to Table as requested: includeObject: Invalid value: {}: must be 'Metadata', 'Object', 'None', or empty",
                        crate::validation::go_quote(other)
                    ),
                ))
            }
        };
        Ok(Some(Self {
            shape,
            include,
            convertor: Convertor::of(resource, custom),
            go_type: go_type(resource, custom.is_some()),
        }))
    }

    /// How to transform a `scale` subresource response negotiated to `target`.
    pub fn scale(target: Target, include_object: Option<&str>) -> Result<Option<Self>, ApiError> {
        let Some(mut transform) = Self::new(target, include_object, &SCALE_RESOURCE, None)? else {
            return Ok(None);
        };
        transform.convertor = Convertor::Printer(&super::autoscaling::SCALE);
        Ok(Some(transform))
    }

    fn table(
        &self,
        version: MetaVersion,
        metadata: Map<String, Value>,
        headers: bool,
        rows: Option<Vec<Value>>,
    ) -> Value {
        let columns = if headers || self.convertor.headers() == Headers::Always {
            Value::Array(self.convertor.definitions().to_vec())
        } else {
            Value::Null
        };
        json!({
            "kind": "Table",
            "apiVersion": version.api_version(),
            "metadata": metadata,
            "columnDefinitions": columns,
            "rows": rows.map_or(Value::Null, Value::Array),
        })
    }

    fn row(
        &self,
        version: MetaVersion,
        stored: &Object,
        served: &dyn Fn(&Object) -> Object,
        context: &Context,
    ) -> Value {
        let Row { cells, conditions } = self.convertor.row(&stored.0, context);
        let mut row = Map::new();
        row.insert("cells".to_owned(), Value::Array(cells));
        if !conditions.is_empty() {
            row.insert("conditions".to_owned(), Value::Array(conditions));
        }
        let object = match self.include {
            Include::None => Value::Null,
            Include::Metadata => partial(stored, version),
            Include::Object => Value::Object(served(stored).0),
        };
        row.insert("object".to_owned(), object);
        Value::Object(row)
    }

    /// A table of one object (its resourceVersion in the table's metadata).
    fn single_table(
        &self,
        version: MetaVersion,
        stored: &Object,
        served: &dyn Fn(&Object) -> Object,
        headers: bool,
    ) -> Value {
        let context = Context {
            now: Timestamp::now(),
        };
        let mut metadata = Map::new();
        if let Some(revision) = stored.meta_str("resourceVersion") {
            metadata.insert("resourceVersion".to_owned(), json!(revision));
        }
        let row = self.row(version, stored, served, &context);
        self.table(version, metadata, headers, Some(vec![row]))
    }

    /// The response to a get of one object (`stored` as kept, `served` in the version read).
    pub fn single(&self, stored: &Object, served: &Object) -> Result<Value, ApiError> {
        match self.shape {
            Shape::Table(version) => {
                Ok(self.single_table(version, stored, &|_| served.clone(), true))
            }
            Shape::Partial(version) => Ok(partial(served, version)),
            Shape::PartialList(_) => Err(not_acceptable(format!(
                "you requested PartialObjectMetadataList, but the requested object is not a list (*{})",
                self.go_type
            ))),
        }
    }

    /// The response to a list: `items` as stored, the list's `metadata`, and how to turn an
    /// item into the version served.
    pub fn list(
        &self,
        items: &[Arc<Object>],
        metadata: Map<String, Value>,
        served: &dyn Fn(&Object) -> Object,
    ) -> Result<Value, ApiError> {
        match self.shape {
            Shape::Table(version) => {
                let context = Context {
                    now: Timestamp::now(),
                };
                let mut order: Vec<&Object> = items.iter().map(|item| &**item).collect();
                if let Some(compare) = self.convertor.order() {
                    order.sort_by(|a, b| compare(Node::Root(&a.0), Node::Root(&b.0)));
                }
                let rows: Vec<Value> = order
                    .into_iter()
                    .map(|item| self.row(version, item, served, &context))
                    .collect();
                let rows = if rows.is_empty() && self.convertor.empty_rows() == EmptyRows::Null {
                    None
                } else {
                    Some(rows)
                };
                Ok(self.table(version, metadata, true, rows))
            }
            Shape::Partial(_) => Err(not_acceptable(format!(
                "you requested PartialObjectMetadata, but the requested object is a list (*{}List)",
                self.go_type
            ))),
            Shape::PartialList(version) => {
                let items: Vec<Value> = items.iter().map(|item| partial(item, version)).collect();
                Ok(json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": version.api_version(),
                    "metadata": metadata,
                    "items": if items.is_empty() { Value::Null } else { Value::Array(items) },
                }))
            }
        }
    }

    /// The per-watcher state of a transformed watch.
    pub fn watch(self) -> WatchTransform {
        WatchTransform {
            transform: self,
            headers_sent: false,
        }
    }
}

/// A transformed watch: each event's object converted for this watcher (tables carry their
/// column definitions in the first event only).
pub struct WatchTransform {
    transform: Transform,
    headers_sent: bool,
}

impl WatchTransform {
    /// An event's object for this watcher: `stored` as the cache keeps it, `served` its
    /// form in the version watched.
    pub fn object(&mut self, stored: &Object, served: &dyn Fn(&Object) -> Object) -> Value {
        let transform = &self.transform;
        match transform.shape {
            Shape::Table(version) => {
                let headers = !self.headers_sent;
                self.headers_sent = true;
                transform.single_table(version, stored, served, headers)
            }
            Shape::Partial(version) => partial(stored, version),
            // Upstream cannot make a list of one event's object and sends it unchanged.
            Shape::PartialList(_) => Value::Object(served(stored).0),
        }
    }
}
