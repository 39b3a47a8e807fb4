//! Ownership by controller reference, as upstream's `ControllerRefManager`: a controller
//! keeps the objects it controls that its selector still matches, adopts matching orphans
//! (unless it is being deleted), and releases controlled objects that stopped matching.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::pods::controller_of;
use super::selector::Selector;
use crate::workloads::error::{is_not_found, SyncError};

/// What to do with one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Controlled by us and matching: ours.
    Keep,
    /// Someone else's, or not for us to touch.
    Ignore,
    /// A matching orphan: take it.
    Adopt,
    /// Ours but no longer matching: let it go.
    Release,
}

/// The controller doing the claiming.
pub struct Claimer<'a> {
    /// The controller reference to set on adopted objects.
    pub owner: &'a OwnerReference,
    /// The controller's namespace.
    pub namespace: &'a str,
    /// The controller is being deleted (it adopts and releases nothing then).
    pub deleting: bool,
    /// The controller's selector.
    pub selector: &'a Selector,
}

impl Claimer<'_> {
    /// Upstream's `ClaimObject` decision for `meta`.
    pub fn decide(&self, meta: &ObjectMeta) -> Decision {
        let matches = self.selector.matches_opt(meta.labels.as_ref());
        match controller_of(meta) {
            Some(owner) if owner.uid != self.owner.uid => Decision::Ignore,
            Some(_) if matches => Decision::Keep,
            Some(_) if self.deleting => Decision::Ignore,
            Some(_) => Decision::Release,
            None if self.deleting || !matches => Decision::Ignore,
            None if meta.deletion_timestamp.is_some() => Decision::Ignore,
            None if meta.namespace.as_deref() != Some(self.namespace) => Decision::Ignore,
            None => Decision::Adopt,
        }
    }
}

/// Sets `owner` as the controller of the object (a strategic merge patch on
/// `ownerReferences`, merged by UID, with the object's UID as precondition). `Ok(false)` when
/// the object is gone.
pub async fn adopt<K>(
    api: &Api<K>,
    owner: &OwnerReference,
    meta: &ObjectMeta,
) -> Result<bool, SyncError>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = meta.name.as_deref().ok_or(SyncError::Missing("name"))?;
    let patch = json!({"metadata": {"ownerReferences": [owner], "uid": meta.uid}});
    match api
        .patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
    {
        Ok(_) => Ok(true),
        Err(error) if is_not_found(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Removes the controller reference to `owner_uid` from the object.
pub async fn release<K>(api: &Api<K>, owner_uid: &str, meta: &ObjectMeta) -> Result<(), SyncError>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = meta.name.as_deref().ok_or(SyncError::Missing("name"))?;
    let patch = json!({"metadata": {
        "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
        "uid": meta.uid,
    }});
    match api
        .patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
    {
        Ok(_) => Ok(()),
        // Gone, or no longer carrying the reference (upstream ignores both).
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 422 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// A controller reference to the object described (`controller` and `blockOwnerDeletion`
/// set, as upstream's `NewControllerRef`).
pub fn controller_ref(
    api_version: &str,
    kind: &str,
    meta: &ObjectMeta,
) -> Result<OwnerReference, SyncError> {
    Ok(OwnerReference {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: meta.name.clone().ok_or(SyncError::Missing("name"))?,
        uid: meta.uid.clone().ok_or(SyncError::Missing("uid"))?,
        controller: Some(true),
        block_owner_deletion: Some(true),
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    use super::{Claimer, Decision};
    use crate::workloads::podcontrol::selector::Selector;

    fn owner(uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".to_owned(),
            kind: "ReplicaSet".to_owned(),
            name: "web".to_owned(),
            uid: uid.to_owned(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    fn meta(app: &str, controller: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("default".to_owned()),
            labels: Some([("app".to_owned(), app.to_owned())].into()),
            owner_references: controller.map(|uid| vec![owner(uid)]),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn decisions_follow_upstream() {
        let me = owner("me");
        let selector = Selector::from_map(&[("app".to_owned(), "web".to_owned())].into());
        let claimer = Claimer {
            owner: &me,
            namespace: "default",
            deleting: false,
            selector: &selector,
        };
        assert_eq!(claimer.decide(&meta("web", Some("me"))), Decision::Keep);
        assert_eq!(claimer.decide(&meta("db", Some("me"))), Decision::Release);
        assert_eq!(
            claimer.decide(&meta("web", Some("other"))),
            Decision::Ignore
        );
        assert_eq!(claimer.decide(&meta("web", None)), Decision::Adopt);
        assert_eq!(claimer.decide(&meta("db", None)), Decision::Ignore);
        let deleting = Claimer {
            deleting: true,
            ..claimer
        };
        assert_eq!(deleting.decide(&meta("web", None)), Decision::Ignore);
        assert_eq!(deleting.decide(&meta("db", Some("me"))), Decision::Ignore);
        assert_eq!(deleting.decide(&meta("web", Some("me"))), Decision::Keep);
    }
}
