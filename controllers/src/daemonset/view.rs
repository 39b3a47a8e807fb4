//! A DaemonSet as the sync reads it: the spec fields with upstream's defaults applied and
//! the identity every pod and revision it makes refers back to.

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::error::DaemonSetError;
use crate::workloads::error::SyncError;
use crate::workloads::podcontrol::claim::controller_ref;
use crate::workloads::podcontrol::selector::Selector;

/// `kind` in controller references and messages.
pub const KIND: &str = "DaemonSet";
/// `apiVersion` in controller references.
pub const API_VERSION: &str = "apps/v1";
/// The annotation older API servers kept the template generation in (upstream's
/// `DeprecatedTemplateGeneration`).
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";
/// The pod label carrying that generation (upstream's `DaemonSetTemplateGenerationKey`).
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

/// How pods are replaced when the template changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Old pods are replaced only when deleted by someone else.
    OnDelete,
    /// Old pods are replaced within `maxUnavailable` and `maxSurge`.
    RollingUpdate {
        /// `maxUnavailable` (absent only if the API server did not default it).
        max_unavailable: Option<IntOrString>,
        /// `maxSurge`, zero when absent.
        max_surge: Option<IntOrString>,
    },
    /// Any other type: no update is driven (upstream's switch has no case for it).
    Other,
}

/// The parts of a DaemonSet the sync uses.
#[derive(Clone, Debug)]
pub struct View {
    /// The name (pod and revision name prefix).
    pub name: String,
    /// The namespace.
    pub namespace: String,
    /// The UID (expectations and backoff are kept by it).
    pub uid: String,
    /// `metadata.generation`.
    pub generation: i64,
    /// Being deleted: nothing is done (upstream cannot trust its revisions then).
    pub deleting: bool,
    /// The pod selector.
    pub selector: Selector,
    /// Whether the selector is the empty one (`{}`).
    pub selects_all: bool,
    /// The pod template.
    pub template: PodTemplateSpec,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `spec.revisionHistoryLimit` (default 10).
    pub revision_history_limit: i32,
    /// The update strategy.
    pub strategy: Strategy,
    /// The deprecated template generation, when annotated and parseable.
    pub template_generation: Option<i64>,
    /// The DaemonSet's annotations (copied onto revisions).
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
    /// The status as stored.
    pub status: DaemonSetStatus,
    /// The controller reference pods and revisions get.
    pub controller_ref: OwnerReference,
}

impl View {
    /// Reads `ds`.
    pub fn of(ds: &DaemonSet) -> Result<Self, DaemonSetError> {
        let meta = &ds.metadata;
        let spec = ds.spec.clone().ok_or(SyncError::Missing("spec"))?;
        let selects_all = spec
            .selector
            .match_labels
            .as_ref()
            .is_none_or(|m| m.is_empty())
            && spec
                .selector
                .match_expressions
                .as_ref()
                .is_none_or(|e| e.is_empty());
        let strategy = spec.update_strategy.unwrap_or_default();
        let strategy = match strategy.type_.as_deref() {
            Some("OnDelete") => Strategy::OnDelete,
            Some("RollingUpdate") => {
                let rolling = strategy.rolling_update.unwrap_or_default();
                Strategy::RollingUpdate {
                    max_unavailable: rolling.max_unavailable,
                    max_surge: rolling.max_surge,
                }
            }
            _ => Strategy::Other,
        };
        Ok(Self {
            name: meta.name.clone().ok_or(SyncError::Missing("name"))?,
            namespace: meta
                .namespace
                .clone()
                .ok_or(SyncError::Missing("namespace"))?,
            uid: meta.uid.clone().ok_or(SyncError::Missing("uid"))?,
            generation: meta.generation.unwrap_or(0),
            deleting: meta.deletion_timestamp.is_some(),
            selector: Selector::parse(&spec.selector)?,
            selects_all,
            template: spec.template,
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            revision_history_limit: spec.revision_history_limit.unwrap_or(10),
            strategy,
            template_generation: meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION))
                .and_then(|g| g.parse().ok()),
            annotations: meta.annotations.clone(),
            status: ds.status.clone().unwrap_or_default(),
            controller_ref: controller_ref(API_VERSION, KIND, meta)?,
        })
    }
}

/// Upstream's `GetScaledValueFromIntOrPercent` rounding up: an integer as is, `N%` of
/// `total` rounded up.
pub fn scaled(value: Option<&IntOrString>, total: i32) -> Result<i32, String> {
    match value {
        None => Err("nil value for IntOrString".to_owned()),
        Some(IntOrString::Int(value)) => Ok(*value),
        Some(IntOrString::String(text)) => {
            let percent = text
                .strip_suffix('%')
                .and_then(|digits| digits.parse::<i64>().ok())
                .ok_or_else(|| {
                    format!("invalid value for IntOrString: invalid type: string is not a percentage: {text:?}")
                })?;
            let scaled = (percent * i64::from(total) + 99).div_euclid(100);
            Ok(i32::try_from(scaled).unwrap_or(i32::MAX))
        }
    }
}

impl View {
    /// Upstream's `SurgeCount`: extra pods allowed out of `desired` (0 unless rolling with
    /// `maxSurge`).
    pub fn surge_count(&self, desired: i32) -> Result<i32, String> {
        match &self.strategy {
            Strategy::RollingUpdate {
                max_surge: Some(surge),
                ..
            } => scaled(Some(surge), desired),
            _ => Ok(0),
        }
    }

    /// Upstream's `UnavailableCount`: pods allowed to be unavailable out of `desired`.
    pub fn unavailable_count(&self, desired: i32) -> Result<i32, String> {
        match &self.strategy {
            Strategy::RollingUpdate {
                max_unavailable, ..
            } => scaled(max_unavailable.as_ref(), desired),
            _ => Ok(0),
        }
    }

    /// Upstream's `AllowsSurge`: more than one pod per node may run during an update.
    pub fn allows_surge(&self) -> bool {
        self.surge_count(1).is_ok_and(|surge| surge > 0)
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    use super::scaled;

    #[test]
    fn percentages_round_up() {
        let percent = |text: &str| IntOrString::String(text.to_owned());
        assert_eq!(scaled(Some(&IntOrString::Int(2)), 10), Ok(2));
        assert_eq!(scaled(Some(&percent("10%")), 3), Ok(1));
        assert_eq!(scaled(Some(&percent("50%")), 3), Ok(2));
        assert_eq!(scaled(Some(&percent("0%")), 3), Ok(0));
        assert!(scaled(Some(&percent("10")), 3).is_err());
        assert!(scaled(None, 3).is_err());
    }
}
