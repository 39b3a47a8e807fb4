//! Workloads (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,
//! ReplicationControllers, PodTemplates): upstream's spec defaults, and the pod defaults on
//! their templates, so stored objects look as kube-apiserver would store them.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::pod::{default_pod_spec, object_at};
use super::Strategy;
use crate::object::Object;
use crate::status::ApiError;
use crate::storage::Store;

/// Which workload kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// apps/v1 Deployment
    Deployment,
    /// apps/v1 ReplicaSet
    ReplicaSet,
    /// apps/v1 StatefulSet
    StatefulSet,
    /// apps/v1 DaemonSet
    DaemonSet,
    /// batch/v1 Job
    Job,
    /// batch/v1 CronJob
    CronJob,
    /// v1 ReplicationController
    ReplicationController,
    /// v1 PodTemplate
    PodTemplate,
}

/// The strategy of one workload kind.
pub struct WorkloadStrategy(pub WorkloadKind);

fn default_template(template: &mut Map<String, Value>) {
    default_pod_spec(object_at(template, "spec"));
}

fn default_job_spec(spec: &mut Map<String, Value>) {
    if !spec.contains_key("completions") && !spec.contains_key("parallelism") {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    spec.entry("parallelism").or_insert_with(|| json!(1));
    spec.entry("backoffLimit").or_insert_with(|| json!(6));
    spec.entry("completionMode")
        .or_insert_with(|| json!("NonIndexed"));
    spec.entry("suspend").or_insert_with(|| json!(false));
    spec.entry("podReplacementPolicy")
        .or_insert_with(|| json!("TerminatingOrFailed"));
    default_template(object_at(spec, "template"));
}

/// Applies the kind's defaults to `object`'s spec.
pub fn default_workload(kind: WorkloadKind, object: &mut Object) {
    if kind == WorkloadKind::PodTemplate {
        default_template(object_at(&mut object.0, "template"));
        return;
    }
    let spec = object_at(&mut object.0, "spec");
    match kind {
        WorkloadKind::Deployment => {
            spec.entry("replicas").or_insert_with(|| json!(1));
            let strategy = object_at(spec, "strategy");
            strategy
                .entry("type")
                .or_insert_with(|| json!("RollingUpdate"));
            if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                let rolling = object_at(strategy, "rollingUpdate");
                rolling
                    .entry("maxUnavailable")
                    .or_insert_with(|| json!("25%"));
                rolling.entry("maxSurge").or_insert_with(|| json!("25%"));
            }
            spec.entry("revisionHistoryLimit")
                .or_insert_with(|| json!(10));
            spec.entry("progressDeadlineSeconds")
                .or_insert_with(|| json!(600));
            default_template(object_at(spec, "template"));
        }
        WorkloadKind::ReplicaSet | WorkloadKind::ReplicationController => {
            spec.entry("replicas").or_insert_with(|| json!(1));
            default_template(object_at(spec, "template"));
        }
        WorkloadKind::StatefulSet => {
            spec.entry("replicas").or_insert_with(|| json!(1));
            spec.entry("podManagementPolicy")
                .or_insert_with(|| json!("OrderedReady"));
            let update = object_at(spec, "updateStrategy");
            update
                .entry("type")
                .or_insert_with(|| json!("RollingUpdate"));
            if update.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                object_at(update, "rollingUpdate")
                    .entry("partition")
                    .or_insert_with(|| json!(0));
            }
            spec.entry("revisionHistoryLimit")
                .or_insert_with(|| json!(10));
            let retention = object_at(spec, "persistentVolumeClaimRetentionPolicy");
            retention
                .entry("whenDeleted")
                .or_insert_with(|| json!("Retain"));
            retention
                .entry("whenScaled")
                .or_insert_with(|| json!("Retain"));
            default_template(object_at(spec, "template"));
        }
        WorkloadKind::DaemonSet => {
            let update = object_at(spec, "updateStrategy");
            update
                .entry("type")
                .or_insert_with(|| json!("RollingUpdate"));
            if update.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                let rolling = object_at(update, "rollingUpdate");
                rolling.entry("maxUnavailable").or_insert_with(|| json!(1));
                rolling.entry("maxSurge").or_insert_with(|| json!(0));
            }
            spec.entry("revisionHistoryLimit")
                .or_insert_with(|| json!(10));
            default_template(object_at(spec, "template"));
        }
        WorkloadKind::Job => default_job_spec(spec),
        WorkloadKind::CronJob => {
            spec.entry("concurrencyPolicy")
                .or_insert_with(|| json!("Allow"));
            spec.entry("suspend").or_insert_with(|| json!(false));
            spec.entry("successfulJobsHistoryLimit")
                .or_insert_with(|| json!(3));
            spec.entry("failedJobsHistoryLimit")
                .or_insert_with(|| json!(1));
            let job_template = object_at(spec, "jobTemplate");
            default_job_spec(object_at(job_template, "spec"));
        }
        WorkloadKind::PodTemplate => {}
    }
}

#[async_trait]
impl Strategy for WorkloadStrategy {
    async fn before_create(&self, _store: &dyn Store, object: &mut Object) -> Result<(), ApiError> {
        default_workload(self.0, object);
        if self.0 == WorkloadKind::Job {
            super::job_selector::generate(object);
        }
        Ok(())
    }

    async fn before_update(
        &self,
        _store: &dyn Store,
        _old: &Object,
        new: &mut Object,
    ) -> Result<(), ApiError> {
        default_workload(self.0, new);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{default_workload, WorkloadKind};
    use crate::object::Object;

    #[test]
    fn deployment_defaults() {
        let mut object = Object(
            json!({"spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        default_workload(WorkloadKind::Deployment, &mut object);
        let spec = &object.0["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Always");
        assert!(spec["template"]["spec"].get("tolerations").is_none());
    }

    #[test]
    fn job_defaults_keep_explicit_completions() {
        let mut object = Object(
            json!({"spec": {"completions": 3, "template": {"spec": {"restartPolicy": "Never", "containers": []}}}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        default_workload(WorkloadKind::Job, &mut object);
        assert_eq!(object.0["spec"]["completions"], 3);
        assert_eq!(object.0["spec"]["parallelism"], 1);
        assert_eq!(object.0["spec"]["backoffLimit"], 6);
        assert_eq!(
            object.0["spec"]["template"]["spec"]["restartPolicy"],
            "Never"
        );
    }
}
