//! Strategic merge patch, as upstream applies it on the server (`StrategicMergeMapPatch`
//! with parallel deletion lists merged and unmatched nulls ignored): maps merge key by key,
//! lists whose field is marked `patchStrategy: merge` merge element by element (by their
//! merge key, or by value for scalars), other lists and scalars are replaced. Directives:
//! `$patch: replace|delete` (on maps and list elements), `$retainKeys`,
//! `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`.

use serde_json::{Map, Value};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// How a field merges, from its schema (`x-kubernetes-patch-strategy` and
/// `x-kubernetes-patch-merge-key`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPatch {
    /// `merge`: a list merges element by element instead of being replaced.
    pub merge: bool,
    /// `retainKeys`: a `$retainKeys` directive clears the keys it does not list.
    pub retain_keys: bool,
    /// The field that identifies elements of a merging list of objects.
    pub merge_key: Option<String>,
}

/// Where in an object's schema a value sits; what the merge asks of it.
pub trait PatchSchema: Sized {
    /// The schema of field `name` of this object (or of the values of this map) and how
    /// that field merges.
    fn field(&self, name: &str) -> (Option<Self>, FieldPatch);
    /// The schema of this list's elements.
    fn element(&self) -> Option<Self>;
}

/// Why a patch cannot be applied, worded as upstream's mergepatch errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategicMergeError {
    /// A `$patch` value other than `replace` or `delete` (or `merge` on a list element).
    #[error("unknown patch type: {directive} in map: {context}")]
    BadPatchType {
        /// The directive given.
        directive: String,
        /// The map it was found in.
        context: String,
    },
    /// A merging list element without its merge key.
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey {
        /// The element.
        map: String,
        /// The merge key it lacks.
        key: String,
    },
    /// A `$deleteFromPrimitiveList` directive that is not a list.
    #[error("invalid patch format of primitive list")]
    BadPrimitiveList,
    /// A `$retainKeys` directive that is not a list, or a patch setting keys it omits.
    #[error("invalid patch format of retainKeys")]
    BadRetainKeys,
    /// A `$setElementOrder` directive that is not a list or disagrees with the patch.
    #[error("invalid patch format of setElementOrder list")]
    BadSetElementOrder,
    /// Lists of lists have no merge semantics.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// A list mixing element types.
    #[error("list element types are not identical: {0}")]
    MixedList(String),
    /// A list of objects marked to merge without a merge key.
    #[error("cannot merge lists without merge key for type map")]
    NoMergeKeyDeclared,
    /// `$patch: merge` on a list element.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
}

impl StrategicMergeError {
    /// Whether upstream answers this with 400 BadRequest (malformed patch) rather than
    /// 422 or 500.
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            Self::BadPrimitiveList | Self::BadRetainKeys | Self::BadSetElementOrder
        )
    }
}

/// Applies `patch` to `original`, whose schema (if known) is `schema`.
pub fn strategic_merge<S: PatchSchema>(
    original: Map<String, Value>,
    patch: Map<String, Value>,
    schema: Option<&S>,
) -> Result<Map<String, Value>, StrategicMergeError> {
    merge_map(original, patch, schema)
}

fn merge_map<S: PatchSchema>(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Option<&S>,
) -> Result<Map<String, Value>, StrategicMergeError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.shift_remove(DIRECTIVE);
                Ok(patch)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(bad_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_ordered_lists(&mut original, &mut patch, schema)?;
    for (key, patch_value) in patch {
        let (key, delete_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(rest) => (
                rest.strip_prefix('/')
                    .ok_or(StrategicMergeError::BadPrimitiveList)?
                    .to_owned(),
                true,
            ),
            None => (key, false),
        };
        if patch_value.is_null() {
            original.shift_remove(&key);
            continue;
        }
        let Some(current) = original.get_mut(&key) else {
            if !delete_list {
                original.insert(key, without_nulls(patch_value));
            }
            continue;
        };
        let (child, meta) = schema.map_or((None, FieldPatch::default()), |s| s.field(&key));
        let merged = match (std::mem::take(current), patch_value) {
            (Value::Object(current), Value::Object(patch)) => {
                Value::Object(merge_map(current, patch, child.as_ref())?)
            }
            (Value::Array(current), Value::Array(patch)) if meta.merge || delete_list => {
                let element = child.as_ref().and_then(PatchSchema::element);
                Value::Array(merge_list(
                    current,
                    patch,
                    element.as_ref(),
                    meta.merge_key.as_deref(),
                    delete_list,
                )?)
            }
            (_, patch) => without_nulls(patch),
        };
        original.insert(key, merged);
    }
    Ok(original)
}

