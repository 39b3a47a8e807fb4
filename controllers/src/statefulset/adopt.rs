//! Which pods a StatefulSet owns, as upstream's `getPodsForStatefulSet`: pods it controls
//! or orphans, claimed when both its selector and its name (`<set>-<ordinal>`) match,
//! released when they no longer do.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::ResourceExt;

use super::error::SetError;
use super::identity::is_member;
use super::set::SetView;
use super::Context;
use crate::workloads::podcontrol::claim::{adopt, release};
use crate::workloads::podcontrol::pods::controller_of;

/// Upstream's `RecheckDeletionTimestamp`: an uncached read confirms the set still exists
/// (same UID) and is not being deleted before anything is adopted.
pub async fn can_adopt(ctx: &Context, set: &SetView) -> Result<(), SetError> {
    let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let fresh = api.get(&set.name).await?;
    let uid = fresh.uid().unwrap_or_default();
    if uid != set.uid {
        return Err(SetError::Refused(format!(
            "original StatefulSet {}/{} is gone: got uid {uid}, wanted {}",
            set.namespace, set.name, set.uid
        )));
    }
    if let Some(deleted) = fresh.metadata.deletion_timestamp.as_ref() {
        return Err(SetError::Refused(format!(
            "{}/{} has just been deleted at {}",
            set.namespace, set.name, deleted.0
        )));
    }
    Ok(())
}

/// The pods the set owns after adopting and releasing; the first failure is returned after
/// trying every pod.
pub async fn claim_pods(ctx: &Context, set: &SetView) -> Result<Vec<Arc<Pod>>, SetError> {
    let candidates: Vec<Arc<Pod>> = ctx
        .pods
        .state()
        .into_iter()
        .filter(|pod| pod.metadata.namespace.as_deref() == Some(set.namespace.as_str()))
        .filter(|pod| controller_of(&pod.metadata).is_none_or(|owner| owner.uid == set.uid))
        .collect();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &set.namespace);
    let mut claimed = Vec::with_capacity(candidates.len());
    let mut failure = None;
    let mut adoption_checked: Option<bool> = None;
    for pod in candidates {
        // An empty selector would claim every pod; validation forbids it.
        let matches = !set.selector.is_everything()
            && set.selector.matches_opt(pod.metadata.labels.as_ref())
            && is_member(set, &pod);
        let ours = controller_of(&pod.metadata).is_some();
        match (ours, matches) {
            (true, true) => claimed.push(pod),
            (true, false) if !set.deleting => {
                tracing::info!(set = %set.name, pod = %pod.name_any(), "releasing pod");
                if let Err(error) = release(&api, &set.uid, &pod.metadata).await {
                    failure.get_or_insert(error.into());
                }
            }
            (false, true) if !set.deleting && pod.metadata.deletion_timestamp.is_none() => {
                if adoption_checked.is_none() {
                    let check = can_adopt(ctx, set).await;
                    adoption_checked = Some(check.is_ok());
                    if let Err(error) = check {
                        failure.get_or_insert(error);
                    }
                }
                if adoption_checked != Some(true) {
                    continue;
                }
                match adopt(&api, &set.controller_ref, &pod.metadata).await {
                    Ok(true) => {
                        tracing::info!(set = %set.name, pod = %pod.name_any(), "adopted pod");
                        claimed.push(pod);
                    }
                    Ok(false) => {}
                    Err(error) => {
                        failure.get_or_insert(error.into());
                    }
                }
            }
            _ => {}
        }
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(claimed),
    }
}
