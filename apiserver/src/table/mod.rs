//! Server-side printing: what kube-apiserver answers when a client (kubectl get, Helm,
//! dashboards) asks for `as=Table` (columns and one row of cells per object) or
//! `as=PartialObjectMetadata[List]` (metadata only) instead of the objects.
//!
//! The registry row of a resource picks its printer here, by group and kind ([`Convertor`]):
//! upstream's per-kind printers for built-in kinds (columns, types, descriptions, priority,
//! cells), the default `Name`/`Created At` table for kinds upstream prints no columns for,
//! and the CRD's `additionalPrinterColumns` for custom resources.

mod admission;
mod apps;
mod autoscaling;
mod batch;
mod cluster;
mod common;
mod core_v1;
mod custom;
mod describe;
mod event;
mod format;
mod jsonpath;
mod negotiate;
mod networking;
mod node;
mod pod;
mod printer;
mod quantity;
mod rbac;
mod resource;
mod response;
mod service;
mod storage;
mod volume;

use serde_json::{Map, Value};

use crate::crd::CustomVersion;
use crate::registry::ResourceInfo;
use common::{meta, name, text, NAME};
use custom::CustomTable;
use node::Node;
use printer::{Column, Context, EmptyRows, Headers, Printer, Row};

pub use negotiate::{negotiate, MetaVersion, Negotiated, Target};
pub use response::{Transform, WatchTransform};

/// How one resource's objects become rows.
pub enum Convertor {
    /// A built-in kind's printer (or the default table).
    Printer(&'static Printer),
    /// A custom resource's printer columns.
    Custom(CustomTable),
}

/// `rest.NewDefaultTableConvertor`: the name and the creation time (RFC 3339, UTC).
static DEFAULT: Printer = Printer::new(
    &[
        NAME,
        Column::new("Created At", "date", meta("creationTimestamp")),
    ],
    |object, _| {
        let created = format::timestamp(object.at(&["metadata", "creationTimestamp"])).map_or_else(
            || "0001-01-01T00:00:00Z".to_owned(),
            |time| time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        vec![name(object), text(created)].into()
    },
)
.with(Headers::Optional, EmptyRows::Null);

/// The printer upstream registers for a built-in kind; the default table for the rest.
fn builtin(group: &str, kind: &str) -> &'static Printer {
    match (group, kind) {
        ("", "Pod") => &pod::POD,
        ("", "Node") => &core_v1::NODE,
        ("", "Namespace") => &core_v1::NAMESPACE,
        ("", "Secret") => &core_v1::SECRET,
        ("", "ConfigMap") => &core_v1::CONFIG_MAP,
        ("", "ServiceAccount") => &core_v1::SERVICE_ACCOUNT,
        ("", "ComponentStatus") => &core_v1::COMPONENT_STATUS,
        ("", "ResourceQuota") => &core_v1::RESOURCE_QUOTA,
        ("", "PodTemplate") => &core_v1::POD_TEMPLATE,
        ("", "ReplicationController") => &core_v1::REPLICATION_CONTROLLER,
        ("", "Service") => &service::SERVICE,
        ("", "Endpoints") => &service::ENDPOINTS,
        ("", "PersistentVolume") => &volume::PERSISTENT_VOLUME,
        ("", "PersistentVolumeClaim") => &volume::PERSISTENT_VOLUME_CLAIM,
        ("", "Event") | ("events.k8s.io", "Event") => &event::EVENT,
        ("apps", "Deployment") => &apps::DEPLOYMENT,
        ("apps", "ReplicaSet") => &apps::REPLICA_SET,
        ("apps", "DaemonSet") => &apps::DAEMON_SET,
        ("apps", "StatefulSet") => &apps::STATEFUL_SET,
        ("apps", "ControllerRevision") => &apps::CONTROLLER_REVISION,
        ("batch", "Job") => &batch::JOB,
        ("batch", "CronJob") => &batch::CRON_JOB,
        ("autoscaling", "HorizontalPodAutoscaler") => &autoscaling::HORIZONTAL_POD_AUTOSCALER,
        ("networking.k8s.io", "Ingress") => &networking::INGRESS,
        ("networking.k8s.io", "IngressClass") => &networking::INGRESS_CLASS,
        ("networking.k8s.io", "NetworkPolicy") => &networking::NETWORK_POLICY,
        ("networking.k8s.io", "ServiceCIDR") => &networking::SERVICE_CIDR,
        ("networking.k8s.io", "IPAddress") => &networking::IP_ADDRESS,
        ("discovery.k8s.io", "EndpointSlice") => &networking::ENDPOINT_SLICE,
        ("rbac.authorization.k8s.io", "RoleBinding") => &rbac::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => &rbac::CLUSTER_ROLE_BINDING,
        ("storage.k8s.io", "StorageClass") => &storage::STORAGE_CLASS,
        ("storage.k8s.io", "VolumeAttributesClass") => &storage::VOLUME_ATTRIBUTES_CLASS,
        ("storage.k8s.io", "CSIDriver") => &storage::CSI_DRIVER,
        ("storage.k8s.io", "CSINode") => &storage::CSI_NODE,
        ("storage.k8s.io", "CSIStorageCapacity") => &storage::CSI_STORAGE_CAPACITY,
        ("storage.k8s.io", "VolumeAttachment") => &storage::VOLUME_ATTACHMENT,
        ("policy", "PodDisruptionBudget") => &cluster::POD_DISRUPTION_BUDGET,
        ("scheduling.k8s.io", "PriorityClass") => &cluster::PRIORITY_CLASS,
        ("node.k8s.io", "RuntimeClass") => &cluster::RUNTIME_CLASS,
        ("coordination.k8s.io", "Lease") => &cluster::LEASE,
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            &cluster::CERTIFICATE_SIGNING_REQUEST
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration")
        | ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            &admission::WEBHOOK_CONFIGURATION
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            &admission::VALIDATING_ADMISSION_POLICY
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            &admission::VALIDATING_ADMISSION_POLICY_BINDING
        }
        ("flowcontrol.apiserver.k8s.io", "FlowSchema") => &admission::FLOW_SCHEMA,
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration") => {
            &admission::PRIORITY_LEVEL_CONFIGURATION
        }
        ("apiregistration.k8s.io", "APIService") => &admission::API_SERVICE,
        ("resource.k8s.io", "DeviceClass") | ("resource.k8s.io", "ResourceClaimTemplate") => {
            &resource::NAME_AND_AGE
        }
        ("resource.k8s.io", "ResourceClaim") => &resource::RESOURCE_CLAIM,
        ("resource.k8s.io", "ResourceSlice") => &resource::RESOURCE_SLICE,
        // Roles, cluster roles, limit ranges, CRDs and anything else: upstream's default.
        _ => &DEFAULT,
    }
}