/// `$retainKeys`: keys of `original` it does not list are cleared; the patch may only set
/// keys it lists.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), StrategicMergeError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(StrategicMergeError::BadRetainKeys);
    };
    let kept = |key: &str| retain.iter().any(|name| name.as_str() == Some(key));
    for (key, value) in patch.iter() {
        let directive =
            key.starts_with(DELETE_FROM_PRIMITIVE_LIST) || key.starts_with(SET_ELEMENT_ORDER);
        if !value.is_null() && !directive && !kept(key) {
            return Err(StrategicMergeError::BadRetainKeys);
        }
    }
    original.retain(|key, _| kept(key));
    Ok(())
}

/// `$setElementOrder/<field>`: merges that field's list now and orders the result as the
/// directive says (then the order in the patch, then the live order).
fn merge_ordered_lists<S: PatchSchema>(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: Option<&S>,
) -> Result<(), StrategicMergeError> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let order = match patch.shift_remove(&directive) {
            Some(Value::Array(order)) => order,
            _ => return Err(StrategicMergeError::BadSetElementOrder),
        };
        let field = directive
            .strip_prefix(SET_ELEMENT_ORDER)
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or(StrategicMergeError::BadSetElementOrder)?
            .to_owned();
        let current = match original.get(&field) {
            Some(Value::Array(items)) => Some(items.clone()),
            Some(_) => return Err(StrategicMergeError::BadSetElementOrder),
            None => None,
        };
        let patched = match patch.shift_remove(&field) {
            Some(Value::Array(items)) => Some(items),
            Some(_) => return Err(StrategicMergeError::BadSetElementOrder),
            None => None,
        };
        let (child, meta) = schema.map_or((None, FieldPatch::default()), |s| s.field(&field));
        let merge_key = meta.merge_key.as_deref();
        if let Some(patched) = &patched {
            check_order(patched, &order, merge_key)?;
        }
        let current_items = current.clone().unwrap_or_default();
        let merged = match (current, patched) {
            (Some(current), None) => current,
            (None, Some(patched)) => patched.into_iter().map(without_nulls).collect(),
            (Some(current), Some(patched)) => {
                if meta.merge {
                    let element = child.as_ref().and_then(PatchSchema::element);
                    merge_list(current, patched, element.as_ref(), merge_key, false)?
                } else {
                    patched
                }
            }
            (None, None) => continue,
        };
        let (in_order, server_only) = partition(merged, &order, merge_key);
        let ordered = normalize_order(in_order, server_only, &order, &current_items, merge_key)?;
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}

/// Upstream's consistency check: the patch list's elements appear in the order list, in
/// the same relative order.
fn check_order(
    patched: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<(), StrategicMergeError> {
    if order.is_empty() || patched.is_empty() {
        return Ok(());
    }
    let kept: Vec<&Value> = patched.iter().filter(|item| !is_deletion(item)).collect();
    let (mut at, mut in_order) = (0, 0);
    while at < kept.len() && in_order < order.len() {
        if kept[at].get(DIRECTIVE).is_some() {
            at += 1;
            continue;
        }
        if same_element(kept[at], &order[in_order], merge_key) {
            at += 1;
        }
        in_order += 1;
    }
    if at < kept.len() {
        return Err(StrategicMergeError::BadSetElementOrder);
    }
    Ok(())
}

fn is_deletion(item: &Value) -> bool {
    item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// Merges a list field: objects by merge key, scalars as a set (or, for a
/// `$deleteFromPrimitiveList`, minus the listed values).
fn merge_list<S: PatchSchema>(
    original: Vec<Value>,
    patch: Vec<Value>,
    element: Option<&S>,
    merge_key: Option<&str>,
    delete_list: bool,
) -> Result<Vec<Value>, StrategicMergeError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let objects = element_kind(&original, &patch)?;
    if !objects {
        if delete_list {
            return Ok(original
                .into_iter()
                .filter(|item| !patch.contains(item))
                .collect());
        }
        let mut merged = original.clone();
        for item in &patch {
            if !merged.contains(item) {
                merged.push(item.clone());
            }
        }
        let (in_patch, server_only) = partition(merged, &patch, None);
        return normalize_order(in_patch, server_only, &patch, &original, None);
    }
    let key = merge_key.ok_or(StrategicMergeError::NoMergeKeyDeclared)?;
    let (original, patch) = apply_element_directives(original, patch, key)?;
    let mut merged = original.clone();
    for item in &patch {
        let Value::Object(fields) = item else {
            continue;
        };
        let value = fields.get(key).ok_or_else(|| no_merge_key(item, key))?;
        match merged
            .iter()
            .position(|existing| existing.get(key) == Some(value))
        {
            Some(index) => {
                if let Value::Object(existing) = std::mem::take(&mut merged[index]) {
                    merged[index] = Value::Object(merge_map(existing, fields.clone(), element)?);
                }
            }
            None => merged.push(without_nulls(item.clone())),
        }
    }
    let (in_patch, server_only) = partition(merged, &patch, Some(key));
    normalize_order(in_patch, server_only, &patch, &original, Some(key))
}

/// `$patch` on list elements: `delete` removes the matching elements, `replace` makes the
/// patch's elements the whole list.
fn apply_element_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), StrategicMergeError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(DIRECTIVE) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = item.get(key).ok_or_else(|| no_merge_key(&item, key))?;
                original.retain(|existing| existing.get(key) != Some(value));
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(StrategicMergeError::MergeDirectiveInList),
            _ => {
                let context = item.as_object().cloned().unwrap_or_default();
                return Err(bad_patch_type(directive, &context));
            }
        }
    }
    if replace {
        return Ok((plain, Vec::new()));
    }
    Ok((original, plain))
}

