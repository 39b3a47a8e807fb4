//! The Swagger 2.0 `paths` of what the registry serves, laid out the way kube-apiserver's
//! endpoint installer describes its routes: one operation per verb with upstream's
//! `operationId`s (`patchAppsV1NamespacedDeployment`), descriptions, tags, media types,
//! responses, `x-kubernetes-action` and `x-kubernetes-group-version-kind`, the deprecated
//! `watch/` routes, the discovery routes, and parameters shared by every operation of a path
//! moved up to the path. kubectl finds server-side field validation through the
//! `fieldValidation` parameter of a kind's PATCH operation.
//!
//! Parameters are written inline (upstream shares them through `#/parameters/` under
//! hashed names; the v3 documents inline them either way), and their descriptions are
//! this server's own short wording.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::source::{sorted, DEFINITIONS};
use crate::registry::{Registry, ResourceInfo, Subresource, Verb};

const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";

const OBJECT_MEDIA: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
];
const LIST_MEDIA: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/cbor-seq",
];
/// Watches speak the same media types as lists (which can turn into watches).
const WATCH_MEDIA: &[&str] = LIST_MEDIA;
const DISCOVERY_MEDIA: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];
const PATCH_MEDIA: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
];
const ANY: &[&str] = &["*/*"];

/// Kinds whose DELETE answers with the deleted object rather than a `Status` (their
/// storage returns deleted objects upstream).
const DELETE_RETURNS_OBJECT: &[(&str, &str)] = &[
    ("", "PersistentVolumeClaim"),
    ("", "PersistentVolume"),
    ("", "Pod"),
    ("", "PodTemplate"),
    ("", "ResourceQuota"),
    ("", "ServiceAccount"),
    ("", "Service"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceClaim"),
    ("resource.k8s.io", "ResourceClaimTemplate"),
    ("resource.k8s.io", "ResourceSlice"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
];

/// The definition each group-version-kind is described by.
pub(super) type Kinds = HashMap<(String, String, String), String>;

/// `(group, version, kind) → definition` from the definitions' GVK extensions.
pub(super) fn kinds(definitions: &Map<String, Value>) -> Kinds {
    let mut kinds = HashMap::new();
    for (name, schema) in definitions {
        for gvk in schema
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let part = |key: &str| gvk.get(key).and_then(Value::as_str).map(str::to_owned);
            if let (Some(group), Some(version), Some(kind)) =
                (part("group"), part("version"), part("kind"))
            {
                kinds.entry((group, version, kind)).or_insert(name.clone());
            }
        }
    }
    kinds
}

/// Every path the registry serves, with its operations, keyed by path.
pub(super) fn paths(registry: &Registry, kinds: &Kinds) -> BTreeMap<String, Value> {
    let mut paths = Paths::default();
    paths.discovery(registry);
    for resource in registry.all() {
        Resource::new(resource, kinds).add_to(&mut paths);
    }
    paths
        .items
        .into_iter()
        .map(|(path, operations)| (path, path_item(operations)))
        .collect()
}

/// Operations by path, then by method.
#[derive(Default)]
struct Paths {
    items: BTreeMap<String, Vec<(&'static str, Operation)>>,
}

impl Paths {
    fn add(&mut self, path: String, method: &'static str, operation: Operation) {
        self.items
            .entry(path)
            .or_default()
            .push((method, operation));
    }

    /// `/api/`, `/apis/`, `/version/`, each group's `/apis/{group}/` and each group
    /// version's resource list (which, unlike the others, also speaks CBOR).
    fn discovery(&mut self, registry: &Registry) {
        let discovery = |id: String, description: &str, tag: String, response: &str| Operation {
            id,
            description: description.to_owned(),
            tag,
            consumes: DISCOVERY_MEDIA,
            produces: DISCOVERY_MEDIA,
            responses: vec![("200", "OK", Some(reference(response)))],
            ..Operation::default()
        };
        self.add(
            "/version/".to_owned(),
            "get",
            Operation {
                consumes: &["application/json"],
                produces: &["application/json"],
                ..discovery(
                    "getCodeVersion".to_owned(),
                    "get the version information for this server",
                    "version".to_owned(),
                    "io.k8s.apimachinery.pkg.version.Info",
                )
            },
        );
        self.add(
            "/apis/".to_owned(),
            "get",
            discovery(
                "getAPIVersions".to_owned(),
                "get available API versions",
                "apis".to_owned(),
                "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
            ),
        );
        for (group, versions) in registry.groups() {
            let group_name = group_camel(group);
            if group.is_empty() {
                self.add(
                    "/api/".to_owned(),
                    "get",
                    discovery(
                        "getCoreAPIVersions".to_owned(),
                        "get available API versions",
                        "core".to_owned(),
                        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
                    ),
                );
            } else {
                self.add(
                    format!("/apis/{group}/"),
                    "get",
                    discovery(
                        format!("get{group_name}APIGroup"),
                        "get information of a group",
                        group_tag(group),
                        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
                    ),
                );
            }
            for version in versions {
                self.add(
                    format!("{}/", prefix(group, version)),
                    "get",
                    Operation {
                        consumes: OBJECT_MEDIA,
                        produces: OBJECT_MEDIA,
                        ..discovery(
                            format!("get{group_name}{}APIResources", capitalized(version)),
                            "get available resources",
                            format!("{}_{version}", group_tag(group)),
                            "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
                        )
                    },
                );
            }
        }
    }
}

/// One operation, before it is written out.
#[derive(Default)]
struct Operation {
    id: String,
    description: String,
    tag: String,
    action: &'static str,
    /// `(group, version, kind)`.
    gvk: Option<(String, String, String)>,
    /// Every parameter, the path's included; those every operation of a path shares move
    /// up to the path.
    parameters: Vec<Value>,
    consumes: &'static [&'static str],
    produces: &'static [&'static str],
    /// `(code, description, schema)`.
    responses: Vec<(&'static str, &'static str, Option<Value>)>,
}

