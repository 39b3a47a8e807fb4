//! The last controller seen on each object. Upstream's event handlers compare an object's
//! old and new controller reference to wake the former controller too; the shared change
//! stream carries only the new object, so we remember the old reference here.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pods::controller_of;

/// A controller by kind and name.
pub type ControllerName = (String, String);

/// Object UID → its controller as last seen.
#[derive(Debug, Default)]
pub struct LastControllers {
    seen: Mutex<HashMap<String, ControllerName>>,
}

impl LastControllers {
    /// Records the object's current controller and returns the previous one when it
    /// differs (it was changed or removed).
    pub fn update(&self, meta: &ObjectMeta, deleted: bool) -> Option<ControllerName> {
        let uid = meta.uid.clone()?;
        let current = controller_of(meta).map(|owner| (owner.kind.clone(), owner.name.clone()));
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let previous = match (&current, deleted) {
            (Some(current), false) => seen.insert(uid, current.clone()),
            _ => seen.remove(&uid),
        };
        previous.filter(|previous| Some(previous) != current.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    use super::LastControllers;

    fn meta(owner: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            uid: Some("pod".to_owned()),
            owner_references: owner.map(|name| {
                vec![OwnerReference {
                    kind: "ReplicaSet".to_owned(),
                    name: name.to_owned(),
                    controller: Some(true),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn reports_a_changed_or_removed_controller() {
        let last = LastControllers::default();
        assert_eq!(last.update(&meta(Some("a")), false), None);
        assert_eq!(last.update(&meta(Some("a")), false), None);
        assert_eq!(
            last.update(&meta(None), false),
            Some(("ReplicaSet".to_owned(), "a".to_owned()))
        );
        assert_eq!(last.update(&meta(Some("b")), false), None);
        assert_eq!(
            last.update(&meta(Some("c")), false),
            Some(("ReplicaSet".to_owned(), "b".to_owned()))
        );
    }
}
