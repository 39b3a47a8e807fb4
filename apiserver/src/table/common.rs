//! Columns and cells many printers share: the object's name and age, and the containers,
//! images and selector of a pod template.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde_json::Value;

use super::describe::field;
use super::format;
use super::node::Node;
use super::printer::{Column, Context, Doc};

/// A description from `T`'s schema.
pub const fn doc<T: JsonSchema>(property: &'static str) -> Doc {
    Doc::Field(field::<T>, property)
}

/// A description from `ObjectMeta`'s schema.
pub const fn meta(property: &'static str) -> Doc {
    doc::<ObjectMeta>(property)
}

/// `Name`, the column that names the object.
pub const NAME: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    doc: meta("name"),
    priority: 0,
};

/// `Age`, from `creationTimestamp`.
pub const AGE: Column = Column::new("Age", "string", meta("creationTimestamp"));

/// `Containers` of a pod template, for `-o wide`.
pub const CONTAINERS: Column = Column::wide(
    "Containers",
    "string",
    Doc::Text("Names of each container in the template."),
);

/// `Images` of a pod template, for `-o wide`.
pub const IMAGES: Column = Column::wide(
    "Images",
    "string",
    Doc::Text("Images referenced by each container in the template."),
);

/// A string cell.
pub fn text(value: impl Into<String>) -> Value {
    Value::String(value.into())
}

/// An integer cell.
pub fn int(value: i64) -> Value {
    Value::from(value)
}

/// The object's name.
pub fn name(object: Node<'_>) -> Value {
    text(object.at(&["metadata", "name"]).str())
}

/// The object's age.
pub fn age(object: Node<'_>, context: &Context) -> Value {
    text(format::since(
        object.at(&["metadata", "creationTimestamp"]),
        context.now,
    ))
}

/// Whether the object is being deleted.
pub fn deleting(object: Node<'_>) -> bool {
    object.at(&["metadata", "deletionTimestamp"]).is_set()
}

/// An annotation's value.
pub fn annotation<'a>(object: Node<'a>, key: &str) -> Option<&'a str> {
    object.at(&["metadata", "annotations"]).get(key).as_str()
}

/// The containers and images cells of a pod template's spec.
pub fn container_cells(pod_spec: Node<'_>) -> [Value; 2] {
    let (names, images) = format::containers(pod_spec.get("containers"));
    [text(names), text(images)]
}
