//! The TTL-after-finished controller (upstream's `pkg/controller/ttlafterfinished`):
//! deletes a finished Job `spec.ttlSecondsAfterFinished` seconds after its terminal
//! condition, re-reading it first in case the TTL changed, with foreground propagation
//! (its pods go first) and the Job's uid as precondition.

use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DeleteParams, Preconditions, PropagationPolicy};
use kube::runtime::controller::{Action, Controller};
use kube::ResourceExt;

use crate::clock::{self, until, SharedClock};
use crate::job::{finish_time, finished, is_not_found};
use crate::Informers;

/// Why a Job's TTL could not be handled (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum TtlError {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// A finished Job without a time on its terminal condition.
    #[error("unable to find the time when the Job {0} finished")]
    NoFinishTime(String),
}

struct Context {
    client: kube::Client,
    clock: SharedClock,
}

/// The loop over Jobs, woken also by jumps of the clock.
pub fn build(
    informers: &mut Informers,
    client: kube::Client,
    clock: SharedClock,
) -> BoxFuture<'static, ()> {
    let jobs = informers.subscribe::<Job>();
    let store = jobs.store.clone();
    let context = Arc::new(Context {
        client,
        clock: Arc::clone(&clock),
    });
    let candidates = jobs.applied().filter(|job| ready(needs_cleanup(job)));
    Controller::for_shared_stream(candidates, store)
        .reconcile_all_on(clock::jumps(&*clock))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

/// Finished, with a TTL, and not being deleted already.
fn needs_cleanup(job: &Job) -> bool {
    job.metadata.deletion_timestamp.is_none()
        && job
            .spec
            .as_ref()
            .is_some_and(|spec| spec.ttl_seconds_after_finished.is_some())
        && finished(job).is_some()
}

/// When the Job's TTL expires, if it is subject to one.
fn expiry(job: &Job) -> Result<Option<Timestamp>, TtlError> {
    if !needs_cleanup(job) {
        return Ok(None);
    }
    let ttl = job
        .spec
        .as_ref()
        .and_then(|spec| spec.ttl_seconds_after_finished)
        .unwrap_or(0);
    let finished_at = finish_time(job).ok_or_else(|| {
        TtlError::NoFinishTime(format!(
            "{}/{}",
            job.namespace().unwrap_or_default(),
            job.name_any()
        ))
    })?;
    Ok(finished_at
        .checked_add(SignedDuration::from_secs(i64::from(ttl)))
        .ok())
}

async fn reconcile(job: Arc<Job>, context: Arc<Context>) -> Result<Action, TtlError> {
    let now = context.clock.now();
    let Some(expires) = expiry(&job)? else {
        return Ok(Action::await_change());
    };
    if expires > now {
        return Ok(Action::requeue(until(now, expires)));
    }
    // The cached TTL may be stale: decide again on a fresh read.
    let namespace = job.namespace().unwrap_or_default();
    let api: Api<Job> = Api::namespaced(context.client.clone(), &namespace);
    let fresh = match api.get(&job.name_any()).await {
        Ok(fresh) => fresh,
        Err(error) if is_not_found(&error) => return Ok(Action::await_change()),
        Err(error) => return Err(error.into()),
    };
    let Some(expires) = expiry(&fresh)? else {
        return Ok(Action::await_change());
    };
    if expires > now {
        return Ok(Action::requeue(until(now, expires)));
    }
    tracing::info!(job = %format!("{namespace}/{}", fresh.name_any()), "cleaning up a finished Job after its TTL");
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(Preconditions {
            uid: fresh.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(&fresh.name_any(), &params).await {
        Ok(_) => Ok(Action::await_change()),
        Err(error) if is_not_found(&error) => Ok(Action::await_change()),
        Err(error) => Err(error.into()),
    }
}

fn error_policy(job: Arc<Job>, error: &TtlError, _context: Arc<Context>) -> Action {
    tracing::debug!(job = %job.name_any(), %error, "error cleaning up Job, will retry");
    Action::requeue(Duration::from_secs(1))
}
