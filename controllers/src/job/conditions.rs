//! Job conditions as upstream writes them: the interim `SuccessCriteriaMet` and
//! `FailureTarget`, the terminal `Complete` and `Failed`, and `Suspended`.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The Job succeeded.
pub const COMPLETE: &str = "Complete";
/// The Job failed.
pub const FAILED: &str = "Failed";
/// The Job will succeed once its pods are gone.
pub const SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";
/// The Job will fail once its pods are gone.
pub const FAILURE_TARGET: &str = "FailureTarget";
/// The Job is (or was) suspended.
pub const SUSPENDED: &str = "Suspended";

/// A new condition, probed and transitioned `now`.
pub fn new(type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> JobCondition {
    JobCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
        message: (!message.is_empty()).then(|| message.to_owned()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// The condition of `type_`, if present.
pub fn find<'a>(conditions: &'a [JobCondition], type_: &str) -> Option<&'a JobCondition> {
    conditions.iter().find(|condition| condition.type_ == type_)
}

/// The condition of `type_` if its status is True.
pub fn find_true<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    job.status
        .as_ref()
        .and_then(|status| status.conditions.as_deref())
        .and_then(|conditions| find(conditions, type_))
        .filter(|condition| condition.status == "True")
}

/// Whether the Job has finished, and how (`Complete` or `Failed`).
pub fn finished(job: &Job) -> Option<&'static str> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions.iter().find_map(|condition| {
        if condition.status != "True" {
            return None;
        }
        match condition.type_.as_str() {
            COMPLETE => Some(COMPLETE),
            FAILED => Some(FAILED),
            _ => None,
        }
    })
}

/// When the Job finished: its terminal condition's transition time.
pub fn finish_time(job: &Job) -> Option<Timestamp> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .find(|c| (c.type_ == COMPLETE || c.type_ == FAILED) && c.status == "True")
        .and_then(|condition| condition.last_transition_time.as_ref())
        .map(|time| time.0)
}

/// Upstream's `ensureJobConditionStatus`: sets the condition of `type_` (replacing it when
/// status, reason or message differ; never adding a False one); whether anything changed.
pub fn ensure(
    conditions: &mut Vec<JobCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    if let Some(existing) = conditions.iter_mut().find(|c| c.type_ == type_) {
        let same = existing.status == status
            && existing.reason.as_deref().unwrap_or("") == reason
            && existing.message.as_deref().unwrap_or("") == message;
        if same {
            return false;
        }
        *existing = new(type_, status, reason, message, now);
        return true;
    }
    if status != "False" {
        conditions.push(new(type_, status, reason, message, now));
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::{ensure, new};

    #[test]
    fn ensure_adds_true_and_flips_existing() {
        let now = Timestamp::UNIX_EPOCH;
        let mut conditions = Vec::new();
        assert!(!ensure(
            &mut conditions,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert!(conditions.is_empty());
        assert!(ensure(
            &mut conditions,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(!ensure(
            &mut conditions,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(ensure(
            &mut conditions,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert_eq!(
            conditions,
            vec![new("Suspended", "False", "JobResumed", "Job resumed", now)]
        );
    }
}
