//! ReplicaSet and ReplicationController seen alike. Upstream runs one controller for both,
//! converting ReplicationControllers to ReplicaSets on the way in and back on the way out;
//! so do we, through [`View`].

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{
    PodTemplateSpec, ReplicationController, ReplicationControllerCondition,
    ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Serialize;

use crate::workloads::error::SyncError;
use crate::workloads::podcontrol::claim::controller_ref;
use crate::workloads::podcontrol::pods::controller_of;
use crate::workloads::podcontrol::selector::Selector;
use crate::Watched;

/// A ReplicaSet (or a ReplicationController converted to one) as the sync reads it.
pub struct View {
    /// The object's name.
    pub name: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's UID (expectations are kept by it).
    pub uid: String,
    /// `metadata.generation`.
    pub generation: i64,
    /// Being deleted: counts are reported but pods are neither created nor deleted.
    pub deleting: bool,
    /// `spec.replicas`.
    pub replicas: i32,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// The pod selector.
    pub selector: Selector,
    /// The pod template.
    pub template: PodTemplateSpec,
    /// The status as stored.
    pub status: ReplicaSetStatus,
    /// The controller reference pods get.
    pub controller_ref: OwnerReference,
    /// The UID of this object's own controller (a Deployment), if any.
    pub owner_uid: Option<String>,
}

/// A kind the replica controller manages.
pub trait ReplicaKind:
    Watched + Serialize + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
{
    /// `kind`, as in controller references and messages.
    const KIND: &'static str;
    /// `apiVersion`, as in controller references.
    const API_VERSION: &'static str;
    /// The event source upstream reports (`replicaset-controller`).
    const COMPONENT: &'static str;
    /// Whether the status has `terminatingReplicas` (ReplicaSets since 1.35 by default;
    /// ReplicationControllers have no such field).
    const REPORTS_TERMINATING: bool;

    /// The object as a ReplicaSet.
    fn view(&self) -> Result<View, SyncError>;

    /// Whether the object's selector matches `labels` (an invalid or empty selector matches
    /// nothing).
    fn selects(&self, labels: &BTreeMap<String, String>) -> bool;

    /// The object with `status` (converted back to the kind's status).
    fn with_status(&self, status: &ReplicaSetStatus) -> Self;
}

fn meta_fields(meta: &ObjectMeta) -> Result<(String, String, String), SyncError> {
    Ok((
        meta.name.clone().ok_or(SyncError::Missing("name"))?,
        meta.namespace
            .clone()
            .ok_or(SyncError::Missing("namespace"))?,
        meta.uid.clone().ok_or(SyncError::Missing("uid"))?,
    ))
}

impl ReplicaKind for ReplicaSet {
    const KIND: &'static str = "ReplicaSet";
    const API_VERSION: &'static str = "apps/v1";
    const COMPONENT: &'static str = "replicaset-controller";
    const REPORTS_TERMINATING: bool = true;

    fn view(&self) -> Result<View, SyncError> {
        let (name, namespace, uid) = meta_fields(&self.metadata)?;
        let spec = self.spec.as_ref().ok_or(SyncError::Missing("spec"))?;
        Ok(View {
            name,
            namespace,
            uid,
            generation: self.metadata.generation.unwrap_or(0),
            deleting: self.metadata.deletion_timestamp.is_some(),
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            selector: Selector::parse(&spec.selector)?,
            template: spec.template.clone().unwrap_or_default(),
            status: self.status.clone().unwrap_or_default(),
            controller_ref: controller_ref(Self::API_VERSION, Self::KIND, &self.metadata)?,
            owner_uid: controller_of(&self.metadata).map(|owner| owner.uid.clone()),
        })
    }

    fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.spec
            .as_ref()
            .and_then(|spec| Selector::parse(&spec.selector).ok())
            .is_some_and(|selector| !selector.is_everything() && selector.matches(labels))
    }

    fn with_status(&self, status: &ReplicaSetStatus) -> Self {
        Self {
            status: Some(status.clone()),
            ..self.clone()
        }
    }
}

/// An RC's selector; upstream defaults an absent one to the template's labels.
fn rc_selector(rc: &ReplicationController) -> BTreeMap<String, String> {
    let spec = rc.spec.as_ref();
    spec.and_then(|spec| spec.selector.clone())
        .filter(|selector| !selector.is_empty())
        .or_else(|| {
            spec.and_then(|spec| spec.template.as_ref())
                .and_then(|template| template.metadata.as_ref())
                .and_then(|meta| meta.labels.clone())
        })
        .unwrap_or_default()
}

impl ReplicaKind for ReplicationController {
    const KIND: &'static str = "ReplicationController";
    const API_VERSION: &'static str = "v1";
    const COMPONENT: &'static str = "replication-controller";
    const REPORTS_TERMINATING: bool = false;

    fn view(&self) -> Result<View, SyncError> {
        let (name, namespace, uid) = meta_fields(&self.metadata)?;
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().unwrap_or_default();
        Ok(View {
            name,
            namespace,
            uid,
            generation: self.metadata.generation.unwrap_or(0),
            deleting: self.metadata.deletion_timestamp.is_some(),
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            selector: Selector::from_map(&rc_selector(self)),
            template: spec.template.unwrap_or_default(),
            status: ReplicaSetStatus {
                replicas: status.replicas,
                fully_labeled_replicas: status.fully_labeled_replicas,
                ready_replicas: status.ready_replicas,
                available_replicas: status.available_replicas,
                observed_generation: status.observed_generation,
                terminating_replicas: None,
                conditions: status.conditions.map(|conditions| {
                    conditions
                        .into_iter()
                        .map(|c| ReplicaSetCondition {
                            type_: c.type_,
                            status: c.status,
                            last_transition_time: c.last_transition_time,
                            reason: c.reason,
                            message: c.message,
                        })
                        .collect()
                }),
            },
            controller_ref: controller_ref(Self::API_VERSION, Self::KIND, &self.metadata)?,
            owner_uid: controller_of(&self.metadata).map(|owner| owner.uid.clone()),
        })
    }

    fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        let selector = rc_selector(self);
        !selector.is_empty() && Selector::from_map(&selector).matches(labels)
    }

    fn with_status(&self, status: &ReplicaSetStatus) -> Self {
        let status = ReplicationControllerStatus {
            replicas: status.replicas,
            fully_labeled_replicas: status.fully_labeled_replicas,
            ready_replicas: status.ready_replicas,
            available_replicas: status.available_replicas,
            observed_generation: status.observed_generation,
            conditions: status.conditions.clone().map(|conditions| {
                conditions
                    .into_iter()
                    .map(|c| ReplicationControllerCondition {
                        type_: c.type_,
                        status: c.status,
                        last_transition_time: c.last_transition_time,
                        reason: c.reason,
                        message: c.message,
                    })
                    .collect()
            }),
        };
        Self {
            status: Some(status),
            ..self.clone()
        }
    }
}