impl Operation {
    fn to_value(&self, shared: &[Value]) -> Value {
        let mut responses = Map::new();
        for (code, description, schema) in &self.responses {
            let mut response = json!({"description": description});
            if let (Some(schema), Some(object)) = (schema, response.as_object_mut()) {
                object.insert("schema".to_owned(), schema.clone());
            }
            responses.insert((*code).to_owned(), response);
        }
        responses.insert("401".to_owned(), json!({"description": "Unauthorized"}));
        let mut parameters: Vec<&Value> = self
            .parameters
            .iter()
            .filter(|parameter| !shared.contains(parameter))
            .collect();
        parameters.sort_by_key(|parameter| parameter_key(parameter));
        let mut operation = json!({
            "consumes": self.consumes,
            "description": self.description,
            "operationId": self.id,
            "produces": self.produces,
            "responses": responses,
            "schemes": ["https"],
            "tags": [self.tag],
        });
        if let Some(object) = operation.as_object_mut() {
            if !parameters.is_empty() {
                object.insert("parameters".to_owned(), json!(parameters));
            }
            if !self.action.is_empty() {
                object.insert("x-kubernetes-action".to_owned(), json!(self.action));
            }
            if let Some((group, version, kind)) = &self.gvk {
                object.insert(
                    "x-kubernetes-group-version-kind".to_owned(),
                    json!({"group": group, "kind": kind, "version": version}),
                );
            }
        }
        operation
    }
}

/// A path item: its operations, with the parameters they all share hoisted to the path.
fn path_item(operations: Vec<(&'static str, Operation)>) -> Value {
    let mut shared: Vec<Value> = operations
        .first()
        .map(|(_, operation)| operation.parameters.clone())
        .unwrap_or_default();
    shared.retain(|parameter| {
        parameter.get("in").and_then(Value::as_str) != Some("body")
            && operations
                .iter()
                .all(|(_, operation)| operation.parameters.contains(parameter))
    });
    shared.sort_by_key(parameter_key);
    let mut item = Map::new();
    for (method, operation) in &operations {
        item.insert((*method).to_owned(), operation.to_value(&shared));
    }
    if !shared.is_empty() {
        item.insert("parameters".to_owned(), Value::Array(shared));
    }
    sorted(Value::Object(item))
}

/// One resource's operations.
struct Resource<'a> {
    info: &'a ResourceInfo,
    kinds: &'a Kinds,
    /// `AppsV1`, `CoreV1`, `RbacAuthorizationV1`.
    group_version: String,
    /// `Namespaced` or nothing.
    scope: &'static str,
    tag: String,
    /// The kind's definition.
    definition: Option<String>,
}

