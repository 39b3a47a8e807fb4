//! `metadata.managedFields`: who owns which fields, kept on every write as upstream's field
//! manager keeps it, and server-side apply on top of it (merge, prune what a manager stopped
//! applying, detect conflicts with other managers).

use serde_json::{json, Map, Value};

use super::path::{display_path, Path, PathElement};
use super::schema::ApplySchema;
use super::set::FieldSet;
use super::typed::{self, TypedError};

/// `Apply` or `Update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write (create, update, patch).
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// One entry of `metadata.managedFields`.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedEntry {
    /// The field manager.
    pub manager: String,
    /// How it wrote.
    pub operation: Operation,
    /// The version it wrote in.
    pub api_version: String,
    /// When its fields last changed.
    pub time: Option<String>,
    /// `status` etc. for writes to a subresource.
    pub subresource: Option<String>,
    /// What it owns.
    pub fields: FieldSet,
}

impl ManagedEntry {
    fn same_manager(&self, manager: &str, operation: Operation, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    /// How conflict messages name the manager.
    fn describe(&self) -> String {
        let mut text = format!("{:?}", self.manager);
        if let Some(subresource) = &self.subresource {
            text.push_str(&format!(" with subresource {subresource:?}"));
        }
        if self.operation == Operation::Update {
            text.push_str(&format!(" using {}", self.api_version));
        }
        text
    }
}

/// What a write is and who makes it.
#[derive(Clone, Debug)]
pub struct Writer<'a> {
    /// The field manager.
    pub manager: &'a str,
    /// The subresource written, if any.
    pub subresource: Option<&'a str>,
    /// The version the request is in.
    pub api_version: &'a str,
    /// Whether the resource has a `status` subresource (then status and the rest are owned
    /// separately).
    pub has_status: bool,
    /// The time to stamp on changed entries.
    pub now: &'a str,
}

/// Why managed fields could not be kept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManagedError {
    /// The object does not fit its schema's list semantics.
    #[error(transparent)]
    Typed(#[from] TypedError),
    /// Apply would change fields other managers own.
    #[error("{message}")]
    Conflict {
        /// Upstream's message.
        message: String,
        /// (field path, "conflict with ...") per conflict.
        causes: Vec<(String, String)>,
    },
    /// `metadata.managedFields` sent by the client is malformed.
    #[error("{0}")]
    Malformed(String),
}

/// Fields no manager owns.
fn ignored() -> FieldSet {
    let mut set = FieldSet::default();
    for path in [
        &["apiVersion"][..],
        &["kind"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &["metadata", "creationTimestamp"],
        &["metadata", "selfLink"],
        &["metadata", "uid"],
        &["metadata", "generation"],
        &["metadata", "managedFields"],
        &["metadata", "resourceVersion"],
        &["metadata", "deletionTimestamp"],
        &["metadata", "deletionGracePeriodSeconds"],
    ] {
        let path: Path = path
            .iter()
            .map(|name| PathElement::Field((*name).to_owned()))
            .collect();
        set.insert(&path);
    }
    set
}

/// The part of `set` a writer can own: the main resource does not own `status` when it
/// has a status subresource, and the status subresource owns only `status`.
fn owned_part(set: &FieldSet, writer: &Writer<'_>) -> FieldSet {
    let set = set.recursive_difference(&ignored());
    let status = [PathElement::Field("status".to_owned())];
    match writer.subresource {
        Some("status") => set.restricted_to(&status),
        Some(_) => set,
        None if writer.has_status => {
            let mut status_set = FieldSet::default();
            status_set.insert(&status);
            set.recursive_difference(&status_set)
        }
        None => set,
    }
}

/// Reads `metadata.managedFields`.
pub fn decode(object: &Map<String, Value>) -> Result<Vec<ManagedEntry>, ManagedError> {
    let Some(entries) = object
        .get("metadata")
        .and_then(|meta| meta.get("managedFields"))
    else {
        return Ok(Vec::new());
    };
    let Value::Array(entries) = entries else {
        return Ok(Vec::new());
    };
    let malformed = |why: &str| ManagedError::Malformed(format!("invalid managedFields: {why}"));
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_owned);
        let operation = match text("operation").as_deref() {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return Err(malformed("operation must be Apply or Update")),
        };
        let fields = match entry.get("fieldsV1") {
            Some(fields) => {
                FieldSet::from_fields_v1(fields).ok_or_else(|| malformed("bad fieldsV1"))?
            }
            None => FieldSet::default(),
        };
        out.push(ManagedEntry {
            manager: text("manager").unwrap_or_default(),
            operation,
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time"),
            subresource: text("subresource").filter(|s| !s.is_empty()),
            fields,
        });
    }
    Ok(out)
}

