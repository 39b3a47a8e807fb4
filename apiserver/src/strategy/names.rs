//! Which rule an object's name follows, per resource, as upstream's `ValidateXName`
//! functions choose: most names are DNS subdomains, Namespaces and StatefulSets DNS labels,
//! Services DNS-1035 labels, and RBAC objects and Events only need to be a path segment
//! (so `system:controller:foo` is a fine ClusterRole name).

use crate::registry::ResourceInfo;
use crate::validation;

const DNS1035_LABEL_MAX: usize = 63;
const DNS1035_LABEL_HELP: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/// `IsValidPathSegmentName`.
pub(super) fn path_segment_problems(name: &str) -> Vec<String> {
    if matches!(name, "." | "..") {
        return vec![format!("may not be '{name}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|bad| name.contains(**bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

/// `IsDNS1035Label`.
pub(super) fn dns1035_label_problems(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if name.len() > DNS1035_LABEL_MAX {
        problems.push(format!(
            "must be no more than {DNS1035_LABEL_MAX} characters"
        ));
    }
    let bytes = name.as_bytes();
    let shaped = match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_lowercase()
                && (last.is_ascii_lowercase() || last.is_ascii_digit())
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        }
        _ => false,
    };
    if !shaped {
        problems.push(DNS1035_LABEL_HELP.to_owned());
    }
    problems
}

/// Why `name` is not a valid name for an object of `resource` (empty when it is).
pub fn name_problems(resource: &ResourceInfo, name: &str) -> Vec<String> {
    match (resource.group, resource.plural) {
        ("", "namespaces") | ("apps", "statefulsets") => validation::dns1123_label(name),
        ("", "services") => dns1035_label_problems(name),
        (
            "rbac.authorization.k8s.io",
            "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings",
        )
        | ("" | "events.k8s.io", "events") => path_segment_problems(name),
        _ => validation::dns1123_subdomain(name),
    }
}

#[cfg(test)]
mod tests {
    use super::{dns1035_label_problems, path_segment_problems};

    #[test]
    fn rules() {
        assert!(path_segment_problems("system:controller:foo").is_empty());
        assert_eq!(path_segment_problems(".."), ["may not be '..'"]);
        assert_eq!(path_segment_problems("a/b%c").len(), 2);
        assert!(dns1035_label_problems("web").is_empty());
        assert!(!dns1035_label_problems("1web").is_empty());
    }
}