impl<'a> Resource<'a> {
    fn new(info: &'a ResourceInfo, kinds: &'a Kinds) -> Self {
        Self {
            info,
            kinds,
            group_version: format!("{}{}", group_camel(info.group), capitalized(info.version)),
            scope: if info.namespaced { "Namespaced" } else { "" },
            tag: format!("{}_{}", group_tag(info.group), info.version),
            definition: definition_of(kinds, info.group, info.version, info.kind),
        }
    }

    fn has(&self, verb: Verb) -> bool {
        self.info.verbs.contains(&verb)
    }

    fn operation(&self, verb: &str, action: &'static str, description: String) -> Operation {
        let info = self.info;
        Operation {
            id: format!("{verb}{}{}{}", self.group_version, self.scope, info.kind),
            description,
            tag: self.tag.clone(),
            action,
            gvk: Some((
                info.group.to_owned(),
                info.version.to_owned(),
                info.kind.to_owned(),
            )),
            consumes: ANY,
            produces: OBJECT_MEDIA,
            ..Operation::default()
        }
    }

    /// `namespace` (for namespaced resources) and `pretty`.
    fn scope_parameters(&self) -> Vec<Value> {
        let mut parameters = Vec::new();
        if self.info.namespaced {
            parameters.push(path_parameter(
                "namespace",
                "object name and auth scope, such as for teams and projects",
            ));
        }
        parameters.push(pretty());
        parameters
    }

    fn named_parameters(&self, kind: &str) -> Vec<Value> {
        let mut parameters = vec![path_parameter("name", &format!("name of the {kind}"))];
        parameters.extend(self.scope_parameters());
        parameters
    }

    fn add_to(&self, paths: &mut Paths) {
        let info = self.info;
        let base = prefix(info.group, info.version);
        let scoped = if info.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", info.plural)
        } else {
            format!("{base}/{}", info.plural)
        };
        let watch_scoped = if info.namespaced {
            format!("{base}/watch/namespaces/{{namespace}}/{}", info.plural)
        } else {
            format!("{base}/watch/{}", info.plural)
        };
        let kind = info.kind;
        let object = self.definition.as_deref().map(reference);
        let list = definition_of(self.kinds, info.group, info.version, &format!("{kind}List"))
            .map(|name| reference(&name));
        let watch_event = Some(reference(WATCH_EVENT));
        let article = article(kind);

        if self.has(Verb::List) {
            let description = if self.has(Verb::Watch) {
                format!("list or watch objects of kind {kind}")
            } else {
                format!("list objects of kind {kind}")
            };
            let mut parameters = list_parameters();
            parameters.extend(self.scope_parameters());
            paths.add(
                scoped.clone(),
                "get",
                Operation {
                    parameters,
                    produces: LIST_MEDIA,
                    responses: vec![("200", "OK", list.clone())],
                    ..self.operation("list", "list", description.clone())
                },
            );
            if info.namespaced {
                let mut parameters = list_parameters();
                parameters.push(pretty());
                paths.add(
                    format!("{base}/{}", info.plural),
                    "get",
                    Operation {
                        id: format!("list{}{kind}ForAllNamespaces", self.group_version),
                        parameters,
                        produces: LIST_MEDIA,
                        responses: vec![("200", "OK", list.clone())],
                        ..self.operation("list", "list", description)
                    },
                );
            }
        }
        if self.has(Verb::Create) {
            let mut parameters = write_parameters(object.clone());
            parameters.extend(self.scope_parameters());
            paths.add(
                scoped.clone(),
                "post",
                Operation {
                    parameters,
                    responses: created(&object, true),
                    ..self.operation("create", "post", format!("create{article}{kind}"))
                },
            );
        }
        if self.has(Verb::DeleteCollection) {
            let mut parameters = delete_parameters();
            parameters.extend(
                list_parameters()
                    .into_iter()
                    .filter(|p| !matches!(name_of(p), "allowWatchBookmarks" | "watch")),
            );
            parameters.extend(self.scope_parameters());
            paths.add(
                scoped.clone(),
                "delete",
                Operation {
                    id: format!("delete{}Collection{}{kind}", self.group_version, self.scope),
                    parameters,
                    responses: vec![("200", "OK", Some(reference(STATUS)))],
                    ..self.operation(
                        "delete",
                        "deletecollection",
                        format!("delete collection of {kind}"),
                    )
                },
            );
        }

