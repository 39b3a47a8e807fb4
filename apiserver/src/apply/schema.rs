//! What server-side apply needs to know of a schema: how lists and maps are identified and
//! merged (`x-kubernetes-list-type`, `-list-map-keys`, `-map-type`).

use serde_json::Value;

/// How a list's elements are told apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// The list is one value, replaced whole.
    Atomic,
    /// A set of scalars: elements are their values.
    Set,
    /// A list of objects identified by these key fields.
    Map(Vec<String>),
}

/// A place in a type, as server-side apply walks it.
pub trait ApplySchema: Sized + Clone {
    /// The schema of field `name` (struct field or map value) and whether it is a declared
    /// struct field (true) rather than a map entry.
    fn field(&self, name: &str) -> (Option<Self>, bool);
    /// The schema of this list's elements.
    fn element(&self) -> Option<Self>;
    /// How this list merges.
    fn list_kind(&self) -> ListKind;
    /// Whether this map or struct is one value (`x-kubernetes-map-type: atomic`).
    fn map_atomic(&self) -> bool;
    /// The value a list-map key field takes when an element leaves it out (upstream uses
    /// the schema's default, e.g. `protocol: TCP` for ports).
    fn key_default(&self, key: &str) -> Option<Value>;
}
