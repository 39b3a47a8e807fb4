//! `persistentVolumeClaimRetentionPolicy` through owner references, as upstream's
//! `isClaimOwnerUpToDate` and `updateClaimOwnerRefForSetAndPod`: a claim deleted with the
//! set is owned by the set, a claim deleted on scale-down is owned by its (condemned) pod,
//! and the garbage collector does the deleting.

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::identity::ordinal;
use super::set::{Retention, SetView, API_VERSION, KIND};

/// One possible owner of a claim: the set or one of its pods.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    api_version: &'a str,
    kind: &'a str,
    name: &'a str,
    uid: &'a str,
}

impl<'a> Owner<'a> {
    /// The set as owner.
    pub fn set(set: &'a SetView) -> Self {
        Self {
            api_version: API_VERSION,
            kind: KIND,
            name: &set.name,
            uid: &set.uid,
        }
    }

    /// The pod as owner (a pod not created yet has no UID).
    pub fn pod(pod: &'a Pod) -> Self {
        Self {
            api_version: "v1",
            kind: "Pod",
            name: pod.metadata.name.as_deref().unwrap_or(""),
            uid: pod.metadata.uid.as_deref().unwrap_or(""),
        }
    }

    /// Upstream's `matchesRef`: same group/version, kind and name (whatever the UID).
    fn matches(&self, reference: &OwnerReference) -> bool {
        reference.api_version == self.api_version
            && reference.kind == self.kind
            && reference.name == self.name
    }

    fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.to_owned(),
            kind: self.kind.to_owned(),
            name: self.name.to_owned(),
            uid: self.uid.to_owned(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

fn references(claim: &PersistentVolumeClaim) -> &[OwnerReference] {
    claim.metadata.owner_references.as_deref().unwrap_or(&[])
}

/// Upstream's `hasOwnerRef`: a reference with the owner's UID.
fn has_ref(claim: &PersistentVolumeClaim, owner: Owner<'_>) -> bool {
    references(claim).iter().any(|r| r.uid == owner.uid)
}

/// Upstream's `hasStaleOwnerRef`: the first reference naming the owner has another UID.
pub fn has_stale_ref(claim: &PersistentVolumeClaim, owner: Owner<'_>) -> bool {
    references(claim)
        .iter()
        .find(|r| owner.matches(r))
        .is_some_and(|r| r.uid != owner.uid)
}

/// Upstream's `hasUnexpectedController`: with a non-Retain policy, a controller other than
/// the set or pod (or a reference to an earlier set or pod of the same name).
pub fn has_unexpected_controller(claim: &PersistentVolumeClaim, set: &SetView, pod: &Pod) -> bool {
    if set.when_scaled == Retention::Retain && set.when_deleted == Retention::Retain {
        return false;
    }
    let (set_owner, pod_owner) = (Owner::set(set), Owner::pod(pod));
    for reference in references(claim) {
        if set_owner.matches(reference) {
            if reference.uid != set_owner.uid {
                return true;
            }
            continue;
        }
        if pod_owner.matches(reference) {
            if reference.uid != pod_owner.uid {
                return true;
            }
            continue;
        }
        if reference.controller == Some(true) {
            return true;
        }
    }
    false
}

/// Upstream's `hasNonControllerOwner`.
fn has_non_controller_owner(claim: &PersistentVolumeClaim, set: &SetView, pod: &Pod) -> bool {
    let pod_uid = pod.metadata.uid.as_deref().unwrap_or("");
    references(claim)
        .iter()
        .any(|r| (r.uid == set.uid || r.uid == pod_uid) && r.controller != Some(true))
}

fn scaled_down(set: &SetView, pod: &Pod) -> bool {
    !ordinal(pod).is_some_and(|ordinal| set.in_range(ordinal))
}

/// Upstream's `isClaimOwnerUpToDate`: whether the claim's references already say what the
/// policy wants (claims in a state upstream does not touch count as up to date).
pub fn is_up_to_date(claim: &PersistentVolumeClaim, set: &SetView, pod: &Pod) -> bool {
    let (set_owner, pod_owner) = (Owner::set(set), Owner::pod(pod));
    if has_stale_ref(claim, set_owner) || has_stale_ref(claim, pod_owner) {
        return true;
    }
    if has_unexpected_controller(claim, set, pod) {
        return !(has_ref(claim, set_owner) || has_ref(claim, pod_owner));
    }
    if has_non_controller_owner(claim, set, pod) {
        return false;
    }
    let (set_ref, pod_ref) = (has_ref(claim, set_owner), has_ref(claim, pod_owner));
    let down = scaled_down(set, pod);
    match (set.when_scaled, set.when_deleted) {
        (Retention::Retain, Retention::Retain) => !set_ref && !pod_ref,
        (Retention::Retain, Retention::Delete) => set_ref && !pod_ref,
        (Retention::Delete, Retention::Retain) => !set_ref && down == pod_ref,
        (Retention::Delete, Retention::Delete) => down != set_ref && down == pod_ref,
    }
}

/// Upstream's `updateClaimOwnerRefForSetAndPod`: the claim's references rewritten for the
/// policy (ours dropped, then the wanted ones added as controllers).
pub fn update_owner_refs(claim: &mut PersistentVolumeClaim, set: &SetView, pod: &Pod) {
    let (set_owner, pod_owner) = (Owner::set(set), Owner::pod(pod));
    let unexpected = has_unexpected_controller(claim, set, pod);
    let mut refs: Vec<OwnerReference> = references(claim)
        .iter()
        .filter(|r| !set_owner.matches(r) && !pod_owner.matches(r))
        .cloned()
        .collect();
    if !unexpected {
        let down = scaled_down(set, pod);
        let mut add = |owner: Owner<'_>| {
            if !refs.iter().any(|r| r.uid == owner.uid) {
                refs.push(owner.controller_ref());
            }
        };
        match (set.when_scaled, set.when_deleted) {
            (Retention::Retain, Retention::Retain) => {}
            (Retention::Retain, Retention::Delete) => add(set_owner),
            (Retention::Delete, Retention::Retain) => {
                if down {
                    add(pod_owner);
                }
            }
            (Retention::Delete, Retention::Delete) => {
                if down {
                    add(pod_owner);
                } else {
                    add(set_owner);
                }
            }
        }
    }
    claim.metadata.owner_references = (!refs.is_empty()).then_some(refs);
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::StatefulSet;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
    use serde_json::json;

    use super::{is_up_to_date, update_owner_refs};
    use crate::statefulset::set::SetView;

    fn set(
        replicas: i32,
        scaled: &str,
        deleted: &str,
    ) -> Result<SetView, Box<dyn std::error::Error>> {
        let set: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "set-uid"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {},
                     "persistentVolumeClaimRetentionPolicy":
                        {"whenScaled": scaled, "whenDeleted": deleted}},
        }))?;
        Ok(SetView::new(&set)?)
    }

    fn pod() -> Result<Pod, serde_json::Error> {
        serde_json::from_value(json!({"metadata": {"name": "web-1", "uid": "pod-uid"}}))
    }

    fn owners(claim: &PersistentVolumeClaim) -> Vec<String> {
        claim
            .metadata
            .owner_references
            .iter()
            .flatten()
            .map(|r| r.kind.clone())
            .collect()
    }

    #[test]
    fn policy_decides_the_owners() -> Result<(), Box<dyn std::error::Error>> {
        let pod = pod()?;
        let mut claim = PersistentVolumeClaim::default();
        // In range, delete on set deletion: owned by the set.
        let both = set(2, "Delete", "Delete")?;
        assert!(!is_up_to_date(&claim, &both, &pod));
        update_owner_refs(&mut claim, &both, &pod);
        assert_eq!(owners(&claim), ["StatefulSet"]);
        assert!(is_up_to_date(&claim, &both, &pod));
        // Scaled down to 1: web-1 is condemned, its claim moves to the pod.
        let scaled = set(1, "Delete", "Delete")?;
        assert!(!is_up_to_date(&claim, &scaled, &pod));
        update_owner_refs(&mut claim, &scaled, &pod);
        assert_eq!(owners(&claim), ["Pod"]);
        assert!(is_up_to_date(&claim, &scaled, &pod));
        // Back to Retain: no owner at all.
        let retain = set(1, "Retain", "Retain")?;
        assert!(!is_up_to_date(&claim, &retain, &pod));
        update_owner_refs(&mut claim, &retain, &pod);
        assert!(claim.metadata.owner_references.is_none());
        Ok(())
    }
}