        let named = format!("{scoped}/{{name}}");
        if self.has(Verb::Get) {
            paths.add(
                named.clone(),
                "get",
                Operation {
                    parameters: self.named_parameters(kind),
                    responses: vec![("200", "OK", object.clone())],
                    ..self.operation("read", "get", format!("read the specified {kind}"))
                },
            );
        }
        if self.has(Verb::Update) {
            let mut parameters = write_parameters(object.clone());
            parameters.extend(self.named_parameters(kind));
            paths.add(
                named.clone(),
                "put",
                Operation {
                    parameters,
                    responses: created(&object, false),
                    ..self.operation("replace", "put", format!("replace the specified {kind}"))
                },
            );
        }
        if self.has(Verb::Delete) {
            let mut parameters = delete_parameters();
            parameters.extend(self.named_parameters(kind));
            let deleted = if DELETE_RETURNS_OBJECT.contains(&(info.group, kind)) {
                object.clone()
            } else {
                Some(reference(STATUS))
            };
            paths.add(
                named.clone(),
                "delete",
                Operation {
                    parameters,
                    responses: vec![("200", "OK", deleted.clone()), ("202", "Accepted", deleted)],
                    ..self.operation("delete", "delete", format!("delete{article}{kind}"))
                },
            );
        }
        if self.has(Verb::Patch) {
            let mut parameters = patch_parameters();
            parameters.extend(self.named_parameters(kind));
            paths.add(
                named.clone(),
                "patch",
                Operation {
                    parameters,
                    consumes: PATCH_MEDIA,
                    responses: created(&object, false),
                    ..self.operation(
                        "patch",
                        "patch",
                        format!("partially update the specified {kind}"),
                    )
                },
            );
        }
        if self.has(Verb::Watch) {
            let mut parameters = list_parameters();
            parameters.extend(self.named_parameters(kind));
            paths.add(
                format!("{watch_scoped}/{{name}}"),
                "get",
                Operation {
                    parameters,
                    produces: WATCH_MEDIA,
                    responses: vec![("200", "OK", watch_event.clone())],
                    ..self.operation(
                        "watch",
                        "watch",
                        format!("watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."),
                    )
                },
            );
            let mut parameters = list_parameters();
            parameters.extend(self.scope_parameters());
            let watch_list = format!(
                "watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."
            );
            paths.add(
                watch_scoped,
                "get",
                Operation {
                    id: format!("watch{}{}{kind}List", self.group_version, self.scope),
                    parameters,
                    produces: WATCH_MEDIA,
                    responses: vec![("200", "OK", watch_event.clone())],
                    ..self.operation("watch", "watchlist", watch_list.clone())
                },
            );
            if info.namespaced {
                let mut parameters = list_parameters();
                parameters.push(pretty());
                paths.add(
                    format!("{base}/watch/{}", info.plural),
                    "get",
                    Operation {
                        id: format!("watch{}{kind}ListForAllNamespaces", self.group_version),
                        parameters,
                        produces: WATCH_MEDIA,
                        responses: vec![("200", "OK", watch_event)],
                        ..self.operation("watch", "watchlist", watch_list)
                    },
                );
            }
        }
        for subresource in info.subresources {
            self.add_subresource(paths, &named, subresource);
        }
    }

    fn add_subresource(&self, paths: &mut Paths, named: &str, subresource: &Subresource) {
        let info = self.info;
        let name = subresource.name;
        let path = format!("{named}/{name}");
        let kind = info.kind;
        let id_suffix = format!(
            "{}{}{kind}{}",
            self.group_version,
            self.scope,
            capitalized(name)
        );
        let gvk = Some((
            subresource.group.to_owned(),
            subresource.version.to_owned(),
            subresource.kind.to_owned(),
        ));
        let object = definition_of(
            self.kinds,
            subresource.group,
            subresource.version,
            subresource.kind,
        )
        .map(|name| reference(&name));
        let base = |verb: &str, action: &'static str, description: String| Operation {
            id: format!("{verb}{id_suffix}"),
            gvk: gvk.clone(),
            ..self.operation(verb, action, description)
        };
        let named_parameters = self.named_parameters(subresource.kind);

        if subresource.kind.ends_with("Options") {
            self.add_connect(paths, &path, subresource);
            return;
        }
        if name == "log" {
            let mut parameters = log_parameters();
            parameters.extend(named_parameters);
            paths.add(
                path,
                "get",
                Operation {
                    parameters,
                    produces: &[
                        "text/plain",
                        "application/json",
                        "application/yaml",
                        "application/vnd.kubernetes.protobuf",
                        "application/cbor",
                    ],
                    responses: vec![("200", "OK", Some(json!({"type": "string"})))],
                    ..base("read", "get", format!("read log of the specified {kind}"))
                },
            );
            return;
        }
        for verb in subresource.verbs {
            let (method, operation) = match verb {
                Verb::Get => (
                    "get",
                    Operation {
                        parameters: named_parameters.clone(),
                        responses: vec![("200", "OK", object.clone())],
                        ..base(
                            "read",
                            "get",
                            format!("read {name} of the specified {kind}"),
                        )
                    },
                ),
                Verb::Update => {
                    let mut parameters = write_parameters(object.clone());
                    parameters.extend(named_parameters.clone());
                    (
                        "put",
                        Operation {
                            parameters,
                            responses: created(&object, false),
                            ..base(
                                "replace",
                                "put",
                                format!("replace {name} of the specified {kind}"),
                            )
                        },
                    )
                }
                Verb::Patch => {
                    let mut parameters = patch_parameters();
                    parameters.extend(named_parameters.clone());
                    (
                        "patch",
                        Operation {
                            parameters,
                            consumes: PATCH_MEDIA,
                            responses: created(&object, false),
                            ..base(
                                "patch",
                                "patch",
                                format!("partially update {name} of the specified {kind}"),
                            )
                        },
                    )
                }
                Verb::Create => {
                    let mut parameters = write_parameters(object.clone());
                    parameters.extend(named_parameters.clone());
                    (
                        "post",
                        Operation {
                            parameters,
                            responses: created(&object, true),
                            ..base(
                                "create",
                                "post",
                                format!("create {name} of{}{kind}", article(kind)),
                            )
                        },
                    )
                }
                _ => continue,
            };
            paths.add(path.clone(), method, operation);
        }
    }

    /// The streaming subresources (`exec`, `attach`, `portforward`, `proxy`), which take
    /// their options kind in the query.
    fn add_connect(&self, paths: &mut Paths, path: &str, subresource: &Subresource) {
        let info = self.info;
        let proxy = subresource.verbs.contains(&Verb::Delete);
        let methods: &[(&str, &str)] = if proxy {
            &[
                ("delete", "Delete"),
                ("get", "Get"),
                ("head", "Head"),
                ("options", "Options"),
                ("patch", "Patch"),
                ("post", "Post"),
                ("put", "Put"),
            ]
        } else {
            &[("get", "Get"), ("post", "Post")]
        };
        let mut options = connect_parameters(subresource.name, info.kind);
        options.push(path_parameter(
            "name",
            &format!("name of the {}", subresource.kind),
        ));
        if info.namespaced {
            options.push(path_parameter(
                "namespace",
                "object name and auth scope, such as for teams and projects",
            ));
        }
        let mut variants = vec![(path.to_owned(), "", options.clone())];
        if proxy {
            let mut with_path = options;
            with_path.push(path_parameter("path", "path to the resource"));
            variants.push((format!("{path}/{{path}}"), "WithPath", with_path));
        }
        for (path, suffix, parameters) in variants {
            for (method, method_name) in methods {
                paths.add(
                    path.clone(),
                    method,
                    Operation {
                        id: format!(
                            "connect{}{method_name}{}{}{}{suffix}",
                            self.group_version,
                            self.scope,
                            info.kind,
                            capitalized(subresource.name)
                        ),
                        description: format!(
                            "connect {} requests to {} of {}",
                            method.to_ascii_uppercase(),
                            subresource.name,
                            info.kind
                        ),
                        tag: self.tag.clone(),
                        action: "connect",
                        gvk: Some((
                            subresource.group.to_owned(),
                            subresource.version.to_owned(),
                            subresource.kind.to_owned(),
                        )),
                        parameters: parameters.clone(),
                        consumes: ANY,
                        produces: ANY,
                        responses: vec![("200", "OK", Some(json!({"type": "string"})))],
                    },
                );
            }
        }
    }
}

