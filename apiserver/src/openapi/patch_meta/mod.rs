//! Upstream's patch and merge metadata for every field of the v1.35 built-in API, as its Go
//! types declare it: the `patchStrategy`/`patchMergeKey` struct tags (which kubectl and the
//! server's strategic merge patch follow) and the `+listType`, `+listMapKey`, `+mapType` and
//! `+structType` comment tags (which server-side apply follows). kube-openapi's generator
//! turns exactly these tags into the `x-kubernetes-*` extensions of kube-apiserver's
//! OpenAPI documents, so our documents carry them from here (`strategies`).
//!
//! The rows were read off the `types.go` of each GA group version at the v1.35.0 tags
//! (one file of rows per family of groups), inline (embedded) structs flattened into the
//! definition that embeds them as kube-openapi does, and restricted to the definitions and
//! fields k8s-openapi generates. `k8s_openapi_check` cross-checks them against k8s-openapi's
//! `DeepMerge` impls, so a k8s-openapi bump that adds, drops or changes a list fails loudly:
//! then re-read the named fields' tags in the new release's `types.go`.

use std::collections::HashMap;
use std::sync::LazyLock;

mod cluster;
mod core_v1;
mod meta;
mod workloads;

#[cfg(test)]
mod k8s_openapi_check;
#[cfg(test)]
mod tests;

/// A field's `patchStrategy` struct tag: how a strategic merge patch treats the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchStrategy {
    /// `merge`: a list's items are merged with the patch's, by the merge key for lists of
    /// objects and by value for lists of scalars, instead of the list being replaced.
    Merge,
    /// `retainKeys`: a union struct keeps only the members the patch names.
    RetainKeys,
    /// `merge,retainKeys`: both (the pod's volumes and resource claims).
    MergeRetainKeys,
    /// `replace`: replaced whole (`PodDisruptionBudgetSpec.selector` alone).
    Replace,
}

impl PatchStrategy {
    /// The value of `x-kubernetes-patch-strategy`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::RetainKeys => "retainKeys",
            Self::MergeRetainKeys => "merge,retainKeys",
            Self::Replace => "replace",
        }
    }

    /// Whether lists under this strategy merge rather than being replaced.
    pub const fn merges(self) -> bool {
        matches!(self, Self::Merge | Self::MergeRetainKeys)
    }

    /// Whether union members absent from the patch are cleared.
    pub const fn retains_keys(self) -> bool {
        matches!(self, Self::RetainKeys | Self::MergeRetainKeys)
    }
}

/// A list's `+listType`: how server-side apply identifies its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced whole.
    Atomic,
    /// Scalars, each owned on its own.
    Set,
    /// Objects identified by the `map_keys` fields.
    Map,
}

impl ListType {
    /// The value of `x-kubernetes-list-type`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Atomic => "atomic",
            Self::Set => "set",
            Self::Map => "map",
        }
    }
}

/// A map's `+mapType` (or a struct field's `+structType`): whether its entries are owned one
/// by one or together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapType {
    /// Replaced whole.
    Atomic,
    /// Each entry on its own (the default, stated explicitly on a few fields).
    Granular,
}

impl MapType {
    /// The value of `x-kubernetes-map-type`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Atomic => "atomic",
            Self::Granular => "granular",
        }
    }
}

/// One field's patch and merge metadata; `None`/empty where upstream's tags say nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatchMeta {
    /// `patchStrategy` (`x-kubernetes-patch-strategy`).
    pub strategy: Option<PatchStrategy>,
    /// `patchMergeKey` (`x-kubernetes-patch-merge-key`).
    pub merge_key: Option<&'static str>,
    /// `+listType` (`x-kubernetes-list-type`).
    pub list_type: Option<ListType>,
    /// `+listMapKey`, in upstream's order (`x-kubernetes-list-map-keys`).
    pub map_keys: &'static [&'static str],
    /// `+mapType`, or `+structType` on a field (`x-kubernetes-map-type`).
    pub map_type: Option<MapType>,
}

