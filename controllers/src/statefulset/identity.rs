//! A stateful pod's identity, as upstream's `stateful_set_utils`: the name `<set>-<ordinal>`,
//! the pod-name and pod-index labels, hostname and subdomain, the revision label, and the
//! volumes pointing at its claims `<template>-<set>-<ordinal>`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, Volume,
};

use super::set::SetView;
use crate::history::POD_REVISION_LABEL;
use crate::workloads::podcontrol::pod_from_template;

/// The label naming a stateful pod (upstream's `StatefulSetPodNameLabel`).
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The label holding a stateful pod's ordinal (upstream's `PodIndexLabel`).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The parent set's name and the ordinal of a pod named `(.*)-([0-9]+)$`; the ordinal is
/// `None` when it does not fit an `int32` (upstream: -1).
pub fn parent_and_ordinal(name: &str) -> Option<(&str, Option<i32>)> {
    let (parent, digits) = name.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parent, digits.parse::<i32>().ok()))
}

/// The pod's ordinal, when its name has one.
pub fn ordinal(pod: &Pod) -> Option<i32> {
    parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or("")).and_then(|(_, o)| o)
}

/// Whether the pod's name makes it a member of `set` (upstream's `isMemberOf`).
pub fn is_member(set: &SetView, pod: &Pod) -> bool {
    parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or(""))
        .is_some_and(|(parent, _)| parent == set.name)
}

/// `<set>-<ordinal>`.
pub fn pod_name(set: &SetView, ordinal: i32) -> String {
    format!("{}-{ordinal}", set.name)
}

/// `<template>-<set>-<ordinal>`.
pub fn claim_name(set: &SetView, template: &PersistentVolumeClaim, ordinal: i32) -> String {
    format!(
        "{}-{}-{ordinal}",
        template.metadata.name.as_deref().unwrap_or(""),
        set.name
    )
}

/// The pod's `controller-revision-hash` label.
pub fn revision(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(POD_REVISION_LABEL))
        .map_or("", String::as_str)
}

/// Upstream's `identityMatches`.
pub fn identity_matches(set: &SetView, pod: &Pod) -> bool {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let Some((parent, Some(ordinal))) = parent_and_ordinal(name) else {
        return false;
    };
    ordinal >= 0
        && parent == set.name
        && name == pod_name(set, ordinal)
        && pod.metadata.namespace.as_deref() == Some(set.namespace.as_str())
        && pod
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(POD_NAME_LABEL))
            .map(String::as_str)
            == Some(name)
}

/// Upstream's `storageMatches`: every claim template has a volume pointing at its claim.
pub fn storage_matches(set: &SetView, pod: &Pod) -> bool {
    let Some(ordinal) = ordinal(pod) else {
        return false;
    };
    let volumes = pod.spec.as_ref().and_then(|spec| spec.volumes.as_ref());
    set.claim_templates.iter().all(|template| {
        let wanted = claim_name(set, template, ordinal);
        volumes.into_iter().flatten().any(|volume| {
            Some(volume.name.as_str()) == template.metadata.name.as_deref()
                && volume
                    .persistent_volume_claim
                    .as_ref()
                    .is_some_and(|claim| claim.claim_name == wanted)
        })
    })
}

/// The claims of the pod with `ordinal`, by template name (upstream's
/// `getPersistentVolumeClaims`): the template renamed, in the set's namespace, labelled
/// with the set's `matchLabels` on top of its own.
pub fn claims(set: &SetView, ordinal: i32) -> Vec<(String, PersistentVolumeClaim)> {
    set.claim_templates
        .iter()
        .map(|template| {
            let mut claim = template.clone();
            claim.metadata.name = Some(claim_name(set, template, ordinal));
            claim.metadata.namespace = Some(set.namespace.clone());
            let labels = claim.metadata.labels.get_or_insert_with(BTreeMap::new);
            labels.extend(set.match_labels.clone());
            claim.status = None;
            let key = template.metadata.name.clone().unwrap_or_default();
            (key, claim)
        })
        .collect()
}

/// Upstream's `updateStorage`: volumes for the claims first, then the pod's other volumes.
pub fn update_storage(set: &SetView, pod: &mut Pod) {
    let Some(ordinal) = ordinal(pod) else {
        return;
    };
    let claims = claims(set, ordinal);
    let spec = pod.spec.get_or_insert_with(Default::default);
    let current = spec.volumes.take().unwrap_or_default();
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(name, claim)| Volume {
            name: name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.clone().unwrap_or_default(),
                read_only: Some(false),
            }),
            ..Volume::default()
        })
        .collect();
    volumes.extend(
        current
            .into_iter()
            .filter(|volume| !claims.iter().any(|(name, _)| *name == volume.name)),
    );
    spec.volumes = (!volumes.is_empty()).then_some(volumes);
}