fn definition_of(kinds: &Kinds, group: &str, version: &str, kind: &str) -> Option<String> {
    kinds
        .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
        .cloned()
}

fn reference(definition: &str) -> Value {
    json!({"$ref": format!("{DEFINITIONS}{definition}")})
}

/// `200`, `201` (and `202` for creations) with the object.
fn created(
    object: &Option<Value>,
    accepted: bool,
) -> Vec<(&'static str, &'static str, Option<Value>)> {
    let mut responses = vec![
        ("200", "OK", object.clone()),
        ("201", "Created", object.clone()),
    ];
    if accepted {
        responses.push(("202", "Accepted", object.clone()));
    }
    responses
}

/// `/api/v1` or `/apis/{group}/{version}`.
fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// The group as operation ids spell it: `Core`, `Apps`, `RbacAuthorization`,
/// `FlowcontrolApiserver`.
fn group_camel(group: &str) -> String {
    if group.is_empty() {
        return "Core".to_owned();
    }
    group
        .trim_end_matches(".k8s.io")
        .split('.')
        .map(capitalized)
        .collect()
}

/// The group as tags spell it: `core`, `apps`, `rbacAuthorization`.
fn group_tag(group: &str) -> String {
    let camel = group_camel(group);
    let mut chars = camel.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The article kube-apiserver puts before a kind: ` an ` before a vowel, nothing before a
/// plural-looking kind (`Endpoints`), ` a ` otherwise.
fn article(kind: &str) -> &'static str {
    if kind.ends_with('s') && !kind.ends_with("ss") {
        " "
    } else if kind.starts_with(['A', 'E', 'I', 'O', 'U']) {
        " an "
    } else {
        " a "
    }
}

