//! The Recreate strategy (upstream's `recreate.go`): scale every old ReplicaSet to zero,
//! wait until none of their pods is left running, and only then create and scale up the
//! new ReplicaSet.

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::conditions;
use super::replicas::{desired, rs_replicas, total_actual};
use super::sync::Syncer;
use crate::workloads::error::SyncError;
use crate::workloads::podcontrol::pods::{controller_of, phase};
use crate::workloads::podcontrol::selector::Selector;

impl Syncer<'_> {
    /// Upstream's `rolloutRecreate`.
    pub(super) async fn rollout_recreate(
        &mut self,
        rs_list: &[ReplicaSet],
    ) -> Result<(), SyncError> {
        let (mut new, mut old) = self.replica_sets_and_sync_revision(rs_list, false).await?;
        let mut scaled_down = false;
        for rs in old.iter_mut().filter(|rs| rs_replicas(rs) > 0) {
            let (scaled, updated) = self.scale_and_record(rs, 0).await?;
            if scaled {
                *rs = updated;
                scaled_down = true;
            }
        }
        if scaled_down || self.old_pods_running(new.as_ref(), &old) {
            let all: Vec<&ReplicaSet> = old.iter().chain(new.as_ref()).collect();
            return self.sync_rollout_status(&all, new.as_ref()).await;
        }
        if new.is_none() {
            (new, old) = self.replica_sets_and_sync_revision(rs_list, true).await?;
        }
        if let Some(rs) = new.as_ref() {
            self.scale_and_record(rs, desired(&self.d)).await?;
        }
        if conditions::complete(&self.d, &self.status()) {
            self.cleanup(&old).await?;
        }
        let all: Vec<&ReplicaSet> = old.iter().chain(new.as_ref()).collect();
        self.sync_rollout_status(&all, new.as_ref()).await
    }

    /// Upstream's `oldPodsRunning`: old ReplicaSets still count pods, or a pod controlled by
    /// one of them (selected by the Deployment) is not yet terminal.
    fn old_pods_running(&self, new: Option<&ReplicaSet>, old: &[ReplicaSet]) -> bool {
        if total_actual(old) > 0 {
            return true;
        }
        let selector = self
            .d
            .spec
            .as_ref()
            .and_then(|spec| Selector::parse(&spec.selector).ok());
        let Some(selector) = selector else {
            return false;
        };
        let old_uids: Vec<&str> = old
            .iter()
            .filter(|rs| new.is_none_or(|new| new.metadata.uid != rs.metadata.uid))
            .filter_map(|rs| rs.metadata.uid.as_deref())
            .collect();
        self.ctx.pods.state().iter().any(|pod| {
            pod.metadata.namespace.as_deref() == Some(self.namespace.as_str())
                && selector.matches_opt(pod.metadata.labels.as_ref())
                && controller_of(&pod.metadata)
                    .is_some_and(|owner| old_uids.contains(&owner.uid.as_str()))
                && !matches!(phase(pod), "Succeeded" | "Failed")
        })
    }
}
