//! Core kinds other than pods, services and volumes: namespaces, nodes, secrets, config
//! maps, service accounts, component statuses, resource quotas, pod templates and
//! replication controllers.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    ConfigMap, NodeStatus, NodeSystemInfo, ReplicationControllerSpec, ReplicationControllerStatus,
    Secret, ServiceAccount,
};

use super::common::{age, container_cells, doc, int, name, text, AGE, CONTAINERS, IMAGES, NAME};
use super::format;
use super::node::Node;
use super::printer::{Column, Context, Doc, Printer, Row};
use super::quantity;

/// `namespaces`.
pub static NAMESPACE: Printer = Printer::new(
    &[
        NAME,
        Column::new("Status", "string", Doc::Text("The status of the namespace")),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            text(object.at(&["status", "phase"]).str()),
            age(object, context),
        ]
        .into()
    },
);

/// `secrets`.
pub static SECRET: Printer = Printer::new(
    &[
        NAME,
        Column::new("Type", "string", doc::<Secret>("type")),
        Column::new("Data", "string", doc::<Secret>("data")),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            text(object.get("type").str()),
            int(object.get("data").count() as i64),
            age(object, context),
        ]
        .into()
    },
);

/// `configmaps`.
pub static CONFIG_MAP: Printer = Printer::new(
    &[
        NAME,
        Column::new("Data", "string", doc::<ConfigMap>("data")),
        AGE,
    ],
    |object, context| {
        let entries = object.get("data").count() + object.get("binaryData").count();
        vec![name(object), int(entries as i64), age(object, context)].into()
    },
);

/// `serviceaccounts`.
pub static SERVICE_ACCOUNT: Printer = Printer::new(
    &[
        NAME,
        Column::new("Secrets", "string", doc::<ServiceAccount>("secrets")),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            int(object.get("secrets").count() as i64),
            age(object, context),
        ]
        .into()
    },
);

/// `nodes`.
pub static NODE: Printer = Printer::new(
    &[
        NAME,
        Column::new("Status", "string", Doc::Text("The status of the node")),
        Column::new("Roles", "string", Doc::Text("The roles of the node")),
        AGE,
        Column::new("Version", "string", doc::<NodeSystemInfo>("kubeletVersion")),
        Column::wide("Internal-IP", "string", doc::<NodeStatus>("addresses")),
        Column::wide("External-IP", "string", doc::<NodeStatus>("addresses")),
        Column::wide("OS-Image", "string", doc::<NodeSystemInfo>("osImage")),
        Column::wide(
            "Kernel-Version",
            "string",
            doc::<NodeSystemInfo>("kernelVersion"),
        ),
        Column::wide(
            "Container-Runtime",
            "string",
            doc::<NodeSystemInfo>("containerRuntimeVersion"),
        ),
    ],
    node_row,
);

/// The role a `node-role.kubernetes.io/<role>` label names.
const ROLE_PREFIX: &str = "node-role.kubernetes.io/";
/// The older `kubernetes.io/role=<role>` label.
const ROLE_LABEL: &str = "kubernetes.io/role";

fn node_status(node: Node<'_>) -> String {
    let mut status: Vec<String> = Vec::new();
    if let Some(ready) = node
        .at(&["status", "conditions"])
        .items()
        .filter(|condition| condition.get("type").str() == "Ready")
        .last()
    {
        if ready.get("status").str() == "True" {
            status.push("Ready".to_owned());
        } else {
            status.push("NotReady".to_owned());
        }
    }
    if status.is_empty() {
        status.push("Unknown".to_owned());
    }
    if node.at(&["spec", "unschedulable"]).bool() {
        status.push("SchedulingDisabled".to_owned());
    }
    status.join(",")
}

fn node_roles(node: Node<'_>) -> String {
    let mut roles = BTreeSet::new();
    for (key, value) in node.at(&["metadata", "labels"]).entries() {
        if let Some(role) = key.strip_prefix(ROLE_PREFIX) {
            if !role.is_empty() {
                roles.insert(role.to_owned());
            }
        } else if key == ROLE_LABEL && !value.str().is_empty() {
            roles.insert(value.str().to_owned());
        }
    }
    if roles.is_empty() {
        return "<none>".to_owned();
    }
    roles.into_iter().collect::<Vec<_>>().join(",")
}

fn node_address(node: Node<'_>, kind: &str) -> String {
    node.at(&["status", "addresses"])
        .items()
        .find(|address| address.get("type").str() == kind)
        .map_or_else(
            || "<none>".to_owned(),
            |address| address.get("address").str().to_owned(),
        )
}