/// Writes `entries` to `metadata.managedFields` (or removes it when there are none).
pub fn encode(object: &mut Map<String, Value>, entries: &[ManagedEntry]) {
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        metadata.shift_remove("managedFields");
        return;
    }
    let list: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let mut value = json!({
                "manager": entry.manager,
                "operation": entry.operation.as_str(),
                "apiVersion": entry.api_version,
            });
            if let Some(time) = &entry.time {
                value["time"] = json!(time);
            }
            value["fieldsType"] = json!("FieldsV1");
            value["fieldsV1"] = entry.fields.to_fields_v1();
            if let Some(subresource) = &entry.subresource {
                value["subresource"] = json!(subresource);
            }
            value
        })
        .collect();
    metadata.insert("managedFields".to_owned(), Value::Array(list));
}

/// The object as the field walks see it: without its managedFields.
fn without_managed(object: &Map<String, Value>) -> Value {
    let mut copy = object.clone();
    if let Some(metadata) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.shift_remove("managedFields");
    }
    Value::Object(copy)
}

/// Records a create, update or patch by `writer`: it owns what it changed, and others lose
/// what it changed or removed. `old` is `None` for a create. A client that sends
/// managedFields different from the stored ones sets them (kubectl does this to move
/// ownership from client-side to server-side apply).
pub fn record_update<S: ApplySchema>(
    old: Option<&Map<String, Value>>,
    new: &mut Map<String, Value>,
    writer: &Writer<'_>,
    schema: Option<&S>,
) -> Result<(), ManagedError> {
    let stored = match old {
        Some(old) => decode(old)?,
        None => Vec::new(),
    };
    let sent = decode(new)?;
    let sent_field = new
        .get("metadata")
        .and_then(|meta| meta.get("managedFields"));
    let mut entries = match (sent_field, old) {
        // Set by the client: taken as given (an empty list resets them).
        (Some(_), Some(old))
            if old.get("metadata").and_then(|m| m.get("managedFields")) != sent_field =>
        {
            if sent.is_empty() {
                Vec::new()
            } else {
                encode(new, &sent);
                return Ok(());
            }
        }
        (Some(_), None) if !sent.is_empty() => {
            encode(new, &sent);
            return Ok(());
        }
        _ => stored,
    };
    let old_value = old.map_or_else(|| Value::Object(Map::new()), without_managed);
    let new_value = without_managed(new);
    let comparison = typed::compare(&old_value, &new_value, schema)?;
    let changed = owned_part(&comparison.modified.union(&comparison.added), writer);
    let removed = comparison.removed;
    for entry in entries.iter_mut() {
        if entry.same_manager(writer.manager, Operation::Update, writer.subresource) {
            continue;
        }
        // Others' times stay: upstream stamps an entry only when its manager writes.
        entry.fields = entry.fields.difference(&changed).difference(&removed);
    }
    let position = entries
        .iter()
        .position(|e| e.same_manager(writer.manager, Operation::Update, writer.subresource));
    let previous = position
        .map(|at| entries[at].fields.clone())
        .unwrap_or_default();
    let mine = previous.difference(&removed).union(&changed);
    let mine = owned_part(&mine, writer);
    match position {
        Some(at) => {
            if entries[at].fields != mine {
                entries[at].time = Some(writer.now.to_owned());
            }
            entries[at].fields = mine;
            entries[at].api_version = writer.api_version.to_owned();
        }
        None => entries.push(ManagedEntry {
            manager: writer.manager.to_owned(),
            operation: Operation::Update,
            api_version: writer.api_version.to_owned(),
            time: Some(writer.now.to_owned()),
            subresource: writer.subresource.map(str::to_owned),
            fields: mine,
        }),
    }
    entries.retain(|entry| !entry.fields.is_empty());
    encode(new, &entries);
    Ok(())
}

