//! `storage.k8s.io/v1`: StorageClasses, VolumeAttributesClasses, CSI drivers, nodes and
//! storage capacities, and VolumeAttachments.

use k8s_openapi::api::storage::v1::{
    CSIDriverSpec, CSIStorageCapacity, StorageClass, VolumeAttachmentSource, VolumeAttachmentSpec,
    VolumeAttachmentStatus, VolumeAttributesClass,
};
use serde_json::Value;

use super::common::{age, annotation, doc, int, name, text, AGE, NAME};
use super::node::Node;
use super::printer::{Column, Doc, Printer};
use super::quantity;

/// The annotations that mark the default StorageClass.
const DEFAULT_CLASS: [&str; 2] = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

/// The annotation that marks the default VolumeAttributesClass.
const DEFAULT_ATTRIBUTES_CLASS: &str = "volumeattributesclass.alpha.kubernetes.io/is-default-class";

fn named_default(object: Node<'_>, annotations: &[&str]) -> Value {
    let mut name = object.at(&["metadata", "name"]).str().to_owned();
    if annotations
        .iter()
        .any(|key| annotation(object, key) == Some("true"))
    {
        name.push_str(" (default)");
    }
    text(name)
}

/// `storageclasses`.
pub static STORAGE_CLASS: Printer = Printer::new(
    &[
        NAME,
        Column::new("Provisioner", "string", doc::<StorageClass>("provisioner")),
        Column::new(
            "ReclaimPolicy",
            "string",
            doc::<StorageClass>("reclaimPolicy"),
        ),
        Column::new(
            "VolumeBindingMode",
            "string",
            doc::<StorageClass>("volumeBindingMode"),
        ),
        Column::new(
            "AllowVolumeExpansion",
            "string",
            doc::<StorageClass>("allowVolumeExpansion"),
        ),
        AGE,
    ],
    |object, context| {
        vec![
            named_default(object, &DEFAULT_CLASS),
            text(object.get("provisioner").str()),
            text(object.get("reclaimPolicy").as_str().unwrap_or("Delete")),
            text(
                object
                    .get("volumeBindingMode")
                    .as_str()
                    .unwrap_or("Immediate"),
            ),
            Value::Bool(object.get("allowVolumeExpansion").bool()),
            age(object, context),
        ]
        .into()
    },
);

/// `volumeattributesclasses`.
pub static VOLUME_ATTRIBUTES_CLASS: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "DriverName",
            "string",
            doc::<VolumeAttributesClass>("driverName"),
        ),
        AGE,
    ],
    |object, context| {
        vec![
            named_default(object, &[DEFAULT_ATTRIBUTES_CLASS]),
            text(object.get("driverName").str()),
            age(object, context),
        ]
        .into()
    },
);

/// `csidrivers`.
pub static CSI_DRIVER: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "AttachRequired",
            "boolean",
            doc::<CSIDriverSpec>("attachRequired"),
        ),
        Column::new(
            "PodInfoOnMount",
            "boolean",
            doc::<CSIDriverSpec>("podInfoOnMount"),
        ),
        Column::new(
            "StorageCapacity",
            "boolean",
            doc::<CSIDriverSpec>("storageCapacity"),
        ),
        Column::new(
            "TokenRequests",
            "string",
            doc::<CSIDriverSpec>("tokenRequests"),
        ),
        Column::new(
            "RequiresRepublish",
            "boolean",
            doc::<CSIDriverSpec>("requiresRepublish"),
        ),
        Column::new(
            "Modes",
            "string",
            doc::<CSIDriverSpec>("volumeLifecycleModes"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let tokens = spec.get("tokenRequests");
        let tokens = if tokens.is_set() {
            tokens
                .items()
                .map(|token| token.get("audience").str())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            "<unset>".to_owned()
        };
        // The API defaults the lifecycle modes to `Persistent`.
        let modes = match spec.get("volumeLifecycleModes") {
            modes if modes.is_set() => modes.items().map(Node::str).collect::<Vec<_>>(),
            _ => vec!["Persistent"],
        };
        let modes = if modes.is_empty() {
            "<none>".to_owned()
        } else {
            modes.join(",")
        };
        vec![
            name(object),
            Value::Bool(spec.get("attachRequired").as_bool().unwrap_or(true)),
            Value::Bool(spec.get("podInfoOnMount").bool()),
            Value::Bool(spec.get("storageCapacity").bool()),
            text(tokens),
            Value::Bool(spec.get("requiresRepublish").bool()),
            text(modes),
            age(object, context),
        ]
        .into()
    },
);

/// `csinodes`.
pub static CSI_NODE: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Drivers",
            "integer",
            Doc::Text("Drivers indicates the number of CSI drivers registered on the node"),
        ),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            int(object.at(&["spec", "drivers"]).count() as i64),
            age(object, context),
        ]
        .into()
    },
);

/// `csistoragecapacities`.
pub static CSI_STORAGE_CAPACITY: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "StorageClassName",
            "string",
            doc::<CSIStorageCapacity>("storageClassName"),
        ),
        Column::new("Capacity", "string", doc::<CSIStorageCapacity>("capacity")),
    ],
    |object, _| {
        let capacity = object.get("capacity");
        let capacity = if capacity.is_set() {
            quantity::of(capacity)
        } else {
            "<unset>".to_owned()
        };
        vec![
            name(object),
            text(object.get("storageClassName").str()),
            text(capacity),
        ]
        .into()
    },
);

/// `volumeattachments`.
pub static VOLUME_ATTACHMENT: Printer = Printer::new(
    &[
        NAME,
        Column {
            name: "Attacher",
            kind: "string",
            format: "name",
            doc: doc::<VolumeAttachmentSpec>("attacher"),
            priority: 0,
        },
        Column::new(
            "PV",
            "string",
            doc::<VolumeAttachmentSource>("persistentVolumeName"),
        ),
        Column::new("Node", "string", doc::<VolumeAttachmentSpec>("nodeName")),
        Column::new(
            "Attached",
            "boolean",
            doc::<VolumeAttachmentStatus>("attached"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        vec![
            name(object),
            text(spec.get("attacher").str()),
            text(spec.at(&["source", "persistentVolumeName"]).str()),
            text(spec.get("nodeName").str()),
            Value::Bool(object.at(&["status", "attached"]).bool()),
            age(object, context),
        ]
        .into()
    },
);
