//! The RollingUpdate strategy (upstream's `rolling.go`): grow the new ReplicaSet within
//! maxSurge, shrink old ones while at least `replicas - maxUnavailable` pods stay available
//! (unhealthy old pods first), and clean up once complete.

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::conditions;
use super::replicas::{
    by_creation, desired, max_unavailable, new_rs_new_replicas, rs_available, rs_replicas,
    total_available, total_replicas,
};
use super::sync::Syncer;
use crate::workloads::error::SyncError;

impl Syncer<'_> {
    /// Upstream's `rolloutRolling`.
    pub(super) async fn rollout_rolling(
        &mut self,
        rs_list: &[ReplicaSet],
    ) -> Result<(), SyncError> {
        let (new, old) = self.replica_sets_and_sync_revision(rs_list, true).await?;
        let Some(new) = new else {
            return Ok(());
        };
        let all: Vec<&ReplicaSet> = old.iter().chain(Some(&new)).collect();
        if self.reconcile_new_replica_set(&all, &new).await? {
            return self.sync_rollout_status(&all, Some(&new)).await;
        }
        let active_old: Vec<ReplicaSet> = old
            .iter()
            .filter(|rs| rs_replicas(rs) > 0)
            .cloned()
            .collect();
        if self
            .reconcile_old_replica_sets(&all, active_old, &new)
            .await?
        {
            return self.sync_rollout_status(&all, Some(&new)).await;
        }
        if conditions::complete(&self.d, &self.status()) {
            self.cleanup(&old).await?;
        }
        self.sync_rollout_status(&all, Some(&new)).await
    }

    /// Upstream's `reconcileNewReplicaSet`: whether the new ReplicaSet was scaled.
    async fn reconcile_new_replica_set(
        &self,
        all: &[&ReplicaSet],
        new: &ReplicaSet,
    ) -> Result<bool, SyncError> {
        let replicas = desired(&self.d);
        let current = rs_replicas(new);
        if current == replicas {
            return Ok(false);
        }
        let target = if current > replicas {
            replicas
        } else {
            new_rs_new_replicas(&self.d, all, new).map_err(SyncError::Refused)?
        };
        Ok(self.scale_and_record(new, target).await?.0)
    }

    /// Upstream's `reconcileOldReplicaSets`: whether any old ReplicaSet was scaled down.
    /// Failures after the first scale-down are reported as "nothing scaled", as upstream.
    async fn reconcile_old_replica_sets(
        &self,
        all: &[&ReplicaSet],
        old: Vec<ReplicaSet>,
        new: &ReplicaSet,
    ) -> Result<bool, SyncError> {
        if total_replicas(&old) == 0 {
            return Ok(false);
        }
        let all_pods = total_replicas(all.iter().copied());
        let min_available = desired(&self.d) - max_unavailable(&self.d);
        let new_unavailable = rs_replicas(new) - rs_available(new);
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        let Ok((old, cleaned)) = self.cleanup_unhealthy_replicas(old, max_scaled_down).await else {
            return Ok(false);
        };
        let all: Vec<&ReplicaSet> = old.iter().chain(Some(new)).collect();
        let Ok(scaled) = self.scale_down_old_for_rolling_update(&all, &old).await else {
            return Ok(false);
        };
        Ok(cleaned + scaled > 0)
    }

    /// Upstream's `cleanupUnhealthyReplicas`: old ReplicaSets shed their unavailable pods
    /// first (oldest ReplicaSet first), up to `max` pods.
    async fn cleanup_unhealthy_replicas(
        &self,
        mut old: Vec<ReplicaSet>,
        max: i32,
    ) -> Result<(Vec<ReplicaSet>, i32), SyncError> {
        old.sort_by(by_creation);
        let mut total = 0;
        for slot in old.iter_mut() {
            if total >= max {
                break;
            }
            let rs = &*slot;
            let (replicas, available) = (rs_replicas(rs), rs_available(rs));
            if replicas == 0 || replicas == available {
                continue;
            }
            let count = (max - total).min(replicas - available);
            let target = replicas - count;
            if target > replicas {
                return Err(SyncError::Refused(format!(
                    "when cleaning up unhealthy replicas, got invalid request to scale down {}/{} {replicas} -> {target}",
                    self.namespace,
                    rs.metadata.name.as_deref().unwrap_or_default()
                )));
            }
            let (_, updated) = self.scale_and_record(rs, target).await?;
            total += count;
            *slot = updated;
        }
        Ok((old, total))
    }

    /// Upstream's `scaleDownOldReplicaSetsForRollingUpdate`: shrink old ReplicaSets (oldest
    /// first) by as many pods as are available beyond the minimum.
    async fn scale_down_old_for_rolling_update(
        &self,
        all: &[&ReplicaSet],
        old: &[ReplicaSet],
    ) -> Result<i32, SyncError> {
        let min_available = desired(&self.d) - max_unavailable(&self.d);
        let available = total_available(all.iter().copied());
        if available <= min_available {
            return Ok(0);
        }
        let mut old: Vec<&ReplicaSet> = old.iter().collect();
        old.sort_by(|a, b| by_creation(a, b));
        let wanted = available - min_available;
        let mut total = 0;
        for rs in old {
            if total >= wanted {
                break;
            }
            let replicas = rs_replicas(rs);
            if replicas == 0 {
                continue;
            }
            let count = replicas.min(wanted - total);
            let target = replicas - count;
            if target > replicas {
                return Err(SyncError::Refused(format!(
                    "when scaling down old RS, got invalid request to scale down {}/{} {replicas} -> {target}",
                    self.namespace,
                    rs.metadata.name.as_deref().unwrap_or_default()
                )));
            }
            self.scale_and_record(rs, target).await?;
            total += count;
        }
        Ok(total)
    }
}