/// No metadata; the rows build on it.
const NONE: PatchMeta = PatchMeta {
    strategy: None,
    merge_key: None,
    list_type: None,
    map_keys: &[],
    map_type: None,
};

/// `+listType=atomic`.
const ATOMIC: PatchMeta = PatchMeta {
    list_type: Some(ListType::Atomic),
    ..NONE
};

/// `+listType=set`.
const SET: PatchMeta = PatchMeta {
    list_type: Some(ListType::Set),
    ..NONE
};

/// `+mapType=atomic`.
const MAP_ATOMIC: PatchMeta = PatchMeta {
    map_type: Some(MapType::Atomic),
    ..NONE
};

/// `+mapType=granular` (or `+structType=granular` on a field).
const MAP_GRANULAR: PatchMeta = PatchMeta {
    map_type: Some(MapType::Granular),
    ..NONE
};

/// `+listType=map` with these `+listMapKey`s.
const fn map(keys: &'static [&'static str]) -> PatchMeta {
    PatchMeta {
        list_type: Some(ListType::Map),
        map_keys: keys,
        ..NONE
    }
}

impl PatchMeta {
    /// With this `patchStrategy`.
    const fn patch(self, strategy: PatchStrategy) -> Self {
        Self {
            strategy: Some(strategy),
            ..self
        }
    }

    /// With this `patchMergeKey`.
    const fn key(self, merge_key: &'static str) -> Self {
        Self {
            merge_key: Some(merge_key),
            ..self
        }
    }
}

/// A definition's name and its fields (JSON names) that carry metadata.
type Definition = (&'static str, &'static [(&'static str, PatchMeta)]);

/// Every file's rows.
const TABLES: &[&[Definition]] = &[
    core_v1::FIELDS,
    meta::FIELDS,
    workloads::FIELDS,
    cluster::FIELDS,
];

/// Every file's atomic structs.
const ATOMIC_STRUCT_TABLES: &[&[&str]] = &[
    core_v1::ATOMIC_STRUCTS,
    meta::ATOMIC_STRUCTS,
    workloads::ATOMIC_STRUCTS,
    cluster::ATOMIC_STRUCTS,
];

/// Definition name → its fields, built on first use.
static BY_DEFINITION: LazyLock<HashMap<&'static str, &'static [(&'static str, PatchMeta)]>> =
    LazyLock::new(|| TABLES.iter().copied().flatten().copied().collect());

/// The patch and merge metadata of `field` (its JSON name) of `definition` (upstream's name,
/// `io.k8s.api.core.v1.Container`); `None` for fields upstream tags nothing on, which merge
/// as the defaults: structs field by field, maps key by key, lists replaced whole.
pub fn patch_meta(definition: &str, field: &str) -> Option<&'static PatchMeta> {
    BY_DEFINITION
        .get(definition)?
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, meta)| meta)
}

/// Whether `definition` is a struct upstream marks `+structType=atomic`
/// (`x-kubernetes-map-type: atomic` on the definition: `LabelSelector`, `ObjectReference`,
/// ...), which server-side apply owns and replaces as a whole.
pub fn is_atomic_struct(definition: &str) -> bool {
    ATOMIC_STRUCT_TABLES
        .iter()
        .any(|table| table.binary_search(&definition).is_ok())
}

/// Every field with metadata: (definition, field, metadata).
pub(super) fn fields() -> impl Iterator<Item = (&'static str, &'static str, &'static PatchMeta)> {
    TABLES
        .iter()
        .copied()
        .flatten()
        .flat_map(|(definition, fields)| {
            fields
                .iter()
                .map(move |(field, meta)| (*definition, *field, meta))
        })
}

/// Every atomic struct definition.
pub(super) fn atomic_structs() -> impl Iterator<Item = &'static str> {
    ATOMIC_STRUCT_TABLES.iter().copied().flatten().copied()
}
