//! Smaller cluster-wide kinds: PodDisruptionBudgets, PriorityClasses, RuntimeClasses,
//! Leases and CertificateSigningRequests.

use jiff::SignedDuration;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequestSpec, CertificateSigningRequestStatus,
};
use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::common::{age, doc, int, name, text, AGE, NAME};
use super::format;
use super::node::Node;
use super::printer::{Column, Doc, Printer};

/// `poddisruptionbudgets`.
pub static POD_DISRUPTION_BUDGET: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Min Available",
            "string",
            Doc::Text("The minimum number of pods that must be available."),
        ),
        Column::new(
            "Max Unavailable",
            "string",
            Doc::Text("The maximum number of pods that may be unavailable."),
        ),
        Column::new(
            "Allowed Disruptions",
            "integer",
            Doc::Text("Calculated number of pods that may be disrupted at this time."),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let bound = |field: &str| {
            let value = spec.get(field);
            if value.is_set() {
                format::int_or_string(value)
            } else {
                "N/A".to_owned()
            }
        };
        vec![
            name(object),
            text(bound("minAvailable")),
            text(bound("maxUnavailable")),
            int(object.at(&["status", "disruptionsAllowed"]).int()),
            age(object, context),
        ]
        .into()
    },
);

/// `priorityclasses`.
pub static PRIORITY_CLASS: Printer = Printer::new(
    &[
        NAME,
        Column::new("Value", "integer", doc::<PriorityClass>("value")),
        Column::new(
            "Global-Default",
            "boolean",
            doc::<PriorityClass>("globalDefault"),
        ),
        AGE,
        Column::new(
            "PreemptionPolicy",
            "string",
            doc::<PriorityClass>("preemptionPolicy"),
        ),
    ],
    |object, context| {
        vec![
            name(object),
            int(object.get("value").int()),
            Value::Bool(object.get("globalDefault").bool()),
            age(object, context),
            text(
                object
                    .get("preemptionPolicy")
                    .as_str()
                    .unwrap_or("PreemptLowerPriority"),
            ),
        ]
        .into()
    },
);

/// `runtimeclasses` (upstream describes `Handler` with `ObjectMeta`'s absent `handler`).
pub static RUNTIME_CLASS: Printer = Printer::new(
    &[
        NAME,
        Column::new("Handler", "string", doc::<ObjectMeta>("handler")),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            text(object.get("handler").str()),
            age(object, context),
        ]
        .into()
    },
);

/// `leases`.
pub static LEASE: Printer = Printer::new(
    &[
        NAME,
        Column::new("Holder", "string", doc::<LeaseSpec>("holderIdentity")),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            text(object.at(&["spec", "holderIdentity"]).str()),
            age(object, context),
        ]
        .into()
    },
);

/// `certificatesigningrequests`.
pub static CERTIFICATE_SIGNING_REQUEST: Printer = Printer::new(
    &[
        NAME,
        AGE,
        Column::new(
            "SignerName",
            "string",
            doc::<CertificateSigningRequestSpec>("signerName"),
        ),
        Column::new(
            "Requestor",
            "string",
            doc::<CertificateSigningRequestSpec>("request"),
        ),
        Column::new(
            "RequestedDuration",
            "string",
            doc::<CertificateSigningRequestSpec>("expirationSeconds"),
        ),
        Column::new(
            "Condition",
            "string",
            doc::<CertificateSigningRequestStatus>("conditions"),
        ),
    ],
    |object, context| {
        let spec = object.get("spec");
        let duration = spec.get("expirationSeconds").as_i64().map_or_else(
            || "<none>".to_owned(),
            |seconds| format::human_duration(SignedDuration::from_secs(seconds)),
        );
        vec![
            name(object),
            age(object, context),
            text(format::or_none(spec.get("signerName").str())),
            text(spec.get("username").str()),
            text(duration),
            text(csr_condition(object)),
        ]
        .into()
    },
);

/// `extractCSRStatus`: `Approved`, `Denied` or `Pending`, with `,Failed` and `,Issued`.
pub fn csr_condition(object: Node<'_>) -> String {
    let status = object.get("status");
    let has = |kind: &str| {
        status
            .get("conditions")
            .items()
            .any(|condition| condition.get("type").str() == kind)
    };
    let mut text = if has("Denied") {
        "Denied"
    } else if has("Approved") {
        "Approved"
    } else {
        "Pending"
    }
    .to_owned();
    if has("Failed") {
        text.push_str(",Failed");
    }
    if !status.get("certificate").str().is_empty() {
        text.push_str(",Issued");
    }
    text
}