/// Parameters are listed by name (a path's `path` before the query's).
fn parameter_key(parameter: &Value) -> (String, String) {
    let part = |key: &str| {
        parameter
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (part("name"), part("in"))
}

fn name_of(parameter: &Value) -> &str {
    parameter
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "description": description,
        "in": "query",
        "name": name,
        "type": kind,
        "uniqueItems": true,
    })
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({
        "description": description,
        "in": "path",
        "name": name,
        "required": true,
        "type": "string",
        "uniqueItems": true,
    })
}

fn body(definition: Option<Value>, required: bool) -> Value {
    let mut body = json!({"in": "body", "name": "body"});
    if let Some(object) = body.as_object_mut() {
        if required {
            object.insert("required".to_owned(), json!(true));
        }
        if let Some(schema) = definition {
            object.insert("schema".to_owned(), schema);
        }
    }
    body
}

fn pretty() -> Value {
    query(
        "pretty",
        "string",
        "If 'true', the output is pretty printed.",
    )
}

fn dry_run() -> Value {
    query(
        "dryRun",
        "string",
        "When present, modifications are not persisted. The only valid value is All: every dry-run stage is processed.",
    )
}

fn field_manager() -> Value {
    query(
        "fieldManager",
        "string",
        "The name of the actor making these changes, recorded in managedFields.",
    )
}

