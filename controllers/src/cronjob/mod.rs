//! The CronJob controller (upstream's `cronjob_controllerv2.go`): creates a Job at each
//! schedule time (in `spec.timeZone`), honours `startingDeadlineSeconds`, the concurrency
//! policy and `suspend`, keeps `status.active`, `lastScheduleTime` and
//! `lastSuccessfulTime`, and prunes finished Jobs beyond the history limits. It sleeps
//! until the next schedule time, measured on the manager's clock.

mod duration;
mod jobs;
mod schedule;
mod sync;
mod times;

use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;

use crate::clock::{self, SharedClock};
use crate::job::Events;
use crate::{Change, Informers, Shared};

/// Why a sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum CronJobError {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// A running Job could not be deleted for `Replace`.
    #[error("could not replace job {0}")]
    Replace(String),
    /// The Job could not be made from the template.
    #[error("unable to make Job from template: {0}")]
    Template(String),
}

struct Context {
    client: kube::Client,
    recorder: Events,
    clock: SharedClock,
    jobs: Store<Job>,
    jobs_ready: crate::Ready,
}

/// The CronJob loop, woken by its CronJobs, their Jobs, and jumps of the clock.
pub fn build(
    informers: &mut Informers,
    shared: Shared,
    clock: SharedClock,
) -> BoxFuture<'static, ()> {
    let cron_jobs = informers.subscribe::<CronJob>();
    let jobs = informers.subscribe::<Job>();
    let context = Arc::new(Context {
        jobs_ready: jobs.ready.clone(),
        client: shared.client.clone(),
        recorder: Events::new(&shared, "cronjob-controller"),
        clock: Arc::clone(&clock),
        jobs: jobs.store.clone(),
    });
    let store = cron_jobs.store.clone();
    Controller::for_shared_stream(cron_jobs.applied(), store)
        .reconcile_on(jobs.map_to(|change: &Change<Job>| owner(change.object())))
        .reconcile_all_on(clock::jumps(&*clock))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

/// The CronJob controlling a Job.
fn owner(job: &Job) -> Option<ObjectRef<CronJob>> {
    let owner = job
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|owner| owner.controller == Some(true) && owner.kind == "CronJob")?;
    Some(ObjectRef::new(&owner.name).within(&job.namespace().unwrap_or_default()))
}

async fn reconcile(cron_job: Arc<CronJob>, context: Arc<Context>) -> Result<Action, CronJobError> {
    // Without the Jobs in the cache every running Job would look unexpected.
    if !context.jobs_ready.wait().await {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let namespace = cron_job.namespace().unwrap_or_default();
    let name = cron_job.name_any();
    let children: Vec<Arc<Job>> = context.jobs.state_filter(|job| {
        job.metadata.namespace.as_deref() == Some(namespace.as_str())
            && job.metadata.owner_references.iter().flatten().any(|owner| {
                owner.controller == Some(true) && owner.kind == "CronJob" && owner.name == name
            })
    });
    let mut working = (*cron_job).clone();
    let cleaned = sync::cleanup_finished(&context, &mut working, &children).await;
    let outcome = sync::sync(&context, &mut working, &children).await;
    if let Some(error) = &outcome.error {
        tracing::debug!(cronjob = %name, %error, "error reconciling cronjob");
    }
    if cleaned || outcome.update_status {
        let api: Api<CronJob> = Api::namespaced(context.client.clone(), &namespace);
        if let Err(error) = api
            .replace_status(&name, &PostParams::default(), &working)
            .await
        {
            tracing::debug!(cronjob = %name, %error, "unable to update status for cronjob");
            return Err(error.into());
        }
    }
    match (outcome.requeue, outcome.error) {
        (Some(delay), _) => Ok(Action::requeue(delay)),
        (None, Some(error)) => Err(error),
        (None, None) => Ok(Action::await_change()),
    }
}

fn error_policy(cron_job: Arc<CronJob>, error: &CronJobError, _context: Arc<Context>) -> Action {
    tracing::debug!(cronjob = %cron_job.name_any(), %error, "cronjob sync failed, retrying");
    Action::requeue(Duration::from_secs(1))
}
