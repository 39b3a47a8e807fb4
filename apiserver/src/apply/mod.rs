//! Field ownership and server-side apply: `metadata.managedFields` kept on every write,
//! and `application/apply-patch+yaml` patches merged, pruned and checked for conflicts
//! with structured-merge-diff's semantics (list and map types from the schema).

mod managed;
mod path;
mod schema;
mod set;
mod typed;

pub use managed::{
    apply, decode, encode, record_update, ManagedEntry, ManagedError, Operation, Writer,
};
pub use path::{display_path, Path, PathElement};
pub use schema::{ApplySchema, ListKind};
pub use set::FieldSet;
pub use typed::{compare, field_set, merge, remove_items, Comparison, TypedError};
