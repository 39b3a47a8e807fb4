//! Reading a Kubernetes API path (`/api/v1/namespaces/default/pods/web/log`) into its parts,
//! as kube-apiserver's request-info resolver does, so one handler serves every resource.

/// The parts of a resource request path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group; "" for `/api` (the core group).
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// The namespace from a `namespaces/{ns}/...` path.
    pub namespace: Option<String>,
    /// The resource's plural name.
    pub resource: String,
    /// The object's name, when the path names one.
    pub name: Option<String>,
    /// The subresource, e.g. `status`.
    pub subresource: Option<String>,
}

/// What a path under `/api` or `/apis` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiPath {
    /// `/api` or `/apis`: the group list.
    Root {
        /// True for `/api` (legacy core group), false for `/apis`.
        legacy: bool,
    },
    /// `/apis/{group}`: a group's versions.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`: a group version's resources.
    GroupVersion {
        /// The group ("" for core).
        group: String,
        /// The version.
        version: String,
    },
    /// A resource, collection or object.
    Resource(ResourcePath),
}

/// Parses a request path. `namespaces_subresources` tells whether `namespaces/{x}/{y}` means
/// a subresource `y` of namespace `x` (rather than collection `y` in namespace `x`).
pub fn parse(path: &str, is_namespace_subresource: impl Fn(&str) -> bool) -> Option<ApiPath> {
    let mut segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segments.iter().any(|segment| segment.is_empty()) {
        return None;
    }
    let prefix = segments.remove(0);
    let (group, rest) = match prefix {
        "api" => match segments.as_slice() {
            [] => return Some(ApiPath::Root { legacy: true }),
            [version, rest @ ..] => (String::new(), (version.to_string(), rest)),
        },
        "apis" => match segments.as_slice() {
            [] => return Some(ApiPath::Root { legacy: false }),
            [group] => return Some(ApiPath::Group(group.to_string())),
            [group, version, rest @ ..] => (group.to_string(), (version.to_string(), rest)),
        },
        _ => return None,
    };
    let (version, rest) = rest;
    let mut resource = ResourcePath {
        group,
        version,
        ..ResourcePath::default()
    };
    let tail: &[&str] = match rest {
        [] => {
            return Some(ApiPath::GroupVersion {
                group: resource.group,
                version: resource.version,
            })
        }
        ["namespaces", namespace, next, more @ ..] if !is_namespace_subresource(next) => {
            resource.namespace = Some(namespace.to_string());
            let mut tail = vec![*next];
            tail.extend_from_slice(more);
            return finish(resource, &tail);
        }
        tail => tail,
    };
    finish(resource, tail)
}

fn finish(mut resource: ResourcePath, tail: &[&str]) -> Option<ApiPath> {
    match tail {
        [plural] => resource.resource = plural.to_string(),
        [plural, name] => {
            resource.resource = plural.to_string();
            resource.name = Some(name.to_string());
        }
        [plural, name, subresource, ..] => {
            // Anything past the subresource (e.g. a proxy path) is the subresource's business.
            resource.resource = plural.to_string();
            resource.name = Some(name.to_string());
            resource.subresource = Some(subresource.to_string());
        }
        [] => return None,
    }
    Some(ApiPath::Resource(resource))
}

#[cfg(test)]
mod tests {
    use super::{parse, ApiPath, ResourcePath};

    fn namespace_sub(name: &str) -> bool {
        matches!(name, "status" | "finalize")
    }

    fn resource(path: &str) -> Option<ResourcePath> {
        match parse(path, namespace_sub) {
            Some(ApiPath::Resource(resource)) => Some(resource),
            _ => None,
        }
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(
            parse("/api", namespace_sub),
            Some(ApiPath::Root { legacy: true })
        );
        assert_eq!(
            parse("/apis/", namespace_sub),
            Some(ApiPath::Root { legacy: false })
        );
        assert_eq!(
            parse("/apis/apps", namespace_sub),
            Some(ApiPath::Group("apps".into()))
        );
        assert_eq!(
            parse("/api/v1", namespace_sub),
            Some(ApiPath::GroupVersion {
                group: "".into(),
                version: "v1".into()
            })
        );
        assert_eq!(parse("/healthz", namespace_sub), None);
        assert_eq!(parse("/api//v1", namespace_sub), None);
    }

    #[test]
    fn namespaced_and_cluster_paths() {
        let pod_log = resource("/api/v1/namespaces/default/pods/web/log");
        assert_eq!(
            pod_log,
            Some(ResourcePath {
                group: "".into(),
                version: "v1".into(),
                namespace: Some("default".into()),
                resource: "pods".into(),
                name: Some("web".into()),
                subresource: Some("log".into()),
            })
        );
        let deployments = resource("/apis/apps/v1/namespaces/ns1/deployments");
        assert_eq!(
            deployments.as_ref().map(|r| r.resource.as_str()),
            Some("deployments")
        );
        assert_eq!(deployments.and_then(|r| r.namespace), Some("ns1".into()));
        let all_pods = resource("/api/v1/pods");
        assert_eq!(all_pods.and_then(|r| r.namespace), None);
        let node = resource("/api/v1/nodes/n1/status");
        assert_eq!(node.and_then(|r| r.subresource), Some("status".into()));
    }

    #[test]
    fn namespaces_are_objects_too() {
        let namespace = resource("/api/v1/namespaces/kube-system");
        assert_eq!(
            namespace.as_ref().map(|r| r.resource.as_str()),
            Some("namespaces")
        );
        assert_eq!(namespace.and_then(|r| r.name), Some("kube-system".into()));
        let status = resource("/api/v1/namespaces/kube-system/status");
        assert_eq!(
            status.as_ref().and_then(|r| r.subresource.as_deref()),
            Some("status")
        );
        assert_eq!(status.and_then(|r| r.namespace), None);
        let list = resource("/api/v1/namespaces");
        assert_eq!(list.and_then(|r| r.name), None);
    }
}
