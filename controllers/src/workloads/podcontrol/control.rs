//! Creating and deleting one pod for an owner, as upstream's `PodControl` does: the change
//! counted in the owner's expectations and a `SuccessfulCreate`/`SuccessfulDelete` event, or
//! a `FailedCreate`/`FailedDelete` warning (none in a terminating namespace, where every
//! create fails, nor for a pod already gone).

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use kube::ResourceExt;

use super::expectations::Expectations;
use crate::workloads::error::{api_message, is_namespace_terminating, is_not_found};
use crate::workloads::events::Events;

/// Who a pod is created for.
pub struct Owner<'a> {
    /// The owner's uid, the key of its expectations.
    pub uid: &'a str,
    /// The owner, as its events name it.
    pub reference: ObjectReference,
    /// Its expectations.
    pub expectations: &'a Expectations,
    /// Its event recorder.
    pub events: &'a Events,
}

/// Creates `pod` through `api` for `owner`.
pub async fn create_pod(api: &Api<Pod>, pod: &Pod, owner: Owner<'_>) -> Result<(), kube::Error> {
    match api.create(&PostParams::default(), pod).await {
        Ok(created) => {
            if let Some(uid) = created.metadata.uid.as_deref() {
                owner.expectations.created(owner.uid, uid);
            }
            owner.events.normal(
                owner.reference,
                "SuccessfulCreate",
                "Create",
                format!("Created pod: {}", created.name_any()),
            );
            Ok(())
        }
        Err(error) if is_namespace_terminating(&error) => Ok(()),
        Err(error) => {
            owner.events.warning(
                owner.reference,
                "FailedCreate",
                "Create",
                format!("Error creating: {}", api_message(&error)),
            );
            Err(error)
        }
    }
}

/// Deletes `pod` through `api` for `owner`, whose expectations already count the deletion:
/// a failed one will not be observed, so it is marked observed here.
pub async fn delete_pod(api: &Api<Pod>, pod: &Pod, owner: Owner<'_>) -> Result<(), kube::Error> {
    let name = pod.name_any();
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {
            owner.events.normal(
                owner.reference,
                "SuccessfulDelete",
                "Delete",
                format!("Deleted pod: {name}"),
            );
            Ok(())
        }
        Err(error) => {
            let uid = pod.metadata.uid.as_deref().unwrap_or_default();
            owner.expectations.deletion_observed(owner.uid, uid);
            if is_not_found(&error) {
                return Ok(());
            }
            owner.events.warning(
                owner.reference,
                "FailedDelete",
                "Delete",
                format!("Error deleting: {}", api_message(&error)),
            );
            Err(error)
        }
    }
}
