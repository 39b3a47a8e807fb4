//! Per-kind behaviour on top of the generic handlers: defaulting, validation and
//! allocations that a kind needs beyond the common metadata rules. A kind without a strategy
//! gets only the generic rules.

mod apps;
mod autoscaling;
mod batch;
mod cluster;
mod config;
mod containers;
mod cron;
mod disruption;
mod endpointslice;
mod event;
mod fields;
mod job_selector;
mod labels;
mod lease;
mod names;
mod networking;
mod pod;
mod pod_defaults;
mod pod_priority;
mod podspec;
mod priority;
mod quantity;
mod rbac;
mod rules;
mod service;
mod volume;
mod workload;

use std::net::Ipv4Addr;

use async_trait::async_trait;

pub use names::name_problems;
pub use pod::{default_pod_spec, qos_class, PodStrategy};
pub use rules::Rules;
pub use service::{ServiceCidr, ServiceStrategy};
pub use workload::{default_workload, WorkloadKind, WorkloadStrategy};

use crate::object::Object;
use crate::registry::ResourceInfo;
use crate::status::ApiError;
use crate::storage::Store;

/// Hooks a kind may add around the generic create, update and delete.
#[async_trait]
pub trait Strategy: Send + Sync {
    /// Defaults, validates and allocates for a new object, before it is stored.
    async fn before_create(
        &self,
        _store: &dyn Store,
        _object: &mut Object,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Gives back what `before_create` took when the object was not stored after all.
    async fn create_failed(&self, _store: &dyn Store, _object: &Object) {}

    /// Validates an update against the stored object (immutable fields, allocations).
    async fn before_update(
        &self,
        _store: &dyn Store,
        _old: &Object,
        _new: &mut Object,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Settles an update that was stored: gives back what `old` held and `new` no longer does.
    async fn after_update(&self, _store: &dyn Store, _old: &Object, _new: &Object) {}

    /// Gives back what `before_update` took for `new` when the update was not stored (a lost
    /// race, a dry run, a failed write).
    async fn update_failed(&self, _store: &dyn Store, _old: &Object, _new: &Object) {}

    /// Releases what the object held once it is gone from the store.
    async fn after_delete(&self, _store: &dyn Store, _object: &Object) {}

    /// The grace period in seconds when a delete should only mark the object (graceful
    /// deletion, left to its kubelet), given the grace the caller asked for; `None`
    /// deletes at once.
    fn deletion_grace(&self, _object: &Object, _requested: Option<i64>) -> Option<i64> {
        None
    }
}

/// The strategies of the built-in kinds that have one.
pub struct Strategies {
    service: ServiceStrategy,
    pod: PodStrategy,
    workloads: [WorkloadStrategy; 8],
}

impl Strategies {
    /// Strategies for a cluster whose Services take ClusterIPs from `service_cidr`.
    pub fn new(service_cidr: ServiceCidr) -> Self {
        Self {
            service: ServiceStrategy::new(service_cidr),
            pod: PodStrategy,
            workloads: [
                WorkloadStrategy(WorkloadKind::Deployment),
                WorkloadStrategy(WorkloadKind::ReplicaSet),
                WorkloadStrategy(WorkloadKind::StatefulSet),
                WorkloadStrategy(WorkloadKind::DaemonSet),
                WorkloadStrategy(WorkloadKind::Job),
                WorkloadStrategy(WorkloadKind::CronJob),
                WorkloadStrategy(WorkloadKind::ReplicationController),
                WorkloadStrategy(WorkloadKind::PodTemplate),
            ],
        }
    }

    /// The strategy of a resource, if it has one.
    pub fn get(&self, resource: &ResourceInfo) -> Option<&dyn Strategy> {
        match (resource.group, resource.plural) {
            ("", "services") => Some(&self.service),
            ("", "pods") => Some(&self.pod),
            ("apps", "deployments") => Some(&self.workloads[0]),
            ("apps", "replicasets") => Some(&self.workloads[1]),
            ("apps", "statefulsets") => Some(&self.workloads[2]),
            ("apps", "daemonsets") => Some(&self.workloads[3]),
            ("batch", "jobs") => Some(&self.workloads[4]),
            ("batch", "cronjobs") => Some(&self.workloads[5]),
            ("", "replicationcontrollers") => Some(&self.workloads[6]),
            ("", "podtemplates") => Some(&self.workloads[7]),
            ("apiextensions.k8s.io", "customresourcedefinitions") => Some(&crate::crd::CrdStrategy),
            _ => rules_of(resource).map(|rules| rules as &dyn Strategy),
        }
    }

    /// The Services strategy, for start-up (the `kubernetes` Service).
    pub fn services(&self) -> &ServiceStrategy {
        &self.service
    }
}

/// The kinds whose strategy is plain defaulting and validation rules.
fn rules_of(resource: &ResourceInfo) -> Option<&'static Rules> {
    let rules = match (resource.group, resource.plural) {
        ("", "configmaps") => &config::CONFIG_MAPS,
        ("", "secrets") => &config::SECRETS,
        ("", "namespaces") => &cluster::NAMESPACES,
        ("", "nodes") => &cluster::NODES,
        ("", "persistentvolumeclaims") => &volume::CLAIMS,
        ("", "persistentvolumes") => &volume::VOLUMES,
        ("", "events") => &event::CORE_EVENTS,
        ("events.k8s.io", "events") => &event::EVENTS,
        ("storage.k8s.io", "storageclasses") => &volume::STORAGE_CLASSES,
        ("rbac.authorization.k8s.io", "roles") => &rbac::ROLES,
        ("rbac.authorization.k8s.io", "clusterroles") => &rbac::CLUSTER_ROLES,
        ("rbac.authorization.k8s.io", "rolebindings") => &rbac::ROLE_BINDINGS,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => &rbac::CLUSTER_ROLE_BINDINGS,
        ("networking.k8s.io", "ingresses") => &networking::INGRESSES,
        ("networking.k8s.io", "networkpolicies") => &networking::NETWORK_POLICIES,
        ("autoscaling", "horizontalpodautoscalers") if resource.version == "v1" => {
            &autoscaling::AUTOSCALERS_V1
        }
        ("autoscaling", "horizontalpodautoscalers") => &autoscaling::AUTOSCALERS_V2,
        ("policy", "poddisruptionbudgets") => &disruption::BUDGETS,
        ("scheduling.k8s.io", "priorityclasses") => &priority::PRIORITY_CLASSES,
        ("coordination.k8s.io", "leases") => &lease::LEASES,
        ("discovery.k8s.io", "endpointslices") => &endpointslice::ENDPOINT_SLICES,
        _ => return None,
    };
    Some(rules)
}

impl Default for Strategies {
    fn default() -> Self {
        Self::new(ServiceCidr::new(Ipv4Addr::new(10, 96, 0, 0), 12))
    }
}
