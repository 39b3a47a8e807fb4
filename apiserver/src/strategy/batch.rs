//! Validation of Jobs and CronJobs (upstream's `pkg/apis/batch/validation`): counts,
//! completion modes, the pod template with its OnFailure/Never restart policy, the
//! generated selector, the cron schedule and time zone, and what an update may change.

use serde_json::Value;

use super::cron;
use super::fields::{at, child, int, label_selector, nonnegative, obj, opaque, present, string};
use super::labels::{selector_matches, validate_selector};
use super::podspec::validate_template;
use crate::validation::{self, go_quote, FieldError};

/// The Job controller appends `-<timestamp>` (11 characters) to a CronJob's name.
const CRON_JOB_NAME_MAX: usize = 52;
const MAX_PARALLELISM_INDEXED: i64 = 100_000;
const IMMUTABLE: &str = "field is immutable";

fn validate_job_spec(spec: &Value, field: &str, errors: &mut Vec<FieldError>) {
    for name in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
    ] {
        nonnegative(int(spec, &[name]), &child(field, name), errors);
    }
    if present(spec, &["maxFailedIndexes"]) {
        nonnegative(
            int(spec, &["maxFailedIndexes"]),
            &child(field, "maxFailedIndexes"),
            errors,
        );
        if !present(spec, &["backoffLimitPerIndex"]) {
            errors.push(FieldError::required(
                child(field, "backoffLimitPerIndex"),
                "when maxFailedIndexes is specified",
            ));
        }
    }
    let mode = at(spec, &["completionMode"]).and_then(Value::as_str);
    match mode {
        None | Some("NonIndexed") => {
            for name in ["backoffLimitPerIndex", "maxFailedIndexes"] {
                if let Some(value) = int(spec, &[name]) {
                    errors.push(FieldError::invalid_raw(
                        child(field, name),
                        &value.to_string(),
                        "requires indexed completion mode",
                    ));
                }
            }
        }
        Some("Indexed") => {
            if !present(spec, &["completions"]) {
                errors.push(FieldError::required(
                    child(field, "completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(parallelism) =
                int(spec, &["parallelism"]).filter(|value| *value > MAX_PARALLELISM_INDEXED)
            {
                errors.push(FieldError::invalid_raw(
                    child(field, "parallelism"),
                    &parallelism.to_string(),
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
        }
        Some(other) => errors.push(FieldError::not_supported(
            child(field, "completionMode"),
            other,
            &["NonIndexed", "Indexed"],
        )),
    }
    let failure_policy = present(spec, &["podFailurePolicy"]);
    if let Some(policy) = at(spec, &["podReplacementPolicy"]).and_then(Value::as_str) {
        let path = child(field, "podReplacementPolicy");
        if failure_policy && policy != "Failed" {
            errors.push(FieldError::not_supported(&path, policy, &["Failed"]));
        } else if !failure_policy && !matches!(policy, "Failed" | "TerminatingOrFailed") {
            errors.push(FieldError::not_supported(
                &path,
                policy,
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    validate_template(template, &child(field, "template"), errors);
    let restart_path = child(field, "template.spec.restartPolicy");
    match string(template, &["spec", "restartPolicy"]) {
        "Always" | "" => errors.push(FieldError::required(
            restart_path,
            "valid values: \"OnFailure\", \"Never\"",
        )),
        "OnFailure" if failure_policy => errors.push(FieldError::invalid(
            restart_path,
            "OnFailure",
            "only \"Never\" is supported when podFailurePolicy is specified",
        )),
        "OnFailure" | "Never" => {}
        other => errors.push(FieldError::not_supported(
            restart_path,
            other,
            &["OnFailure", "Never"],
        )),
    }
}

/// Every problem with a Job (`ValidateJob`).
pub(super) fn validate_job(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = object.get("spec").unwrap_or(&Value::Null);
    let labels = obj(spec, &["template", "metadata", "labels"]);
    let manual = at(spec, &["manualSelector"]).and_then(Value::as_bool) == Some(true);
    let selector = spec.get("selector").filter(|selector| !selector.is_null());
    if !manual {
        if let Some(selector) = selector {
            let uid = string(object, &["metadata", "uid"]);
            let name = string(object, &["metadata", "name"]);
            let expected = serde_json::json!({
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            });
            if !selector_matches(Some(selector), expected.as_object()) {
                errors.push(FieldError::invalid_raw(
                    "spec.selector",
                    &label_selector(Some(selector)),
                    "`selector` not auto-generated",
                ));
            }
        }
    }
    validate_job_spec(spec, "spec", &mut errors);
    let parses = match selector {
        None => {
            errors.push(FieldError::required("spec.selector", ""));
            true
        }
        Some(selector) => validate_selector(Some(selector), "spec.selector", &mut errors),
    };
    if parses && !selector_matches(selector, labels) {
        errors.push(FieldError::invalid_raw(
            "spec.template.metadata.labels",
            &super::fields::string_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
    if string(spec, &["completionMode"]) == "Indexed" {
        if let Some(completions) = int(spec, &["completions"]).filter(|value| *value > 0) {
            let name = string(object, &["metadata", "name"]);
            let hostname = format!("{name}-{}", completions - 1);
            if !validation::dns1123_label(&hostname).is_empty() {
                errors.push(FieldError::invalid(
                    "metadata.name",
                    name,
                    &format!("will not able to create pod with invalid DNS label: {hostname}"),
                ));
            }
        }
    }
    errors
}

fn immutable(old: &Value, new: &Value, name: &str, errors: &mut Vec<FieldError>) {
    let (before, after) = (old.get(name), new.get(name));
    if before.filter(|value| !value.is_null()) != after.filter(|value| !value.is_null()) {
        let rendered = match (name, after) {
            ("selector", after) => label_selector(after),
            ("template", after) => opaque(after),
            (_, Some(Value::String(text))) => go_quote(text),
            (_, after) => opaque(after),
        };
        errors.push(FieldError::invalid_raw(
            format!("spec.{name}"),
            &rendered,
            IMMUTABLE,
        ));
    }
}

/// Every problem with updating Job `old` to `new` (`ValidateJobUpdate`).
pub(super) fn validate_job_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let (old_spec, new_spec) = (
        old.get("spec").unwrap_or(&Value::Null),
        new.get("spec").unwrap_or(&Value::Null),
    );
    validate_job_spec(new_spec, "spec", &mut errors);
    let selector = new_spec
        .get("selector")
        .filter(|selector| !selector.is_null());
    match selector {
        None => errors.push(FieldError::required("spec.selector", "")),
        Some(selector) => {
            if validate_selector(Some(selector), "spec.selector", &mut errors) {
                let labels = obj(new_spec, &["template", "metadata", "labels"]);
                if !selector_matches(Some(selector), labels) {
                    errors.push(FieldError::invalid_raw(
                        "spec.template.metadata.labels",
                        &super::fields::string_map(labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        }
    }
    let indexed = string(new_spec, &["completionMode"]) == "Indexed";
    if old_spec.get("completions") != new_spec.get("completions") {
        let completions = int(new_spec, &["completions"]);
        if !indexed {
            immutable(old_spec, new_spec, "completions", &mut errors);
        } else if let Some(completions) = completions {
            if Some(completions) != int(new_spec, &["parallelism"]) {
                errors.push(FieldError::invalid_raw(
                    "spec.completions",
                    &completions.to_string(),
                    "can only be modified in tandem with spec.parallelism",
                ));
            }
        }
    }
    immutable(old_spec, new_spec, "selector", &mut errors);
    let suspended = at(old_spec, &["suspend"]).and_then(Value::as_bool) == Some(true);
    if !suspended {
        immutable(old_spec, new_spec, "template", &mut errors);
    }
    for name in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        immutable(old_spec, new_spec, name, &mut errors);
    }
    errors
}

fn validate_time_zone(spec: &Value, errors: &mut Vec<FieldError>) {
    let Some(zone) = at(spec, &["timeZone"]).and_then(Value::as_str) else {
        return;
    };
    let field = "spec.timeZone";
    if zone.is_empty() {
        errors.push(FieldError::invalid(
            field,
            zone,
            "timeZone must be nil or non-empty string",
        ));
        return;
    }
    let part_ok = |part: &str| {
        !matches!(part, "." | "..")
            && !part.starts_with('-')
            && (1..=14).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
    };
    if !zone.split('/').all(part_ok) {
        errors.push(FieldError::invalid(
            field,
            zone,
            &format!("unknown time zone {zone}"),
        ));
        return;
    }
    if zone.eq_ignore_ascii_case("local") {
        errors.push(FieldError::invalid(
            field,
            zone,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
    }
    if jiff::tz::TimeZone::get(zone).is_err() {
        errors.push(FieldError::invalid(
            field,
            zone,
            &format!("unknown time zone {zone}"),
        ));
    }
}

fn validate_cron_spec(spec: &Value, old_spec: Option<&Value>, errors: &mut Vec<FieldError>) {
    let schedule = string(spec, &["schedule"]);
    if schedule.is_empty() {
        errors.push(FieldError::required("spec.schedule", ""));
    } else {
        if let Err(why) = cron::parse_standard(schedule) {
            errors.push(FieldError::invalid("spec.schedule", schedule, &why));
        }
        let tz_allowed = old_spec.is_some_and(|old| string(old, &["schedule"]).contains("TZ"));
        if tz_allowed && schedule.contains("TZ") && present(spec, &["timeZone"]) {
            errors.push(FieldError::invalid(
                "spec.schedule",
                schedule,
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        } else if !tz_allowed && schedule.contains("TZ") {
            errors.push(FieldError::invalid(
                "spec.schedule",
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    nonnegative(
        int(spec, &["startingDeadlineSeconds"]),
        "spec.startingDeadlineSeconds",
        errors,
    );
    if old_spec.is_none_or(|old| old.get("timeZone") != spec.get("timeZone")) {
        validate_time_zone(spec, errors);
    }
    match string(spec, &["concurrencyPolicy"]) {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errors.push(FieldError::required("spec.concurrencyPolicy", "")),
        other => errors.push(FieldError::not_supported(
            "spec.concurrencyPolicy",
            other,
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let job_spec = at(spec, &["jobTemplate", "spec"]).unwrap_or(&Value::Null);
    validate_job_spec(job_spec, "spec.jobTemplate.spec", errors);
    if let Some(selector) = job_spec.get("selector").filter(|value| !value.is_null()) {
        errors.push(FieldError::invalid_raw(
            "spec.jobTemplate.spec.selector",
            &label_selector(Some(selector)),
            "`selector` will be auto-generated",
        ));
    }
    if at(job_spec, &["manualSelector"]).and_then(Value::as_bool) == Some(true) {
        errors.push(FieldError::not_supported_raw(
            "spec.jobTemplate.spec.manualSelector",
            "true",
            &["nil", "false"],
        ));
    }
    for name in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        nonnegative(int(spec, &[name]), &child("spec", name), errors);
    }
}

/// Every problem with a new CronJob (`ValidateCronJobCreate`).
pub(super) fn validate_cron_job(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_cron_spec(
        object.get("spec").unwrap_or(&Value::Null),
        None,
        &mut errors,
    );
    let name = string(object, &["metadata", "name"]);
    if name.len() > CRON_JOB_NAME_MAX {
        errors.push(FieldError::invalid(
            "metadata.name",
            name,
            &format!("must be no more than {CRON_JOB_NAME_MAX} characters"),
        ));
    }
    errors
}

/// Every problem with updating CronJob `old` to `new` (`ValidateCronJobUpdate`).
pub(super) fn validate_cron_job_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_cron_spec(
        new.get("spec").unwrap_or(&Value::Null),
        old.get("spec"),
        &mut errors,
    );
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{validate_cron_job, validate_job, validate_job_update};

    fn lines(errors: Vec<crate::validation::FieldError>) -> Vec<String> {
        errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect()
    }

    fn template(restart: &str) -> Value {
        json!({"metadata": {"labels": {"controller-uid": "u", "job-name": "j",
                "batch.kubernetes.io/controller-uid": "u", "batch.kubernetes.io/job-name": "j"}},
               "spec": {"restartPolicy": restart, "dnsPolicy": "ClusterFirst",
                "containers": [{"name": "c", "image": "x", "imagePullPolicy": "Always",
                    "terminationMessagePolicy": "File"}]}})
    }

    fn job(restart: &str) -> Value {
        json!({"metadata": {"name": "j", "uid": "u"},
               "spec": {"parallelism": -1, "completions": 1, "backoffLimit": 6,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
                "template": template(restart)}})
    }

    #[test]
    fn job_restart_policy_and_counts() {
        assert_eq!(
            lines(validate_job(&job("Always"))),
            [
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
            ]
        );
    }

    #[test]
    fn job_template_is_immutable() {
        let old = job("Never");
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("y");
        let errors = validate_job_update(&old, &new);
        assert!(errors
            .iter()
            .any(|error| error.field == "spec.template"
                && error.message.ends_with("field is immutable")));
    }

    #[test]
    fn cron_schedule() {
        let cron_job = json!({"metadata": {"name": "c"}, "spec": {"schedule": "x",
            "concurrencyPolicy": "Allow",
            "jobTemplate": {"spec": {"template": template("OnFailure")}}}});
        assert_eq!(
            lines(validate_cron_job(&cron_job)),
            ["spec.schedule: Invalid value: \"x\": expected exactly 5 fields, found 1: [x]"]
        );
    }
}
