//! One pass over one CronJob (upstream's `syncCronJob` and `cleanupFinishedJobs`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::SignedDuration;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, PostParams, PropagationPolicy};
use kube::ResourceExt;

use super::jobs::{by_start_time, job_for, job_name, reference};
use super::schedule::{load_location, parse_standard, Schedule};
use super::times::{next_schedule_delay, next_schedule_time, History, Missed};
use super::{Context, CronJobError};
use crate::job::{
    event, finished, is_already_exists, is_namespace_terminating, is_not_found, message, COMPLETE,
};

/// What a sync concluded.
pub struct Outcome {
    /// When to sync again.
    pub requeue: Option<Duration>,
    /// Whether the status changed.
    pub update_status: bool,
    /// What went wrong, if anything.
    pub error: Option<CronJobError>,
}

fn status(cron_job: &mut CronJob) -> &mut CronJobStatus {
    cron_job.status.get_or_insert_with(CronJobStatus::default)
}

fn in_active_list(cron_job: &CronJob, uid: &str) -> bool {
    cron_job
        .status
        .as_ref()
        .and_then(|status| status.active.as_ref())
        .is_some_and(|active| active.iter().any(|job| job.uid.as_deref() == Some(uid)))
}

fn remove_from_active_list(cron_job: &mut CronJob, uid: &str) {
    let status = status(cron_job);
    let kept: Vec<_> = status
        .active
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|job| job.uid.as_deref() != Some(uid))
        .collect();
    status.active = (!kept.is_empty()).then_some(kept);
}

/// Syncs `cron_job` (the working copy whose status is written afterwards).
pub async fn sync(context: &Context, cron_job: &mut CronJob, jobs: &[Arc<Job>]) -> Outcome {
    let mut outcome = Outcome {
        requeue: None,
        update_status: false,
        error: None,
    };
    if let Err(error) = sync_inner(context, cron_job, jobs, &mut outcome).await {
        outcome.error = Some(error);
    }
    outcome
}