fn field_validation() -> Value {
    query(
        "fieldValidation",
        "string",
        "How to treat unknown or duplicate fields in the object: Ignore drops them silently; Warn (the default) drops them with a Warning header for each; Strict rejects the request with a BadRequest naming them all.",
    )
}

/// `body` (the object), `dryRun`, `fieldManager`, `fieldValidation`: create and replace.
fn write_parameters(object: Option<Value>) -> Vec<Value> {
    vec![
        body(object, true),
        dry_run(),
        field_manager(),
        field_validation(),
    ]
}

/// `body` (a patch), `dryRun`, `fieldManager`, `fieldValidation`, `force`.
fn patch_parameters() -> Vec<Value> {
    vec![
        body(Some(reference(PATCH)), true),
        dry_run(),
        field_manager(),
        field_validation(),
        query(
            "force",
            "boolean",
            "Apply requests only: take ownership of conflicting fields from other managers.",
        ),
    ]
}

/// What a delete takes (`body` is `DeleteOptions`).
fn delete_parameters() -> Vec<Value> {
    vec![
        body(Some(reference(DELETE_OPTIONS)), false),
        dry_run(),
        query(
            "gracePeriodSeconds",
            "integer",
            "Seconds before the object is deleted; zero deletes immediately.",
        ),
        query(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "boolean",
            "Delete an object whose stored form cannot be read (a corrupt object).",
        ),
        query(
            "orphanDependents",
            "boolean",
            "Deprecated: use propagationPolicy. Whether dependents are orphaned.",
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how dependents are garbage collected: Orphan, Background or Foreground.",
        ),
    ]
}

/// What a list or watch takes.
fn list_parameters() -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "Watch requests only: the server may send BOOKMARK events.",
        ),
        query(
            "continue",
            "string",
            "The continue token of the previous page of a paginated list.",
        ),
        query(
            "fieldSelector",
            "string",
            "Restricts the returned objects by their fields.",
        ),
        query(
            "labelSelector",
            "string",
            "Restricts the returned objects by their labels.",
        ),
        query(
            "limit",
            "integer",
            "The most objects one page of a list returns.",
        ),
        query(
            "resourceVersion",
            "string",
            "The resource version the list or watch starts from.",
        ),
        query(
            "resourceVersionMatch",
            "string",
            "How resourceVersion applies to a list: Exact or NotOlderThan.",
        ),
        query(
            "sendInitialEvents",
            "boolean",
            "Watch requests only: begin with the current objects as synthetic ADDED events.",
        ),
        query(
            "timeoutSeconds",
            "integer",
            "How long the list or watch call may last.",
        ),
        query(
            "watch",
            "boolean",
            "Watch for changes to the objects instead of listing them.",
        ),
    ]
}

/// What `pods/log` takes.
fn log_parameters() -> Vec<Value> {
    vec![
        query(
            "container",
            "string",
            "The container whose log to return; may be omitted for a pod with one container.",
        ),
        query("follow", "boolean", "Stream the log as it grows."),
        query(
            "insecureSkipTLSVerifyBackend",
            "boolean",
            "Do not verify the kubelet's serving certificate.",
        ),
        query("limitBytes", "integer", "The most bytes of log to return."),
        query(
            "previous",
            "boolean",
            "Return the log of the container's previous run.",
        ),
        query(
            "sinceSeconds",
            "integer",
            "Return only log lines newer than this many seconds.",
        ),
        query(
            "stream",
            "string",
            "Which stream to return: All, Stdout or Stderr.",
        ),
        query(
            "tailLines",
            "integer",
            "Return only this many lines from the end of the log.",
        ),
        query(
            "timestamps",
            "boolean",
            "Prefix every line with an RFC3339 timestamp.",
        ),
    ]
}

