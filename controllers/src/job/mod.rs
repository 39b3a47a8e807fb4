//! The Job controller (upstream's `pkg/controller/job`): runs a Job's pods to completion,
//! counting each finished pod once through the `batch.kubernetes.io/job-tracking`
//! finalizer, with back-off after failures, deadlines, suspension, Indexed completion,
//! pod failure and success policies, and the status conditions kubectl reads.

mod api;
mod backoff;
mod claim;
mod conditions;
mod expectations;
mod failure_policy;
mod indexes;
mod manage;
mod orphans;
mod pods;
mod state;
mod success_policy;
mod sync;
mod template;
mod tracking;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;

pub(crate) use api::{
    event, is_already_exists, is_namespace_terminating, is_not_found, message, Events,
};
pub(crate) use conditions::{finish_time, finished, COMPLETE};

use crate::clock::{self, SharedClock};
use crate::{Change, Informers, Ready, Shared};

/// The value of `spec.managedBy` that leaves a Job to this controller.
const JOB_CONTROLLER: &str = "kubernetes.io/job-controller";

/// Why a sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// The Job changed under the sync (deleted, or replaced by another of the same name).
    #[error("{0}")]
    Gone(String),
}

/// What every sync shares.
pub(crate) struct Context {
    client: kube::Client,
    recorder: api::Events,
    clock: SharedClock,
    pods: Store<Pod>,
    /// Whether the pod cache has been filled (acting on an empty one would create every pod
    /// again).
    pods_ready: Ready,
    expectations: expectations::Expectations,
    backoff: Mutex<backoff::Store>,
    /// Per Job, the resourceVersions its status writes replaced, until the cache moves on.
    replaced: Mutex<HashMap<String, HashSet<String>>>,
}

impl Context {
    /// Remembers that the status of `key` at `before` was replaced by a write.
    fn status_written(&self, key: &str, before: String) {
        let mut replaced = self.replaced.lock().unwrap_or_else(PoisonError::into_inner);
        replaced.entry(key.to_owned()).or_default().insert(before);
    }

    /// Whether the cached `job` predates one of our own status writes.
    fn status_not_seen_yet(&self, key: &str, job: &Job) -> bool {
        let mut replaced = self.replaced.lock().unwrap_or_else(PoisonError::into_inner);
        let version = job.metadata.resource_version.clone().unwrap_or_default();
        match replaced.get(key) {
            Some(versions) if versions.contains(&version) => true,
            Some(_) => {
                replaced.remove(key);
                false
            }
            None => false,
        }
    }

    fn forget(&self, key: &str) {
        self.expectations.forget(key);
        self.backoff().remove(key);
        self.replaced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

/// Whether another controller manages the Job (`spec.managedBy`).
pub(crate) fn managed_elsewhere(job: &Job) -> bool {
    job.spec
        .as_ref()
        .and_then(|spec| spec.managed_by.as_deref())
        .is_some_and(|manager| manager != JOB_CONTROLLER)
}

/// The Job loop and its orphan-pod finalizer cleanup.
pub fn build(
    informers: &mut Informers,
    shared: Shared,
    clock: SharedClock,
) -> BoxFuture<'static, ()> {
    let jobs = informers.subscribe::<Job>();
    let deletions = informers.subscribe::<Job>();
    let pods = informers.subscribe::<Pod>();
    let context = Arc::new(Context {
        client: shared.client.clone(),
        recorder: api::Events::new(&shared, "job-controller"),
        clock: Arc::clone(&clock),
        pods: pods.store.clone(),
        pods_ready: pods.ready.clone(),
        expectations: expectations::Expectations::default(),
        backoff: Mutex::new(backoff::Store::default()),
        replaced: Mutex::new(HashMap::new()),
    });
    let observer = Arc::clone(&context);
    let job_store = jobs.store.clone();
    let selecting = jobs.store.clone();
    let controller = Controller::for_shared_stream(jobs.applied(), job_store)
        .reconcile_on(pods.map_to(move |change: &Change<Pod>| {
            observer.expectations.observe(change);
            jobs_of(change.object(), &selecting)
        }))
        .reconcile_all_on(clock::jumps(&*clock))
        .run(sync::sync, error_policy, Arc::clone(&context))
        .for_each(|result| {
            if let Err(error) = result {
                tracing::debug!(%error, "job controller");
            }
            ready(())
        });
    let forget = deletions.changes().for_each(move |change| {
        if let Change::Deleted(job) = &change {
            let key = format!("{}/{}", job.namespace().unwrap_or_default(), job.name_any());
            context.forget(&key);
        }
        ready(())
    });
    let orphans = orphans::build(informers, shared.client);
    futures::future::join3(controller, forget, orphans)
        .map(|_| ())
        .boxed()
}

/// The Jobs a pod change concerns: its controlling Job, or for an orphan the Jobs that
/// select it (which may adopt it).
fn jobs_of(pod: &Pod, jobs: &Store<Job>) -> Vec<ObjectRef<Job>> {
    let namespace = pod.namespace().unwrap_or_default();
    if let Some(owner) = claim::controller_of(pod) {
        if owner.kind == "Job" {
            return vec![ObjectRef::new(&owner.name).within(&namespace)];
        }
        return Vec::new();
    }
    jobs.state_filter(|job| {
        job.metadata.namespace.as_deref() == Some(namespace.as_str())
            && crate::workloads::podcontrol::selector::selects(
                job.spec.as_ref().and_then(|spec| spec.selector.as_ref()),
                pod.metadata.labels.as_ref(),
            )
    })
    .iter()
    .map(|job| ObjectRef::from_obj(&**job))
    .collect()
}

fn error_policy(job: Arc<Job>, error: &JobError, _context: Arc<Context>) -> Action {
    tracing::debug!(job = %job.name_any(), %error, "job sync failed, retrying");
    Action::requeue(Duration::from_secs(1))
}
