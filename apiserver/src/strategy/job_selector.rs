//! A Job's generated selector, as upstream's Job strategy makes it on create unless
//! `manualSelector` is true: the pod template gets labels unique to the Job (its uid and
//! name, in the `batch.kubernetes.io/` form and the legacy one) and the selector matches
//! the uid label, so two Jobs never claim each other's pods.

use serde_json::{json, Map, Value};

use crate::object::Object;

const UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
const NAME_LABEL: &str = "batch.kubernetes.io/job-name";
const LEGACY_UID_LABEL: &str = "controller-uid";
const LEGACY_NAME_LABEL: &str = "job-name";

/// Adds the generated labels and selector to a new Job (a no-op with `manualSelector`).
pub fn generate(job: &mut Object) {
    let uid = job.meta_str("uid").unwrap_or_default().to_owned();
    let name = job.name().unwrap_or_default().to_owned();
    let Some(spec) = job.0.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let template = spec
        .entry("template")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .map(|template| {
            template
                .entry("metadata")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|meta| meta.entry("labels").or_insert_with(|| json!({})))
        });
    if let Some(Some(Value::Object(labels))) = template {
        insert_labels(labels, &uid, &name);
    }
    spec.insert(
        "selector".to_owned(),
        json!({"matchLabels": {UID_LABEL: uid}}),
    );
}

fn insert_labels(labels: &mut Map<String, Value>, uid: &str, name: &str) {
    labels.insert(UID_LABEL.to_owned(), json!(uid));
    labels.insert(NAME_LABEL.to_owned(), json!(name));
    labels.insert(LEGACY_UID_LABEL.to_owned(), json!(uid));
    labels.insert(LEGACY_NAME_LABEL.to_owned(), json!(name));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::generate;
    use crate::object::Object;

    #[test]
    fn selector_and_labels_are_generated() {
        let mut job = Object(
            json!({"metadata": {"name": "pi", "uid": "u-1"},
                   "spec": {"template": {"metadata": {"labels": {"app": "pi"}}, "spec": {}}}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
        generate(&mut job);
        assert_eq!(
            job.0["spec"]["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
        );
        let labels = &job.0["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["app"], "pi");
        assert_eq!(labels["batch.kubernetes.io/job-name"], "pi");
        assert_eq!(labels["controller-uid"], "u-1");
    }
}
