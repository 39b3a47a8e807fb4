//! Workloads (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,
//! ReplicationControllers, PodTemplates): upstream's spec defaults, and the pod defaults on
//! their templates, so stored objects look as kube-apiserver would store them; then
//! upstream's validation of the result (`apps` and `batch`), on create and on update.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::pod::{default_pod_spec, object_at};
use super::{apps, batch, Strategy};
use crate::object::Object;
use crate::status::ApiError;
use crate::storage::Store;
use crate::validation::{self, FieldError};

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

impl WorkloadKind {
    /// The kind and API group, as a 422 names them.
    fn kind_and_group(self) -> (&'static str, &'static str) {
        match self {
            Self::Deployment => ("Deployment", "apps"),
            Self::ReplicaSet => ("ReplicaSet", "apps"),
            Self::StatefulSet => ("StatefulSet", "apps"),
            Self::DaemonSet => ("DaemonSet", "apps"),
            Self::Job => ("Job", "batch"),
            Self::CronJob => ("CronJob", "batch"),
            Self::ReplicationController => ("ReplicationController", ""),
            Self::PodTemplate => ("PodTemplate", ""),
        }
    }

    /// A 422 listing `errors`, or nothing when there are none.
    fn reject(self, object: &Object, errors: Vec<FieldError>) -> Result<(), ApiError> {
        if errors.is_empty() {
            return Ok(());
        }
        let (kind, group) = self.kind_and_group();
        Err(validation::invalid(
            kind,
            group,
            object.name().unwrap_or_default(),
            errors,
        ))
    }
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
    let replacement = if spec
        .get("podFailurePolicy")
        .is_some_and(|policy| !policy.is_null())
    {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    spec.entry("podReplacementPolicy")
        .or_insert_with(|| json!(replacement));
    default_template(object_at(spec, "template"));
}

/// A ReplicationController selects, and is labelled with, its template's labels unless it
/// says otherwise (`SetDefaults_ReplicationController`).
fn default_replication_controller(object: &mut Object) {
    let labels = object
        .0
        .get("spec")
        .and_then(|spec| spec.get("template"))
        .and_then(|template| template.get("metadata"))
        .and_then(|meta| meta.get("labels"))
        .filter(|labels| labels.is_object())
        .cloned();
    if let Some(labels) = labels {
        let spec = object_at(&mut object.0, "spec");
        let no_selector = spec
            .get("selector")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty);
        if no_selector {
            spec.insert("selector".into(), labels.clone());
        }
        let meta = object.metadata_mut();
        if meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
        {
            meta.insert("labels".into(), labels);
        }
    }
    let spec = object_at(&mut object.0, "spec");
    spec.entry("replicas").or_insert_with(|| json!(1));
    if let Some(Value::Object(template)) = spec.get_mut("template") {
        default_template(template);
    }
}

/// Applies the kind's defaults to `object`'s spec.
pub fn default_workload(kind: WorkloadKind, object: &mut Object) {
    match kind {
        WorkloadKind::PodTemplate => {
            default_template(object_at(&mut object.0, "template"));
            return;
        }
        WorkloadKind::ReplicationController => {
            default_replication_controller(object);
            return;
        }
        _ => {}
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
        WorkloadKind::ReplicaSet => {
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
            // Upstream defaults a Job's own fields only on Jobs; a CronJob's template gets
            // the pod defaults alone.
            let job_template = object_at(spec, "jobTemplate");
            default_template(object_at(object_at(job_template, "spec"), "template"));
        }
        WorkloadKind::PodTemplate | WorkloadKind::ReplicationController => {}
    }
}

#[async_trait]
impl Strategy for WorkloadStrategy {
    async fn before_create(&self, _store: &dyn Store, object: &mut Object) -> Result<(), ApiError> {
        default_workload(self.0, object);
        if self.0 == WorkloadKind::Job {
            super::job_selector::generate(object);
        }
        if self.0 == WorkloadKind::DaemonSet {
            let given = template_generation(object).filter(|generation| *generation >= 1);
            set_template_generation(object, given.unwrap_or(1));
        }
        let value = Value::Object(object.0.clone());
        let errors = match self.0 {
            WorkloadKind::Job => batch::validate_job(&value),
            WorkloadKind::CronJob => batch::validate_cron_job(&value),
            kind => apps::validate(kind, &value),
        };
        self.0.reject(object, errors)
    }

    async fn before_update(
        &self,
        _store: &dyn Store,
        old: &Object,
        new: &mut Object,
    ) -> Result<(), ApiError> {
        default_workload(self.0, new);
        if self.0 == WorkloadKind::DaemonSet {
            // Clients cannot set it; a new template bumps it.
            let current = template_generation(old).unwrap_or(1);
            let template = |object: &Object| {
                object
                    .0
                    .get("spec")
                    .and_then(|spec| spec.get("template"))
                    .cloned()
            };
            let bumped = if template(old) == template(new) {
                current
            } else {
                current + 1
            };
            set_template_generation(new, bumped);
        }
        let old_value = Value::Object(old.0.clone());
        let new_value = Value::Object(new.0.clone());
        let errors = match self.0 {
            WorkloadKind::Job => batch::validate_job_update(&old_value, &new_value),
            WorkloadKind::CronJob => batch::validate_cron_job_update(&old_value, &new_value),
            kind => apps::validate_update(kind, &old_value, &new_value),
        };
        self.0.reject(new, errors)
    }
}

/// The annotation apps/v1 DaemonSets carry upstream's `spec.templateGeneration` in: the
/// DaemonSet controller labels its pods `pod-template-generation` with it.
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

fn template_generation(object: &Object) -> Option<i64> {
    object
        .metadata()?
        .get("annotations")?
        .get(TEMPLATE_GENERATION)?
        .as_str()?
        .parse()
        .ok()
}

fn set_template_generation(object: &mut Object, generation: i64) {
    let annotations = object
        .metadata_mut()
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(
            TEMPLATE_GENERATION.to_owned(),
            Value::String(generation.to_string()),
        );
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
