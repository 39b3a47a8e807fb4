//! `batch/v1`: Jobs (status, completions, duration) and CronJobs.

use k8s_openapi::api::batch::v1::{CronJobSpec, CronJobStatus, JobSpec, JobStatus};

use super::common::{
    age, container_cells, deleting, doc, int, name, text, AGE, CONTAINERS, IMAGES, NAME,
};
use super::format;
use super::node::Node;
use super::printer::{Column, Context, Doc, Printer, Row};

const JOB_SELECTOR: Column = Column::wide("Selector", "string", doc::<JobSpec>("selector"));

/// `jobs`.
pub static JOB: Printer = Printer::new(
    &[
        NAME,
        Column::new("Status", "string", Doc::Text("Status of the job.")),
        Column::new("Completions", "string", doc::<JobStatus>("succeeded")),
        Column::new(
            "Duration",
            "string",
            Doc::Text("Time required to complete the job."),
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        JOB_SELECTOR,
    ],
    job_row,
);

/// `hasJobCondition`: the first condition of the type, and whether it is true.
fn condition(job: Node<'_>, kind: &str) -> bool {
    job.at(&["status", "conditions"])
        .items()
        .find(|condition| condition.get("type").str() == kind)
        .is_some_and(|condition| condition.get("status").str() == "True")
}

/// The `Status` column of a job.
pub fn job_status(job: Node<'_>) -> &'static str {
    if condition(job, "Complete") {
        "Complete"
    } else if condition(job, "Failed") {
        "Failed"
    } else if deleting(job) {
        "Terminating"
    } else if condition(job, "Suspended") {
        "Suspended"
    } else if condition(job, "FailureTarget") {
        "FailureTarget"
    } else if condition(job, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

/// The `Completions` column: `succeeded/completions`, or `succeeded/1 of parallelism`.
pub fn completions(job: Node<'_>) -> String {
    let spec = job.get("spec");
    let succeeded = job.at(&["status", "succeeded"]).int();
    let parallelism = spec.get("parallelism").as_i64();
    // The API defaults both to 1 when neither is set.
    let completions = spec
        .get("completions")
        .as_i64()
        .or_else(|| parallelism.is_none().then_some(1));
    match completions {
        Some(completions) => format!("{succeeded}/{completions}"),
        None if parallelism.unwrap_or(1) > 1 => {
            format!("{succeeded}/1 of {}", parallelism.unwrap_or(1))
        }
        None => format!("{succeeded}/1"),
    }
}

fn job_row(job: Node<'_>, context: &Context) -> Row {
    let status = job.get("status");
    let duration = match (
        format::timestamp(status.get("startTime")),
        format::timestamp(status.get("completionTime")),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => format::human_duration(context.now.duration_since(start)),
        (Some(start), Some(end)) => format::human_duration(end.duration_since(start)),
    };
    let spec = job.get("spec");
    let [names, images] = container_cells(spec.at(&["template", "spec"]));
    vec![
        name(job),
        text(job_status(job)),
        text(completions(job)),
        text(duration),
        age(job, context),
        names,
        images,
        text(format::label_selector(spec.get("selector"))),
    ]
    .into()
}

/// `cronjobs`.
pub static CRON_JOB: Printer = Printer::new(
    &[
        NAME,
        Column::new("Schedule", "string", doc::<CronJobSpec>("schedule")),
        Column::new("Timezone", "string", doc::<CronJobSpec>("timeZone")),
        Column::new("Suspend", "boolean", doc::<CronJobSpec>("suspend")),
        Column::new("Active", "integer", doc::<CronJobStatus>("active")),
        Column::new(
            "Last Schedule",
            "string",
            doc::<CronJobStatus>("lastScheduleTime"),
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        JOB_SELECTOR,
    ],
    |cron, context| {
        let spec = cron.get("spec");
        let status = cron.get("status");
        let last = if format::timestamp(status.get("lastScheduleTime")).is_some() {
            format::since(status.get("lastScheduleTime"), context.now)
        } else {
            "<none>".to_owned()
        };
        let time_zone = spec
            .get("timeZone")
            .as_str()
            .map_or_else(|| "<none>".to_owned(), str::to_owned);
        // `suspend` defaults to false.
        let suspend = format::go_bool(spec.get("suspend").bool());
        let job_spec = spec.at(&["jobTemplate", "spec"]);
        let [names, images] = container_cells(job_spec.at(&["template", "spec"]));
        vec![
            name(cron),
            text(spec.get("schedule").str()),
            text(time_zone),
            text(suspend),
            int(status.get("active").count() as i64),
            text(last),
            age(cron, context),
            names,
            images,
            text(format::label_selector(job_spec.get("selector"))),
        ]
        .into()
    },
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{completions, job_status};
    use crate::table::node::Node;

    #[test]
    fn completions_follow_parallelism() {
        let job = |spec| json!({"spec": spec, "status": {"succeeded": 1}});
        assert_eq!(
            completions(Node::of(&job(json!({"completions": 3})))),
            "1/3"
        );
        assert_eq!(completions(Node::of(&job(json!({})))), "1/1");
        assert_eq!(
            completions(Node::of(&job(json!({"parallelism": 4})))),
            "1/1 of 4"
        );
        assert_eq!(
            completions(Node::of(&job(json!({"parallelism": 1})))),
            "1/1"
        );
    }

    #[test]
    fn status_by_conditions() {
        let job = |conditions| json!({"status": {"conditions": conditions}});
        assert_eq!(job_status(Node::of(&job(json!([])))), "Running");
        assert_eq!(
            job_status(Node::of(&job(
                json!([{"type": "Complete", "status": "True"}])
            ))),
            "Complete"
        );
        assert_eq!(
            job_status(Node::of(&job(
                json!([{"type": "Failed", "status": "True"}])
            ))),
            "Failed"
        );
        assert_eq!(
            job_status(Node::of(&job(
                json!([{"type": "Suspended", "status": "True"}])
            ))),
            "Suspended"
        );
    }
}