/// Upstream's `updateIdentity`: name, namespace and the pod-name and pod-index labels.
pub fn update_identity(set: &SetView, pod: &mut Pod) {
    let Some(ordinal) = ordinal(pod) else {
        return;
    };
    let name = pod_name(set, ordinal);
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = Some(set.namespace.clone());
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.to_owned(), name);
    labels.insert(POD_INDEX_LABEL.to_owned(), ordinal.to_string());
}

/// Upstream's `newStatefulSetPod`: the template's pod with its identity, hostname,
/// subdomain and storage.
pub fn new_pod(set: &SetView, ordinal: i32) -> Pod {
    let mut pod = pod_from_template(&set.template, &set.name, &set.controller_ref);
    pod.metadata.name = Some(pod_name(set, ordinal));
    update_identity(set, &mut pod);
    let name = pod.metadata.name.clone();
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.hostname = name;
    spec.subdomain = (!set.service_name.is_empty()).then(|| set.service_name.clone());
    update_storage(set, &mut pod);
    pod
}

/// Upstream's `newVersionedStatefulSetPod`: ordinals below the partition (or, without a
/// rolling update configuration, below the current replica count) get the current
/// revision, the others the update revision.
pub fn new_versioned_pod(
    current: &SetView,
    update: &SetView,
    current_revision: &str,
    update_revision: &str,
    ordinal: i32,
) -> Pod {
    let current_replicas = current.status.current_replicas.unwrap_or(0);
    let at_current = match current.partition() {
        None => current.rolling && ordinal < current.start + current_replicas,
        Some(partition) => ordinal < current.start + partition,
    };
    let (set, revision) = if at_current {
        (current, current_revision)
    } else {
        (update, update_revision)
    };
    let mut pod = new_pod(set, ordinal);
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_REVISION_LABEL.to_owned(), revision.to_owned());
    pod
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::StatefulSet;
    use serde_json::json;

    use super::{
        claims, identity_matches, new_versioned_pod, parent_and_ordinal, storage_matches,
        POD_INDEX_LABEL, POD_NAME_LABEL,
    };
    use crate::statefulset::set::SetView;

    fn set() -> Result<SetView, Box<dyn std::error::Error>> {
        let set: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {
                "replicas": 3, "serviceName": "nginx",
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "c", "image": "nginx"}],
                                      "volumes": [{"name": "tmp", "emptyDir": {}}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "www", "labels": {"x": "y"}},
                                          "spec": {"accessModes": ["ReadWriteOnce"]}}],
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            },
        }))?;
        Ok(SetView::new(&set)?)
    }

    #[test]
    fn names_parse_like_the_upstream_regex() {
        assert_eq!(parent_and_ordinal("web-0"), Some(("web", Some(0))));
        assert_eq!(parent_and_ordinal("my-web-12"), Some(("my-web", Some(12))));
        assert_eq!(parent_and_ordinal("web-x"), None);
        assert_eq!(parent_and_ordinal("web-"), None);
        assert_eq!(parent_and_ordinal("web-99999999999"), Some(("web", None)));
    }

    #[test]
    fn new_pods_have_identity_storage_and_revision() -> Result<(), Box<dyn std::error::Error>> {
        let set = set()?;
        let pod = new_versioned_pod(&set, &set, "web-a", "web-b", 2);
        assert_eq!(pod.metadata.name.as_deref(), Some("web-2"));
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(POD_NAME_LABEL).map(String::as_str),
            Some("web-2")
        );
        assert_eq!(labels.get(POD_INDEX_LABEL).map(String::as_str), Some("2"));
        assert_eq!(
            labels.get("controller-revision-hash").map(String::as_str),
            Some("web-b")
        );
        let spec = pod.spec.clone().unwrap_or_default();
        assert_eq!(spec.hostname.as_deref(), Some("web-2"));
        assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
        let volumes = spec.volumes.unwrap_or_default();
        assert_eq!(volumes.len(), 2);
        assert_eq!(volumes[0].name, "www");
        assert!(identity_matches(&set, &pod) && storage_matches(&set, &pod));
        let below = new_versioned_pod(&set, &set, "web-a", "web-b", 0);
        assert_eq!(
            below
                .metadata
                .labels
                .unwrap_or_default()
                .get("controller-revision-hash")
                .map(String::as_str),
            Some("web-a")
        );
        let claims = claims(&set, 2);
        assert_eq!(claims[0].1.metadata.name.as_deref(), Some("www-web-2"));
        let claim_labels = claims[0].1.metadata.labels.clone().unwrap_or_default();
        assert_eq!(claim_labels.len(), 2);
        Ok(())
    }
}
