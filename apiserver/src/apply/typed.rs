//! Schema-aware walks over objects, after structured-merge-diff: the field set of an
//! object, merging an applied configuration into a live object, comparing two objects, and
//! removing owned items.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::path::{display_path, Path, PathElement};
use super::schema::{ApplySchema, ListKind};
use super::set::FieldSet;

/// Why an object does not fit its schema's list semantics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypedError {
    /// A list-map element without one of its key fields.
    #[error("{path}: element {index}: associative list with keys has an element that omits key field {key:?} (and doesn't have default value)")]
    MissingKey {
        /// Where the list is.
        path: String,
        /// The element's position.
        index: usize,
        /// The key field.
        key: String,
    },
    /// The same key twice in an applied list.
    #[error("{path}: duplicate entries for key {element}")]
    Duplicate {
        /// Where the list is.
        path: String,
        /// The repeated key.
        element: String,
    },
}

/// What changed between two objects, as paths.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Present only in the new object.
    pub added: FieldSet,
    /// Present in both with different values.
    pub modified: FieldSet,
    /// Present only in the old object.
    pub removed: FieldSet,
}

fn kind_of<S: ApplySchema>(schema: Option<&S>) -> ListKind {
    schema.map_or(ListKind::Atomic, ApplySchema::list_kind)
}

fn field_of<S: ApplySchema>(schema: Option<&S>, name: &str) -> (Option<S>, bool) {
    schema.map_or((None, false), |schema| schema.field(name))
}

fn map_atomic<S: ApplySchema>(schema: Option<&S>) -> bool {
    schema.is_some_and(ApplySchema::map_atomic)
}

