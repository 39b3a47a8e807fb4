//! Claiming the pods and revisions a DaemonSet owns (upstream's `ClaimPods` and
//! `ClaimControllerRevisions`): keep what it controls and still selects, adopt selected
//! orphans after an uncached check that it still exists, release what it no longer selects.

use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::NamespaceResourceScope;
use kube::api::Api;
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::view::View;
use crate::workloads::error::SyncError;
use crate::workloads::podcontrol::claim::{adopt, release, Claimer, Decision};

/// Upstream's `RecheckDeletionTimestamp` for a DaemonSet: a fresh read must show the same
/// UID and no deletion timestamp before anything is adopted.
async fn can_adopt(client: &Client, view: &View) -> Result<(), SyncError> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &view.namespace);
    let fresh = api.get(&view.name).await?;
    let uid = fresh.uid().unwrap_or_default();
    if uid != view.uid {
        return Err(SyncError::Refused(format!(
            "original DaemonSet {}/{} is gone: got uid {uid}, wanted {}",
            view.namespace, view.name, view.uid
        )));
    }
    if let Some(deleted) = fresh.metadata.deletion_timestamp.as_ref() {
        return Err(SyncError::Refused(format!(
            "{}/{} has just been deleted at {}",
            view.namespace, view.name, deleted.0
        )));
    }
    Ok(())
}

/// The objects of `candidates` (all of the namespace) the DaemonSet owns after adopting
/// and releasing; the first failure is returned after trying every object.
pub async fn claim<K>(
    client: &Client,
    view: &View,
    candidates: Vec<Arc<K>>,
) -> Result<Vec<Arc<K>>, SyncError>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let claimer = Claimer {
        owner: &view.controller_ref,
        namespace: &view.namespace,
        deleting: view.deleting,
        selector: &view.selector,
    };
    let api: Api<K> = Api::namespaced(client.clone(), &view.namespace);
    let mut claimed = Vec::with_capacity(candidates.len());
    let mut failure = None;
    let mut adoption_allowed: Option<bool> = None;
    for object in candidates {
        match claimer.decide(object.meta()) {
            Decision::Keep => claimed.push(object),
            Decision::Ignore => {}
            Decision::Adopt => {
                if adoption_allowed.is_none() {
                    let check = can_adopt(client, view).await;
                    adoption_allowed = Some(check.is_ok());
                    if let Err(error) = check {
                        failure.get_or_insert(error);
                    }
                }
                if adoption_allowed != Some(true) {
                    continue;
                }
                match adopt(&api, &view.controller_ref, object.meta()).await {
                    Ok(true) => {
                        tracing::info!(kind = %K::kind(&()), daemonset = %view.name, object = %object.name_any(), "adopted");
                        claimed.push(object);
                    }
                    Ok(false) => {}
                    Err(error) => {
                        failure.get_or_insert(error);
                    }
                }
            }
            Decision::Release => {
                tracing::info!(kind = %K::kind(&()), daemonset = %view.name, object = %object.name_any(), "releasing");
                if let Err(error) = release(&api, &view.uid, object.meta()).await {
                    failure.get_or_insert(error);
                }
            }
        }
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(claimed),
    }
}