/// The query options of a streaming subresource.
fn connect_parameters(subresource: &str, kind: &str) -> Vec<Value> {
    let stream = |name: &str, description: &str| query(name, "boolean", description);
    match subresource {
        "attach" | "exec" => {
            let mut parameters = Vec::new();
            if subresource == "exec" {
                parameters.push(query(
                    "command",
                    "string",
                    "The command to run, one argument per parameter.",
                ));
            }
            parameters.extend([
                query(
                    "container",
                    "string",
                    "The container to connect to; may be omitted for a pod with one container.",
                ),
                stream("stderr", "Stream the container's stderr."),
                stream("stdin", "Pass stdin to the container."),
                stream("stdout", "Stream the container's stdout."),
                stream("tty", "Allocate a terminal."),
            ]);
            parameters
        }
        "portforward" => vec![query("ports", "integer", "The pod ports to forward.")],
        _ => vec![query(
            "path",
            "string",
            &format!("The URL path of the request proxied to the {kind}."),
        )],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{article, group_camel, group_tag, kinds, paths};
    use crate::openapi::source::definitions;
    use crate::registry::Registry;

    #[test]
    fn names_follow_kube_apiserver() {
        assert_eq!(group_camel(""), "Core");
        assert_eq!(
            group_camel("rbac.authorization.k8s.io"),
            "RbacAuthorization"
        );
        assert_eq!(
            group_camel("flowcontrol.apiserver.k8s.io"),
            "FlowcontrolApiserver"
        );
        assert_eq!(group_tag("rbac.authorization.k8s.io"), "rbacAuthorization");
        assert_eq!(group_tag(""), "core");
        assert_eq!(article("Endpoints"), " ");
        assert_eq!(article("Ingress"), " an ");
        assert_eq!(article("Deployment"), " a ");
        assert_eq!(article("IngressClass"), " an ");
    }

    #[test]
    fn deployment_operations() -> Result<(), String> {
        let definitions = definitions().map_err(|error| error.to_string())?;
        let paths = paths(&Registry::builtin(), &kinds(definitions));
        let item = paths
            .get("/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
            .ok_or("no deployment path")?;
        let names = |value: Option<&Value>| -> Vec<String> {
            value
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("name")?.as_str().map(str::to_owned))
                .collect()
        };
        assert_eq!(
            names(item.get("parameters")),
            ["name", "namespace", "pretty"]
        );
        let patch = item.get("patch").ok_or("no patch")?;
        assert_eq!(
            patch.get("operationId"),
            Some(&json!("patchAppsV1NamespacedDeployment"))
        );
        assert_eq!(
            names(patch.get("parameters")),
            ["body", "dryRun", "fieldManager", "fieldValidation", "force"]
        );
        assert_eq!(
            patch.get("x-kubernetes-group-version-kind"),
            Some(&json!({"group": "apps", "kind": "Deployment", "version": "v1"}))
        );
        let scale = paths
            .get("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale")
            .and_then(|item| item.get("put"))
            .ok_or("no scale put")?;
        assert_eq!(
            scale.get("operationId"),
            Some(&json!("replaceAppsV1NamespacedDeploymentScale"))
        );
        assert_eq!(
            scale.pointer("/x-kubernetes-group-version-kind/kind"),
            Some(&json!("Scale"))
        );
        assert_eq!(
            scale.pointer("/responses/200/schema/$ref"),
            Some(&json!("#/definitions/io.k8s.api.autoscaling.v1.Scale"))
        );
        let binding = paths
            .get("/api/v1/namespaces/{namespace}/pods/{name}/binding")
            .ok_or("no binding")?;
        assert_eq!(
            names(binding.get("parameters")),
            [
                "dryRun",
                "fieldManager",
                "fieldValidation",
                "name",
                "namespace",
                "pretty"
            ]
        );
        let exec = paths
            .get("/api/v1/namespaces/{namespace}/pods/{name}/exec")
            .and_then(|item| item.get("post"))
            .ok_or("no exec")?;
        assert_eq!(
            exec.get("operationId"),
            Some(&json!("connectCoreV1PostNamespacedPodExec"))
        );
        assert_eq!(
            exec.pointer("/x-kubernetes-group-version-kind/kind"),
            Some(&json!("PodExecOptions"))
        );
        assert!(paths.contains_key("/api/v1/nodes/{name}/proxy/{path}"));
        assert!(paths.contains_key("/apis/apps/v1/watch/deployments"));
        assert!(paths.contains_key("/apis/apps/"));
        assert!(paths.contains_key("/version/"));
        Ok(())
    }
}
