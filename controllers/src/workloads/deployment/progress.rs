//! Rollout progress (upstream's `progress.go`): the Progressing condition (complete,
//! progressing, or past `progressDeadlineSeconds`), ReplicaSet failures surfaced on the
//! Deployment, and a resync planned for when the deadline would pass.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DeploymentCondition, ReplicaSet};
use k8s_openapi::jiff::Timestamp;

use super::conditions::{self, new_condition};
use super::sync::Syncer;
use crate::workloads::error::SyncError;

/// Upstream's `getReplicaFailures`: the new ReplicaSet's failure, else any old one's.
fn replica_failures(all: &[&ReplicaSet], new: Option<&ReplicaSet>) -> Vec<DeploymentCondition> {
    let failures = |rs: &ReplicaSet| -> Vec<DeploymentCondition> {
        rs.status
            .iter()
            .flat_map(|status| status.conditions.iter().flatten())
            .filter(|c| c.type_ == conditions::REPLICA_FAILURE)
            .map(conditions::from_replica_set)
            .collect()
    };
    let from_new = new.map(failures).unwrap_or_default();
    if !from_new.is_empty() {
        return from_new;
    }
    all.iter().flat_map(|rs| failures(rs)).collect()
}

impl Syncer<'_> {
    /// Upstream's `syncRolloutStatus`.
    pub(super) async fn sync_rollout_status(
        &mut self,
        all: &[&ReplicaSet],
        new: Option<&ReplicaSet>,
    ) -> Result<(), SyncError> {
        let mut status = self.calculate_status(all, new);
        let has_deadline = conditions::progress_deadline(&self.d).is_some();
        if !has_deadline {
            conditions::remove(&mut status, conditions::PROGRESSING);
        }
        let current_status = self.status();
        let current = conditions::get(Some(&current_status), conditions::PROGRESSING);
        let rolled_out = status.replicas == status.updated_replicas
            && current.is_some_and(|c| c.reason.as_deref() == Some(conditions::NEW_RS_AVAILABLE));
        let subject = match new {
            Some(rs) => format!(
                "ReplicaSet {:?}",
                rs.metadata.name.as_deref().unwrap_or_default()
            ),
            None => format!("Deployment {:?}", self.name),
        };
        if has_deadline && !rolled_out {
            if conditions::complete(&self.d, &status) {
                conditions::set(
                    &mut status,
                    new_condition(
                        conditions::PROGRESSING,
                        "True",
                        conditions::NEW_RS_AVAILABLE,
                        format!("{subject} has successfully progressed."),
                    ),
                );
            } else if conditions::progressing(&self.d, &status) {
                let mut condition = new_condition(
                    conditions::PROGRESSING,
                    "True",
                    conditions::REPLICA_SET_UPDATED,
                    format!("{subject} is progressing."),
                );
                // Progress refreshes the update time even with the same reason.
                if let Some(current) = current {
                    if current.status == "True" {
                        condition.last_transition_time = current.last_transition_time.clone();
                    }
                    conditions::remove(&mut status, conditions::PROGRESSING);
                }
                conditions::set(&mut status, condition);
            } else if conditions::timed_out(&self.d, &status, Timestamp::now()) {
                conditions::set(
                    &mut status,
                    new_condition(
                        conditions::PROGRESSING,
                        "False",
                        conditions::TIMED_OUT,
                        format!("{subject} has timed out progressing."),
                    ),
                );
            }
        }
        match replica_failures(all, new).into_iter().next() {
            Some(failure) => conditions::set(&mut status, failure),
            None => conditions::remove(&mut status, conditions::REPLICA_FAILURE),
        }
        if self.d.status.as_ref() == Some(&status) {
            self.requeue_stuck(&status);
            return Ok(());
        }
        self.d.status = Some(status);
        self.update_status().await
    }

    /// Upstream's `requeueStuckDeployment`: look again when the deadline passes.
    fn requeue_stuck(&mut self, new: &k8s_openapi::api::apps::v1::DeploymentStatus) {
        let current_status = self.status();
        let Some(current) = conditions::get(Some(&current_status), conditions::PROGRESSING) else {
            return;
        };
        if conditions::complete(&self.d, new)
            || current.reason.as_deref() == Some(conditions::TIMED_OUT)
        {
            return;
        }
        let Some(deadline) = conditions::deadline(&self.d, &current_status) else {
            return;
        };
        let after =
            Duration::try_from(deadline.duration_since(Timestamp::now())).unwrap_or_default();
        self.requeue = Some(if after < Duration::from_secs(1) {
            Duration::from_secs(1)
        } else {
            after + Duration::from_secs(1)
        });
    }
}
