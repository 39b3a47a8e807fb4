//! What the API server serves, learned through discovery (`/api`, `/apis`, then each group
//! version) as client-go's discovery client learns it: a group version that fails is
//! reported and the rest kept, each resource is taken at its group's preferred version
//! (`ServerPreferredResources`), and any served apiVersion/kind maps to its resource (the
//! RESTMapper of the garbage collector).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::discovery::ApiResource;
use kube::Client;

/// Why discovery produced nothing at all (`/api` or `/apis` failed).
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The group list could not be read.
    #[error("{0}")]
    Groups(#[from] kube::Error),
}

/// One resource at one group version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServedResource {
    /// API group, empty for the core group.
    pub group: String,
    /// Version within the group.
    pub version: String,
    /// Kind of its objects.
    pub kind: String,
    /// Plural resource name (the URL segment).
    pub plural: String,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
    /// The verbs discovery lists for it.
    pub verbs: Vec<String>,
}

impl ServedResource {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        group_version(&self.group, &self.version)
    }

    /// Whether every verb in `verbs` is served.
    pub fn supports(&self, verbs: &[&str]) -> bool {
        verbs
            .iter()
            .all(|verb| self.verbs.iter().any(|have| have == verb))
    }

    /// The kube-rs description used to build a dynamic `Api`.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// `plural.group` (upstream's GroupResource string), e.g. `deployments.apps`, `pods.`.
    pub fn group_resource(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

/// `group/version`, or `version` alone for the core group.
pub fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// Splits an apiVersion as `schema.ParseGroupVersion` does.
pub fn parse_group_version(text: &str) -> Result<(String, String), String> {
    if text.is_empty() || text == "/" {
        return Ok((String::new(), String::new()));
    }
    let mut parts = text.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(version), None, None) => Ok((String::new(), version.to_owned())),
        (Some(group), Some(version), None) => Ok((group.to_owned(), version.to_owned())),
        _ => Err(format!("unexpected GroupVersion string: {text}")),
    }
}

/// A group and its versions in the server's order.
#[derive(Clone, Debug, Default)]
struct Group {
    name: String,
    preferred: Option<String>,
    versions: Vec<String>,
}

/// One discovery pass.
#[derive(Clone, Debug, Default)]
pub struct Discovered {
    groups: Vec<Group>,
    /// Resources by `group/version`.
    resources: BTreeMap<String, Vec<ServedResource>>,
    /// Group versions whose resources could not be read, with why.
    failures: BTreeMap<String, String>,
    /// Resource lists whose groupVersion did not parse.
    parse_failures: Vec<String>,
}

impl Discovered {
    /// Reads the server's groups and every group version's resources; failing group
    /// versions are recorded, not fatal.
    pub async fn fetch(client: &Client) -> Result<Self, DiscoveryError> {
        let mut found = Self::default();
        let core = client.list_core_api_versions().await?;
        found.groups.push(Group {
            name: String::new(),
            preferred: core.versions.first().cloned(),
            versions: core.versions,
        });
        let groups = client.list_api_groups().await?;
        for group in groups.groups {
            found.groups.push(Group {
                preferred: group.preferred_version.map(|v| v.version),
                versions: group.versions.into_iter().map(|v| v.version).collect(),
                name: group.name,
            });
        }
        let pairs: Vec<(String, String)> = found
            .groups
            .iter()
            .flat_map(|group| {
                group
                    .versions
                    .iter()
                    .map(|version| (group.name.clone(), version.clone()))
            })
            .collect();
        let lists = futures::future::join_all(pairs.iter().map(|(group, version)| async move {
            if group.is_empty() {
                client.list_core_api_resources(version).await
            } else {
                client
                    .list_api_group_resources(&group_version(group, version))
                    .await
            }
        }))
        .await;
        for ((group, version), list) in pairs.into_iter().zip(lists) {
            let key = group_version(&group, &version);
            match list {
                Ok(list) => found.add_list(&key, list),
                Err(error) => {
                    found.failures.insert(key, error_text(&error));
                }
            }
        }
        Ok(found)
    }

    fn add_list(&mut self, key: &str, list: APIResourceList) {
        let (group, version) = match parse_group_version(&list.group_version) {
            Ok(parsed) => parsed,
            Err(error) => {
                self.parse_failures.push(error);
                return;
            }
        };
        let resources = list
            .resources
            .into_iter()
            // Subresources (`pods/status`) are not collections of objects.
            .filter(|resource| !resource.name.contains('/'))
            .map(|resource| ServedResource {
                group: resource
                    .group
                    .filter(|g| !g.is_empty())
                    .unwrap_or(group.clone()),
                version: resource
                    .version
                    .filter(|v| !v.is_empty())
                    .unwrap_or(version.clone()),
                kind: resource.kind,
                plural: resource.name,
                namespaced: resource.namespaced,
                verbs: resource.verbs,
            })
            .collect();
        self.resources.insert(key.to_owned(), resources);
    }

