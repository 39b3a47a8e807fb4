//! `resource.k8s.io/v1` (dynamic resource allocation): DeviceClasses, ResourceClaims,
//! ResourceClaimTemplates and ResourceSlices.

use k8s_openapi::api::resource::v1::{ResourcePool, ResourceSliceSpec};

use super::common::{age, deleting, doc, name, text, AGE, NAME};
use super::node::Node;
use super::printer::{Column, Doc, Printer};

/// `deviceclasses` and `resourceclaimtemplates`: name and age only.
pub static NAME_AND_AGE: Printer = Printer::new(&[NAME, AGE], |object, context| {
    vec![name(object), age(object, context)].into()
});

/// `resourceclaims`.
pub static RESOURCE_CLAIM: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "State",
            "string",
            Doc::Text("A summary of the current state (allocated, pending, reserved, etc.)."),
        ),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            text(claim_state(object)),
            age(object, context),
        ]
        .into()
    },
);

/// `resourceClaimState`: `deleted`, `pending`, `allocated`, `reserved`, comma separated.
pub fn claim_state(claim: Node<'_>) -> String {
    let mut states = Vec::new();
    let deleted = deleting(claim);
    if deleted {
        states.push("deleted");
    }
    let status = claim.get("status");
    if !status.get("allocation").is_set() {
        if !deleted {
            states.push("pending");
        }
    } else {
        states.push("allocated");
        if status.get("reservedFor").count() > 0 {
            states.push("reserved");
        }
    }
    states.join(",")
}

/// `resourceslices`.
pub static RESOURCE_SLICE: Printer = Printer::new(
    &[
        NAME,
        Column::new("Node", "string", doc::<ResourceSliceSpec>("nodeName")),
        Column::new("Driver", "string", doc::<ResourceSliceSpec>("driver")),
        Column::new("Pool", "string", doc::<ResourcePool>("name")),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        vec![
            name(object),
            text(spec.get("nodeName").str()),
            text(spec.get("driver").str()),
            text(spec.at(&["pool", "name"]).str()),
            age(object, context),
        ]
        .into()
    },
);
