//! A stateful pod's PersistentVolumeClaims, as upstream's `StatefulPodControl`: created from
//! the claim templates before the pod, and their owner references kept to the retention
//! policy. Claims are read from the shared cache; a claim the cache has not seen yet is
//! picked up on a later sync, as upstream.

use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolumeClaim, Pod};
use kube::api::{Api, PostParams};
use kube::runtime::reflector::ObjectRef;

use super::error::SetError;
use super::identity::{claim_name, claims, ordinal};
use super::retention::{has_stale_ref, has_unexpected_controller, is_up_to_date, Owner};
use super::set::{Retention, SetView};
use super::Context;
use crate::workloads::error::{api_message, is_conflict};

fn cached(
    ctx: &Context,
    set: &SetView,
    name: &str,
) -> Option<std::sync::Arc<PersistentVolumeClaim>> {
    ctx.claims.get(&ObjectRef::new(name).within(&set.namespace))
}

fn pod_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

/// Upstream's `createPersistentVolumeClaims`: creates the pod's missing claims (one taken
/// meanwhile counts as present) and fails for a claim being deleted.
pub async fn create_missing(
    ctx: &Context,
    set: &SetView,
    regarding: &ObjectReference,
    pod: &Pod,
) -> Result<(), SetError> {
    let Some(ordinal) = ordinal(pod) else {
        return Ok(());
    };
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let mut failure = None;
    for (_, claim) in claims(set, ordinal) {
        let name = claim.metadata.name.clone().unwrap_or_default();
        if let Some(existing) = cached(ctx, set, &name) {
            if existing.metadata.deletion_timestamp.is_some() {
                failure.get_or_insert(SetError::Refused(format!("pvc {name} is being deleted")));
            }
            continue;
        }
        match api.create(&PostParams::default(), &claim).await {
            Ok(_) => ctx.events.normal(
                regarding.clone(),
                "SuccessfulCreate",
                "Create",
                format!(
                    "create Claim {name} Pod {} in StatefulSet {} success",
                    pod_name(pod),
                    set.name
                ),
            ),
            // The cache lags the API: the claim exists.
            Err(error) if is_conflict(&error) => {}
            Err(error) => {
                ctx.events.warning(
                    regarding.clone(),
                    "FailedCreate",
                    "Create",
                    format!(
                        "create Claim {name} for Pod {} in StatefulSet {} failed error: {}",
                        pod_name(pod),
                        set.name,
                        api_message(&error)
                    ),
                );
                failure.get_or_insert(SetError::Refused(format!(
                    "failed to create PVC {name}: {}",
                    api_message(&error)
                )));
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

/// Upstream's `ClaimsMatchRetentionPolicy`: whether every cached claim of the pod has the
/// owner references the policy wants.
pub fn match_retention(set: &SetView, ctx: &Context, pod: &Pod) -> bool {
    let Some(ordinal) = ordinal(pod) else {
        return true;
    };
    set.claim_templates.iter().all(|template| {
        cached(ctx, set, &claim_name(set, template, ordinal))
            .is_none_or(|claim| is_up_to_date(&claim, set, pod))
    })
}

/// Upstream's `UpdatePodClaimForRetentionPolicy`: rewrites the owner references of the
/// pod's cached claims that do not match the policy.
pub async fn update_for_retention(
    ctx: &Context,
    set: &SetView,
    regarding: &ObjectReference,
    pod: &Pod,
) -> Result<(), SetError> {
    let Some(ordinal) = ordinal(pod) else {
        return Ok(());
    };
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &set.namespace);
    for template in &set.claim_templates {
        let name = claim_name(set, template, ordinal);
        let Some(claim) = cached(ctx, set, &name) else {
            tracing::debug!(claim = %name, "expected claim missing; picked up on a later sync");
            continue;
        };
        if has_unexpected_controller(&claim, set, pod) {
            ctx.events.warning(
                regarding.clone(),
                "ConflictingController",
                "Update",
                format!("PersistentVolumeClaim {name} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim"),
            );
        }
        if is_up_to_date(&claim, set, pod) {
            continue;
        }
        let mut updated = (*claim).clone();
        super::retention::update_owner_refs(&mut updated, set, pod);
        tracing::debug!(claim = %name, pod = %pod_name(pod), "updating claim owner references for the retention policy");
        api.replace(&name, &PostParams::default(), &updated)
            .await
            .map_err(|error| {
                SetError::Refused(format!(
                    "could not update claim {name} for delete policy ownerRefs: {}",
                    api_message(&error)
                ))
            })?;
    }
    Ok(())
}

/// Upstream's `PodClaimIsStale`: with `whenScaled: Delete`, a claim still owned by an
/// earlier pod of the same name blocks creating the pod until it is collected.
pub fn claim_is_stale(ctx: &Context, set: &SetView, pod: &Pod) -> bool {
    if set.when_scaled == Retention::Retain {
        return false;
    }
    let Some(ordinal) = ordinal(pod) else {
        return false;
    };
    claims(set, ordinal).iter().any(|(_, claim)| {
        let name = claim.metadata.name.as_deref().unwrap_or("");
        cached(ctx, set, name).is_some_and(|existing| has_stale_ref(&existing, Owner::pod(pod)))
    })
}
