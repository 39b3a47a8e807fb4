//! Creating, fixing and deleting stateful pods, as upstream's `StatefulPodControl`, with its
//! events: `SuccessfulCreate` "create Pod web-0 in StatefulSet web successful", and
//! `Failed<Verb>` warnings carrying the error.

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::api::{Api, DeleteParams, PostParams};

use super::claims::{create_missing, match_retention, update_for_retention};
use super::error::SetError;
use super::identity::{identity_matches, storage_matches, update_identity, update_storage};
use super::set::SetView;
use super::Context;
use crate::workloads::error::{is_conflict, is_not_found};

/// How many times an update is retried on conflicts (client-go's `DefaultBackoff` steps).
const UPDATE_ATTEMPTS: usize = 4;

fn title(verb: &str) -> String {
    let mut chars = verb.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Upstream's `recordPodEvent`.
fn record(
    ctx: &Context,
    regarding: &ObjectReference,
    verb: &str,
    set: &SetView,
    pod: &Pod,
    error: Option<&SetError>,
) {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    match error {
        None => ctx.events.normal(
            regarding.clone(),
            &format!("Successful{}", title(verb)),
            &title(verb),
            format!("{verb} Pod {name} in StatefulSet {} successful", set.name),
        ),
        Some(error) => ctx.events.warning(
            regarding.clone(),
            &format!("Failed{}", title(verb)),
            &title(verb),
            format!(
                "{verb} Pod {name} in StatefulSet {} failed error: {}",
                set.name,
                error.message()
            ),
        ),
    }
}

/// Upstream's `CreateStatefulPod`: the claims first, then the pod, then the claims' owner
/// references for the retention policy. A pod that already exists (the cache lags) is an
/// error without an event, as upstream.
pub async fn create(
    ctx: &Context,
    set: &SetView,
    regarding: &ObjectReference,
    pod: &Pod,
) -> Result<(), SetError> {
    if let Err(error) = create_missing(ctx, set, regarding, pod).await {
        record(ctx, regarding, "create", set, pod, Some(&error));
        return Err(error);
    }
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let created = match api.create(&PostParams::default(), pod).await {
        Ok(created) => created,
        Err(error) if is_conflict(&error) => return Err(error.into()),
        Err(error) => {
            let error = SetError::from(error);
            record(ctx, regarding, "create", set, pod, Some(&error));
            return Err(error);
        }
    };
    tracing::info!(namespace = %set.namespace, set = %set.name, pod = ?created.metadata.name, "created stateful pod");
    if let Err(error) = update_for_retention(ctx, set, regarding, &created).await {
        record(ctx, regarding, "update", set, pod, Some(&error));
        return Err(error);
    }
    record(ctx, regarding, "create", set, pod, None);
    Ok(())
}

/// Upstream's `createMissingPersistentVolumeClaims`: for a pending pod, the claims it still
/// lacks, then their owner references for the retention policy.
pub async fn create_missing_claims(
    ctx: &Context,
    set: &SetView,
    regarding: &ObjectReference,
    pod: &Pod,
) -> Result<(), SetError> {
    create_missing(ctx, set, regarding, pod).await?;
    if let Err(error) = update_for_retention(ctx, set, regarding, pod).await {
        record(ctx, regarding, "update", set, pod, Some(&error));
        return Err(error);
    }
    Ok(())
}

/// Upstream's `UpdateStatefulPod`: restores the pod's identity and storage (creating missing
/// claims) and its claims' retention references, retrying on conflicts against a fresh read.
pub async fn update(
    ctx: &Context,
    set: &SetView,
    regarding: &ObjectReference,
    mut pod: Pod,
) -> Result<(), SetError> {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut attempted = false;
    let mut outcome = Ok(());
    for _ in 0..UPDATE_ATTEMPTS {
        let mut consistent = true;
        if !identity_matches(set, &pod) {
            update_identity(set, &mut pod);
            consistent = false;
        }
        if !storage_matches(set, &pod) {
            update_storage(set, &mut pod);
            consistent = false;
            if let Err(error) = create_missing(ctx, set, regarding, &pod).await {
                record(ctx, regarding, "update", set, &pod, Some(&error));
                return Err(error);
            }
        }
        if !match_retention(set, ctx, &pod) {
            if let Err(error) = update_for_retention(ctx, set, regarding, &pod).await {
                record(ctx, regarding, "update", set, &pod, Some(&error));
                return Err(error);
            }
            consistent = false;
        }
        if consistent {
            outcome = Ok(());
            break;
        }
        attempted = true;
        match api.replace(&name, &PostParams::default(), &pod).await {
            Ok(_) => {
                outcome = Ok(());
                break;
            }
            Err(error) if is_conflict(&error) => {
                outcome = Err(SetError::from(error));
                match api.get(&name).await {
                    Ok(fresh) => pod = fresh,
                    Err(error) => {
                        tracing::warn!(pod = %name, %error, "re-reading a pod after a conflict");
                    }
                }
            }
            Err(error) => {
                outcome = Err(error.into());
                break;
            }
        }
    }
    if attempted {
        record(ctx, regarding, "update", set, &pod, outcome.as_ref().err());
    }
    outcome
}

/// Upstream's `DeleteStatefulPod`. A pod already gone (the cache lags) is neither an error
/// nor an event.
pub async fn delete(
    ctx: &Context,
    set: &SetView,
    regarding: &ObjectReference,
    pod: &Pod,
) -> Result<(), SetError> {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let name = pod.metadata.name.clone().unwrap_or_default();
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {
            tracing::info!(namespace = %set.namespace, set = %set.name, pod = %name, "deleted stateful pod");
            record(ctx, regarding, "delete", set, pod, None);
            Ok(())
        }
        Err(error) if is_not_found(&error) => Ok(()),
        Err(error) => {
            let error = SetError::from(error);
            record(ctx, regarding, "delete", set, pod, Some(&error));
            Err(error)
        }
    }
}