/// Whether the lists hold objects (true) or scalars (false); mixed lists and lists of
/// lists have no merge semantics.
fn element_kind(original: &[Value], patch: &[Value]) -> Result<bool, StrategicMergeError> {
    let mut kind: Option<u8> = None;
    for item in original.iter().chain(patch) {
        let this = match item {
            Value::Array(_) => return Err(StrategicMergeError::ListOfLists),
            Value::Object(_) => 0,
            Value::String(_) => 1,
            Value::Number(_) => 2,
            Value::Bool(_) => 3,
            Value::Null => 4,
        };
        match kind {
            None => kind = Some(this),
            Some(previous) if previous != this => {
                return Err(StrategicMergeError::MixedList(format!(
                    "{} {}",
                    Value::Array(original.to_vec()),
                    Value::Array(patch.to_vec())
                )))
            }
            Some(_) => {}
        }
    }
    Ok(kind == Some(0))
}

/// Splits `items` into those `reference` names (by merge key, or by value) and the rest.
fn partition(
    items: Vec<Value>,
    reference: &[Value],
    merge_key: Option<&str>,
) -> (Vec<Value>, Vec<Value>) {
    items.into_iter().partition(|item| {
        reference
            .iter()
            .any(|named| same_element(item, named, merge_key))
    })
}

fn same_element(left: &Value, right: &Value, merge_key: Option<&str>) -> bool {
    match merge_key {
        Some(key) => left.get(key).is_some() && left.get(key) == right.get(key),
        None => left == right,
    }
}

fn position(order: &[Value], item: &Value, merge_key: Option<&str>) -> Option<usize> {
    order.iter().position(|named| match merge_key {
        Some(key) => named.get(key) == item.get(key),
        None => named == item,
    })
}

/// Upstream's ordering of a merged list: the patch's elements in patch order, the
/// server-only ones in live order, interleaved by their live positions where both are known
/// and patch elements first where not.
fn normalize_order(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
) -> Result<Vec<Value>, StrategicMergeError> {
    let in_patch = sort_by_order(in_patch, patch_order, merge_key)?;
    let server_only = sort_by_order(server_only, server_order, merge_key)?;
    let mut merged = Vec::with_capacity(in_patch.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = in_patch.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (position(server_order, l, merge_key), position(server_order, r, merge_key)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        merged.extend(next);
    }
    Ok(merged)
}

/// Stable sort of `items` by their positions in `order`; for objects, `$patch: delete`
/// elements go last, and every element must carry the merge key.
fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<Vec<Value>, StrategicMergeError> {
    let (mut items, deletions) = match merge_key {
        Some(key) => {
            for item in items.iter().chain(order) {
                if item.get(key).is_none() {
                    return Err(no_merge_key(item, key));
                }
            }
            items.into_iter().partition(|item| !is_deletion(item))
        }
        None => (items, Vec::new()),
    };
    // Go's SliceStable with upstream's comparator: an element whose position is unknown
    // sorts before its neighbours (insertion sort, as Go uses for short lists).
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 {
            let less = match (
                position(order, &items[j], merge_key),
                position(order, &items[j - 1], merge_key),
            ) {
                (Some(a), Some(b)) => a < b,
                _ => true,
            };
            if !less {
                break;
            }
            items.swap(j, j - 1);
            j -= 1;
        }
    }
    items.extend(deletions);
    Ok(items)
}

/// A value taken from the patch as is, without the nulls that decoding into the type
/// would drop.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn bad_patch_type(directive: &Value, context: &Map<String, Value>) -> StrategicMergeError {
    StrategicMergeError::BadPatchType {
        directive: directive
            .as_str()
            .map_or_else(|| directive.to_string(), str::to_owned),
        context: Value::Object(context.clone()).to_string(),
    }
}

fn no_merge_key(item: &Value, key: &str) -> StrategicMergeError {
    StrategicMergeError::NoMergeKey {
        map: item.to_string(),
        key: key.to_owned(),
    }
}

#[cfg(test)]
mod tests;