fn is_empty_collection(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// The path element of one list item.
fn item_element<S: ApplySchema>(
    kind: &ListKind,
    element: Option<&S>,
    item: &Value,
    index: usize,
    path: &[PathElement],
) -> Result<PathElement, TypedError> {
    match kind {
        ListKind::Map(keys) => {
            let mut fields = Vec::with_capacity(keys.len());
            for key in keys {
                let value = item
                    .get(key)
                    .cloned()
                    .or_else(|| element.and_then(|schema| schema.key_default(key)));
                match value {
                    Some(value) => fields.push((key.clone(), value)),
                    None => {
                        return Err(TypedError::MissingKey {
                            path: display_path(path),
                            index,
                            key: key.clone(),
                        })
                    }
                }
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
        ListKind::Set => Ok(PathElement::Value(item.clone())),
        ListKind::Atomic => Ok(PathElement::Index(index)),
    }
}

/// The paths an object sets: its leaves, list items and map entries.
pub fn field_set<S: ApplySchema>(
    value: &Value,
    schema: Option<&S>,
) -> Result<FieldSet, TypedError> {
    let mut set = FieldSet::default();
    collect(value, schema, &mut Vec::new(), &mut set)?;
    Ok(set)
}

fn collect<S: ApplySchema>(
    value: &Value,
    schema: Option<&S>,
    path: &mut Path,
    set: &mut FieldSet,
) -> Result<(), TypedError> {
    match value {
        Value::Object(map) => {
            if map_atomic(schema) {
                set.insert(path);
                return Ok(());
            }
            for (key, child) in map {
                let (child_schema, declared) = field_of(schema, key);
                path.push(PathElement::Field(key.clone()));
                collect(child, child_schema.as_ref(), path, set)?;
                let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                if empty || !declared {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let kind = kind_of(schema);
            if kind == ListKind::Atomic {
                set.insert(path);
                return Ok(());
            }
            let element = schema.and_then(ApplySchema::element);
            let mut seen: HashMap<PathElement, usize> = HashMap::new();
            let mut elements = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let pe = item_element(&kind, element.as_ref(), item, index, path)?;
                *seen.entry(pe.clone()).or_default() += 1;
                elements.push(pe);
            }
            for (item, pe) in items.iter().zip(elements) {
                path.push(pe.clone());
                if seen.get(&pe).copied().unwrap_or(0) < 2 {
                    collect(item, element.as_ref(), path, set)?;
                }
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
    Ok(())
}

/// `config` merged into `live`: the applied values win, list items merge by key.
pub fn merge<S: ApplySchema>(
    live: &Value,
    config: &Value,
    schema: Option<&S>,
) -> Result<Value, TypedError> {
    Ok(
        merge_values(Some(live), Some(config), schema, &mut Vec::new())?
            .unwrap_or(Value::Object(Map::new())),
    )
}

fn same_shape(left: &Value, right: &Value) -> bool {
    matches!(
        (left, right),
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
    ) || (!left.is_object() && !left.is_array() && !right.is_object() && !right.is_array())
}

fn merge_values<S: ApplySchema>(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    schema: Option<&S>,
    path: &mut Path,
) -> Result<Option<Value>, TypedError> {
    let leaf = || Ok(rhs.or(lhs).cloned());
    let (l, r) = match (lhs, rhs) {
        (None, None) => return Ok(None),
        (Some(l), Some(r)) if !same_shape(l, r) => return Ok(Some(r.clone())),
        pair => pair,
    };
    let sample = r.or(l);
    match sample {
        Some(Value::Object(_)) => {
            if map_atomic(schema) || (is_empty_collection(l) && is_empty_collection(r)) {
                return leaf();
            }
            let empty = Map::new();
            let lm = l.and_then(Value::as_object).unwrap_or(&empty);
            let rm = r.and_then(Value::as_object).unwrap_or(&empty);
            let mut out = Map::new();
            let keys = lm
                .keys()
                .chain(rm.keys().filter(|key| !lm.contains_key(*key)));
            for key in keys {
                let (child, _) = field_of(schema, key);
                path.push(PathElement::Field(key.clone()));
                let merged = merge_values(lm.get(key), rm.get(key), child.as_ref(), path)?;
                path.pop();
                if let Some(merged) = merged {
                    out.insert(key.clone(), merged);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        Some(Value::Array(_)) => {
            let kind = kind_of(schema);
            if kind == ListKind::Atomic || (is_empty_collection(l) && is_empty_collection(r)) {
                return leaf();
            }
            let empty = Vec::new();
            let la = l.and_then(Value::as_array).unwrap_or(&empty);
            let ra = r.and_then(Value::as_array).unwrap_or(&empty);
            merge_lists(la, ra, &kind, schema, path)
        }
        _ => leaf(),
    }
}

/// structured-merge-diff's list merge: applied items in their order, live-only items kept
/// in place between them.
fn merge_lists<S: ApplySchema>(
    lhs: &[Value],
    rhs: &[Value],
    kind: &ListKind,
    schema: Option<&S>,
    path: &mut Path,
) -> Result<Option<Value>, TypedError> {
    let element = schema.and_then(ApplySchema::element);
    let mut rhs_pes = Vec::with_capacity(rhs.len());
    let mut observed_rhs: HashMap<PathElement, &Value> = HashMap::new();
    for (index, item) in rhs.iter().enumerate() {
        let pe = item_element(kind, element.as_ref(), item, index, path)?;
        if observed_rhs.insert(pe.clone(), item).is_some() {
            return Err(TypedError::Duplicate {
                path: display_path(path),
                element: pe.to_fields_v1(),
            });
        }
        rhs_pes.push(pe);
    }
    let mut lhs_pes = Vec::with_capacity(lhs.len());
    let mut observed_lhs: HashMap<PathElement, Option<&Value>> = HashMap::new();
    for (index, item) in lhs.iter().enumerate() {
        let pe = item_element(kind, element.as_ref(), item, index, path)?;
        observed_lhs
            .entry(pe.clone())
            .and_modify(|seen| *seen = None)
            .or_insert(Some(item));
        lhs_pes.push(pe);
    }
    let mut shared = rhs_pes
        .iter()
        .filter(|pe| observed_lhs.contains_key(*pe))
        .cloned()
        .collect::<Vec<_>>()
        .into_iter();
    let mut next_shared = shared.next();
    let mut merged_rhs = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut li, mut ri) = (0, 0);
    let push = |pe: &PathElement,
                l: Option<&Value>,
                r: Option<&Value>,
                out: &mut Vec<Value>,
                path: &mut Path|
     -> Result<(), TypedError> {
        path.push(pe.clone());
        let merged = merge_values(l, r, element.as_ref(), path)?;
        path.pop();
        out.extend(merged);
        Ok(())
    };
    while li < lhs_pes.len() || ri < rhs_pes.len() {
        if li < lhs_pes.len() && ri < rhs_pes.len() {
            let pe = &lhs_pes[li];
            if *pe == rhs_pes[ri] {
                merged_rhs.insert(pe.clone());
                let l = observed_lhs.get(pe).copied().flatten();
                push(pe, l, observed_rhs.get(pe).copied(), &mut out, path)?;
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if observed_rhs.contains_key(pe) && next_shared.as_ref().is_some_and(|next| next != pe)
            {
                li += 1;
                continue;
            }
        }
        if li < lhs_pes.len() {
            let pe = &lhs_pes[li];
            if !observed_rhs.contains_key(pe) {
                push(pe, Some(&lhs[li]), None, &mut out, path)?;
                li += 1;
                continue;
            } else if merged_rhs.contains(pe) {
                li += 1;
            }
        }
        if ri < rhs_pes.len() {
            let pe = rhs_pes[ri].clone();
            merged_rhs.insert(pe.clone());
            let l = observed_lhs.get(&pe).copied().flatten();
            push(&pe, l, observed_rhs.get(&pe).copied(), &mut out, path)?;
            ri += 1;
            if next_shared.as_ref() == Some(&pe) {
                next_shared = shared.next();
            }
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// The paths added, modified and removed from `old` to `new`.
pub fn compare<S: ApplySchema>(
    old: &Value,
    new: &Value,
    schema: Option<&S>,
) -> Result<Comparison, TypedError> {
    let mut comparison = Comparison::default();
    compare_values(
        Some(old),
        Some(new),
        schema,
        &mut Vec::new(),
        &mut comparison,
    )?;
    Ok(comparison)
}

fn compare_values<S: ApplySchema>(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    schema: Option<&S>,
    path: &mut Path,
    out: &mut Comparison,
) -> Result<(), TypedError> {
    let leaf = |out: &mut Comparison, path: &Path| match (lhs, rhs) {
        (None, Some(_)) => out.added.insert(path),
        (Some(_), None) => out.removed.insert(path),
        (Some(l), Some(r)) if l != r => out.modified.insert(path),
        _ => {}
    };
    let (l, r) = (lhs, rhs);
    if let (Some(left), Some(right)) = (l, r) {
        if !same_shape(left, right) {
            leaf(out, path);
            return Ok(());
        }
    }
    match r.or(l) {
        Some(Value::Object(_)) => {
            if map_atomic(schema) || (is_empty_collection(l) && is_empty_collection(r)) {
                leaf(out, path);
                return Ok(());
            }
            let empty = Map::new();
            let lm = l.and_then(Value::as_object).unwrap_or(&empty);
            let rm = r.and_then(Value::as_object).unwrap_or(&empty);
            let keys = lm
                .keys()
                .chain(rm.keys().filter(|key| !lm.contains_key(*key)));
            for key in keys {
                let (child, _) = field_of(schema, key);
                path.push(PathElement::Field(key.clone()));
                compare_values(lm.get(key), rm.get(key), child.as_ref(), path, out)?;
                path.pop();
            }
        }
        Some(Value::Array(_)) => {
            let kind = kind_of(schema);
            if kind == ListKind::Atomic || (is_empty_collection(l) && is_empty_collection(r)) {
                leaf(out, path);
                return Ok(());
            }
            let element = schema.and_then(ApplySchema::element);
            let empty = Vec::new();
            let mut items: Vec<(PathElement, Option<&Value>, Option<&Value>)> = Vec::new();
            let mut index_of: HashMap<PathElement, usize> = HashMap::new();
            for (side, list) in [(0, l), (1, r)] {
                let list = list.and_then(Value::as_array).unwrap_or(&empty);
                for (index, item) in list.iter().enumerate() {
                    let pe = item_element(&kind, element.as_ref(), item, index, path)?;
                    let slot = *index_of.entry(pe.clone()).or_insert_with(|| {
                        items.push((pe, None, None));
                        items.len() - 1
                    });
                    let entry = &mut items[slot];
                    let target = if side == 0 {
                        &mut entry.1
                    } else {
                        &mut entry.2
                    };
                    target.get_or_insert(item);
                }
            }
            for (pe, left, right) in items {
                path.push(pe);
                compare_values(left, right, element.as_ref(), path, out)?;
                path.pop();
            }
        }
        _ => {
            leaf(out, path);
            return Ok(());
        }
    }
    match (l, r) {
        (None, Some(_)) => out.added.insert(path),
        (Some(_), None) => out.removed.insert(path),
        _ => {}
    }
    Ok(())
}

/// `value` without the members of `set` (each removed with everything below it).
pub fn remove_items<S: ApplySchema>(
    value: Value,
    set: &FieldSet,
    schema: Option<&S>,
) -> Result<Value, TypedError> {
    remove_in(value, set, schema, &mut Vec::new())
}

fn remove_in<S: ApplySchema>(
    value: Value,
    set: &FieldSet,
    schema: Option<&S>,
    path: &mut Path,
) -> Result<Value, TypedError> {
    match value {
        Value::Object(map) => {
            if map_atomic(schema) {
                return Ok(Value::Object(map));
            }
            let mut out = Map::new();
            for (key, child) in map {
                let element = PathElement::Field(key.clone());
                match set.child(&element) {
                    Some(sub) if sub.is_member() => {}
                    Some(sub) => {
                        let (child_schema, _) = field_of(schema, &key);
                        path.push(element);
                        let kept = remove_in(child, sub, child_schema.as_ref(), path)?;
                        path.pop();
                        out.insert(key, kept);
                    }
                    None => {
                        out.insert(key, child);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            let kind = kind_of(schema);
            if kind == ListKind::Atomic {
                return Ok(Value::Array(items));
            }
            let element = schema.and_then(ApplySchema::element);
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let pe = item_element(&kind, element.as_ref(), &item, index, path)?;
                match set.child(&pe) {
                    Some(sub) if sub.is_member() => {}
                    Some(sub) => {
                        path.push(pe);
                        let kept = remove_in(item, sub, element.as_ref(), path)?;
                        path.pop();
                        out.push(kept);
                    }
                    None => out.push(item),
                }
            }
            Ok(Value::Array(out))
        }
        other => Ok(other),
    }
}

#[cfg(test)]
pub(crate) mod tests;
