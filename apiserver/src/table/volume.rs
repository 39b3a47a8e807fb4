//! PersistentVolumes and PersistentVolumeClaims.

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaimSpec, PersistentVolumeClaimStatus, PersistentVolumeSpec,
    PersistentVolumeStatus,
};

use super::common::{age, annotation, deleting, doc, name, text, AGE, NAME};
use super::node::Node;
use super::printer::{Column, Context, Doc, Printer, Row};
use super::quantity;

/// The annotation older clients name a volume's class with.
const BETA_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP`, in that order, each once.
pub fn access_modes(modes: Node<'_>) -> String {
    let has = |mode: &str| modes.items().any(|given| given.str() == mode);
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

fn storage_class(object: Node<'_>) -> String {
    annotation(object, BETA_CLASS)
        .unwrap_or_else(|| object.at(&["spec", "storageClassName"]).str())
        .to_owned()
}

fn phase(object: Node<'_>) -> &str {
    if deleting(object) {
        "Terminating"
    } else {
        object.at(&["status", "phase"]).str()
    }
}

fn set_or_unset(node: Node<'_>) -> String {
    node.as_str()
        .map_or_else(|| "<unset>".to_owned(), str::to_owned)
}

/// `persistentvolumes`.
pub static PERSISTENT_VOLUME: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Capacity",
            "string",
            doc::<PersistentVolumeSpec>("capacity"),
        ),
        Column::new(
            "Access Modes",
            "string",
            doc::<PersistentVolumeSpec>("accessModes"),
        ),
        Column::new(
            "Reclaim Policy",
            "string",
            doc::<PersistentVolumeSpec>("persistentVolumeReclaimPolicy"),
        ),
        Column::new("Status", "string", doc::<PersistentVolumeStatus>("phase")),
        Column::new("Claim", "string", doc::<PersistentVolumeSpec>("claimRef")),
        Column::new(
            "StorageClass",
            "string",
            Doc::Text("StorageClass of the pv"),
        ),
        Column::new(
            "VolumeAttributesClass",
            "string",
            Doc::Text("VolumeAttributesClass of the pv"),
        ),
        Column::new("Reason", "string", doc::<PersistentVolumeStatus>("reason")),
        AGE,
        Column::wide(
            "VolumeMode",
            "string",
            doc::<PersistentVolumeSpec>("volumeMode"),
        ),
    ],
    volume_row,
);

fn volume_row(volume: Node<'_>, context: &Context) -> Row {
    let spec = volume.get("spec");
    let claim = spec.get("claimRef");
    let claim = if claim.is_set() {
        format!(
            "{}/{}",
            claim.get("namespace").str(),
            claim.get("name").str()
        )
    } else {
        String::new()
    };
    let reclaim = spec
        .get("persistentVolumeReclaimPolicy")
        .as_str()
        .unwrap_or("Retain");
    let mode = spec.get("volumeMode").as_str().unwrap_or("Filesystem");
    vec![
        name(volume),
        text(quantity::of(spec.at(&["capacity", "storage"]))),
        text(access_modes(spec.get("accessModes"))),
        text(reclaim),
        text(phase(volume)),
        text(claim),
        text(storage_class(volume)),
        text(set_or_unset(spec.get("volumeAttributesClassName"))),
        text(volume.at(&["status", "reason"]).str()),
        age(volume, context),
        text(mode),
    ]
    .into()
}

/// `persistentvolumeclaims`.
pub static PERSISTENT_VOLUME_CLAIM: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Status",
            "string",
            doc::<PersistentVolumeClaimStatus>("phase"),
        ),
        Column::new(
            "Volume",
            "string",
            doc::<PersistentVolumeClaimSpec>("volumeName"),
        ),
        Column::new(
            "Capacity",
            "string",
            doc::<PersistentVolumeClaimStatus>("capacity"),
        ),
        Column::new(
            "Access Modes",
            "string",
            doc::<PersistentVolumeClaimStatus>("accessModes"),
        ),
        Column::new(
            "StorageClass",
            "string",
            Doc::Text("StorageClass of the pvc"),
        ),
        Column::new(
            "VolumeAttributesClass",
            "string",
            Doc::Text("VolumeAttributesClass of the pvc"),
        ),
        AGE,
        Column::wide(
            "VolumeMode",
            "string",
            doc::<PersistentVolumeClaimSpec>("volumeMode"),
        ),
    ],
    claim_row,
);

fn claim_row(claim: Node<'_>, context: &Context) -> Row {
    let spec = claim.get("spec");
    let status = claim.get("status");
    let volume = spec.get("volumeName").str();
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity::of(status.at(&["capacity", "storage"])),
            access_modes(status.get("accessModes")),
        )
    };
    let class = annotation(claim, BETA_CLASS)
        .map(str::to_owned)
        .unwrap_or_else(|| spec.get("storageClassName").str().to_owned());
    let mode = spec.get("volumeMode").as_str().unwrap_or("Filesystem");
    vec![
        name(claim),
        text(phase(claim)),
        text(volume),
        text(capacity),
        text(modes),
        text(class),
        text(set_or_unset(spec.get("volumeAttributesClassName"))),
        age(claim, context),
        text(mode),
    ]
    .into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::access_modes;
    use crate::table::node::Node;

    #[test]
    fn access_modes_in_upstream_order() {
        let modes = json!(["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"]);
        assert_eq!(access_modes(Node::of(&modes)), "RWO,RWX");
        assert_eq!(access_modes(Node::of(&json!([]))), "");
    }
}
