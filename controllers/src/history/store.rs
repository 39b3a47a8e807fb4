//! Writing revisions: creation with hash-collision probing (upstream's
//! `CreateControllerRevision`), renumbering, adoption and deletion.

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::{equal_data, NewRevision};

/// Why a revision could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// Every probed name was taken by a revision with other data.
    #[error("no free revision name for {0} after {1} collisions")]
    Collisions(String, i32),
}

/// The most names probed in one call before giving up (upstream loops without bound).
const MAX_PROBES: i32 = 16;

/// Creates the revision named after `hash_of(collision_count)` and labelled with it under
/// `hash_label`. A name taken by a revision with the same data is that revision; taken by
/// one with other data, `collision_count` grows and the next name is tried.
pub async fn create_revision(
    api: &Api<ControllerRevision>,
    new: &NewRevision<'_>,
    hash_label: &str,
    hash_of: impl Fn(i32) -> String,
    collision_count: &mut i32,
) -> Result<ControllerRevision, RevisionError> {
    for _ in 0..MAX_PROBES {
        let hash = hash_of(*collision_count);
        let mut revision = new.build(&hash);
        revision
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(hash_label.to_owned(), hash.clone());
        match api.create(&PostParams::default(), &revision).await {
            Ok(created) => return Ok(created),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let name = revision.metadata.name.clone().unwrap_or_default();
                let existing = api.get(&name).await?;
                if equal_data(&existing, &revision) {
                    return Ok(existing);
                }
                tracing::info!(name = %name, collisions = *collision_count, "revision name collision");
                *collision_count = collision_count.saturating_add(1);
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(RevisionError::Collisions(
        new.owner_name.to_owned(),
        *collision_count,
    ))
}

/// Gives `revision` a new number (upstream's `UpdateControllerRevision`).
pub async fn set_revision_number(
    api: &Api<ControllerRevision>,
    revision: &ControllerRevision,
    number: i64,
) -> Result<ControllerRevision, RevisionError> {
    let name = revision.metadata.name.clone().unwrap_or_default();
    let patch = json!({"revision": number});
    Ok(api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?)
}

/// Deletes a revision; one already gone is no error.
pub async fn delete_revision(
    api: &Api<ControllerRevision>,
    revision: &ControllerRevision,
) -> Result<(), RevisionError> {
    let name = revision.metadata.name.clone().unwrap_or_default();
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Makes `owner` the controller of an orphaned revision (upstream's
/// `AdoptControllerRevision`: a patch adding the reference, guarded by the revision's UID).
/// `Ok(None)` when the revision is gone.
pub async fn adopt_revision(
    api: &Api<ControllerRevision>,
    owner: &OwnerReference,
    revision: &ControllerRevision,
) -> Result<Option<ControllerRevision>, RevisionError> {
    let name = revision.metadata.name.clone().unwrap_or_default();
    let patch = json!({"metadata": {
        "ownerReferences": [owner],
        "uid": revision.metadata.uid,
    }});
    match api
        .patch(&name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
    {
        Ok(adopted) => Ok(Some(adopted)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(error) => Err(error.into()),
    }
}