/// Server-side apply of `config` by `writer` over `live` (`None` to create). Returns the new
/// object with its managedFields; a conflict with other managers fails unless `force`.
pub fn apply<S: ApplySchema>(
    live: Option<&Map<String, Value>>,
    config: &Map<String, Value>,
    writer: &Writer<'_>,
    force: bool,
    schema: Option<&S>,
) -> Result<Map<String, Value>, ManagedError> {
    let mut entries = match live {
        Some(live) => decode(live)?,
        None => Vec::new(),
    };
    let live_value = live.map_or_else(|| Value::Object(Map::new()), without_managed);
    let config_value = without_managed(config);
    let merged = typed::merge(&live_value, &config_value, schema)?;
    let applied = owned_part(&typed::field_set(&config_value, schema)?, writer);

    let position = entries
        .iter()
        .position(|e| e.same_manager(writer.manager, Operation::Apply, writer.subresource));
    let last = position.map(|at| entries[at].fields.clone());
    match position {
        Some(at) => {
            if entries[at].fields != applied {
                entries[at].time = Some(writer.now.to_owned());
            }
            entries[at].fields = applied.clone();
            entries[at].api_version = writer.api_version.to_owned();
        }
        None => entries.push(ManagedEntry {
            manager: writer.manager.to_owned(),
            operation: Operation::Apply,
            api_version: writer.api_version.to_owned(),
            time: Some(writer.now.to_owned()),
            subresource: writer.subresource.map(str::to_owned),
            fields: applied.clone(),
        }),
    }

    // Prune: what this manager applied last time and no longer does, unless someone else
    // (or this config) still owns it.
    let merged = match last {
        Some(last) if !last.is_empty() => {
            let owned = entries
                .iter()
                .fold(FieldSet::default(), |all, entry| all.union(&entry.fields));
            let stale = last
                .with_named_fields_as_members()
                .difference(&owned.with_named_fields_as_members());
            typed::remove_items(merged, &stale, schema)?
        }
        _ => merged,
    };

    let comparison = typed::compare(&live_value, &merged, schema)?;
    let changed = comparison.modified.union(&comparison.added);
    let mut conflicts: Vec<(String, Path, String)> = Vec::new();
    for entry in &entries {
        if entry.same_manager(writer.manager, Operation::Apply, writer.subresource) {
            continue;
        }
        for path in entry.fields.intersection(&changed).paths() {
            conflicts.push((entry.manager.clone(), path, entry.describe()));
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(conflicts));
    }
    for entry in entries.iter_mut() {
        if entry.same_manager(writer.manager, Operation::Apply, writer.subresource) {
            continue;
        }
        entry.fields = entry
            .fields
            .difference(&changed)
            .difference(&comparison.removed);
    }
    entries.retain(|entry| !entry.fields.is_empty());
    let mut object = match merged {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    encode(&mut object, &entries);
    Ok(object)
}

fn conflict_error(mut conflicts: Vec<(String, Path, String)>) -> ManagedError {
    conflicts.sort_by(|a, b| (&a.0, display_path(&a.1)).cmp(&(&b.0, display_path(&b.1))));
    let causes: Vec<(String, String)> = conflicts
        .iter()
        .map(|(_, path, who)| (display_path(path), format!("conflict with {who}")))
        .collect();
    let message = if let [(_, path, who)] = conflicts.as_slice() {
        format!(
            "Apply failed with 1 conflict: conflict with {who}: {}",
            display_path(path)
        )
    } else {
        let mut lines = Vec::new();
        let mut current: Option<&str> = None;
        for (manager, path, who) in &conflicts {
            if current != Some(manager.as_str()) {
                lines.push(format!("conflicts with {who}:"));
                current = Some(manager);
            }
            lines.push(format!("- {}", display_path(path)));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ManagedError::Conflict { message, causes }
}

#[cfg(test)]
mod tests;
