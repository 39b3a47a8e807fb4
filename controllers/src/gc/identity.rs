//! Who a graph node is: the coordinates an owner reference names (apiVersion, kind, name,
//! uid) plus the namespace, compared and ordered as upstream's `objectReference`.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// An object's coordinates. Field order gives upstream's `referenceLessThan` ordering:
/// kind, apiVersion, namespace, name, uid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// Kind.
    pub kind: String,
    /// `group/version`.
    pub api_version: String,
    /// Namespace, empty for cluster-scoped objects (or not known to be namespaced).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

impl Identity {
    /// The owner an owner reference names, assumed in `namespace` (the dependent's).
    pub fn of_owner(reference: &OwnerReference, namespace: &str) -> Self {
        Self {
            kind: reference.kind.clone(),
            api_version: reference.api_version.clone(),
            namespace: namespace.to_owned(),
            name: reference.name.clone(),
            uid: reference.uid.clone(),
        }
    }

    /// Whether `reference` names exactly these coordinates (the namespace aside).
    pub fn matches(&self, reference: &OwnerReference) -> bool {
        self.uid == reference.uid
            && self.name == reference.name
            && self.kind == reference.kind
            && self.api_version == reference.api_version
    }
}

impl fmt::Display for Identity {
    /// Upstream's `objectReference.String()`, which its events and logs print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}/{}, namespace: {}, name: {}, uid: {}]",
            self.api_version, self.kind, self.namespace, self.name, self.uid
        )
    }
}

/// Whether `reference` blocks its owner's foreground deletion.
pub fn blocks(reference: &OwnerReference) -> bool {
    reference.block_owner_deletion == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_upstream() {
        let identity = Identity {
            kind: "ConfigMap".to_owned(),
            api_version: "v1".to_owned(),
            namespace: "default".to_owned(),
            name: "parent".to_owned(),
            uid: "u1".to_owned(),
        };
        assert_eq!(
            identity.to_string(),
            "[v1/ConfigMap, namespace: default, name: parent, uid: u1]"
        );
    }

    #[test]
    fn orders_by_kind_first() {
        let a = Identity {
            kind: "A".to_owned(),
            namespace: "z".to_owned(),
            ..Identity::default()
        };
        let b = Identity {
            kind: "B".to_owned(),
            namespace: "a".to_owned(),
            ..Identity::default()
        };
        assert!(a < b);
    }
}
