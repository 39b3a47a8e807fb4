//! Pods left with the tracking finalizer by a Job that is gone or finished (or by no Job at
//! all) would never be deleted: upstream's orphan worker removes the finalizer, and so does
//! this loop.

use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;

use super::api::{is_not_found, remove_tracking_finalizer};
use super::claim::controller_of;
use super::conditions;
use super::pods::has_tracking_finalizer;
use super::{managed_elsewhere, JobError};
use crate::{Change, Informers, Ready};

struct Context {
    client: kube::Client,
    jobs: Store<Job>,
    jobs_ready: Ready,
}

/// The loop, over pods with the finalizer, woken also when a Job is deleted or finishes.
pub fn build(informers: &mut Informers, client: kube::Client) -> BoxFuture<'static, ()> {
    let pods = informers.subscribe::<Pod>();
    let jobs = informers.subscribe::<Job>();
    let pod_store = pods.store.clone();
    let owned_pods = pod_store.clone();
    let context = Arc::new(Context {
        client,
        jobs: jobs.store.clone(),
        jobs_ready: jobs.ready.clone(),
    });
    let with_finalizer = pods
        .applied()
        .filter(|pod| ready(has_tracking_finalizer(pod)));
    Controller::for_shared_stream(with_finalizer, pod_store)
        .reconcile_on(jobs.map_to(move |change: &Change<Job>| {
            let job = change.object();
            let relevant =
                matches!(change, Change::Deleted(_)) || conditions::finished(job).is_some();
            let uid = job.metadata.uid.clone().unwrap_or_default();
            let refs: Vec<ObjectRef<Pod>> = if relevant {
                owned_pods
                    .state_filter(|pod| {
                        has_tracking_finalizer(pod)
                            && controller_of(pod).is_some_and(|owner| owner.uid == uid)
                    })
                    .iter()
                    .map(|pod| ObjectRef::from_obj(&**pod))
                    .collect()
            } else {
                Vec::new()
            };
            refs
        }))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

async fn reconcile(pod: Arc<Pod>, context: Arc<Context>) -> Result<Action, JobError> {
    if !has_tracking_finalizer(&pod) {
        return Ok(Action::await_change());
    }
    // An empty Job cache would make every pod look orphaned.
    if !context.jobs_ready.wait().await {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    if let Some(owner) = controller_of(&pod) {
        if owner.kind != "Job" || owner.api_version != "batch/v1" {
            return Ok(Action::await_change());
        }
        let key = ObjectRef::<Job>::new(&owner.name).within(&pod.namespace().unwrap_or_default());
        let job = context
            .jobs
            .get(&key)
            .filter(|job| job.metadata.uid.as_deref() == Some(owner.uid.as_str()));
        if let Some(job) = job {
            if managed_elsewhere(&job) || conditions::finished(&job).is_none() {
                return Ok(Action::await_change());
            }
        }
    }
    match remove_tracking_finalizer(&context.client, &pod).await {
        Ok(()) => Ok(Action::await_change()),
        Err(error) if is_not_found(&error) => Ok(Action::await_change()),
        Err(error) => Err(error.into()),
    }
}

fn error_policy(_pod: Arc<Pod>, error: &JobError, _context: Arc<Context>) -> Action {
    tracing::debug!(%error, "removing an orphan pod's tracking finalizer failed");
    Action::requeue(Duration::from_secs(1))
}
