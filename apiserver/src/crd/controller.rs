//! The CRD controller inside the API server: follows the stored CRDs and keeps the registry
//! (routing, discovery, OpenAPI) in step, marks CRDs `NamesAccepted` and `Established`, and
//! finishes deleted CRDs by deleting their objects before releasing the cleanup finalizer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};

use super::{resources_of, CustomVersion, CLEANUP_FINALIZER, CRD_PREFIX};
use crate::handlers::rest::ApiContext;
use crate::object::now_rfc3339;
use crate::registry::{storage_prefix, Registry, ResourceInfo};
use crate::storage::{KeyValue, ListRequest, Revision, StorageError, Store};

/// How long to wait before retrying after a storage error.
const RETRY: Duration = Duration::from_secs(1);
/// A resync even without events, to retry what failed.
const RESYNC: Duration = Duration::from_secs(30);

/// Runs until the process ends.
pub async fn run(context: Arc<ApiContext>) {
    let mut served: Vec<(ResourceInfo, Arc<CustomVersion>)> = Vec::new();
    loop {
        match reconcile(&context, &mut served).await {
            Ok(revision) => wait_for_change(context.store.as_ref(), revision).await,
            Err(error) => {
                tracing::warn!(%error, "CRD controller");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

async fn wait_for_change(store: &dyn Store, revision: Revision) {
    let Ok(mut events) = store.watch(CRD_PREFIX, revision).await else {
        tokio::time::sleep(RETRY).await;
        return;
    };
    let _ = tokio::time::timeout(RESYNC, events.next()).await;
    // Let a burst of changes settle into one rebuild.
    tokio::time::sleep(Duration::from_millis(10)).await;
}

async fn list_crds(store: &dyn Store) -> Result<(Vec<KeyValue>, Revision), StorageError> {
    let page = store
        .list(ListRequest {
            prefix: CRD_PREFIX.to_owned(),
            ..ListRequest::default()
        })
        .await?;
    Ok((page.items, page.revision))
}

/// One pass: registry, statuses, deletions. Returns the revision it read at.
async fn reconcile(
    context: &ApiContext,
    served: &mut Vec<(ResourceInfo, Arc<CustomVersion>)>,
) -> Result<Revision, StorageError> {
    let (items, revision) = list_crds(context.store.as_ref()).await?;
    let crds: Vec<(KeyValue, Value)> = items
        .into_iter()
        .filter_map(|kv| {
            let value = serde_json::from_slice(&kv.value).ok()?;
            Some((kv, value))
        })
        .collect();
    let rows: Vec<(ResourceInfo, Arc<CustomVersion>)> =
        crds.iter().flat_map(|(_, crd)| resources_of(crd)).collect();
    if rows != *served {
        let prefixes: Vec<String> = rows.iter().map(|(info, _)| storage_prefix(info)).collect();
        context
            .registry
            .replace(Registry::with_custom(rows.iter().cloned()));
        context
            .watch_caches
            .start_all(prefixes.iter().map(String::as_str));
        tracing::info!(resources = rows.len(), "custom resources served");
        *served = rows;
    }
    for (kv, crd) in crds {
        if crd.pointer("/metadata/deletionTimestamp").is_some() {
            finish_deletion(context.store.as_ref(), &kv, crd).await?;
        } else {
            mark_established(context.store.as_ref(), &kv, crd).await?;
        }
    }
    Ok(revision)
}

fn condition(kind: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": kind, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message})
}

/// Sets the accepted names, stored versions and the `NamesAccepted`/`Established`
/// conditions, once (and again when the names change).
async fn mark_established(
    store: &dyn Store,
    kv: &KeyValue,
    mut crd: Value,
) -> Result<(), StorageError> {
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let mut accepted = names.clone();
    if let Some(accepted) = accepted.as_object_mut() {
        let kind = accepted
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        accepted
            .entry("singular")
            .or_insert_with(|| json!(kind.to_ascii_lowercase()));
        accepted
            .entry("listKind")
            .or_insert_with(|| json!(format!("{kind}List")));
    }
    let established = crd
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        });
    let storage: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|versions| {
            versions
                .iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let mut stored: Vec<Value> = crd
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for version in storage {
        if !stored.contains(&version) {
            stored.push(version);
        }
    }
    if established
        && crd.pointer("/status/acceptedNames") == Some(&accepted)
        && crd.pointer("/status/storedVersions") == Some(&Value::Array(stored.clone()))
    {
        return Ok(());
    }
    let now = now_rfc3339();
    let conditions = if established {
        crd.pointer("/status/conditions")
            .cloned()
            .unwrap_or(json!([]))
    } else {
        json!([
            condition("NamesAccepted", "NoConflicts", "no conflicts found", &now),
            condition(
                "Established",
                "InitialNamesAccepted",
                "the initial names have been accepted",
                &now
            ),
        ])
    };
    crd["status"] =
        json!({"acceptedNames": accepted, "conditions": conditions, "storedVersions": stored});
    if let Some(meta) = crd.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("resourceVersion");
    }
    match store
        .update(
            &kv.key,
            Bytes::from(serde_json::to_vec(&crd).unwrap_or_default()),
            kv.mod_revision,
        )
        .await
    {
        Ok(_) | Err(StorageError::Conflict { .. }) | Err(StorageError::NotFound { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Deletes every object of a deleted CRD, then lets the CRD go.
async fn finish_deletion(
    store: &dyn Store,
    kv: &KeyValue,
    mut crd: Value,
) -> Result<(), StorageError> {
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !group.is_empty() && !plural.is_empty() {
        let prefix = format!("/registry/{group}/{plural}/");
        loop {
            let page = store
                .list(ListRequest {
                    prefix: prefix.clone(),
                    limit: Some(500),
                    ..ListRequest::default()
                })
                .await?;
            if page.items.is_empty() {
                break;
            }
            for item in page.items {
                match store.delete(&item.key, None).await {
                    Ok(_) | Err(StorageError::NotFound { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
        }
    }
    let Some(meta) = crd.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let finalizers: Vec<Value> = meta
        .get("finalizers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter(|f| *f != CLEANUP_FINALIZER)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let result = if finalizers.is_empty() {
        store
            .delete(&kv.key, Some(kv.mod_revision))
            .await
            .map(|_| ())
    } else {
        meta.insert("finalizers".to_owned(), Value::Array(finalizers));
        meta.shift_remove("resourceVersion");
        store
            .update(
                &kv.key,
                Bytes::from(serde_json::to_vec(&crd).unwrap_or_default()),
                kv.mod_revision,
            )
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) | Err(StorageError::Conflict { .. }) | Err(StorageError::NotFound { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}
