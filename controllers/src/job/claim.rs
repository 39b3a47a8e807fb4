//! Which pods a Job manages (upstream's `ClaimPods`): those it controls and still selects;
//! orphans it selects are adopted (owner reference and tracking finalizer added), pods it
//! controls but no longer selects are released.

use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;

use super::api::is_not_found;
use super::pods::{has_tracking_finalizer, TRACKING_FINALIZER};
use super::template::controller_ref;
use super::{Context, JobError};
use crate::workloads::podcontrol::selector::selects as matches;

/// The pod's controlling owner, if any.
pub fn controller_of(pod: &Pod) -> Option<&OwnerReference> {
    pod.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|owner| owner.controller == Some(true))
}

/// The pods `job` manages among its namespace's `pods`, adopting and releasing as needed.
pub async fn pods_for_job(
    context: &Context,
    job: &Job,
    pods: &[Arc<Pod>],
) -> Result<Vec<Arc<Pod>>, JobError> {
    let uid = job.metadata.uid.as_deref().unwrap_or("");
    let selector = job.spec.as_ref().and_then(|spec| spec.selector.as_ref());
    let deleting = job.metadata.deletion_timestamp.is_some();
    let mut claimed = Vec::new();
    let mut adoption_checked = false;
    let mut first_error: Option<JobError> = None;
    for pod in pods {
        let selected = matches(selector, pod.metadata.labels.as_ref());
        match controller_of(pod) {
            Some(owner) if owner.uid == uid => {
                if selected {
                    claimed.push(Arc::clone(pod));
                } else if !deleting {
                    if let Err(error) = release(context, job, pod).await {
                        first_error.get_or_insert(error);
                    }
                }
            }
            Some(_) => {}
            None => {
                if deleting || !selected || pod.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                if !adoption_checked {
                    if let Err(error) = recheck(context, job).await {
                        first_error.get_or_insert(error);
                        break;
                    }
                    adoption_checked = true;
                }
                match adopt(context, job, pod).await {
                    Ok(Some(adopted)) => claimed.push(Arc::new(adopted)),
                    Ok(None) => {}
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(claimed),
    }
}

/// Adoption only happens for a Job that still exists, is the same one and is not being
/// deleted (a fresh read, as the cache may be behind).
async fn recheck(context: &Context, job: &Job) -> Result<(), JobError> {
    let namespace = job.namespace().unwrap_or_default();
    let name = job.name_any();
    let api: Api<Job> = Api::namespaced(context.client.clone(), &namespace);
    let fresh = api.get(&name).await?;
    if fresh.metadata.uid != job.metadata.uid {
        return Err(JobError::Gone(format!(
            "original Job {namespace}/{name} is gone: got uid {}, wanted {}",
            fresh.metadata.uid.unwrap_or_default(),
            job.metadata.uid.clone().unwrap_or_default()
        )));
    }
    if fresh.metadata.deletion_timestamp.is_some() {
        return Err(JobError::Gone(format!(
            "{namespace}/{name} has just been deleted"
        )));
    }
    Ok(())
}

async fn adopt(context: &Context, job: &Job, pod: &Pod) -> Result<Option<Pod>, JobError> {
    let api: Api<Pod> =
        Api::namespaced(context.client.clone(), &pod.namespace().unwrap_or_default());
    let patch = json!({"metadata": {
        "ownerReferences": [controller_ref(job)],
        "uid": pod.metadata.uid,
        "finalizers": [TRACKING_FINALIZER],
    }});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(mut adopted) => {
            if !has_tracking_finalizer(&adopted) {
                adopted
                    .metadata
                    .finalizers
                    .get_or_insert_with(Vec::new)
                    .push(TRACKING_FINALIZER.to_owned());
            }
            Ok(Some(adopted))
        }
        Err(error) if is_not_found(&error) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

async fn release(context: &Context, job: &Job, pod: &Pod) -> Result<(), JobError> {
    let api: Api<Pod> =
        Api::namespaced(context.client.clone(), &pod.namespace().unwrap_or_default());
    let patch = json!({"metadata": {
        "ownerReferences": [{"$patch": "delete", "uid": job.metadata.uid}],
        "uid": pod.metadata.uid,
        "$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER],
    }});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Gone, or changed so that it is no longer ours to release.
        Err(error) if is_not_found(&error) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 422 => Ok(()),
        Err(error) => Err(error.into()),
    }
}
