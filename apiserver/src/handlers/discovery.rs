//! Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/{group}[/{version}]`), built
//! from the registry so they always agree with what the server routes. kubectl reads them
//! for `api-resources`, short names and `get all`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, GroupVersionForDiscovery,
    ServerAddressByClientCIDR,
};

use crate::registry::{Registry, ResourceInfo};

/// `/api`: the core group's versions.
pub fn api_versions(server_address: &str) -> APIVersions {
    APIVersions {
        versions: vec!["v1".to_owned()],
        server_address_by_client_cidrs: vec![ServerAddressByClientCIDR {
            client_cidr: "0.0.0.0/0".to_owned(),
            server_address: server_address.to_owned(),
        }],
    }
}

fn group_version(group: &str, version: &str) -> GroupVersionForDiscovery {
    GroupVersionForDiscovery {
        group_version: format!("{group}/{version}"),
        version: version.to_owned(),
    }
}

fn api_group(name: &str, versions: &[String]) -> APIGroup {
    APIGroup {
        name: name.to_owned(),
        preferred_version: versions.first().map(|version| group_version(name, version)),
        server_address_by_client_cidrs: None,
        versions: versions
            .iter()
            .map(|version| group_version(name, version))
            .collect(),
    }
}

/// `/apis`: every named group (the core group is served at `/api` instead).
pub fn api_group_list(registry: &Registry) -> APIGroupList {
    APIGroupList {
        groups: registry
            .groups()
            .iter()
            .filter(|(group, _)| !group.is_empty())
            .map(|(group, versions)| api_group(group, versions))
            .collect(),
    }
}

/// `/apis/{group}`.
pub fn group(registry: &Registry, name: &str) -> Option<APIGroup> {
    registry
        .groups()
        .iter()
        .find(|(group, _)| !group.is_empty() && group == name)
        .map(|(group, versions)| api_group(group, versions))
}

/// `/api/v1` or `/apis/{group}/{version}`; `None` if the group version is not served.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<APIResourceList> {
    let mut resources = Vec::new();
    for resource in registry.resources_of(group, version) {
        resources.push(resource_entry(resource));
        for subresource in resource.subresources {
            let (sub_group, sub_version) =
                if subresource.group == resource.group && subresource.version == resource.version {
                    (None, None)
                } else {
                    (
                        Some(subresource.group.to_owned()),
                        Some(subresource.version.to_owned()),
                    )
                };
            resources.push(APIResource {
                name: format!("{}/{}", resource.plural, subresource.name),
                singular_name: String::new(),
                namespaced: resource.namespaced,
                group: sub_group,
                version: sub_version,
                kind: subresource.kind.to_owned(),
                verbs: subresource
                    .verbs
                    .iter()
                    .map(|verb| verb.as_str().to_owned())
                    .collect(),
                short_names: None,
                categories: None,
                storage_version_hash: None,
            });
        }
    }
    if resources.is_empty() {
        return None;
    }
    resources.sort_by(|a, b| a.name.cmp(&b.name));
    Some(APIResourceList {
        group_version: if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        },
        resources,
    })
}

fn resource_entry(resource: &ResourceInfo) -> APIResource {
    let list = |values: &[&str]| {
        (!values.is_empty()).then(|| values.iter().map(|value| (*value).to_owned()).collect())
    };
    APIResource {
        name: resource.plural.to_owned(),
        singular_name: resource.singular.to_owned(),
        namespaced: resource.namespaced,
        group: None,
        version: None,
        kind: resource.kind.to_owned(),
        verbs: resource
            .verbs
            .iter()
            .map(|verb| verb.as_str().to_owned())
            .collect(),
        short_names: list(resource.short_names),
        categories: list(resource.categories),
        storage_version_hash: None,
    }
}

#[cfg(test)]
mod tests {
    use super::{api_group_list, resource_list};
    use crate::registry::Registry;

    #[test]
    fn core_v1_lists_pods_with_subresources() {
        let registry = Registry::builtin();
        let list = resource_list(&registry, "", "v1");
        let names: Vec<String> = list
            .map(|list| list.resources.into_iter().map(|r| r.name).collect())
            .unwrap_or_default();
        assert!(names.iter().any(|name| name == "pods"));
        assert!(names.iter().any(|name| name == "pods/status"));
        assert!(resource_list(&registry, "", "v2").is_none());
    }

    #[test]
    fn group_list_leaves_out_the_core_group() {
        let groups = api_group_list(&Registry::builtin()).groups;
        assert!(groups.iter().all(|group| !group.name.is_empty()));
        assert!(groups.iter().any(|group| group.name == "apps"));
    }
}

