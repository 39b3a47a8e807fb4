//! The Job controller's writes: pod creation and deletion with upstream's events
//! (`SuccessfulCreate`, `FailedCreate`, `SuccessfulDelete`, `FailedDelete`), tracking
//! finalizer removal, status updates, and the error classes the loops distinguish.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::events::EventType;

pub use crate::events::Events;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::pods::TRACKING_FINALIZER;

/// A 404.
pub fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

/// A 409 AlreadyExists.
pub fn is_already_exists(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409 && status.reason == "AlreadyExists")
}

/// A refusal because the namespace is being deleted.
pub fn is_namespace_terminating(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status
        .details
        .as_ref()
        .is_some_and(|details| details.causes.iter().any(|cause| cause.reason == "NamespaceTerminating")))
}

/// The error as Go's `%v` of an API error prints it: the Status message.
pub fn message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// Records an event about `object`; a failure to record is only logged.
pub async fn event<K>(events: &Events, object: &K, warning: bool, reason: &str, note: String)
where
    K: Resource<DynamicType = ()>,
{
    let type_ = if warning {
        EventType::Warning
    } else {
        EventType::Normal
    };
    events
        .record(&object.object_ref(&()), type_, reason, reason, note)
        .await;
}

/// Creates `pod` for `job`; its name on success.
pub async fn create_pod(
    client: &kube::Client,
    recorder: &Events,
    job: &Job,
    pod: &Pod,
) -> Result<String, kube::Error> {
    let namespace = job.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    match api.create(&PostParams::default(), pod).await {
        Ok(created) => {
            let name = created.name_any();
            event(
                recorder,
                job,
                false,
                "SuccessfulCreate",
                format!("Created pod: {name}"),
            )
            .await;
            Ok(name)
        }
        Err(error) => {
            if !is_namespace_terminating(&error) {
                let note = format!("Error creating: {}", message(&error));
                event(recorder, job, true, "FailedCreate", note).await;
            }
            Err(error)
        }
    }
}

/// Deletes the pod `name` of `job`.
pub async fn delete_pod(
    client: &kube::Client,
    recorder: &Events,
    job: &Job,
    name: &str,
) -> Result<(), kube::Error> {
    let namespace = job.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => {
            event(
                recorder,
                job,
                false,
                "SuccessfulDelete",
                format!("Deleted pod: {name}"),
            )
            .await;
            Ok(())
        }
        Err(error) if is_not_found(&error) => Err(error),
        Err(error) => {
            let note = format!("Error deleting: {}", message(&error));
            event(recorder, job, true, "FailedDelete", note).await;
            Err(error)
        }
    }
}

/// Removes the tracking finalizer from `pod` (a strategic merge patch, as upstream).
pub async fn remove_tracking_finalizer(
    client: &kube::Client,
    pod: &Pod,
) -> Result<(), kube::Error> {
    let namespace = pod.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}});
    api.patch(
        &pod.name_any(),
        &PatchParams::default(),
        &Patch::Strategic(patch),
    )
    .await
    .map(|_| ())
}

/// Writes `job`'s status (optimistically, at its resourceVersion).
pub async fn update_status(client: &kube::Client, job: &Job) -> Result<Job, kube::Error> {
    let namespace = job.namespace().unwrap_or_default();
    let api: Api<Job> = Api::namespaced(client.clone(), &namespace);
    api.replace_status(&job.name_any(), &PostParams::default(), job)
        .await
}
