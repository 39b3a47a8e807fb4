//! A DaemonSet's ControllerRevisions (upstream's `constructHistory`, `snapshot`,
//! `dedupCurHistories` and `cleanupHistory`): one revision per template it has had, the
//! current one numbered highest and named after the template's hash, which new pods carry
//! in `controller-revision-hash`; `kubectl rollout history|undo` read and apply them.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::json;

use super::claim::claim;
use super::error::DaemonSetError;
use super::pods::revision_hash;
use super::view::View;
use super::{claim_pods, Context};
use crate::history::{
    data, delete_revision, hash_template, set_revision_number, template_patch, NewRevision,
    RevisionError, POD_REVISION_LABEL,
};
use crate::workloads::error::{is_conflict, SyncError};

/// The current revision and the older ones.
pub struct History {
    /// The revision of the current template.
    pub current: ControllerRevision,
    /// Every other revision the DaemonSet owns.
    pub old: Vec<ControllerRevision>,
}

impl History {
    /// The current revision's hash (what updated pods are labelled with).
    pub fn hash(&self) -> String {
        hash_label(&self.current).unwrap_or_default().to_owned()
    }
}

fn hash_label(revision: &ControllerRevision) -> Option<&str> {
    revision
        .metadata
        .labels
        .as_ref()?
        .get(POD_REVISION_LABEL)
        .map(String::as_str)
}

/// Upstream's `Match`: the revision restores the DaemonSet's current template.
fn matches(view: &View, revision: &ControllerRevision) -> bool {
    *data(revision) == template_patch(&view.template)
}

/// Upstream's `controlledHistories`: the revisions of the namespace the DaemonSet claims.
async fn controlled(
    context: &Context,
    view: &View,
) -> Result<Vec<Arc<ControllerRevision>>, SyncError> {
    let candidates = context
        .revisions
        .state()
        .into_iter()
        .filter(|revision| revision.metadata.namespace.as_deref() == Some(view.namespace.as_str()))
        .collect();
    claim(&context.client, view, candidates).await
}

/// Upstream's `constructHistory`.
pub async fn construct(context: &Context, view: &View) -> Result<History, DaemonSetError> {
    let api: Api<ControllerRevision> = Api::namespaced(context.client.clone(), &view.namespace);
    let mut current = Vec::new();
    let mut old = Vec::new();
    for revision in controlled(context, view).await? {
        let mut revision = (*revision).clone();
        // Older revisions may lack the hash label; their name serves instead.
        if hash_label(&revision).is_none() {
            let name = revision.name_any();
            let patch = json!({"metadata": {"labels": {POD_REVISION_LABEL: name}}});
            revision = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        if matches(view, &revision) {
            current.push(revision);
        } else {
            old.push(revision);
        }
    }
    let next = old.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let current = if current.is_empty() {
        snapshot(context, view, next).await?
    } else {
        let keep = dedup(context, view, current).await?;
        if keep.revision < next {
            set_revision_number(&api, &keep, next).await?;
        }
        keep
    };
    Ok(History { current, old })
}

/// Upstream's `dedupCurHistories`: of several revisions of the current template, keeps the
/// highest numbered, relabels pods of the others to it and deletes the others.
async fn dedup(
    context: &Context,
    view: &View,
    mut current: Vec<ControllerRevision>,
) -> Result<ControllerRevision, DaemonSetError> {
    let mut keep_index = 0;
    for (index, revision) in current.iter().enumerate() {
        if revision.revision >= current[keep_index].revision {
            keep_index = index;
        }
    }
    let keep = current.swap_remove(keep_index);
    if current.is_empty() {
        return Ok(keep);
    }
    let keep_hash = hash_label(&keep).unwrap_or_default().to_owned();
    let pods: Api<Pod> = Api::namespaced(context.client.clone(), &view.namespace);
    for pod in claim_pods(context, view).await? {
        if revision_hash(&pod) != Some(keep_hash.as_str()) {
            let patch = json!({"metadata": {"labels": {POD_REVISION_LABEL: keep_hash}}});
            pods.patch(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        }
    }
    let api: Api<ControllerRevision> = Api::namespaced(context.client.clone(), &view.namespace);
    for duplicate in &current {
        delete_revision(&api, duplicate).await?;
    }
    Ok(keep)
}

/// Upstream's `snapshot`: creates the revision of the current template. A name taken by
/// another template is a hash collision: `status.collisionCount` is bumped and the sync
/// retried with the next hash.
async fn snapshot(
    context: &Context,
    view: &View,
    number: i64,
) -> Result<ControllerRevision, DaemonSetError> {
    let collision_count = view.status.collision_count;
    let hash = hash_template(&view.template, collision_count);
    let mut labels = view
        .template
        .metadata
        .as_ref()
        .and_then(|meta| meta.labels.clone())
        .unwrap_or_default();
    labels.insert(POD_REVISION_LABEL.to_owned(), hash.clone());
    let revision = NewRevision {
        owner_name: &view.name,
        namespace: &view.namespace,
        owner: &view.controller_ref,
        labels,
        annotations: view.annotations.clone(),
        data: template_patch(&view.template),
        revision: number,
    }
    .build(&hash);
    let api: Api<ControllerRevision> = Api::namespaced(context.client.clone(), &view.namespace);
    let taken = match api.create(&PostParams::default(), &revision).await {
        Ok(created) => return Ok(created),
        Err(error) if is_conflict(&error) => error,
        Err(error) => return Err(error.into()),
    };
    let name = revision.name_any();
    let existing = api.get(&name).await?;
    if matches(view, &existing) {
        return Ok(existing);
    }
    let daemon_sets: Api<DaemonSet> = Api::namespaced(context.client.clone(), &view.namespace);
    let mut fresh = daemon_sets.get(&view.name).await?;
    let status = fresh.status.get_or_insert_with(Default::default);
    if status.collision_count != collision_count {
        return Err(SyncError::Refused(format!(
            "found a stale collision count ({collision_count:?}, expected {:?}) of DaemonSet {:?} while processing; will retry until it is updated",
            status.collision_count, view.name
        ))
        .into());
    }
    let bumped = collision_count.unwrap_or(0).saturating_add(1);
    status.collision_count = Some(bumped);
    daemon_sets
        .replace_status(&view.name, &PostParams::default(), &fresh)
        .await?;
    tracing::info!(daemonset = %view.name, collision_count = bumped, "hash collision; bumped collisionCount");
    Err(RevisionError::Api(taken).into())
}

/// Upstream's `cleanupHistory`: deletes the oldest revisions beyond
/// `revisionHistoryLimit`, except those some pod (even a finished one) still carries.
pub async fn cleanup(
    context: &Context,
    view: &View,
    mut old: Vec<ControllerRevision>,
) -> Result<(), DaemonSetError> {
    let limit = usize::try_from(view.revision_history_limit).unwrap_or(0);
    let mut excess = old.len().saturating_sub(limit);
    if excess == 0 {
        return Ok(());
    }
    let pods = claim_pods(context, view).await?;
    let live: std::collections::HashSet<&str> =
        pods.iter().filter_map(|pod| revision_hash(pod)).collect();
    old.sort_by_key(|revision| revision.revision);
    let api: Api<ControllerRevision> = Api::namespaced(context.client.clone(), &view.namespace);
    for revision in &old {
        if excess == 0 {
            break;
        }
        if hash_label(revision).is_some_and(|hash| live.contains(hash)) {
            continue;
        }
        delete_revision(&api, revision).await?;
        excess -= 1;
    }
    Ok(())
}
