//! The pods a Job creates: its template with the tracking finalizer and the Job as
//! controlling owner; for Indexed Jobs also the completion index (annotation, label,
//! `JOB_COMPLETION_INDEX`), the hostname `<job>-<index>` and, with `backoffLimitPerIndex`,
//! the index's failure counts.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::indexes::COMPLETION_INDEX;
use super::pods::TRACKING_FINALIZER;

/// The environment variable carrying the completion index.
const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";
/// Failures of an index so far (with `backoffLimitPerIndex`).
pub const INDEX_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";
/// Ignored failures of an index so far.
pub const INDEX_IGNORED_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-ignored-failure-count";
/// Upstream's `names.MaxGeneratedNameLength` (63 minus the random suffix).
const MAX_GENERATED_NAME_LENGTH: usize = 58;

/// The Job as its pods' controlling owner.
pub fn controller_ref(job: &Job) -> OwnerReference {
    OwnerReference {
        api_version: "batch/v1".to_owned(),
        kind: "Job".to_owned(),
        name: job.metadata.name.clone().unwrap_or_default(),
        uid: job.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Where a new pod of an Indexed Job stands.
#[derive(Clone, Copy, Debug)]
pub struct IndexedPod {
    /// Its completion index.
    pub index: i32,
    /// Failures (counted, ignored) of the index so far, with `backoffLimitPerIndex`.
    pub failure_counts: Option<(i32, i32)>,
}

/// A new pod for `job`.
pub fn pod_for(job: &Job, indexed: Option<IndexedPod>) -> Pod {
    let name = job.metadata.name.clone().unwrap_or_default();
    let template = job
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    let mut labels = template_meta.labels.unwrap_or_default();
    let mut annotations = template_meta.annotations.unwrap_or_default();
    let mut finalizers = template_meta.finalizers.unwrap_or_default();
    if !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
        finalizers.push(TRACKING_FINALIZER.to_owned());
    }
    let mut generate_name = format!("{name}-");
    if let Some(indexed) = indexed {
        spec.init_containers
            .iter_mut()
            .flatten()
            .for_each(add_index_env);
        spec.containers.iter_mut().for_each(add_index_env);
        let index = indexed.index.to_string();
        annotations.insert(COMPLETION_INDEX.to_owned(), index.clone());
        labels.insert(COMPLETION_INDEX.to_owned(), index.clone());
        spec.hostname = Some(format!("{name}-{index}"));
        generate_name = generate_name_with_index(&name, indexed.index);
        if let Some((failed, ignored)) = indexed.failure_counts {
            annotations.insert(INDEX_FAILURE_COUNT.to_owned(), failed.to_string());
            if ignored > 0 {
                annotations.insert(INDEX_IGNORED_FAILURE_COUNT.to_owned(), ignored.to_string());
            }
        }
    }
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.metadata.namespace.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            finalizers: Some(finalizers),
            owner_references: Some(vec![controller_ref(job)]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}

fn add_index_env(container: &mut Container) {
    let env = container.env.get_or_insert_with(Vec::new);
    if env.iter().any(|var| var.name == INDEX_ENV) {
        return;
    }
    env.push(EnvVar {
        name: INDEX_ENV.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: format!("metadata.labels['{COMPLETION_INDEX}']"),
            }),
            ..EnvVarSource::default()
        }),
    });
}

/// `<job>-<index>-`, the Job name cut so the prefix leaves room for the random suffix.
fn generate_name_with_index(job: &str, index: i32) -> String {
    let suffix = format!("-{index}-");
    let prefix = format!("{job}{suffix}");
    if prefix.len() <= MAX_GENERATED_NAME_LENGTH {
        return prefix;
    }
    let keep = MAX_GENERATED_NAME_LENGTH.saturating_sub(suffix.len());
    let cut: String = job.chars().take(keep).collect();
    format!("{cut}{suffix}")
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::batch::v1::Job;
    use serde_json::json;

    use super::{generate_name_with_index, pod_for, IndexedPod};

    #[test]
    fn indexed_pods_carry_their_index() {
        let job: Job = serde_json::from_value(json!({
            "metadata": {"name": "work", "namespace": "ns", "uid": "u1"},
            "spec": {"completionMode": "Indexed", "completions": 3, "template": {
                "metadata": {"labels": {"job-name": "work"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}
            }}
        }))
        .unwrap_or_default();
        let pod = pod_for(
            &job,
            Some(IndexedPod {
                index: 2,
                failure_counts: None,
            }),
        );
        let value = serde_json::to_value(&pod).unwrap_or_default();
        assert_eq!(value["metadata"]["generateName"], "work-2-");
        assert_eq!(
            value["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"],
            "2"
        );
        assert_eq!(
            value["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"],
            "2"
        );
        assert_eq!(
            value["metadata"]["finalizers"],
            json!(["batch.kubernetes.io/job-tracking"])
        );
        assert_eq!(value["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(value["spec"]["hostname"], "work-2");
        assert_eq!(
            value["spec"]["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.labels['batch.kubernetes.io/job-completion-index']"
        );
        let plain = serde_json::to_value(pod_for(&job, None)).unwrap_or_default();
        assert_eq!(plain["metadata"]["generateName"], "work-");
    }

    #[test]
    fn long_names_are_cut() {
        let long = "a".repeat(70);
        let prefix = generate_name_with_index(&long, 12);
        assert_eq!(prefix.len(), 58);
        assert!(prefix.ends_with("-12-"));
    }
}
