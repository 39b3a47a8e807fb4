//! The Job, CronJob and TTL-after-finished loops against a real API server, the manager
//! run in the test with a test clock (so back-offs, schedules and TTLs pass at once) and
//! the test playing the kubelet through `pods/status`.

#[path = "support/kubelet.rs"]
mod kubelet;
#[path = "support/manager.rs"]
mod manager;

use manager::eventually;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_controllers::{Clock, ManagerOptions, TestClock};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{CronJob, Job, JobCondition};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

/// The harness's cluster with the test clock the time-driven loops go by.
struct Cluster {
    base: manager::Cluster,
    clock: Arc<TestClock>,
}

impl std::ops::Deref for Cluster {
    type Target = manager::Cluster;

    fn deref(&self) -> &manager::Cluster {
        &self.base
    }
}

async fn cluster() -> Result<Cluster> {
    let clock = Arc::new(TestClock::new(Timestamp::now()));
    let base = manager::Cluster::start(ManagerOptions {
        clock: clock.clone(),
        ..ManagerOptions::default()
    })
    .await?;
    Ok(Cluster { base, clock })
}

fn job_spec(name: &str, spec: Value) -> Result<Job> {
    let mut body = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox"}]
        }}}
    });
    if let (Some(target), Value::Object(extra)) = (body["spec"].as_object_mut(), spec) {
        target.extend(extra);
    }
    Ok(serde_json::from_value(body)?)
}

/// The Job's pods (by its name label), sorted by name.
async fn pods_of(pods: &Api<Pod>, job: &str) -> Result<Vec<Pod>> {
    let mut list = pods
        .list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}")))
        .await?
        .items;
    list.sort_by_key(|pod| pod.name_any());
    Ok(list)
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

fn running(pod: &Pod) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && pod.metadata.deletion_timestamp.is_none()
}

fn conditions(job: &Job) -> Vec<JobCondition> {
    job.status
        .as_ref()
        .and_then(|status| status.conditions.clone())
        .unwrap_or_default()
}

fn condition_summary(job: &Job) -> Vec<(String, String, String)> {
    conditions(job)
        .into_iter()
        .map(|c| (c.type_, c.status, c.reason.unwrap_or_default()))
        .collect()
}

fn has_condition(job: &Job, type_: &str) -> bool {
    conditions(job)
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

fn finalizers(pod: &Pod) -> Vec<String> {
    pod.metadata.finalizers.clone().unwrap_or_default()
}

/// Reasons of the events about `name` (events.k8s.io, as the loops record them).
async fn event_reasons(client: &Client, name: &str) -> Result<Vec<String>> {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), "default");
    Ok(events
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|event| event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .filter_map(|event| event.reason)
        .collect())
}

