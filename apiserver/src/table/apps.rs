//! `apps/v1`: Deployments, ReplicaSets, DaemonSets, StatefulSets and ControllerRevisions.

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSetSpec, DaemonSetStatus, DeploymentSpec, DeploymentStatus,
    ReplicaSetSpec, ReplicaSetStatus,
};
use k8s_openapi::api::core::v1::PodSpec;

use super::common::{age, container_cells, doc, int, name, text, AGE, CONTAINERS, IMAGES, NAME};
use super::core_v1::replicas;
use super::format;
use super::node::Node;
use super::printer::{Column, Doc, Printer};

/// `deployments`.
pub static DEPLOYMENT: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Ready",
            "string",
            Doc::Text("Number of the pod with ready state"),
        ),
        Column::new(
            "Up-to-date",
            "string",
            doc::<DeploymentStatus>("updatedReplicas"),
        ),
        Column::new(
            "Available",
            "string",
            doc::<DeploymentStatus>("availableReplicas"),
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::wide("Selector", "string", doc::<DeploymentSpec>("selector")),
    ],
    |object, context| {
        let spec = object.get("spec");
        let status = object.get("status");
        let [names, images] = container_cells(spec.at(&["template", "spec"]));
        let selector =
            format::selector(spec.get("selector")).unwrap_or_else(|()| "<invalid>".to_owned());
        vec![
            name(object),
            text(format!(
                "{}/{}",
                status.get("readyReplicas").int(),
                replicas(spec)
            )),
            int(status.get("updatedReplicas").int()),
            int(status.get("availableReplicas").int()),
            age(object, context),
            names,
            images,
            text(selector),
        ]
        .into()
    },
);

/// `replicasets`.
pub static REPLICA_SET: Printer = Printer::new(
    &[
        NAME,
        Column::new("Desired", "integer", doc::<ReplicaSetSpec>("replicas")),
        Column::new("Current", "integer", doc::<ReplicaSetStatus>("replicas")),
        Column::new("Ready", "integer", doc::<ReplicaSetStatus>("readyReplicas")),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::wide("Selector", "string", doc::<ReplicaSetSpec>("selector")),
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
            text(format::label_selector(spec.get("selector"))),
        ]
        .into()
    },
);

/// `daemonsets`.
pub static DAEMON_SET: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Desired",
            "integer",
            doc::<DaemonSetStatus>("desiredNumberScheduled"),
        ),
        Column::new(
            "Current",
            "integer",
            doc::<DaemonSetStatus>("currentNumberScheduled"),
        ),
        Column::new("Ready", "integer", doc::<DaemonSetStatus>("numberReady")),
        Column::new(
            "Up-to-date",
            "integer",
            doc::<DaemonSetStatus>("updatedNumberScheduled"),
        ),
        Column::new(
            "Available",
            "integer",
            doc::<DaemonSetStatus>("numberAvailable"),
        ),
        Column::new("Node Selector", "string", doc::<PodSpec>("nodeSelector")),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::wide("Selector", "string", doc::<DaemonSetSpec>("selector")),
    ],
    |object, context| {
        let spec = object.get("spec");
        let status = object.get("status");
        let pod_spec = spec.at(&["template", "spec"]);
        let [names, images] = container_cells(pod_spec);
        vec![
            name(object),
            int(status.get("desiredNumberScheduled").int()),
            int(status.get("currentNumberScheduled").int()),
            int(status.get("numberReady").int()),
            int(status.get("updatedNumberScheduled").int()),
            int(status.get("numberAvailable").int()),
            text(format::labels(pod_spec.get("nodeSelector"))),
            age(object, context),
            names,
            images,
            text(format::label_selector(spec.get("selector"))),
        ]
        .into()
    },
);

/// `statefulsets`.
pub static STATEFUL_SET: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Ready",
            "string",
            Doc::Text("Number of the pod with ready state"),
        ),
        AGE,
        CONTAINERS,
        IMAGES,
    ],
    |object, context| {
        let spec = object.get("spec");
        let [names, images] = container_cells(spec.at(&["template", "spec"]));
        vec![
            name(object),
            text(format!(
                "{}/{}",
                object.at(&["status", "readyReplicas"]).int(),
                replicas(spec)
            )),
            age(object, context),
            names,
            images,
        ]
        .into()
    },
);

/// `controllerrevisions`.
pub static CONTROLLER_REVISION: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Controller",
            "string",
            Doc::Text("Controller of the object"),
        ),
        Column::new("Revision", "string", doc::<ControllerRevision>("revision")),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            text(controller_of(object)),
            int(object.get("revision").int()),
            age(object, context),
        ]
        .into()
    },
);

/// The controlling owner as `kind.group/name` (lowercase kind), `<none>` without one.
pub fn controller_of(object: Node<'_>) -> String {
    let Some(owner) = object
        .at(&["metadata", "ownerReferences"])
        .items()
        .find(|owner| owner.get("controller").bool())
    else {
        return "<none>".to_owned();
    };
    let api_version = owner.get("apiVersion").str();
    let group = api_version.split_once('/').map_or("", |(group, _)| group);
    let kind = owner.get("kind").str();
    let name = owner.get("name").str();
    if kind.is_empty() && group.is_empty() {
        return name.to_owned();
    }
    let group_kind = if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", group_kind.to_lowercase())
}