impl Convertor {
    /// The convertor of a registry row (with its custom-resource details, if it is one).
    pub fn of(resource: &ResourceInfo, custom: Option<&CustomVersion>) -> Self {
        match custom {
            Some(custom) => Self::Custom(CustomTable::new(&custom.printer_columns)),
            None => Self::Printer(builtin(resource.group, resource.kind)),
        }
    }

    fn definitions(&self) -> &[Value] {
        match self {
            Self::Printer(printer) => printer.definitions(),
            Self::Custom(table) => table.definitions(),
        }
    }

    fn row(&self, object: &Map<String, Value>, context: &Context) -> Row {
        match self {
            Self::Printer(printer) => (printer.row)(Node::Root(object), context),
            Self::Custom(table) => table.row(object, context),
        }
    }

    fn headers(&self) -> Headers {
        match self {
            Self::Printer(printer) => printer.headers,
            Self::Custom(_) => Headers::Optional,
        }
    }

    fn empty_rows(&self) -> EmptyRows {
        match self {
            Self::Printer(printer) => printer.empty,
            Self::Custom(_) => EmptyRows::Array,
        }
    }

    fn order(&self) -> Option<fn(Node<'_>, Node<'_>) -> std::cmp::Ordering> {
        match self {
            Self::Printer(printer) => printer.order,
            Self::Custom(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::{builtin, Convertor, Printer};
    use crate::registry::Registry;
    use crate::table::printer::Context;

    #[test]
    fn every_printer_has_a_cell_per_column() {
        let registry = Registry::builtin();
        let context = Context {
            now: Timestamp::UNIX_EPOCH,
        };
        let empty = serde_json::Map::new();
        for resource in registry.all() {
            let printer: &Printer = builtin(resource.group, resource.kind);
            let row = (printer.row)(super::Node::Root(&empty), &context);
            let columns = printer.columns.len();
            // Upstream's IPAddress printer sends an age cell it declares no column for.
            let extra = usize::from(resource.kind == "IPAddress");
            assert_eq!(
                row.cells.len(),
                columns + extra,
                "{}/{}",
                resource.group,
                resource.kind
            );
        }
    }

    #[test]
    fn default_table_for_roles() {
        let registry = Registry::builtin();
        let roles = registry
            .get("rbac.authorization.k8s.io", "v1", "roles")
            .cloned();
        let Some(roles) = roles else {
            panic!("roles are served");
        };
        let Convertor::Printer(printer) = Convertor::of(&roles, None) else {
            panic!("built-in kinds have printers");
        };
        let names: Vec<String> = printer
            .definitions()
            .iter()
            .map(|column| column["name"].to_string())
            .collect();
        assert_eq!(names, ["\"Name\"", "\"Created At\""]);
        let role = json!({"metadata": {"name": "r", "creationTimestamp": "2026-01-02T03:04:05Z"}});
        let row = (printer.row)(
            super::Node::Root(role.as_object().unwrap_or(&serde_json::Map::new())),
            &Context {
                now: Timestamp::UNIX_EPOCH,
            },
        );
        assert_eq!(row.cells, vec![json!("r"), json!("2026-01-02T03:04:05Z")]);
    }
}
