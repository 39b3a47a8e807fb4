//! Claiming pods and bringing their number to `spec.replicas`, as upstream's `claimPods` and
//! `manageReplicas`: at most 500 creations or deletions per sync (`burstReplicas`),
//! creations in slow-start batches, deletions of the pods ranked first.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::ResourceExt;

use super::kind::{ReplicaKind, View};
use super::Context;
use crate::workloads::error::SyncError;
use crate::workloads::podcontrol::claim::{adopt, release, Claimer, Decision};
use crate::workloads::podcontrol::control::{create_pod, delete_pod, Owner};
use crate::workloads::podcontrol::pods::{is_active, node_name};
use crate::workloads::podcontrol::ranking::{sort_for_deletion, Ranked};
use crate::workloads::podcontrol::{pod_from_template, slow_start, SLOW_START_INITIAL_BATCH};

/// Upstream's `BurstReplicas`: the most pods one sync creates or deletes.
pub const BURST_REPLICAS: usize = 500;

/// Upstream's `RecheckDeletionTimestamp`: before adopting, an uncached read confirms the
/// controller still exists (same UID) and is not being deleted.
async fn can_adopt<K: ReplicaKind>(context: &Context<K>, view: &View) -> Result<(), SyncError> {
    let api: Api<K> = Api::namespaced(context.client.clone(), &view.namespace);
    let fresh = api.get(&view.name).await?;
    let uid = fresh.uid().unwrap_or_default();
    if uid != view.uid {
        return Err(SyncError::Refused(format!(
            "original {} {}/{} is gone: got uid {}, wanted {}",
            K::KIND,
            view.namespace,
            view.name,
            uid,
            view.uid
        )));
    }
    if let Some(deleted) = fresh.meta().deletion_timestamp.as_ref() {
        return Err(SyncError::Refused(format!(
            "{}/{} has just been deleted at {}",
            view.namespace, view.name, deleted.0
        )));
    }
    Ok(())
}