/// Merge-patches a Job's spec, retrying on 409: the API server does not yet retry a
/// patch that races another writer (the Job controller writing the status).
async fn patch_job(jobs: &Api<Job>, name: &str, patch: Value) -> Result<()> {
    for _ in 0..20 {
        match jobs
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
    bail!("patching Job {name} kept conflicting")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completions_with_limited_parallelism() -> Result<()> {
    let cluster = cluster().await?;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job_spec("pi", json!({"completions": 3, "parallelism": 2}))?,
    )
    .await?;

    let first = eventually("two pods", 60, || async {
        let list = pods_of(&pods, "pi").await?;
        if list.len() == 2 {
            return Ok(Some(list));
        }
        let status = jobs.get("pi").await?.status;
        bail!(
            "pods {:?}; job status {status:?}",
            list.iter().map(ResourceExt::name_any).collect::<Vec<_>>()
        )
    })
    .await?;
    for pod in &first {
        let owner = pod
            .owner_references()
            .first()
            .cloned()
            .context("owner reference")?;
        if owner.kind != "Job"
            || owner.controller != Some(true)
            || owner.block_owner_deletion != Some(true)
        {
            bail!(
                "pod {} is not controlled by its Job: {owner:?}",
                pod.name_any()
            );
        }
        if !finalizers(pod).contains(&"batch.kubernetes.io/job-tracking".to_owned()) {
            bail!("pod {} lacks the tracking finalizer", pod.name_any());
        }
        if !pod.name_any().starts_with("pi-") {
            bail!(
                "pod name {} is not generated from the Job's",
                pod.name_any()
            );
        }
        kubelet::run(&pods, &pod.name_any(), cluster.clock.now()).await?;
    }
    eventually("ready 2 and active 2", 60, || async {
        let status = jobs.get("pi").await?.status.unwrap_or_default();
        Ok(
            (status.active == Some(2) && status.ready == Some(2) && status.start_time.is_some())
                .then_some(()),
        )
    })
    .await?;

    // One finishes: exactly one more pod, never more than two running at once.
    kubelet::succeed(&pods, &first[0].name_any(), cluster.clock.now()).await?;
    let third = eventually("a third pod", 60, || async {
        let list = pods_of(&pods, "pi").await?;
        if list.iter().filter(|pod| running(pod)).count() > 2 {
            bail!(
                "more than two pods running: {:?}",
                list.iter().map(ResourceExt::name_any).collect::<Vec<_>>()
            );
        }
        Ok((list.len() == 3).then_some(list))
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let list = pods_of(&pods, "pi").await?;
    if list.len() != 3 {
        bail!("expected 3 pods after one success, found {}", list.len());
    }
    let succeeded = third
        .iter()
        .find(|pod| pod.name_any() == first[0].name_any())
        .context("the succeeded pod")?;
    eventually("the succeeded pod released", 60, || async {
        let pod = pods.get(&succeeded.name_any()).await?;
        Ok(finalizers(&pod).is_empty().then_some(()))
    })
    .await?;
    for pod in third.iter().filter(|pod| running(pod)) {
        kubelet::succeed(&pods, &pod.name_any(), cluster.clock.now()).await?;
    }

    let done = eventually("the Job complete", 60, || async {
        let job = jobs.get("pi").await?;
        Ok(has_condition(&job, "Complete").then_some(job))
    })
    .await?;
    let summary = condition_summary(&done);
    let expected = vec![
        (
            "SuccessCriteriaMet".to_owned(),
            "True".to_owned(),
            "CompletionsReached".to_owned(),
        ),
        (
            "Complete".to_owned(),
            "True".to_owned(),
            "CompletionsReached".to_owned(),
        ),
    ];
    if summary != expected {
        bail!("conditions {summary:?}, want {expected:?}");
    }
    let complete = conditions(&done)
        .into_iter()
        .find(|c| c.type_ == "Complete")
        .context("Complete")?;
    if complete.message.as_deref() != Some("Reached expected number of succeeded pods") {
        bail!("Complete message {:?}", complete.message);
    }
    let status = serde_json::to_value(done.status.clone().unwrap_or_default())?;
    if status["succeeded"] != 3
        || status["ready"] != 0
        || status["terminating"] != 0
        || status.get("active").is_some()
        || status["uncountedTerminatedPods"] != json!({})
        || status["completionTime"].is_null()
    {
        bail!("unexpected final status {status}");
    }
    for pod in pods_of(&pods, "pi").await? {
        if !finalizers(&pod).is_empty() {
            bail!(
                "pod {} keeps finalizers {:?}",
                pod.name_any(),
                finalizers(&pod)
            );
        }
    }
    let reasons = eventually("Job events", 60, || async {
        let reasons = event_reasons(&cluster.client, "pi").await?;
        let created = reasons.iter().filter(|r| *r == "SuccessfulCreate").count();
        if created == 3 && reasons.iter().any(|r| r == "Completed") {
            return Ok(Some(reasons));
        }
        bail!("events so far: {reasons:?}")
    })
    .await?;
    if reasons.iter().filter(|r| *r == "SuccessfulCreate").count() != 3 {
        bail!("events {reasons:?}");
    }

    let output = cluster.server.kubectl_ok(&["get", "jobs,cronjobs"])?;
    let row = output
        .lines()
        .find(|line| line.starts_with("job.batch/pi "))
        .with_context(|| format!("no row for the Job in:\n{output}"))?;
    if !row.contains("3/3") || !row.contains("Complete") {
        bail!("kubectl get jobs shows {row:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backoff_limit_fails_the_job() -> Result<()> {
    let cluster = cluster().await?;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job_spec("flaky", json!({"backoffLimit": 1}))?,
    )
    .await?;
    let first = eventually("the first pod", 60, || async {
        Ok(pods_of(&pods, "flaky").await?.into_iter().next())
    })
    .await?;
    kubelet::fail(&pods, &first.name_any(), 1, cluster.clock.now()).await?;
    eventually("one failure counted", 60, || async {
        let status = jobs.get("flaky").await?.status.unwrap_or_default();
        Ok((status.failed == Some(1)).then_some(()))
    })
    .await?;

    // The 10s back-off runs on the manager's clock: nothing is replaced until it moves.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    if pods_of(&pods, "flaky").await?.len() != 1 {
        bail!("the failed pod was replaced before the back-off passed");
    }
    cluster.clock.advance(SignedDuration::from_secs(11));
    let second = eventually("the replacement pod", 60, || async {
        let list = pods_of(&pods, "flaky").await?;
        Ok(list
            .into_iter()
            .find(|pod| pod.name_any() != first.name_any()))
    })
    .await?;
    kubelet::fail(&pods, &second.name_any(), 1, cluster.clock.now()).await?;

    let failed = eventually("the Job failed", 60, || async {
        let job = jobs.get("flaky").await?;
        Ok(has_condition(&job, "Failed").then_some(job))
    })
    .await?;
    let summary = condition_summary(&failed);
    let expected = vec![
        (
            "FailureTarget".to_owned(),
            "True".to_owned(),
            "BackoffLimitExceeded".to_owned(),
        ),
        (
            "Failed".to_owned(),
            "True".to_owned(),
            "BackoffLimitExceeded".to_owned(),
        ),
    ];
    if summary != expected {
        bail!("conditions {summary:?}, want {expected:?}");
    }
    let message = conditions(&failed)
        .into_iter()
        .find(|c| c.type_ == "Failed")
        .and_then(|c| c.message);
    if message.as_deref() != Some("Job has reached the specified backoff limit") {
        bail!("Failed message {message:?}");
    }
    let status = failed.status.clone().unwrap_or_default();
    if status.failed != Some(2) || status.completion_time.is_some() || status.active.is_some() {
        bail!("unexpected status {status:?}");
    }
    eventually("the BackoffLimitExceeded event", 60, || async {
        let reasons = event_reasons(&cluster.client, "flaky").await?;
        Ok(reasons
            .iter()
            .any(|r| r == "BackoffLimitExceeded")
            .then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pod_failure_policy_fails_the_job_at_once() -> Result<()> {
    let cluster = cluster().await?;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    let policy = json!({"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}
    ]});
    jobs.create(
        &PostParams::default(),
        &job_spec(
            "strict",
            json!({"backoffLimit": 6, "podFailurePolicy": policy}),
        )?,
    )
    .await?;
    let first = eventually("the first pod", 60, || async {
        Ok(pods_of(&pods, "strict").await?.into_iter().next())
    })
    .await?;
    // Exit code 3 is ignored: not counted, though replaced after the usual back-off.
    kubelet::fail(&pods, &first.name_any(), 3, cluster.clock.now()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.clock.advance(SignedDuration::from_secs(11));
    let second = eventually("a replacement for the ignored failure", 60, || async {
        let list = pods_of(&pods, "strict").await?;
        Ok(list
            .into_iter()
            .find(|pod| pod.name_any() != first.name_any()))
    })
    .await?;
    kubelet::fail(&pods, &second.name_any(), 42, cluster.clock.now()).await?;
    let failed = eventually("the Job failed", 60, || async {
        let job = jobs.get("strict").await?;
        Ok(has_condition(&job, "Failed").then_some(job))
    })
    .await?;
    let failed_condition = conditions(&failed)
        .into_iter()
        .find(|c| c.type_ == "Failed")
        .context("Failed")?;
    let want = format!(
        "Container main for pod default/{} failed with exit code 42 matching FailJob rule at index 0",
        second.name_any()
    );
    if failed_condition.reason.as_deref() != Some("PodFailurePolicy")
        || failed_condition.message.as_deref() != Some(want.as_str())
    {
        bail!("Failed condition {failed_condition:?}");
    }
    if failed.status.and_then(|s| s.failed) != Some(1) {
        bail!("the ignored failure was counted");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn indexed_job_runs_each_index_once() -> Result<()> {
    let cluster = cluster().await?;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job_spec(
            "shards",
            json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"}),
        )?,
    )
    .await?;
    let index_of = |pod: &Pod| {
        pod.annotations()
            .get("batch.kubernetes.io/job-completion-index")
            .cloned()
            .unwrap_or_default()
    };
    let first = eventually("three indexed pods", 60, || async {
        let list = pods_of(&pods, "shards").await?;
        Ok((list.len() == 3).then_some(list))
    })
    .await?;
    let mut by_index: BTreeMap<String, Pod> = BTreeMap::new();
    for pod in first {
        let index = index_of(&pod);
        if pod.labels().get("batch.kubernetes.io/job-completion-index") != Some(&index) {
            bail!("pod {} lacks the index label", pod.name_any());
        }
        let hostname = pod.spec.as_ref().and_then(|s| s.hostname.clone());
        if hostname != Some(format!("shards-{index}"))
            || !pod.name_any().starts_with(&format!("shards-{index}-"))
        {
            bail!(
                "pod {} of index {index} has hostname {hostname:?}",
                pod.name_any()
            );
        }
        if by_index.insert(index.clone(), pod).is_some() {
            bail!("index {index} was given twice");
        }
    }
    if by_index.keys().cloned().collect::<Vec<_>>() != ["0", "1", "2"] {
        bail!("indexes {:?}", by_index.keys());
    }

    let pod = |index: &str| {
        by_index
            .get(index)
            .map(ResourceExt::name_any)
            .unwrap_or_default()
    };
    kubelet::succeed(&pods, &pod("1"), cluster.clock.now()).await?;
    eventually("completedIndexes 1", 60, || async {
        let status = jobs.get("shards").await?.status.unwrap_or_default();
        Ok((status.completed_indexes.as_deref() == Some("1")).then_some(()))
    })
    .await?;
    // Index 0 fails: only index 0 is run again (after the back-off).
    kubelet::fail(&pods, &pod("0"), 1, cluster.clock.now()).await?;
    eventually("the failure counted", 60, || async {
        let status = jobs.get("shards").await?.status.unwrap_or_default();
        Ok((status.failed == Some(1)).then_some(()))
    })
    .await?;
    cluster.clock.advance(SignedDuration::from_secs(11));
    let retry = eventually("index 0 again", 60, || async {
        let list = pods_of(&pods, "shards").await?;
        Ok(list
            .into_iter()
            .find(|p| index_of(p) == "0" && p.name_any() != pod("0")))
    })
    .await?;
    let list = pods_of(&pods, "shards").await?;
    if list.len() != 4 {
        bail!(
            "expected 4 pods (one retry), found {:?}",
            list.iter().map(ResourceExt::name_any).collect::<Vec<_>>()
        );
    }
    kubelet::succeed(&pods, &retry.name_any(), cluster.clock.now()).await?;
    kubelet::succeed(&pods, &pod("2"), cluster.clock.now()).await?;
    let done = eventually("the indexed Job complete", 60, || async {
        let job = jobs.get("shards").await?;
        Ok(has_condition(&job, "Complete").then_some(job))
    })
    .await?;
    let status = done.status.unwrap_or_default();
    if status.completed_indexes.as_deref() != Some("0-2")
        || status.succeeded != Some(3)
        || status.failed != Some(1)
    {
        bail!("unexpected status {status:?}");
    }
    if pods_of(&pods, "shards").await?.len() != 4 {
        bail!("an index ran more than once");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn suspend_deletes_active_pods() -> Result<()> {
    let cluster = cluster().await?;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job_spec("pausable", json!({"completions": 4, "parallelism": 2}))?,
    )
    .await?;
    eventually("two pods", 60, || async {
        let list = pods_of(&pods, "pausable").await?;
        if list.len() == 2 {
            return Ok(Some(()));
        }
        let status = jobs.get("pausable").await?.status;
        bail!(
            "pods {:?}; job status {status:?}",
            list.iter().map(ResourceExt::name_any).collect::<Vec<_>>()
        )
    })
    .await?;
    patch_job(&jobs, "pausable", json!({"spec": {"suspend": true}})).await?;
    let suspended = eventually("pods deleted and the Job suspended", 60, || async {
        let job = jobs.get("pausable").await?;
        let gone = pods_of(&pods, "pausable").await?.is_empty();
        Ok((gone && has_condition(&job, "Suspended")).then_some(job))
    })
    .await?;
    let condition = conditions(&suspended)
        .into_iter()
        .find(|c| c.type_ == "Suspended")
        .context("Suspended")?;
    if condition.reason.as_deref() != Some("JobSuspended")
        || condition.message.as_deref() != Some("Job suspended")
    {
        bail!("Suspended condition {condition:?}");
    }
    let status = suspended.status.unwrap_or_default();
    if status.active.is_some() || status.failed.is_some() {
        bail!("a suspended Job counts {status:?}");
    }
    patch_job(&jobs, "pausable", json!({"spec": {"suspend": false}})).await?;
    let resumed = eventually("pods back after resuming", 60, || async {
        let job = jobs.get("pausable").await?;
        let back = pods_of(&pods, "pausable").await?.len() == 2;
        let resumed = conditions(&job).iter().any(|c| {
            c.type_ == "Suspended"
                && c.status == "False"
                && c.reason.as_deref() == Some("JobResumed")
        });
        Ok((back && resumed).then_some(job))
    })
    .await?;
    if resumed.status.and_then(|s| s.active) != Some(2) {
        bail!("the resumed Job does not count its pods");
    }
    eventually("Suspended and Resumed events", 60, || async {
        let reasons = event_reasons(&cluster.client, "pausable").await?;
        let both =
            reasons.iter().any(|r| r == "Suspended") && reasons.iter().any(|r| r == "Resumed");
        let deleted = reasons.iter().filter(|r| *r == "SuccessfulDelete").count() == 2;
        Ok((both && deleted).then_some(()))
    })
    .await?;
    Ok(())
}

/// Moves the clock to `seconds` past the next whole minute.
fn to_next_minute(clock: &TestClock, seconds: i64) {
    let now = clock.now().as_second();
    let next = (now / 60 + 1) * 60 + seconds;
    clock.set(Timestamp::from_second(next).unwrap_or(Timestamp::UNIX_EPOCH));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cronjob_schedules_forbids_and_prunes() -> Result<()> {
    let cluster = cluster().await?;
    let cron_jobs: Api<CronJob> = Api::namespaced(cluster.client.clone(), "default");
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    let cron: CronJob = serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "*/1 * * * *",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 2,
            "jobTemplate": {"metadata": {"labels": {"app": "tick"}}, "spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox"}]
            }}}}
        }
    }))?;
    cron_jobs.create(&PostParams::default(), &cron).await?;
    let owned = |job: &Job| {
        job.owner_references()
            .iter()
            .any(|o| o.kind == "CronJob" && o.name == "tick")
    };
    let list_jobs = || async {
        let mut list: Vec<Job> = jobs
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(owned)
            .collect();
        list.sort_by_key(ResourceExt::name_any);
        anyhow::Ok(list)
    };
    // The Job of the minute starting at `scheduled`, created and listed as active.
    let expect_job = |scheduled: i64| {
        let name = format!("tick-{}", scheduled / 60);
        let (cron_jobs, list_jobs) = (&cron_jobs, &list_jobs);
        async move {
            let job = eventually(&format!("Job {name}"), 60, || async {
                Ok(list_jobs()
                    .await?
                    .into_iter()
                    .find(|job| job.name_any() == name))
            })
            .await?;
            let stamp = job
                .annotations()
                .get("batch.kubernetes.io/cronjob-scheduled-timestamp")
                .cloned()
                .unwrap_or_default();
            let want = Timestamp::from_second(scheduled)?
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            if stamp != want || job.labels().get("app").map(String::as_str) != Some("tick") {
                bail!(
                    "Job {name} has stamp {stamp:?} (want {want}) and labels {:?}",
                    job.labels()
                );
            }
            eventually("the Job active in the CronJob", 60, || async {
                let status = cron_jobs.get("tick").await?.status.unwrap_or_default();
                let active = status.active.clone().unwrap_or_default();
                let listed = active.len() == 1 && active[0].name.as_deref() == Some(name.as_str());
                let last = status.last_schedule_time.map(|t| t.0.as_second());
                if listed && last == Some(scheduled) {
                    return Ok(Some(()));
                }
                bail!("active {active:?}, lastScheduleTime {last:?}")
            })
            .await?;
            anyhow::Ok(name)
        }
    };
    // Plays the kubelet: the Job's pod succeeds, so the Job completes.
    let complete = |name: String| {
        let (pods, jobs, clock) = (&pods, &jobs, &cluster.clock);
        async move {
            let pod = eventually("the Job's pod", 60, || async {
                Ok(pods_of(pods, &name).await?.into_iter().next())
            })
            .await?;
            kubelet::succeed(pods, &pod.name_any(), clock.now()).await?;
            eventually("the Job complete", 60, || async {
                Ok(has_condition(&jobs.get(&name).await?, "Complete").then_some(()))
            })
            .await?;
            anyhow::Ok(name)
        }
    };
    let minute = |clock: &TestClock| clock.now().as_second() / 60 * 60;

    // Nothing before the first schedule time.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    if !list_jobs().await?.is_empty() {
        bail!("a Job was created before its schedule time");
    }
    to_next_minute(&cluster.clock, 5);
    let first = expect_job(minute(&cluster.clock)).await?;

    // Forbid: the next minute comes while the first Job still runs; nothing starts.
    cluster.clock.advance(SignedDuration::from_secs(60));
    let skipped = minute(&cluster.clock);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    if list_jobs().await?.len() != 1 {
        bail!("Forbid started a second Job while one was active");
    }
    eventually("the JobAlreadyActive event", 60, || async {
        let reasons = event_reasons(&cluster.client, "tick").await?;
        Ok(reasons
            .iter()
            .any(|r| r == "JobAlreadyActive")
            .then_some(()))
    })
    .await?;

    // Once it completes, the skipped time (still unmet, no starting deadline) runs at once.
    let first = complete(first).await?;
    let second = expect_job(skipped).await?;
    // Recorded by the sync after (upstream notes successes of Jobs no longer active).
    let first_done = jobs
        .get(&first)
        .await?
        .status
        .and_then(|s| s.completion_time)
        .map(|t| t.0)
        .context("the first Job's completion time")?;
    eventually("lastSuccessfulTime of the first Job", 60, || async {
        let status = cron_jobs.get("tick").await?.status.unwrap_or_default();
        let last = status.last_successful_time.map(|t| t.0);
        if last == Some(first_done) {
            return Ok(Some(()));
        }
        bail!("lastSuccessfulTime {last:?}, want {first_done}")
    })
    .await?;
    let second = complete(second).await?;
    eventually("no Job active", 60, || async {
        let status = cron_jobs.get("tick").await?.status.unwrap_or_default();
        Ok(status.active.unwrap_or_default().is_empty().then_some(()))
    })
    .await?;

    to_next_minute(&cluster.clock, 5);
    let third = expect_job(minute(&cluster.clock)).await?;
    let third = complete(third).await?;

    // Three succeeded Jobs, a history of two: the oldest is gone.
    let remaining = eventually("the oldest Job pruned", 60, || async {
        let names: Vec<String> = list_jobs()
            .await?
            .iter()
            .map(ResourceExt::name_any)
            .collect();
        Ok((names.len() == 2).then_some(names))
    })
    .await?;
    if remaining != [second.clone(), third.clone()] {
        bail!("kept {remaining:?}, want {second} and {third} ({first} pruned)");
    }
    let reasons = eventually("the CronJob's events", 60, || async {
        let reasons = event_reasons(&cluster.client, "tick").await?;
        let all = ["SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"]
            .iter()
            .all(|reason| reasons.iter().any(|r| r == reason));
        if all {
            return Ok(Some(reasons));
        }
        bail!("events so far: {reasons:?}")
    })
    .await?;
    if reasons.iter().filter(|r| *r == "SuccessfulCreate").count() != 3 {
        bail!("expected three SuccessfulCreate events: {reasons:?}");
    }
    let output = cluster.server.kubectl_ok(&["get", "jobs,cronjobs"])?;
    if !output.contains("cronjob.batch/tick")
        || !output.contains("*/1 * * * *")
        || !output.contains(&format!("job.batch/{third}"))
        || output.contains(&format!("job.batch/{first} "))
    {
        bail!("kubectl get jobs,cronjobs shows:\n{output}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ttl_deletes_a_finished_job() -> Result<()> {
    let cluster = cluster().await?;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job_spec("short-lived", json!({"ttlSecondsAfterFinished": 30}))?,
    )
    .await?;
    let pod = eventually("the pod", 60, || async {
        Ok(pods_of(&pods, "short-lived").await?.into_iter().next())
    })
    .await?;
    kubelet::succeed(&pods, &pod.name_any(), cluster.clock.now()).await?;
    eventually("the Job complete", 60, || async {
        let job = jobs.get("short-lived").await?;
        Ok(has_condition(&job, "Complete").then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let kept = jobs.get("short-lived").await?;
    if kept.metadata.deletion_timestamp.is_some() {
        bail!("the Job was deleted before its TTL");
    }
    cluster.clock.advance(SignedDuration::from_secs(31));
    // Deleted with foreground propagation: gone, or held by the garbage collector's
    // foregroundDeletion finalizer while its pods go.
    eventually("the Job deleted", 30, || async {
        Ok(match jobs.get_opt("short-lived").await? {
            None => Some(()),
            Some(job) => job.metadata.deletion_timestamp.map(|_| ()),
        })
    })
    .await?;
    Ok(())
}
