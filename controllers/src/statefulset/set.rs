//! A StatefulSet as the sync reads it: the spec fields with upstream's defaults applied, and
//! the same set with another revision's pod template (upstream's `ApplyRevision`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetStatus,
};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::error::SetError;
use crate::workloads::podcontrol::claim::controller_ref;
use crate::workloads::podcontrol::selector::Selector;

/// `apiVersion` of StatefulSets, as in controller references.
pub const API_VERSION: &str = "apps/v1";
/// `kind` of StatefulSets.
pub const KIND: &str = "StatefulSet";

/// What a retention policy does with a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// Keep the claim (the default).
    Retain,
    /// Delete the claim (through an owner reference the garbage collector follows).
    Delete,
}

impl Retention {
    fn parse(value: Option<&str>) -> Self {
        if value == Some("Delete") {
            Self::Delete
        } else {
            Self::Retain
        }
    }
}

/// A StatefulSet, read once per sync.
#[derive(Clone, Debug)]
pub struct SetView {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.generation`.
    pub generation: i64,
    /// Being deleted: only the status is kept current.
    pub deleting: bool,
    /// `metadata.annotations` (copied onto revisions).
    pub annotations: BTreeMap<String, String>,
    /// `spec.replicas`.
    pub replicas: i32,
    /// `spec.ordinals.start`.
    pub start: i32,
    /// `spec.serviceName` (the pods' subdomain).
    pub service_name: String,
    /// `spec.template` (or a revision's, for the current set).
    pub template: PodTemplateSpec,
    /// `spec.volumeClaimTemplates`.
    pub claim_templates: Vec<PersistentVolumeClaim>,
    /// `spec.selector.matchLabels` (the claims' labels).
    pub match_labels: BTreeMap<String, String>,
    /// The parsed selector.
    pub selector: Selector,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `spec.podManagementPolicy` is `Parallel`.
    pub parallel: bool,
    /// `spec.updateStrategy.type` is `OnDelete`.
    pub on_delete: bool,
    /// `spec.updateStrategy.type` is `RollingUpdate`.
    pub rolling: bool,
    /// `spec.updateStrategy.rollingUpdate`.
    pub rolling_update: Option<RollingUpdateStatefulSetStrategy>,
    /// `spec.persistentVolumeClaimRetentionPolicy.whenDeleted`.
    pub when_deleted: Retention,
    /// `spec.persistentVolumeClaimRetentionPolicy.whenScaled`.
    pub when_scaled: Retention,
    /// `spec.revisionHistoryLimit`.
    pub history_limit: i32,
    /// The status as stored.
    pub status: StatefulSetStatus,
    /// The controller reference pods and revisions get.
    pub controller_ref: OwnerReference,
}

impl SetView {
    /// Reads `set`.
    pub fn new(set: &StatefulSet) -> Result<Self, SetError> {
        let meta = &set.metadata;
        let spec = set.spec.as_ref().ok_or(SetError::Missing("spec"))?;
        let strategy = spec.update_strategy.clone().unwrap_or_default();
        let strategy_type = strategy.type_.as_deref().unwrap_or("RollingUpdate");
        let retention = spec
            .persistent_volume_claim_retention_policy
            .clone()
            .unwrap_or_default();
        Ok(Self {
            name: meta.name.clone().ok_or(SetError::Missing("name"))?,
            namespace: meta
                .namespace
                .clone()
                .ok_or(SetError::Missing("namespace"))?,
            uid: meta.uid.clone().ok_or(SetError::Missing("uid"))?,
            generation: meta.generation.unwrap_or(0),
            deleting: meta.deletion_timestamp.is_some(),
            annotations: meta.annotations.clone().unwrap_or_default(),
            replicas: spec.replicas.unwrap_or(1).max(0),
            start: spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0),
            service_name: spec.service_name.clone().unwrap_or_default(),
            template: spec.template.clone(),
            claim_templates: spec.volume_claim_templates.clone().unwrap_or_default(),
            match_labels: spec.selector.match_labels.clone().unwrap_or_default(),
            selector: Selector::parse(&spec.selector)?,
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            parallel: spec.pod_management_policy.as_deref() == Some("Parallel"),
            on_delete: strategy_type == "OnDelete",
            rolling: strategy_type == "RollingUpdate",
            rolling_update: strategy.rolling_update,
            when_deleted: Retention::parse(retention.when_deleted.as_deref()),
            when_scaled: Retention::parse(retention.when_scaled.as_deref()),
            history_limit: spec.revision_history_limit.unwrap_or(10),
            status: set.status.clone().unwrap_or_default(),
            controller_ref: controller_ref(API_VERSION, KIND, meta)?,
        })
    }

    /// The same set with another pod template (a revision's).
    pub fn with_template(&self, template: PodTemplateSpec) -> Self {
        Self {
            template,
            ..self.clone()
        }
    }

    /// The last ordinal of the range (inclusive); below `start` when there are no replicas.
    pub fn end(&self) -> i32 {
        self.start + self.replicas - 1
    }

    /// Whether `ordinal` is one of the set's replicas (upstream's `podInOrdinalRange`).
    pub fn in_range(&self, ordinal: i32) -> bool {
        ordinal >= self.start && ordinal <= self.end()
    }

    /// `rollingUpdate.partition`, when a rolling update is configured.
    pub fn partition(&self) -> Option<i32> {
        self.rolling_update
            .as_ref()
            .map(|rolling| rolling.partition.unwrap_or(0))
    }

    /// Upstream's `getStatefulSetMaxUnavailable`: `maxUnavailable` against the replica
    /// count (percentages round down), 1 by default and never below 1.
    pub fn max_unavailable(&self) -> Result<i32, SetError> {
        let value = self
            .rolling_update
            .as_ref()
            .and_then(|rolling| rolling.max_unavailable.clone())
            .unwrap_or(IntOrString::Int(1));
        let number = match value {
            IntOrString::Int(number) => number,
            IntOrString::String(text) => {
                let percent = text
                    .strip_suffix('%')
                    .and_then(|digits| digits.parse::<i64>().ok())
                    .ok_or_else(|| {
                        SetError::Refused(format!("invalid value for IntOrString: {text:?}"))
                    })?;
                let scaled = percent * i64::from(self.replicas) / 100;
                i32::try_from(scaled).unwrap_or(i32::MAX)
            }
        };
        Ok(number.max(1))
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::StatefulSet;
    use serde_json::json;

    use super::{Retention, SetView};

    #[test]
    fn reads_defaults_and_max_unavailable() -> Result<(), Box<dyn std::error::Error>> {
        let set: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {
                "replicas": 5,
                "serviceName": "nginx",
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}},
                "updateStrategy": {"type": "RollingUpdate",
                                   "rollingUpdate": {"partition": 2, "maxUnavailable": "50%"}},
                "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"},
            },
        }))?;
        let view = SetView::new(&set)?;
        assert_eq!(view.partition(), Some(2));
        assert_eq!(view.max_unavailable()?, 2);
        assert!(view.rolling && !view.parallel && !view.on_delete);
        assert_eq!(view.when_scaled, Retention::Delete);
        assert_eq!(view.when_deleted, Retention::Retain);
        assert!(view.in_range(4) && !view.in_range(5));
        Ok(())
    }
}
