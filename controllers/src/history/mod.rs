//! ControllerRevisions, as upstream's `controller/history` package: the snapshots of a
//! StatefulSet's or DaemonSet's pod template that rollouts move between and that
//! `kubectl rollout history|undo` read.
//!
//! A revision's `data` is a strategic merge patch that restores the template
//! (`{"spec":{"template":{..., "$patch":"replace"}}}`), so that kubectl undoes a rollout by
//! patching the owner with it.

mod hash;
mod store;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::{json, Value};

pub use hash::{fnv_hash, hash_template, revision_name};
pub use store::{
    adopt_revision, create_revision, delete_revision, set_revision_number, RevisionError,
};

/// The label on revisions holding their data's hash (upstream's `ControllerRevisionHashLabel`).
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// The label on pods (and DaemonSet revisions) naming the revision they come from.
pub const POD_REVISION_LABEL: &str = "controller-revision-hash";

/// Upstream's `getPatch`: the template as a strategic merge patch that replaces it whole.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut template = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut template {
        map.insert("$patch".to_owned(), json!("replace"));
    }
    json!({"spec": {"template": template}})
}

/// The revision's data as JSON (`Null` when absent).
pub fn data(revision: &ControllerRevision) -> &Value {
    revision.data.as_ref().map_or(&Value::Null, |raw| &raw.0)
}

/// The pod template a revision restores, when its data holds one.
pub fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut template = data(revision).get("spec")?.get("template")?.clone();
    if let Value::Object(map) = &mut template {
        map.remove("$patch");
    }
    serde_json::from_value(template).ok()
}

/// Whether two revisions hold the same data (upstream's `EqualRevision`).
pub fn equal_data(a: &ControllerRevision, b: &ControllerRevision) -> bool {
    data(a) == data(b)
}

/// The controller reference of a revision, if any.
pub fn controller_of(revision: &ControllerRevision) -> Option<&OwnerReference> {
    revision
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|owner| owner.controller == Some(true))
}

/// Whether a revision belongs to the owner with `uid` or to no one (upstream's
/// `ListControllerRevisions` keeps both: orphans are for adoption).
pub fn owned_or_orphan(revision: &ControllerRevision, uid: &str) -> bool {
    controller_of(revision).is_none_or(|owner| owner.uid == uid)
}

/// The revisions holding the same data as `needle`, in the order given (upstream's
/// `FindEqualRevisions`).
pub fn find_equal<'a>(
    revisions: &'a [ControllerRevision],
    needle: &ControllerRevision,
) -> Vec<&'a ControllerRevision> {
    revisions
        .iter()
        .filter(|revision| equal_data(revision, needle))
        .collect()
}

/// Sorts by revision number, then by name (upstream's `SortControllerRevisions`).
pub fn sort(revisions: &mut [ControllerRevision]) {
    revisions.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

/// The number after the highest revision (1 for none).
pub fn next_number(revisions: &[ControllerRevision]) -> i64 {
    revisions.iter().map(|r| r.revision).max().unwrap_or(0) + 1
}

/// What a new revision is made of.
pub struct NewRevision<'a> {
    /// The owner's name (the revision's name prefix) and namespace.
    pub owner_name: &'a str,
    /// The owner's namespace.
    pub namespace: &'a str,
    /// The controller reference to the owner.
    pub owner: &'a OwnerReference,
    /// The revision's labels (the template's, plus whatever the caller adds).
    pub labels: BTreeMap<String, String>,
    /// The owner's annotations, copied as upstream does (kubectl shows `change-cause`).
    pub annotations: Option<BTreeMap<String, String>>,
    /// The data.
    pub data: Value,
    /// The revision number.
    pub revision: i64,
}

impl NewRevision<'_> {
    /// The revision object named after `hash`.
    pub fn build(&self, hash: &str) -> ControllerRevision {
        ControllerRevision {
            metadata: ObjectMeta {
                name: Some(revision_name(self.owner_name, hash)),
                namespace: Some(self.namespace.to_owned()),
                labels: Some(self.labels.clone()),
                annotations: self.annotations.clone().filter(|a| !a.is_empty()),
                owner_references: Some(vec![self.owner.clone()]),
                ..ObjectMeta::default()
            },
            data: Some(RawExtension(self.data.clone())),
            revision: self.revision,
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::ControllerRevision;
    use k8s_openapi::api::core::v1::PodTemplateSpec;
    use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
    use serde_json::json;

    use super::{template_of, template_patch};

    #[test]
    fn patch_round_trips_the_template() -> Result<(), serde_json::Error> {
        let template: PodTemplateSpec = serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }))?;
        let patch = template_patch(&template);
        assert_eq!(patch["spec"]["template"]["$patch"], "replace");
        let revision = ControllerRevision {
            data: Some(RawExtension(patch)),
            ..ControllerRevision::default()
        };
        assert_eq!(template_of(&revision), Some(template));
        Ok(())
    }
}
