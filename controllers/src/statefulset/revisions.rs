//! A StatefulSet's ControllerRevisions, as upstream's `getStatefulSetRevisions`,
//! `adoptOrphanRevisions` and `truncateHistory`: the update revision is the set's template
//! (reusing, and renumbering, an equal earlier revision: a rollback), the current one is
//! named in the status, and old revisions no pod uses are pruned to the history limit.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::ResourceExt;

use super::error::SetError;
use super::identity::revision;
use super::set::SetView;
use super::Context;
use crate::history::{self, NewRevision, HASH_LABEL};

/// The set's revisions from the cache (its own and orphans its selector matches), sorted.
pub fn list(ctx: &Context, set: &SetView) -> Vec<ControllerRevision> {
    let mut revisions: Vec<ControllerRevision> = ctx
        .revisions
        .state()
        .iter()
        .filter(|r| r.metadata.namespace.as_deref() == Some(set.namespace.as_str()))
        .filter(|r| set.selector.matches_opt(r.metadata.labels.as_ref()))
        .filter(|r| history::owned_or_orphan(r, &set.uid))
        .map(|r| (**r).clone())
        .collect();
    history::sort(&mut revisions);
    revisions
}

/// Upstream's `adoptOrphanRevisions`, after the same uncached check as for pods.
pub async fn adopt_orphans(
    ctx: &Context,
    set: &SetView,
    revisions: &mut Vec<ControllerRevision>,
) -> Result<(), SetError> {
    if !revisions
        .iter()
        .any(|r| history::controller_of(r).is_none())
    {
        return Ok(());
    }
    super::adopt::can_adopt(ctx, set)
        .await
        .map_err(|error| SetError::Refused(format!("can't adopt ControllerRevisions: {error}")))?;
    let api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let mut adopted = Vec::with_capacity(revisions.len());
    for revision in revisions.drain(..) {
        if history::controller_of(&revision).is_some() {
            adopted.push(revision);
            continue;
        }
        tracing::info!(set = %set.name, revision = %revision.name_any(), "adopting revision");
        if let Some(revision) =
            history::adopt_revision(&api, &set.controller_ref, &revision).await?
        {
            adopted.push(revision);
        }
    }
    *revisions = adopted;
    Ok(())
}

/// Upstream's `newRevision`: the template as a replacing patch, labelled with the
/// template's labels and annotated with the set's annotations.
fn new_revision<'a>(set: &'a SetView, number: i64) -> NewRevision<'a> {
    NewRevision {
        owner_name: &set.name,
        namespace: &set.namespace,
        owner: &set.controller_ref,
        labels: set
            .template
            .metadata
            .as_ref()
            .and_then(|meta| meta.labels.clone())
            .unwrap_or_default(),
        annotations: Some(set.annotations.clone()),
        data: history::template_patch(&set.template),
        revision: number,
    }
}

/// The current and update revisions and the collision count.
pub struct Revisions {
    /// The revision the pods below the partition keep.
    pub current: ControllerRevision,
    /// The revision of the set's template.
    pub update: ControllerRevision,
    /// `status.collisionCount` after any name collisions.
    pub collision_count: i32,
}

/// Upstream's `getStatefulSetRevisions`; `revisions` must be sorted.
pub async fn current_and_update(
    ctx: &Context,
    set: &SetView,
    revisions: &[ControllerRevision],
) -> Result<Revisions, SetError> {
    let mut collision_count = set.status.collision_count.unwrap_or(0);
    let new = new_revision(set, history::next_number(revisions));
    let hash = history::fnv_hash(&new.data, Some(collision_count));
    let candidate = new.build(&hash);
    let equal = history::find_equal(revisions, &candidate);
    let api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let update = match (equal.last(), revisions.last()) {
        (Some(found), Some(last)) if history::equal_data(found, last) => last.clone(),
        (Some(found), _) => {
            tracing::info!(set = %set.name, revision = %found.name_any(), number = new.revision, "rolling back to an earlier revision");
            history::set_revision_number(&api, found, new.revision).await?
        }
        (None, _) => {
            let data = new.data.clone();
            history::create_revision(
                &api,
                &new,
                HASH_LABEL,
                |count| history::fnv_hash(&data, Some(count)),
                &mut collision_count,
            )
            .await?
        }
    };
    let current_name = set.status.current_revision.as_deref().unwrap_or("");
    let current = revisions
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(current_name))
        .cloned()
        .unwrap_or_else(|| update.clone());
    Ok(Revisions {
        current,
        update,
        collision_count,
    })
}

/// Upstream's `ApplyRevision`: the set with the revision's pod template.
pub fn apply(set: &SetView, revision: &ControllerRevision) -> Result<SetView, SetError> {
    let template = history::template_of(revision).ok_or_else(|| {
        SetError::Refused(format!(
            "revision {} holds no pod template",
            revision.name_any()
        ))
    })?;
    Ok(set.with_template(template))
}

/// Upstream's `truncateHistory`: deletes the oldest revisions that neither the status nor a
/// pod uses, beyond `revisionHistoryLimit`.
pub async fn truncate(
    ctx: &Context,
    set: &SetView,
    pods: &[Arc<Pod>],
    revisions: &[ControllerRevision],
    live: &[&ControllerRevision],
) -> Result<(), SetError> {
    let mut keep: HashSet<&str> = live
        .iter()
        .filter_map(|r| r.metadata.name.as_deref())
        .collect();
    keep.extend(pods.iter().map(|pod| revision(pod)));
    let old: Vec<&ControllerRevision> = revisions
        .iter()
        .filter(|r| !keep.contains(r.metadata.name.as_deref().unwrap_or("")))
        .collect();
    let limit = usize::try_from(set.history_limit).unwrap_or(usize::MAX);
    if set.history_limit < 0 || old.len() <= limit {
        return Ok(());
    }
    let api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &set.namespace);
    for revision in &old[..old.len() - limit] {
        tracing::debug!(set = %set.name, revision = %revision.name_any(), "pruning revision");
        history::delete_revision(&api, revision).await?;
    }
    Ok(())
}