/// The active pods the controller owns after adopting and releasing (upstream's
/// `ClaimPods`); the first failure is returned after trying every pod.
pub async fn claim_pods<K: ReplicaKind>(
    context: &Context<K>,
    view: &View,
    active: Vec<Arc<Pod>>,
) -> Result<Vec<Arc<Pod>>, SyncError> {
    let claimer = Claimer {
        owner: &view.controller_ref,
        namespace: &view.namespace,
        deleting: view.deleting,
        selector: &view.selector,
    };
    // An empty selector would claim every pod; validation forbids it, so never act on one.
    if view.selector.is_everything() {
        return Ok(active
            .into_iter()
            .filter(|pod| claimer.decide(&pod.metadata) == Decision::Keep)
            .collect());
    }
    let api: Api<Pod> = Api::namespaced(context.client.clone(), &view.namespace);
    let mut claimed = Vec::with_capacity(active.len());
    let mut failure = None;
    let mut adoption_checked: Option<bool> = None;
    for pod in active {
        match claimer.decide(&pod.metadata) {
            Decision::Keep => claimed.push(pod),
            Decision::Ignore => {}
            Decision::Adopt => {
                if adoption_checked.is_none() {
                    let check = can_adopt(context, view).await;
                    adoption_checked = Some(check.is_ok());
                    if let Err(error) = check {
                        failure.get_or_insert(error);
                    }
                }
                if adoption_checked != Some(true) {
                    continue;
                }
                match adopt(&api, &view.controller_ref, &pod.metadata).await {
                    Ok(true) => {
                        tracing::info!(kind = K::KIND, name = %view.name, pod = %pod.name_any(), "adopted pod");
                        claimed.push(pod);
                    }
                    Ok(false) => {}
                    Err(error) => {
                        failure.get_or_insert(error);
                    }
                }
            }
            Decision::Release => {
                tracing::info!(kind = K::KIND, name = %view.name, pod = %pod.name_any(), "releasing pod");
                if let Err(error) = release(&api, &view.uid, &pod.metadata).await {
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

/// Pods owned by any object with the same controller as this one (a Deployment's other
/// ReplicaSets), for ranking by colocation as upstream's `getIndirectlyRelatedPods`.
fn related_pods<K: ReplicaKind>(context: &Context<K>, view: &View) -> Vec<Arc<Pod>> {
    let Some(owner_uid) = view.owner_uid.as_deref() else {
        return Vec::new();
    };
    let siblings: Vec<Arc<K>> = context
        .owners
        .state()
        .into_iter()
        .filter(|sibling| sibling.namespace().as_deref() == Some(view.namespace.as_str()))
        .filter(|sibling| {
            crate::workloads::podcontrol::pods::controller_of(sibling.meta())
                .is_some_and(|owner| owner.uid == owner_uid)
        })
        .collect();
    let mut seen = HashSet::new();
    context
        .pods
        .state()
        .into_iter()
        .filter(|pod| pod.metadata.namespace.as_deref() == Some(view.namespace.as_str()))
        .filter(|pod| {
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            siblings.iter().any(|sibling| sibling.selects(&labels))
        })
        .filter(|pod| seen.insert(pod.metadata.uid.clone()))
        .collect()
}

/// The `count` pods to delete, preferring those earlier in their life.
fn pods_to_delete<K: ReplicaKind>(
    context: &Context<K>,
    view: &View,
    claimed: &[Arc<Pod>],
    count: usize,
) -> Vec<Arc<Pod>> {
    if count >= claimed.len() {
        return claimed.to_vec();
    }
    let related = related_pods(context, view);
    let mut on_node: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for pod in related.iter().filter(|pod| is_active(pod)) {
        *on_node.entry(node_name(pod)).or_default() += 1;
    }
    let ranked: Vec<Ranked> = claimed
        .iter()
        .map(|pod| Ranked {
            rank: on_node.get(node_name(pod)).copied().unwrap_or(0),
            pod: Arc::clone(pod),
        })
        .collect();
    sort_for_deletion(ranked, k8s_openapi::jiff::Timestamp::now())
        .into_iter()
        .take(count)
        .map(|ranked| ranked.pod)
        .collect()
}

/// Upstream's `manageReplicas`.
pub async fn manage_replicas<K: ReplicaKind>(
    context: &Context<K>,
    object: &K,
    view: &View,
    claimed: &[Arc<Pod>],
) -> Result<(), SyncError> {
    let wanted = usize::try_from(view.replicas).unwrap_or(0);
    let api: Api<Pod> = Api::namespaced(context.client.clone(), &view.namespace);
    let reference = object.object_ref(&());
    if claimed.len() < wanted {
        let count = (wanted - claimed.len()).min(BURST_REPLICAS);
        let pod = pod_from_template(&view.template, &view.name, &view.controller_ref);
        if pod
            .metadata
            .labels
            .as_ref()
            .is_none_or(|labels| labels.is_empty())
        {
            return Err(SyncError::Refused(
                "unable to create pods, no labels".to_owned(),
            ));
        }
        tracing::info!(kind = K::KIND, namespace = %view.namespace, name = %view.name, need = view.replicas, creating = count, "too few replicas");
        let live: HashSet<String> = context
            .owners
            .state()
            .iter()
            .filter_map(|o| o.uid())
            .collect();
        context.expectations.retain(|uid| live.contains(uid));
        context.expectations.start(&view.uid);
        let (_, failure) = slow_start(count, SLOW_START_INITIAL_BATCH, || {
            let (api, pod, reference) = (&api, &pod, reference.clone());
            async move {
                let owner = Owner {
                    uid: &view.uid,
                    reference,
                    expectations: &context.expectations,
                    events: &context.events,
                };
                create_pod(api, pod, owner).await
            }
        })
        .await;
        if let Some(error) = failure {
            return Err(error.into());
        }
    } else if claimed.len() > wanted {
        let count = (claimed.len() - wanted).min(BURST_REPLICAS);
        tracing::info!(kind = K::KIND, namespace = %view.namespace, name = %view.name, need = view.replicas, deleting = count, "too many replicas");
        let doomed = pods_to_delete(context, view, claimed, count);
        context.expectations.start(&view.uid);
        context.expectations.deleting(
            &view.uid,
            doomed.iter().filter_map(|pod| pod.metadata.uid.as_deref()),
        );
        let results = futures::future::join_all(doomed.iter().map(|pod| {
            let (api, reference) = (&api, reference.clone());
            async move {
                let owner = Owner {
                    uid: &view.uid,
                    reference,
                    expectations: &context.expectations,
                    events: &context.events,
                };
                delete_pod(api, pod, owner).await
            }
        }))
        .await;
        if let Some(error) = results.into_iter().find_map(Result::err) {
            return Err(error.into());
        }
    }
    Ok(())
}