async fn sync_inner(
    context: &Context,
    cron_job: &mut CronJob,
    jobs: &[Arc<Job>],
    outcome: &mut Outcome,
) -> Result<(), CronJobError> {
    let now = context.clock.now();
    let namespace = cron_job.namespace().unwrap_or_default();
    let cron_api: Api<CronJob> = Api::namespaced(context.client.clone(), &namespace);
    let job_api: Api<Job> = Api::namespaced(context.client.clone(), &namespace);
    let recorder = &context.recorder;

    let children: HashSet<String> = jobs
        .iter()
        .filter_map(|job| job.metadata.uid.clone())
        .collect();
    for job in jobs {
        let uid = job.metadata.uid.clone().unwrap_or_default();
        let listed = in_active_list(cron_job, &uid);
        let done = finished(job);
        if !listed && done.is_none() {
            // Maybe our own status write is not in the cache yet: ask the server.
            let fresh = cron_api.get(&cron_job.name_any()).await?;
            if in_active_list(&fresh, &uid) {
                *cron_job = fresh;
                continue;
            }
            let note = format!(
                "Saw a job that the controller did not create or forgot: {}",
                job.name_any()
            );
            event(recorder, &*cron_job, true, "UnexpectedJob", note).await;
        } else if listed {
            if let Some(condition) = done {
                remove_from_active_list(cron_job, &uid);
                let note = format!(
                    "Saw completed job: {}, condition: {condition}",
                    job.name_any()
                );
                event(recorder, &*cron_job, false, "SawCompletedJob", note).await;
                outcome.update_status = true;
            }
        } else if done == Some(COMPLETE) {
            // Not active any more: its completion time may be the latest success.
            let completed = job
                .status
                .as_ref()
                .and_then(|status| status.completion_time.clone());
            let status = status(cron_job);
            if status.last_successful_time.is_none() {
                status.last_successful_time = completed.clone();
                outcome.update_status = true;
            }
            if let (Some(completed), Some(last)) = (&completed, &status.last_successful_time) {
                if completed.0 > last.0 {
                    status.last_successful_time = Some(completed.clone());
                    outcome.update_status = true;
                }
            }
        }
    }

    // Active Jobs that no longer exist would keep a Forbid CronJob stuck forever.
    let listed: Vec<_> = cron_job
        .status
        .as_ref()
        .and_then(|status| status.active.clone())
        .unwrap_or_default();
    for reference in listed {
        let uid = reference.uid.clone().unwrap_or_default();
        if children.contains(&uid) {
            continue;
        }
        let name = reference.name.clone().unwrap_or_default();
        match job_api.get(&name).await {
            Err(error) if is_not_found(&error) => {
                let note = format!("Active job went missing: {name}");
                event(recorder, &*cron_job, false, "MissingJob", note).await;
                remove_from_active_list(cron_job, &uid);
                outcome.update_status = true;
            }
            Err(error) => return Err(error.into()),
            Ok(_) => {}
        }
    }

    if cron_job.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let spec = cron_job.spec.clone().unwrap_or_default();
    if let Some(zone) = spec.time_zone.as_deref() {
        if let Err(why) = load_location(zone) {
            tracing::debug!(cronjob = %cron_job.name_any(), zone, "not starting job: unknown time zone");
            let note = format!("invalid timeZone: {zone:?}: {why}");
            event(recorder, &*cron_job, true, "UnknownTimeZone", note).await;
            return Ok(());
        }
    }
    if spec.suspend == Some(true) {
        tracing::debug!(cronjob = %cron_job.name_any(), "not starting job: the cron is suspended");
        return Ok(());
    }
    let schedule = match parse(context, cron_job).await {
        Ok(schedule) => schedule,
        Err(error) => {
            let note = format!("unparseable schedule: {:?} : {error}", spec.schedule);
            event(recorder, &*cron_job, true, "UnparseableSchedule", note).await;
            return Ok(());
        }
    };
    let history = History {
        created: cron_job
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|time| time.0)
            .unwrap_or(now),
        last_schedule: cron_job
            .status
            .as_ref()
            .and_then(|status| status.last_schedule_time.as_ref())
            .map(|time| time.0),
        starting_deadline_seconds: spec.starting_deadline_seconds,
    };
    let scheduled = match next_schedule_time(&history, now, &schedule) {
        Err(error) => {
            let note = format!("invalid schedule: {} : {error}", spec.schedule);
            event(recorder, &*cron_job, true, "InvalidSchedule", note).await;
            return Ok(());
        }
        Ok(None) => {
            outcome.requeue = next_schedule_delay(&history, now, &schedule);
            return Ok(());
        }
        Ok(Some((scheduled, missed))) => {
            if missed == Missed::Many {
                let note = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew".to_owned();
                event(recorder, &*cron_job, true, "TooManyMissedTimes", note).await;
                tracing::info!(cronjob = %cron_job.name_any(), "too many missed times");
            }
            scheduled
        }
    };
    let next_delay = |cron_job: &CronJob| {
        let history = History {
            last_schedule: cron_job
                .status
                .as_ref()
                .and_then(|status| status.last_schedule_time.as_ref())
                .map(|time| time.0),
            ..history
        };
        next_schedule_delay(&history, now, &schedule)
    };

    let too_late = spec.starting_deadline_seconds.is_some_and(|seconds| {
        scheduled
            .checked_add(SignedDuration::from_secs(seconds))
            .is_ok_and(|deadline| deadline < now)
    });
    if too_late {
        let note = format!(
            "Missed scheduled time to start a job: {}",
            scheduled.strftime("%a, %d %b %Y %H:%M:%S %z")
        );
        event(recorder, &*cron_job, true, "MissSchedule", note).await;
        outcome.requeue = next_delay(cron_job);
        return Ok(());
    }
    let name = job_name(&cron_job.name_any(), scheduled);
    let already = cron_job.status.as_ref().is_some_and(|status| {
        status
            .active
            .iter()
            .flatten()
            .any(|job| job.name.as_deref() == Some(name.as_str()))
            || status.last_schedule_time.as_ref().map(|t| t.0) == Some(scheduled)
    });
    if already {
        tracing::debug!(cronjob = %cron_job.name_any(), %scheduled, "the scheduled time is already processed");
        outcome.requeue = next_delay(cron_job);
        return Ok(());
    }
    let active_count = cron_job
        .status
        .as_ref()
        .and_then(|status| status.active.as_ref())
        .map_or(0, Vec::len);
    let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
    if policy == "Forbid" && active_count > 0 {
        let note =
            "Not starting job because prior execution is running and concurrency policy is Forbid"
                .to_owned();
        event(recorder, &*cron_job, false, "JobAlreadyActive", note).await;
        outcome.requeue = next_delay(cron_job);
        return Ok(());
    }
    if policy == "Replace" {
        let running: Vec<_> = cron_job
            .status
            .as_ref()
            .and_then(|status| status.active.clone())
            .unwrap_or_default();
        for reference in running {
            let name = reference.name.clone().unwrap_or_default();
            let job = match job_api.get(&name).await {
                Ok(job) => job,
                Err(error) => {
                    let note = format!("Get job: {}", message(&error));
                    event(recorder, &*cron_job, true, "FailedGet", note).await;
                    return Err(error.into());
                }
            };
            if !delete_job(context, cron_job, &job).await {
                return Err(CronJobError::Replace(format!("{namespace}/{name}")));
            }
            outcome.update_status = true;
        }
    }

    let request = job_for(cron_job, scheduled).map_err(CronJobError::Template)?;
    let created = match job_api.create(&PostParams::default(), &request).await {
        Ok(job) => {
            let note = format!("Created job {}", job.name_any());
            event(recorder, &*cron_job, false, "SuccessfulCreate", note).await;
            job
        }
        Err(error) if is_namespace_terminating(&error) => return Err(error.into()),
        Err(error) if is_already_exists(&error) => {
            // Created before but not recorded (or by someone else): record it if ours.
            let job = job_api.get(&request.name_any()).await?;
            let ours = job.metadata.owner_references.iter().flatten().any(|owner| {
                owner.controller == Some(true) && Some(&owner.uid) == cron_job.metadata.uid.as_ref()
            });
            let uid = job.metadata.uid.clone().unwrap_or_default();
            if !ours || in_active_list(cron_job, &uid) {
                return Ok(());
            }
            tracing::info!(cronjob = %cron_job.name_any(), job = %job.name_any(), "job already exists");
            job
        }
        Err(error) => {
            let note = format!("Error creating job: {}", message(&error));
            event(recorder, &*cron_job, true, "FailedCreate", note).await;
            return Err(error.into());
        }
    };
    let status = status(cron_job);
    status
        .active
        .get_or_insert_with(Vec::new)
        .push(reference(&created));
    status.last_schedule_time = Some(Time(scheduled));
    outcome.update_status = true;
    outcome.requeue = next_delay(cron_job);
    Ok(())
}

