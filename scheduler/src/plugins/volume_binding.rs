//! VolumeBinding (its checks, not its provisioning handshake): a pod's claims must exist
//! and not be going away; unbound claims of an `Immediate` class keep it pending; a bound
//! claim's PersistentVolume must allow the node by its node affinity.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};

use crate::framework::labels::term_matches;
use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status};

/// Upstream's `ErrReasonBindConflict`.
pub const REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
/// Upstream's `ErrReasonNodeConflict`.
pub const REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Upstream's `ErrReasonPVNotExist`.
pub const REASON_PV_MISSING: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";

/// Where the caller puts an `Arc<VolumeObjects>` for the cycle.
pub const VOLUMES: &str = "VolumeBinding/objects";
const STATE: &str = "VolumeBinding/state";

/// The claims, volumes and delayed-binding classes the plugin reads.
#[derive(Clone, Default)]
pub struct VolumeObjects {
    /// Claims by `namespace/name`.
    pub claims: HashMap<String, Arc<PersistentVolumeClaim>>,
    /// Volumes by name.
    pub volumes: HashMap<String, Arc<PersistentVolume>>,
    /// StorageClasses with `volumeBindingMode: WaitForFirstConsumer`.
    pub delayed_classes: HashSet<String>,
}

/// The bound volumes the pod's claims point at (`None`: the volume is missing).
struct Bound(Vec<Option<Arc<PersistentVolume>>>);

/// The VolumeBinding filter.
pub struct VolumeBinding;

/// The claims a pod uses: `(claim name, from a generic ephemeral volume)`.
fn claims_of(pod: &PodInfo) -> Vec<(String, bool)> {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| {
            if let Some(claim) = v.persistent_volume_claim.as_ref() {
                Some((claim.claim_name.clone(), false))
            } else {
                v.ephemeral
                    .as_ref()
                    .map(|_| (format!("{}-{}", pod.name, v.name), true))
            }
        })
        .collect()
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        "VolumeBinding"
    }
    fn filters(&self) -> bool {
        true
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, _: &[&NodeInfo]) -> Status {
        let claims = claims_of(pod);
        if claims.is_empty() {
            return Status::skip();
        }
        let objects = state
            .read::<Arc<VolumeObjects>>(VOLUMES)
            .cloned()
            .unwrap_or_default();
        let mut bound = Vec::new();
        let mut unbound_immediate = false;
        for (name, ephemeral) in claims {
            let key = format!("{}/{name}", pod.namespace);
            let Some(claim) = objects.claims.get(&key) else {
                let reason = if ephemeral {
                    format!("waiting for ephemeral volume controller to create the persistentvolumeclaim \"{name}\"")
                } else {
                    format!("persistentvolumeclaim \"{name}\" not found")
                };
                return Status::unresolvable(self.name(), reason);
            };
            if claim.metadata.deletion_timestamp.is_some() {
                return Status::unresolvable(
                    self.name(),
                    format!("persistentvolumeclaim \"{name}\" is being deleted"),
                );
            }
            let spec = claim.spec.as_ref();
            match spec
                .and_then(|s| s.volume_name.as_deref())
                .filter(|v| !v.is_empty())
            {
                Some(volume) => bound.push(objects.volumes.get(volume).cloned()),
                None => {
                    let class = spec
                        .and_then(|s| s.storage_class_name.as_deref())
                        .unwrap_or("");
                    if !objects.delayed_classes.contains(class) {
                        unbound_immediate = true;
                    }
                }
            }
        }
        if unbound_immediate {
            return Status::unresolvable(self.name(), REASON_UNBOUND_IMMEDIATE);
        }
        state.write(STATE, Bound(bound));
        Status::success()
    }
    fn filter(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
        let Some(Bound(volumes)) = state.read::<Bound>(STATE) else {
            return Status::success();
        };
        for volume in volumes {
            let Some(volume) = volume else {
                return Status::unresolvable(self.name(), REASON_PV_MISSING);
            };
            let required = volume
                .spec
                .as_ref()
                .and_then(|s| s.node_affinity.as_ref())
                .and_then(|a| a.required.as_ref());
            if let Some(selector) = required {
                if !selector
                    .node_selector_terms
                    .iter()
                    .any(|t| term_matches(t, &node.node))
                {
                    return Status::unresolvable(self.name(), REASON_NODE_CONFLICT);
                }
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    fn with_claim(claim: &str) -> PodInfo {
        pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}}),
        )
    }

    fn objects() -> VolumeObjects {
        let mut o = VolumeObjects::default();
        let claim = |name: &str, spec: serde_json::Value| -> Arc<PersistentVolumeClaim> {
            Arc::new(
                serde_json::from_value(
                    json!({"metadata": {"name": name, "namespace": "default"}, "spec": spec}),
                )
                .expect("pvc"),
            )
        };
        o.claims.insert(
            "default/bound".into(),
            claim("bound", json!({"volumeName": "pv-a"})),
        );
        o.claims.insert(
            "default/pending".into(),
            claim("pending", json!({"storageClassName": "fast"})),
        );
        o.claims.insert(
            "default/later".into(),
            claim("later", json!({"storageClassName": "local"})),
        );
        o.delayed_classes.insert("local".into());
        let pv: PersistentVolume =
            serde_json::from_value(json!({"metadata": {"name": "pv-a"}, "spec": {
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["a"]}]}]}}}}))
            .expect("pv");
        o.volumes.insert("pv-a".into(), Arc::new(pv));
        o
    }

    fn pre_filter(p: &PodInfo) -> (CycleState, Status) {
        let mut state = CycleState::default();
        state.write(VOLUMES, Arc::new(objects()));
        let status = VolumeBinding.pre_filter(&mut state, p, &[]);
        (state, status)
    }

    #[test]
    fn claims_must_exist_and_be_bound() {
        assert_eq!(
            pre_filter(&with_claim("missing")).1.reasons,
            ["persistentvolumeclaim \"missing\" not found"]
        );
        assert_eq!(
            pre_filter(&with_claim("pending")).1.reasons,
            [REASON_UNBOUND_IMMEDIATE]
        );
        assert!(pre_filter(&with_claim("later")).1.is_success());
    }

    #[test]
    fn bound_volumes_pin_the_node() {
        let (state, status) = pre_filter(&with_claim("bound"));
        assert!(status.is_success());
        let p = with_claim("bound");
        let a = node(json!({"metadata": {"name": "a", "labels": {"kubernetes.io/hostname": "a"}}}));
        let b = node(json!({"metadata": {"name": "b", "labels": {"kubernetes.io/hostname": "b"}}}));
        assert!(VolumeBinding.filter(&state, &p, &a).is_success());
        assert_eq!(
            VolumeBinding.filter(&state, &p, &b).reasons,
            [REASON_NODE_CONFLICT]
        );
    }
}