fn unknown_if_empty(text: &str) -> String {
    if text.is_empty() {
        "<unknown>".to_owned()
    } else {
        text.to_owned()
    }
}

fn node_row(node: Node<'_>, context: &Context) -> Row {
    let info = node.at(&["status", "nodeInfo"]);
    vec![
        name(node),
        text(node_status(node)),
        text(node_roles(node)),
        age(node, context),
        text(info.get("kubeletVersion").str()),
        text(node_address(node, "InternalIP")),
        text(node_address(node, "ExternalIP")),
        text(unknown_if_empty(info.get("osImage").str())),
        text(unknown_if_empty(info.get("kernelVersion").str())),
        text(unknown_if_empty(info.get("containerRuntimeVersion").str())),
    ]
    .into()
}

/// `componentstatuses`.
pub static COMPONENT_STATUS: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Status",
            "string",
            Doc::Text("Status of the component conditions"),
        ),
        Column::new(
            "Message",
            "string",
            Doc::Text("Message of the component conditions"),
        ),
        Column::new(
            "Error",
            "string",
            Doc::Text("Error of the component conditions"),
        ),
    ],
    |object, _| {
        let healthy = object
            .get("conditions")
            .items()
            .find(|condition| condition.get("type").str() == "Healthy");
        let (status, message, error) = match healthy {
            Some(condition) => (
                if condition.get("status").str() == "True" {
                    "Healthy"
                } else {
                    "Unhealthy"
                },
                condition.get("message").str(),
                condition.get("error").str(),
            ),
            None => ("Unknown", "", ""),
        };
        vec![name(object), text(status), text(message), text(error)].into()
    },
);

/// `resourcequotas`.
pub static RESOURCE_QUOTA: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Request",
            "string",
            Doc::Text("Request represents a minimum amount of cpu/memory that a container may consume."),
        ),
        Column::new(
            "Limit",
            "string",
            Doc::Text("Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
        ),
        AGE,
    ],
    |object, context| {
        let hard = object.at(&["status", "hard"]);
        let used = object.at(&["status", "used"]);
        let mut resources: Vec<&str> = hard.entries().map(|(key, _)| key).collect();
        resources.sort_unstable();
        let mut requests = Vec::new();
        let mut limits = Vec::new();
        for resource in resources {
            let entry = format!(
                "{resource}: {}/{}",
                quantity::of(used.get(resource)),
                quantity::of(hard.get(resource))
            );
            let pieces: Vec<&str> = resource.split('.').collect();
            if pieces.len() > 1 && pieces[0] == "limits" {
                limits.push(entry);
            } else {
                requests.push(entry);
            }
        }
        vec![
            name(object),
            text(requests.join(", ")),
            text(limits.join(", ")),
            age(object, context),
        ]
        .into()
    },
);

/// `podtemplates`.
pub static POD_TEMPLATE: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Containers",
            "string",
            Doc::Text("Names of each container in the template."),
        ),
        Column::new(
            "Images",
            "string",
            Doc::Text("Images referenced by each container in the template."),
        ),
        Column::new(
            "Pod Labels",
            "string",
            Doc::Text("The labels for the pod template."),
        ),
    ],
    |object, _| {
        let template = object.get("template");
        let [names, images] = container_cells(template.get("spec"));
        vec![
            name(object),
            names,
            images,
            text(format::labels(template.at(&["metadata", "labels"]))),
        ]
        .into()
    },
);

/// `replicationcontrollers`.
pub static REPLICATION_CONTROLLER: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Desired",
            "integer",
            doc::<ReplicationControllerSpec>("replicas"),
        ),
        Column::new(
            "Current",
            "integer",
            doc::<ReplicationControllerStatus>("replicas"),
        ),
        Column::new(
            "Ready",
            "integer",
            doc::<ReplicationControllerStatus>("readyReplicas"),
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::wide(
            "Selector",
            "string",
            doc::<ReplicationControllerSpec>("selector"),
        ),
    ],
    |object, context| {
        let spec = object.get("spec");
        let status = object.get("status");
        let [names, images] = container_cells(spec.at(&["template", "spec"]));
        vec![
            name(object),
            int(replicas(spec)),
            int(status.get("replicas").int()),
            int(status.get("readyReplicas").int()),
            age(object, context),
            names,
            images,
            text(format::labels(spec.get("selector"))),
        ]
        .into()
    },
);

/// `spec.replicas`, defaulted to 1 as the API defaults it.
pub fn replicas(spec: Node<'_>) -> i64 {
    spec.get("replicas").as_i64().unwrap_or(1)
}