    /// Each resource once, at its group's preferred version when served there, else at the
    /// first version that serves it (client-go's `ServerPreferredResources`).
    pub fn preferred(&self) -> Vec<&ServedResource> {
        let mut chosen: BTreeMap<(String, String), &ServedResource> = BTreeMap::new();
        for group in &self.groups {
            for version in &group.versions {
                let Some(list) = self.resources.get(&group_version(&group.name, version)) else {
                    continue;
                };
                let preferred = group.preferred.as_deref() == Some(version.as_str());
                for resource in list {
                    let key = (group.name.clone(), resource.plural.clone());
                    if chosen.contains_key(&key) && !preferred {
                        continue;
                    }
                    chosen.insert(key, resource);
                }
            }
        }
        chosen.into_values().collect()
    }

    /// The resource serving `kind` at `api_version`, at any served version.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ServedResource> {
        let (group, version) = parse_group_version(api_version).ok()?;
        self.resources
            .get(&group_version(&group, &version))?
            .iter()
            .find(|resource| resource.kind == kind)
    }

    /// The group versions that failed, by `group/version`.
    pub fn failed_group_versions(&self) -> HashSet<&str> {
        self.failures.keys().map(String::as_str).collect()
    }

    /// client-go's `ErrGroupDiscoveryFailed` text, when some group version failed.
    pub fn failure(&self) -> Option<String> {
        if self.failures.is_empty() {
            return None;
        }
        let groups: BTreeSet<String> = self
            .failures
            .iter()
            .map(|(group_version, error)| format!("{group_version}: {error}"))
            .collect();
        Some(format!(
            "unable to retrieve the complete list of server APIs: {}",
            groups.into_iter().collect::<Vec<_>>().join(", ")
        ))
    }

    /// How many group versions failed.
    pub fn failure_count(&self) -> usize {
        self.failures.len()
    }

    /// The groupVersion parse errors, joined as an aggregate error reads.
    pub fn parse_failure(&self) -> Option<String> {
        match self.parse_failures.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(format!("[{}]", many.join(", "))),
        }
    }
}

/// The message of an API error as client-go prints it (the Status message), else the error.
pub fn error_text(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource;

    fn list(group_version: &str, resources: &[(&str, &str)]) -> APIResourceList {
        APIResourceList {
            group_version: group_version.to_owned(),
            resources: resources
                .iter()
                .map(|(name, kind)| APIResource {
                    name: (*name).to_owned(),
                    kind: (*kind).to_owned(),
                    namespaced: true,
                    verbs: vec!["list".to_owned(), "watch".to_owned(), "delete".to_owned()],
                    ..APIResource::default()
                })
                .collect(),
        }
    }

    fn discovered() -> Discovered {
        let mut found = Discovered {
            groups: vec![Group {
                name: "stable.example.com".to_owned(),
                preferred: Some("v2".to_owned()),
                versions: vec!["v1".to_owned(), "v2".to_owned()],
            }],
            ..Discovered::default()
        };
        found.add_list(
            "stable.example.com/v1",
            list(
                "stable.example.com/v1",
                &[
                    ("widgets", "Widget"),
                    ("gadgets", "Gadget"),
                    ("widgets/status", "Widget"),
                ],
            ),
        );
        found.add_list(
            "stable.example.com/v2",
            list("stable.example.com/v2", &[("widgets", "Widget")]),
        );
        found
    }

    #[test]
    fn preferred_takes_the_preferred_version_and_fills_in_the_rest() {
        let found = discovered();
        let preferred: Vec<String> = found
            .preferred()
            .iter()
            .map(|r| format!("{}/{}", r.api_version(), r.plural))
            .collect();
        assert_eq!(
            preferred,
            [
                "stable.example.com/v1/gadgets",
                "stable.example.com/v2/widgets"
            ]
        );
    }

    #[test]
    fn kinds_map_at_every_served_version() {
        let found = discovered();
        let v1 = found.find_kind("stable.example.com/v1", "Widget");
        assert_eq!(v1.map(|r| r.plural.as_str()), Some("widgets"));
        assert!(found.find_kind("stable.example.com/v3", "Widget").is_none());
        assert!(found.find_kind("a/b/c", "Widget").is_none());
    }

    #[test]
    fn failures_read_as_client_go_prints_them() {
        let mut found = discovered();
        assert_eq!(found.failure(), None);
        found.failures.insert(
            "metrics.k8s.io/v1beta1".to_owned(),
            "the server is currently unable to handle the request".to_owned(),
        );
        assert_eq!(
            found.failure().as_deref(),
            Some("unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request")
        );
        assert_eq!(found.failure_count(), 1);
    }

    #[test]
    fn group_versions_parse_as_upstream() {
        assert_eq!(
            parse_group_version("v1"),
            Ok((String::new(), "v1".to_owned()))
        );
        assert_eq!(
            parse_group_version("apps/v1"),
            Ok(("apps".to_owned(), "v1".to_owned()))
        );
        assert!(parse_group_version("a/b/c").is_err());
    }
}
