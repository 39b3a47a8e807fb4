//! The resource registry: one table of every resource the server serves. Routing,
//! discovery, storage keys (and later OpenAPI and Table printing) all read it, so a new
//! built-in kind is a table row, not new routes.

mod builtin;
mod handle;
mod intern;
mod resource;

use std::collections::HashMap;
use std::sync::Arc;

pub use handle::RegistryHandle;
pub use intern::{intern, intern_list};
pub use resource::{ResourceInfo, Subresource, Verb, ALL_VERBS};

/// A resource the server serves, shared by every request that touches it.
pub type Resource = Arc<ResourceInfo>;

/// Every served resource, indexed the ways requests look them up.
#[derive(Clone, Debug)]
pub struct Registry {
    resources: Vec<Resource>,
    by_path: HashMap<(String, String, String), Resource>,
    /// Group names in the order discovery lists them, with their versions (preferred first).
    groups: Vec<(String, Vec<String>)>,
    /// What a custom resource serves beyond its row (schema, subresource paths, columns),
    /// by group, version and plural.
    custom: HashMap<(String, String, String), Arc<crate::crd::CustomVersion>>,
}

impl Registry {
    /// The built-in resources of the Kubernetes API version we serve.
    pub fn builtin() -> Self {
        Self::from_infos(builtin::BUILTIN.iter().copied())
    }

    /// The built-in resources plus the served versions of custom resources.
    pub fn with_custom(
        custom: impl IntoIterator<Item = (ResourceInfo, Arc<crate::crd::CustomVersion>)>,
    ) -> Self {
        let mut registry = Self::builtin();
        for (info, version) in custom {
            let key = (
                info.group.to_owned(),
                info.version.to_owned(),
                info.plural.to_owned(),
            );
            if registry.by_path.contains_key(&key) {
                continue;
            }
            registry.custom.insert(key, version);
            registry.add(Arc::new(info));
        }
        registry
    }

    /// What a custom resource serves, if `resource` is one.
    pub fn custom(&self, resource: &ResourceInfo) -> Option<&Arc<crate::crd::CustomVersion>> {
        self.custom.get(&(
            resource.group.to_owned(),
            resource.version.to_owned(),
            resource.plural.to_owned(),
        ))
    }

    /// Every custom resource version served.
    pub fn custom_versions(
        &self,
    ) -> impl Iterator<Item = (&Resource, &Arc<crate::crd::CustomVersion>)> {
        self.resources
            .iter()
            .filter_map(move |resource| self.custom(resource).map(|version| (resource, version)))
    }

    fn from_infos(infos: impl IntoIterator<Item = ResourceInfo>) -> Self {
        let mut registry = Self {
            resources: Vec::new(),
            by_path: HashMap::new(),
            groups: Vec::new(),
            custom: HashMap::new(),
        };
        for info in infos {
            registry.add(Arc::new(info));
        }
        registry
    }

    fn add(&mut self, resource: Resource) {
        match self
            .groups
            .iter_mut()
            .find(|(group, _)| group == resource.group)
        {
            Some((_, versions)) => {
                if !versions.iter().any(|version| version == resource.version) {
                    versions.push(resource.version.to_owned());
                }
            }
            None => self
                .groups
                .push((resource.group.to_owned(), vec![resource.version.to_owned()])),
        }
        self.by_path.insert(
            (
                resource.group.to_owned(),
                resource.version.to_owned(),
                resource.plural.to_owned(),
            ),
            Arc::clone(&resource),
        );
        self.resources.push(resource);
    }

    /// The resource at `/apis/{group}/{version}/{plural}`.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<&Resource> {
        self.by_path
            .get(&(group.to_owned(), version.to_owned(), plural.to_owned()))
    }

    /// Every resource, in table order.
    pub fn all(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter()
    }

    /// Groups with their versions, preferred version first, in discovery order.
    pub fn groups(&self) -> &[(String, Vec<String>)] {
        &self.groups
    }

    /// The resources of one group version, in table order.
    pub fn resources_of<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .iter()
            .filter(move |resource| resource.group == group && resource.version == version)
    }

    /// Whether `name` is a subresource of namespaces (so `namespaces/x/name` is not a
    /// collection inside namespace `x`).
    pub fn is_namespace_subresource(&self, name: &str) -> bool {
        self.get("", "v1", "namespaces").is_some_and(|namespaces| {
            namespaces
                .subresources
                .iter()
                .any(|subresource| subresource.name == name)
        })
    }
}

/// Where a resource's objects live in the datastore: upstream's etcd layout, so an etcd
/// written by one server reads the same in the other.
pub fn storage_prefix(resource: &ResourceInfo) -> String {
    let segment = match (resource.group, resource.plural) {
        ("", "services") => "services/specs".to_owned(),
        ("", "endpoints") => "services/endpoints".to_owned(),
        ("", "nodes") => "minions".to_owned(),
        ("", "replicationcontrollers") => "controllers".to_owned(),
        ("networking.k8s.io", "ingresses") => "ingress".to_owned(),
        ("events.k8s.io", "events") => "events".to_owned(),
        ("apiextensions.k8s.io", plural) | ("apiregistration.k8s.io", plural) => {
            format!("{}/{plural}", resource.group)
        }
        // Custom resources live under their group, as upstream's apiextensions server
        // stores them (no built-in group can be a CRD's: those need a dot and k8s.io
        // approval).
        (group, plural) if !builtin::is_builtin_group(group) => format!("{group}/{plural}"),
        (_, plural) => plural.to_owned(),
    };
    format!("/registry/{segment}/")
}

/// The full key of one object.
pub fn storage_key(resource: &ResourceInfo, namespace: Option<&str>, name: &str) -> String {
    let prefix = storage_prefix(resource);
    match namespace {
        Some(namespace) if resource.namespaced => format!("{prefix}{namespace}/{name}"),
        _ => format!("{prefix}{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{storage_key, Registry};

    #[test]
    fn keys_follow_upstream_layout() -> Result<(), String> {
        let registry = Registry::builtin();
        let pods = registry.get("", "v1", "pods").ok_or("no pods")?;
        assert_eq!(
            storage_key(pods, Some("default"), "web"),
            "/registry/pods/default/web"
        );
        let services = registry.get("", "v1", "services").ok_or("no services")?;
        assert_eq!(
            storage_key(services, Some("default"), "kubernetes"),
            "/registry/services/specs/default/kubernetes"
        );
        let nodes = registry.get("", "v1", "nodes").ok_or("no nodes")?;
        assert_eq!(storage_key(nodes, None, "n1"), "/registry/minions/n1");
        let deployments = registry
            .get("apps", "v1", "deployments")
            .ok_or("no deployments")?;
        assert_eq!(
            storage_key(deployments, Some("ns"), "d"),
            "/registry/deployments/ns/d"
        );
        Ok(())
    }

    #[test]
    fn core_group_comes_first() {
        let registry = Registry::builtin();
        assert_eq!(
            registry.groups().first().map(|(group, _)| group.as_str()),
            Some("")
        );
        assert!(registry.is_namespace_subresource("status"));
        assert!(!registry.is_namespace_subresource("pods"));
    }
}
