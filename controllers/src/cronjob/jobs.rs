//! The Jobs of a CronJob: made from its template with a name fixed by the scheduled time
//! (so a time is never run twice), owned by it, referenced from `status.active`, and
//! pruned oldest first.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use std::cmp::Ordering;

use super::schedule::load_location;

/// The scheduled time of a Job, in the CronJob's zone, RFC 3339.
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// `<cronjob>-<minutes since the epoch of the scheduled time>`.
pub fn job_name(cron_job: &str, scheduled: Timestamp) -> String {
    format!("{cron_job}-{}", scheduled.as_second() / 60)
}

/// The Job to create for `scheduled`; an error names an unknown time zone.
pub fn job_for(cron_job: &CronJob, scheduled: Timestamp) -> Result<Job, String> {
    let template = cron_job
        .spec
        .as_ref()
        .map(|spec| spec.job_template.clone())
        .unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let zone_name = cron_job
        .spec
        .as_ref()
        .and_then(|spec| spec.time_zone.as_deref())
        .unwrap_or("");
    let zone = load_location(zone_name)?;
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(SCHEDULED_TIMESTAMP.to_owned(), rfc3339_in(scheduled, zone));
    let name = cron_job.metadata.name.clone().unwrap_or_default();
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name, scheduled)),
            namespace: cron_job.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: Some(annotations),
            creation_timestamp: Some(Time(scheduled)),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".to_owned(),
                kind: "CronJob".to_owned(),
                name,
                uid: cron_job.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        status: None,
    })
}

/// Go's `time.RFC3339` of `time` in `zone` ("Z" for a zero offset).
fn rfc3339_in(time: Timestamp, zone: jiff::tz::TimeZone) -> String {
    let zoned = time.to_zoned(zone);
    if zoned.offset().seconds() == 0 {
        zoned.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// The reference `status.active` keeps of a Job.
pub fn reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".to_owned()),
        kind: Some("Job".to_owned()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

/// Upstream's `byJobStartTime`: started before not started, earlier first, then by name.
pub fn by_start_time(a: &Job, b: &Job) -> Ordering {
    let start = |job: &Job| {
        job.status
            .as_ref()
            .and_then(|status| status.start_time.as_ref())
            .map(|time| time.0)
    };
    match (start(a), start(b)) {
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (x, y) if x == y => a.metadata.name.cmp(&b.metadata.name),
        (x, y) => x.cmp(&y),
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use k8s_openapi::api::batch::v1::CronJob;
    use serde_json::json;

    use super::{job_for, job_name};

    #[test]
    fn named_by_minute_and_annotated() {
        let scheduled: Timestamp = "2024-05-01T10:05:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(job_name("backup", scheduled), "backup-28575965");
        let cron: CronJob = serde_json::from_value(json!({
            "metadata": {"name": "backup", "namespace": "ns", "uid": "c1"},
            "spec": {"schedule": "*/5 * * * *", "timeZone": "Europe/Paris", "jobTemplate": {
                "metadata": {"labels": {"team": "a"}},
                "spec": {"template": {"spec": {"containers": []}}}
            }}
        }))
        .unwrap_or_default();
        let job = job_for(&cron, scheduled).unwrap_or_default();
        let value = serde_json::to_value(&job).unwrap_or_default();
        assert_eq!(value["metadata"]["name"], "backup-28575965");
        assert_eq!(value["metadata"]["labels"]["team"], "a");
        assert_eq!(
            value["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"],
            "2024-05-01T12:05:00+02:00"
        );
        assert_eq!(value["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    }
}
