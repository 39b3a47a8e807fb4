//! The Deployment controller (upstream's `deployment` package): a ReplicaSet per pod
//! template, rolled out by RollingUpdate (maxSurge/maxUnavailable) or Recreate, scaled
//! proportionally mid-rollout, paused and resumed, with revisions for `kubectl rollout
//! history`/`undo`, old ReplicaSets pruned to `revisionHistoryLimit`, and the Progressing
//! and Available conditions `kubectl rollout status` reads.

mod annotations;
mod conditions;
mod hash;
mod progress;
mod recreate;
mod replicas;
mod rolling;
mod sync;

use std::sync::Arc;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};

use super::backoff::Backoff;
use super::error::SyncError;
use super::events::Events;
use super::podcontrol::claim::{adopt, controller_ref, release, Claimer, Decision};
use super::podcontrol::owners::LastControllers;
use super::podcontrol::pods::controller_of;
use super::podcontrol::selector::Selector;
use crate::{Change, Informers, Ready, Shared};

use sync::Syncer;

/// What the loop shares between syncs.
pub struct Context {
    client: Client,
    events: Events,
    deployments: Store<Deployment>,
    replica_sets: Store<ReplicaSet>,
    pods: Store<Pod>,
    caches_ready: [Ready; 2],
    last: LastControllers,
    backoff: Backoff,
}

fn selects(deployment: &Deployment, labels: &std::collections::BTreeMap<String, String>) -> bool {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| Selector::parse(&spec.selector).ok())
        .is_some_and(|selector| !selector.is_everything() && selector.matches(labels))
}

impl Context {
    /// Deployments a ReplicaSet change concerns: its controller (now and before), or for an
    /// orphan every Deployment selecting it.
    fn deployments_of_replica_set(
        &self,
        change: &Change<ReplicaSet>,
    ) -> Vec<ObjectRef<Deployment>> {
        let rs = change.object();
        let Some(namespace) = rs.namespace() else {
            return Vec::new();
        };
        let deleted = matches!(change, Change::Deleted(_));
        let mut found = Vec::new();
        if let Some((kind, name)) = self.last.update(&rs.metadata, deleted) {
            if kind == "Deployment" {
                found.push(ObjectRef::new(&name).within(&namespace));
            }
        }
        match controller_of(&rs.metadata) {
            Some(owner) if owner.kind == "Deployment" => {
                found.push(ObjectRef::new(&owner.name).within(&namespace));
            }
            Some(_) => {}
            None if deleted => {}
            None => {
                let labels = rs.metadata.labels.clone().unwrap_or_default();
                found.extend(
                    self.deployments
                        .state()
                        .iter()
                        .filter(|d| d.namespace().as_deref() == Some(namespace.as_str()))
                        .filter(|d| selects(d, &labels))
                        .map(|d| ObjectRef::from_obj(&**d)),
                );
            }
        }
        found
    }

    /// A deleted pod wakes its Recreate Deployment, which waits for old pods to be gone.
    fn deployments_of_pod(&self, change: &Change<Pod>) -> Option<ObjectRef<Deployment>> {
        let Change::Deleted(pod) = change else {
            return None;
        };
        let namespace = pod.namespace()?;
        let owner = controller_of(&pod.metadata).filter(|owner| owner.kind == "ReplicaSet")?;
        let rs = self
            .replica_sets
            .get(&ObjectRef::new(&owner.name).within(&namespace))?;
        let deployment = controller_of(&rs.metadata).filter(|owner| owner.kind == "Deployment")?;
        let reference = ObjectRef::new(&deployment.name).within(&namespace);
        let found = self.deployments.get(&reference)?;
        (replicas::strategy(&found) == "Recreate").then_some(reference)
    }
}

/// The loop, subscribed to Deployments, ReplicaSets and pods.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let deployments = informers.subscribe::<Deployment>();
    let replica_sets = informers.subscribe::<ReplicaSet>();
    let pods = informers.subscribe::<Pod>();
    let context = Arc::new(Context {
        client: shared.client.clone(),
        events: Events::new(&shared, "deployment-controller"),
        deployments: deployments.store.clone(),
        replica_sets: replica_sets.store.clone(),
        pods: pods.store.clone(),
        caches_ready: [replica_sets.ready.clone(), pods.ready.clone()],
        last: LastControllers::default(),
        backoff: Backoff::default(),
    });
    let by_replica_set = {
        let context = Arc::clone(&context);
        move |change: &Change<ReplicaSet>| context.deployments_of_replica_set(change)
    };
    let by_pod = {
        let context = Arc::clone(&context);
        move |change: &Change<Pod>| context.deployments_of_pod(change)
    };
    let store = deployments.store.clone();
    Controller::for_shared_stream(deployments.applied(), store)
        .reconcile_on(replica_sets.map_to(by_replica_set))
        .reconcile_on(pods.map_to(by_pod))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

