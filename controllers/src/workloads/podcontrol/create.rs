//! Creating one pod for an owner, as upstream's `PodControl.CreatePods` does: the creation
//! counted in the owner's expectations, a `SuccessfulCreate` event, or a `FailedCreate`
//! warning (none in a terminating namespace, where every create fails).

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::api::{Api, PostParams};
use kube::ResourceExt;

use super::expectations::Expectations;
use crate::workloads::error::{api_message, is_namespace_terminating};
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
