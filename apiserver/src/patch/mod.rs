//! Patch algorithms applied to stored objects: strategic merge patch (kubectl's default for
//! `apply`, `edit`, `label`, `annotate`, `patch`), driven by the patch metadata of the
//! published schemas, the way upstream's strategicpatch package is driven by struct tags.

mod strategic;

pub use strategic::{strategic_merge, FieldPatch, PatchSchema, StrategicMergeError};