fn error_policy(deployment: Arc<Deployment>, error: &SyncError, context: Arc<Context>) -> Action {
    let delay = context
        .backoff
        .failed(&deployment.uid().unwrap_or_default());
    tracing::debug!(deployment = %deployment.name_any(), %error, ?delay, "deployment sync failed");
    Action::requeue(delay)
}

async fn reconcile(
    deployment: Arc<Deployment>,
    context: Arc<Context>,
) -> Result<Action, SyncError> {
    // Never judge from caches that have not listed yet.
    for ready in &context.caches_ready {
        if !ready.wait().await {
            return Ok(Action::await_change());
        }
    }
    let mut syncer = Syncer::new(&context, (*deployment).clone())?;
    syncer.sync_deployment().await?;
    context
        .backoff
        .succeeded(&deployment.uid().unwrap_or_default());
    Ok(syncer
        .requeue
        .map_or_else(Action::await_change, Action::requeue))
}

impl Syncer<'_> {
    /// Upstream's `getReplicaSetsForDeployment`: the namespace's ReplicaSets this
    /// Deployment controls after adopting matching orphans and releasing non-matching ones.
    async fn claim_replica_sets(&self) -> Result<Vec<ReplicaSet>, SyncError> {
        let spec = self.d.spec.as_ref().ok_or(SyncError::Missing("spec"))?;
        let selector = Selector::parse(&spec.selector).map_err(|error| {
            SyncError::Refused(format!(
                "deployment {}/{} has invalid label selector: {error}",
                self.namespace, self.name
            ))
        })?;
        let owner = controller_ref("apps/v1", "Deployment", &self.d.metadata)?;
        let claimer = Claimer {
            owner: &owner,
            namespace: &self.namespace,
            deleting: self.d.metadata.deletion_timestamp.is_some(),
            selector: &selector,
        };
        let api = self.api_rs();
        let mut claimed = Vec::new();
        let mut failure = None;
        let mut adoption_checked: Option<bool> = None;
        for rs in self.ctx.replica_sets.state() {
            if rs.metadata.namespace.as_deref() != Some(self.namespace.as_str()) {
                continue;
            }
            match claimer.decide(&rs.metadata) {
                Decision::Keep => claimed.push((*rs).clone()),
                Decision::Ignore => {}
                Decision::Adopt => {
                    if adoption_checked.is_none() {
                        let check = self.can_adopt().await;
                        adoption_checked = Some(check.is_ok());
                        if let Err(error) = check {
                            failure.get_or_insert(error);
                        }
                    }
                    if adoption_checked != Some(true) {
                        continue;
                    }
                    match adopt(&api, &owner, &rs.metadata).await {
                        Ok(true) => claimed.push((*rs).clone()),
                        Ok(false) => {}
                        Err(error) => {
                            failure.get_or_insert(error);
                        }
                    }
                }
                Decision::Release => {
                    if let Err(error) = release(&api, &owner.uid, &rs.metadata).await {
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

    /// Upstream's `RecheckDeletionTimestamp` for the Deployment.
    async fn can_adopt(&self) -> Result<(), SyncError> {
        let api: Api<Deployment> = Api::namespaced(self.ctx.client.clone(), &self.namespace);
        let fresh = api.get(&self.name).await?;
        let (fresh_uid, uid) = (
            fresh.uid().unwrap_or_default(),
            self.d.uid().unwrap_or_default(),
        );
        if fresh_uid != uid {
            return Err(SyncError::Refused(format!(
                "original Deployment {}/{} is gone: got uid {fresh_uid}, wanted {uid}",
                self.namespace, self.name
            )));
        }
        if let Some(deleted) = fresh.metadata.deletion_timestamp {
            return Err(SyncError::Refused(format!(
                "{}/{} has just been deleted at {}",
                self.namespace, self.name, deleted.0
            )));
        }
        Ok(())
    }
}