/// Which aggregated discovery version an `Accept` header asks for (`apidiscovery.k8s.io`
/// `v2` or `v2beta1`, `as=APIGroupDiscoveryList`), honouring the client's order.
pub fn aggregated_version(accept: &str) -> Option<&'static str> {
    for media_range in accept.split(',') {
        let mut parts = media_range.split(';').map(str::trim);
        if parts.next() != Some("application/json") {
            continue;
        }
        let params: Vec<(&str, &str)> = parts.filter_map(|part| part.split_once('=')).collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| *value)
        };
        if param("g") != Some("apidiscovery.k8s.io") || param("as") != Some("APIGroupDiscoveryList")
        {
            continue;
        }
        match param("v") {
            Some("v2") => return Some("v2"),
            Some("v2beta1") => return Some("v2beta1"),
            _ => {}
        }
    }
    None
}

/// The aggregated discovery document of `/api` (`legacy`) or `/apis`: every group with
/// every version's resources in one response, so clients discover in one round trip.
pub fn aggregated(registry: &Registry, legacy: bool, version: &str) -> serde_json::Value {
    let items: Vec<serde_json::Value> = registry
        .groups()
        .iter()
        .filter(|(group, _)| group.is_empty() == legacy)
        .map(|(group, versions)| {
            let versions: Vec<serde_json::Value> = versions
                .iter()
                .map(|group_version| {
                    let resources: Vec<serde_json::Value> = registry
                        .resources_of(group, group_version)
                        .map(aggregated_resource)
                        .collect();
                    serde_json::json!({
                        "version": group_version,
                        "resources": resources,
                        "freshness": "Current",
                    })
                })
                .collect();
            let mut metadata = serde_json::json!({"creationTimestamp": null});
            if !group.is_empty() {
                metadata["name"] = serde_json::json!(group);
            }
            serde_json::json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    serde_json::json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

fn aggregated_resource(resource: &crate::registry::Resource) -> serde_json::Value {
    let verbs = |verbs: &[crate::registry::Verb]| -> Vec<&'static str> {
        verbs.iter().map(|verb| verb.as_str()).collect()
    };
    let subresources: Vec<serde_json::Value> = resource
        .subresources
        .iter()
        .map(|subresource| {
            serde_json::json!({
                "subresource": subresource.name,
                "responseKind": {
                    "group": subresource.group,
                    "version": subresource.version,
                    "kind": subresource.kind,
                },
                "verbs": verbs(subresource.verbs),
            })
        })
        .collect();
    let mut entry = serde_json::json!({
        "resource": resource.plural,
        "responseKind": {"group": resource.group, "version": resource.version, "kind": resource.kind},
        "scope": if resource.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": resource.singular,
        "verbs": verbs(resource.verbs),
    });
    if !resource.short_names.is_empty() {
        entry["shortNames"] = serde_json::json!(resource.short_names);
    }
    if !resource.categories.is_empty() {
        entry["categories"] = serde_json::json!(resource.categories);
    }
    if !subresources.is_empty() {
        entry["subresources"] = serde_json::json!(subresources);
    }
    entry
}

#[cfg(test)]
mod aggregated_tests {
    use super::{aggregated, aggregated_version};
    use crate::registry::Registry;

    #[test]
    fn negotiates_like_kubectl() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(kubectl), Some("v2"));
        assert_eq!(aggregated_version("application/json"), None);
        assert_eq!(
            aggregated_version(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            ),
            Some("v2beta1")
        );
    }

    #[test]
    fn apis_document_lists_apps_with_scale() {
        let document = aggregated(&Registry::builtin(), false, "v2");
        let apps = document["items"]
            .as_array()
            .and_then(|items| items.iter().find(|item| item["metadata"]["name"] == "apps"))
            .cloned()
            .unwrap_or_default();
        let deployments = apps["versions"][0]["resources"]
            .as_array()
            .and_then(|resources| resources.iter().find(|r| r["resource"] == "deployments"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(deployments["scope"], "Namespaced");
        assert_eq!(deployments["shortNames"][0], "deploy");
        let scale = deployments["subresources"]
            .as_array()
            .and_then(|subs| subs.iter().find(|s| s["subresource"] == "scale"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(scale["responseKind"]["group"], "autoscaling");
        let core = aggregated(&Registry::builtin(), true, "v2");
        assert_eq!(core["items"].as_array().map(Vec::len), Some(1));
        assert!(core["items"][0]["metadata"].get("name").is_none());
    }
}