/// The schedule with the CronJob's zone (`TZ=` in the schedule itself is used as is, with
/// upstream's warning that it is not officially supported).
async fn parse(
    context: &Context,
    cron_job: &CronJob,
) -> Result<Schedule, super::schedule::ScheduleError> {
    let spec = cron_job.spec.clone().unwrap_or_default();
    let local = TimeZone::system();
    if spec.schedule.contains("TZ") {
        let note = format!(
            "CRON_TZ or TZ used in schedule {:?} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
            spec.schedule
        );
        event(
            &context.recorder,
            cron_job,
            true,
            "UnsupportedSchedule",
            note,
        )
        .await;
        return parse_standard(&spec.schedule, &local);
    }
    match spec.time_zone.as_deref() {
        Some(zone) if load_location(zone).is_ok() => {
            parse_standard(&format!("TZ={zone} {}", spec.schedule), &local)
        }
        _ => parse_standard(&spec.schedule, &local),
    }
}

/// Deletes a Job (its pods in the background) and drops it from the active list.
async fn delete_job(context: &Context, cron_job: &mut CronJob, job: &Job) -> bool {
    let api: Api<Job> =
        Api::namespaced(context.client.clone(), &job.namespace().unwrap_or_default());
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    if let Err(error) = api.delete(&job.name_any(), &params).await {
        let note = format!("Deleted job: {}", message(&error));
        event(&context.recorder, &*cron_job, true, "FailedDelete", note).await;
        tracing::warn!(job = %job.name_any(), %error, "error deleting job from cronjob");
        return false;
    }
    remove_from_active_list(cron_job, job.metadata.uid.as_deref().unwrap_or(""));
    let note = format!("Deleted job {}", job.name_any());
    event(
        &context.recorder,
        &*cron_job,
        false,
        "SuccessfulDelete",
        note,
    )
    .await;
    true
}

/// Deletes the oldest finished Jobs beyond the history limits; whether the status changed.
pub async fn cleanup_finished(
    context: &Context,
    cron_job: &mut CronJob,
    jobs: &[Arc<Job>],
) -> bool {
    let spec = cron_job.spec.clone().unwrap_or_default();
    if spec.successful_jobs_history_limit.is_none() && spec.failed_jobs_history_limit.is_none() {
        return false;
    }
    let mut succeeded: Vec<&Job> = Vec::new();
    let mut failed: Vec<&Job> = Vec::new();
    for job in jobs {
        match finished(job) {
            Some(COMPLETE) => succeeded.push(job),
            Some(_) => failed.push(job),
            None => {}
        }
    }
    let mut changed = false;
    for (mut list, limit) in [
        (succeeded, spec.successful_jobs_history_limit),
        (failed, spec.failed_jobs_history_limit),
    ] {
        let Some(limit) = limit else {
            continue;
        };
        let excess = list
            .len()
            .saturating_sub(usize::try_from(limit).unwrap_or(0));
        if excess == 0 {
            continue;
        }
        list.sort_by(|a, b| by_start_time(a, b));
        for job in list.into_iter().take(excess) {
            if delete_job(context, cron_job, job).await {
                changed = true;
            }
        }
    }
    changed
}
