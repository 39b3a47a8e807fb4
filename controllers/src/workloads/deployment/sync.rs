//! One sync of one Deployment (upstream's `syncDeployment` and `sync.go`): finding or
//! creating the new ReplicaSet with its revision, scaling (proportionally mid-rollout),
//! cleaning up old ReplicaSets, and the status.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::annotations::{
    self, desired_replicas, max_revision, set_deployment_revision, set_new_replica_set_annotations,
    MAX_REVISION_HISTORY_CHARS, REVISION,
};
use super::conditions::{self, new_condition};
use super::hash::{compute_hash, equal_ignore_hash, POD_TEMPLATE_HASH};
use super::replicas::{
    by_creation, by_revision, by_size_newer, by_size_older, desired, is_rolling, is_saturated,
    max_surge, max_unavailable, new_rs_new_replicas, non_zero, proportion, rs_actual, rs_replicas,
    strategy, total_actual, total_available, total_ready, total_replicas, total_terminating,
};
use super::Context;
use crate::workloads::error::{is_conflict, is_namespace_terminating, is_not_found, SyncError};
use crate::workloads::podcontrol::claim::controller_ref;
use crate::workloads::podcontrol::pods::controller_of;

/// The longest object name (a DNS subdomain).
const MAX_NAME: usize = 253;

/// One sync in progress: the Deployment as this sync sees and changes it.
pub struct Syncer<'a> {
    pub(super) ctx: &'a Context,
    /// The working copy.
    pub(super) d: Deployment,
    pub(super) name: String,
    pub(super) namespace: String,
    /// When to look again even without a change (progress deadline checks).
    pub requeue: Option<Duration>,
}

impl<'a> Syncer<'a> {
    /// A sync of `d`.
    pub fn new(ctx: &'a Context, d: Deployment) -> Result<Self, SyncError> {
        let name = d.metadata.name.clone().ok_or(SyncError::Missing("name"))?;
        let namespace = d
            .metadata
            .namespace
            .clone()
            .ok_or(SyncError::Missing("namespace"))?;
        Ok(Self {
            ctx,
            d,
            name,
            namespace,
            requeue: None,
        })
    }

    pub(super) fn api_rs(&self) -> Api<ReplicaSet> {
        Api::namespaced(self.ctx.client.clone(), &self.namespace)
    }

    fn api_d(&self) -> Api<Deployment> {
        Api::namespaced(self.ctx.client.clone(), &self.namespace)
    }

    pub(super) fn reference(&self) -> ObjectReference {
        self.d.object_ref(&())
    }

    pub(super) fn status(&self) -> DeploymentStatus {
        self.d.status.clone().unwrap_or_default()
    }

    /// Upstream's `syncDeployment`, after the caches are read.
    pub async fn sync_deployment(&mut self) -> Result<(), SyncError> {
        let spec = self.d.spec.as_ref().ok_or(SyncError::Missing("spec"))?;
        let selects_all = spec
            .selector
            .match_labels
            .as_ref()
            .is_none_or(BTreeMap::is_empty)
            && spec
                .selector
                .match_expressions
                .as_ref()
                .is_none_or(Vec::is_empty);
        if selects_all {
            self.ctx.events.warning(
                self.reference(),
                "SelectingAll",
                "Sync",
                "This deployment is selecting all pods. A non-empty selector is required."
                    .to_owned(),
            );
            let generation = self.d.metadata.generation.unwrap_or(0);
            let mut status = self.status();
            if status.observed_generation.unwrap_or(0) < generation {
                status.observed_generation = Some(generation);
                self.d.status = Some(status);
                self.update_status().await?;
            }
            return Ok(());
        }
        let rs_list = self.claim_replica_sets().await?;
        if self.d.metadata.deletion_timestamp.is_some() {
            return self.sync_status_only(&rs_list).await;
        }
        self.check_paused_conditions().await?;
        let paused = self
            .d
            .spec
            .as_ref()
            .and_then(|spec| spec.paused)
            .unwrap_or(false);
        if paused {
            return self.sync(&rs_list).await;
        }
        if self.is_scaling_event(&rs_list).await? {
            return self.sync(&rs_list).await;
        }
        match strategy(&self.d) {
            "Recreate" => self.rollout_recreate(&rs_list).await,
            "RollingUpdate" => self.rollout_rolling(&rs_list).await,
            other => Err(SyncError::Refused(format!(
                "unexpected deployment strategy type: {other}"
            ))),
        }
    }

    /// `PUT` the working copy's status. Our API server (unlike kube-apiserver for
    /// Deployments) keeps metadata from status writes out, so a changed revision annotation
    /// follows as a metadata patch.
    pub(super) async fn update_status(&mut self) -> Result<(), SyncError> {
        let api = self.api_d();
        let updated = api
            .replace_status(&self.name, &PostParams::default(), &self.d)
            .await?;
        self.d.metadata.resource_version = updated.metadata.resource_version.clone();
        let wanted = self.d.annotations().get(REVISION).cloned();
        if wanted.is_some() && updated.annotations().get(REVISION) != wanted.as_ref() {
            let patch = json!({"metadata": {"annotations": {REVISION: wanted}}});
            let patched = api
                .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            self.d.metadata.resource_version = patched.metadata.resource_version;
        }
        Ok(())
    }

    /// Upstream's `syncStatusOnly`.
    async fn sync_status_only(&mut self, rs_list: &[ReplicaSet]) -> Result<(), SyncError> {
        let (new, old) = self.replica_sets_and_sync_revision(rs_list, false).await?;
        let all: Vec<&ReplicaSet> = old.iter().chain(new.as_ref()).collect();
        self.sync_deployment_status(&all, new.as_ref()).await
    }

    /// Upstream's `sync`: scaling, and for a paused Deployment cleanup, then the status.
    async fn sync(&mut self, rs_list: &[ReplicaSet]) -> Result<(), SyncError> {
        let (new, old) = self.replica_sets_and_sync_revision(rs_list, false).await?;
        self.scale(new.as_ref(), &old).await?;
        let paused = self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused {
            self.cleanup(&old).await?;
        }
        let all: Vec<&ReplicaSet> = old.iter().chain(new.as_ref()).collect();
        self.sync_deployment_status(&all, new.as_ref()).await
    }

    /// Upstream's `checkPausedConditions`.
    async fn check_paused_conditions(&mut self) -> Result<(), SyncError> {
        if conditions::progress_deadline(&self.d).is_none() {
            return Ok(());
        }
        let mut status = self.status();
        let reason =
            conditions::get(Some(&status), conditions::PROGRESSING).and_then(|c| c.reason.clone());
        if reason.as_deref() == Some(conditions::TIMED_OUT) {
            return Ok(());
        }
        let paused_recorded = reason.as_deref() == Some(conditions::PAUSED);
        let paused = self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let condition = if paused && !paused_recorded {
            new_condition(
                conditions::PROGRESSING,
                "Unknown",
                conditions::PAUSED,
                "Deployment is paused".to_owned(),
            )
        } else if !paused && paused_recorded {
            new_condition(
                conditions::PROGRESSING,
                "Unknown",
                conditions::RESUMED,
                "Deployment is resumed".to_owned(),
            )
        } else {
            return Ok(());
        };
        conditions::set(&mut status, condition);
        self.d.status = Some(status);
        self.update_status().await
    }

    /// Upstream's `isScalingEvent`: an active ReplicaSet was sized for another replica count.
    async fn is_scaling_event(&mut self, rs_list: &[ReplicaSet]) -> Result<bool, SyncError> {
        let (new, old) = self.replica_sets_and_sync_revision(rs_list, false).await?;
        let replicas = desired(&self.d);
        Ok(old
            .iter()
            .chain(new.as_ref())
            .filter(|rs| rs_replicas(rs) > 0)
            .filter_map(desired_replicas)
            .any(|annotated| annotated != replicas))
    }

    /// Upstream's `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when
    /// `create` and missing) with its revision synced, and every old one.
    pub(super) async fn replica_sets_and_sync_revision(
        &mut self,
        rs_list: &[ReplicaSet],
        create: bool,
    ) -> Result<(Option<ReplicaSet>, Vec<ReplicaSet>), SyncError> {
        let mut sorted: Vec<ReplicaSet> = rs_list.to_vec();
        sorted.sort_by(by_creation);
        let template = self
            .d
            .spec
            .as_ref()
            .map(|spec| spec.template.clone())
            .unwrap_or_default();
        let existing = sorted
            .iter()
            .find(|rs| {
                rs.spec
                    .as_ref()
                    .and_then(|spec| spec.template.as_ref())
                    .is_some_and(|t| equal_ignore_hash(t, &template))
            })
            .cloned();
        let old: Vec<ReplicaSet> = sorted
            .into_iter()
            .filter(|rs| {
                existing
                    .as_ref()
                    .is_none_or(|new| new.metadata.uid != rs.metadata.uid)
            })
            .collect();
        let new = self.new_replica_set(existing, &old, create).await?;
        Ok((new, old))
    }

    fn replicas_annotations(&self) -> (i32, i32) {
        let replicas = desired(&self.d);
        (replicas, replicas + max_surge(&self.d))
    }

    /// Upstream's `getNewReplicaSet`.
    async fn new_replica_set(
        &mut self,
        existing: Option<ReplicaSet>,
        old: &[ReplicaSet],
        create: bool,
    ) -> Result<Option<ReplicaSet>, SyncError> {
        let new_revision = max_revision(old) + 1;
        let min_ready = self.d.spec.as_ref().and_then(|s| s.min_ready_seconds);
        if let Some(mut rs) = existing {
            let annotations_changed = set_new_replica_set_annotations(
                &self.d,
                &mut rs,
                new_revision,
                true,
                MAX_REVISION_HISTORY_CHARS,
                self.replicas_annotations(),
            );
            let spec = rs.spec.get_or_insert_with(ReplicaSetSpec::default);
            let min_ready_changed = spec.min_ready_seconds.unwrap_or(0) != min_ready.unwrap_or(0);
            if annotations_changed || min_ready_changed {
                spec.min_ready_seconds = min_ready;
                let name = rs.name_any();
                let updated = self
                    .api_rs()
                    .replace(&name, &PostParams::default(), &rs)
                    .await?;
                return Ok(Some(updated));
            }
            let revision = rs.annotations().get(REVISION).cloned().unwrap_or_default();
            let mut needs_update = set_deployment_revision(&mut self.d, &revision);
            let mut status = self.status();
            if conditions::progress_deadline(&self.d).is_some()
                && conditions::get(Some(&status), conditions::PROGRESSING).is_none()
            {
                let message = format!("Found new replica set {:?}", rs.name_any());
                conditions::set(
                    &mut status,
                    new_condition(
                        conditions::PROGRESSING,
                        "True",
                        conditions::FOUND_NEW_RS,
                        message,
                    ),
                );
                self.d.status = Some(status);
                needs_update = true;
            }
            if needs_update {
                self.update_status().await?;
            }
            return Ok(Some(rs));
        }
        if !create {
            return Ok(None);
        }
        let created = self.create_replica_set(old, new_revision).await?;
        let Some((created, already_existed, new_replicas)) = created else {
            return Ok(None);
        };
        if !already_existed && new_replicas > 0 {
            self.ctx.events.normal(
                self.reference(),
                "ScalingReplicaSet",
                "Scaling",
                format!(
                    "Scaled up replica set {} from 0 to {new_replicas}",
                    created.name_any()
                ),
            );
        }
        let mut needs_update = set_deployment_revision(&mut self.d, &new_revision.to_string());
        if !already_existed && conditions::progress_deadline(&self.d).is_some() {
            let mut status = self.status();
            let message = format!("Created new replica set {:?}", created.name_any());
            conditions::set(
                &mut status,
                new_condition(
                    conditions::PROGRESSING,
                    "True",
                    conditions::NEW_REPLICA_SET,
                    message,
                ),
            );
            self.d.status = Some(status);
            needs_update = true;
        }
        if needs_update {
            self.update_status().await?;
        }
        Ok(Some(created))
    }

    /// Creates the ReplicaSet for the current template: `(ReplicaSet, already existed,
    /// replicas)`, or `None` after a hash collision (the collision count was raised).
    async fn create_replica_set(
        &mut self,
        old: &[ReplicaSet],
        new_revision: i64,
    ) -> Result<Option<(ReplicaSet, bool, i32)>, SyncError> {
        let spec = self.d.spec.clone().ok_or(SyncError::Missing("spec"))?;
        let collision_count = self.status().collision_count;
        let hash = compute_hash(&spec.template, collision_count);
        let mut template = spec.template.clone();
        let template_meta = template.metadata.get_or_insert_with(ObjectMeta::default);
        template_meta
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.to_owned(), hash.clone());
        let labels = template_meta.labels.clone();
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.to_owned(), hash.clone());
        let base = self
            .name
            .chars()
            .take(MAX_NAME - 1 - hash.len())
            .collect::<String>();
        let rs_name = format!("{base}-{hash}");
        let mut new_rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(rs_name.clone()),
                namespace: Some(self.namespace.clone()),
                owner_references: Some(vec![controller_ref(
                    "apps/v1",
                    "Deployment",
                    &self.d.metadata,
                )?]),
                labels,
                ..ObjectMeta::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let all: Vec<&ReplicaSet> = old.iter().chain(Some(&new_rs)).collect();
        let new_replicas =
            new_rs_new_replicas(&self.d, &all, &new_rs).map_err(SyncError::Refused)?;
        if let Some(spec) = new_rs.spec.as_mut() {
            spec.replicas = Some(new_replicas);
        }
        set_new_replica_set_annotations(
            &self.d,
            &mut new_rs,
            new_revision,
            false,
            MAX_REVISION_HISTORY_CHARS,
            self.replicas_annotations(),
        );
        match self.api_rs().create(&PostParams::default(), &new_rs).await {
            Ok(created) => Ok(Some((created, false, new_replicas))),
            Err(error) if is_conflict(&error) => {
                // A slow cache, or a hash collision with a ReplicaSet not ours.
                let found = self
                    .ctx
                    .replica_sets
                    .get(&ObjectRef::new(&rs_name).within(&self.namespace));
                let Some(found) = found else {
                    return Err(error.into());
                };
                let ours = controller_of(&found.metadata)
                    .is_some_and(|owner| Some(&owner.uid) == self.d.metadata.uid.as_ref());
                let same = found
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| equal_ignore_hash(&spec.template, t));
                if ours && same {
                    return Ok(Some(((*found).clone(), true, new_replicas)));
                }
                let mut status = self.status();
                let count = status.collision_count.unwrap_or(0);
                status.collision_count = Some(count + 1);
                self.d.status = Some(status);
                if self.update_status().await.is_ok() {
                    tracing::info!(deployment = %self.name, old = count, new = count + 1, "hash collision; bumping collisionCount");
                }
                Err(error.into())
            }
            Err(error) if is_namespace_terminating(&error) => Err(error.into()),
            Err(error) => {
                let message = format!(
                    "Failed to create new replica set {rs_name:?}: {}",
                    crate::workloads::error::api_message(&error)
                );
                if conditions::progress_deadline(&self.d).is_some() {
                    let mut status = self.status();
                    conditions::set(
                        &mut status,
                        new_condition(
                            conditions::PROGRESSING,
                            "False",
                            conditions::FAILED_RS_CREATE,
                            message.clone(),
                        ),
                    );
                    self.d.status = Some(status);
                    let _ = self.update_status().await;
                }
                self.ctx.events.warning(
                    self.reference(),
                    conditions::FAILED_RS_CREATE,
                    "Create",
                    message,
                );
                Err(error.into())
            }
        }
    }

    /// Upstream's `scaleReplicaSetAndRecordEvent`.
    pub(super) async fn scale_and_record(
        &self,
        rs: &ReplicaSet,
        new_scale: i32,
    ) -> Result<(bool, ReplicaSet), SyncError> {
        if rs_replicas(rs) == new_scale {
            return Ok((false, rs.clone()));
        }
        let operation = if rs_replicas(rs) < new_scale {
            "up"
        } else {
            "down"
        };
        self.scale_replica_set(rs, new_scale, operation).await
    }

    /// Upstream's `scaleReplicaSet`: the new size and replica annotations in one update.
    async fn scale_replica_set(
        &self,
        rs: &ReplicaSet,
        new_scale: i32,
        operation: &str,
    ) -> Result<(bool, ReplicaSet), SyncError> {
        let (desired_count, max_count) = self.replicas_annotations();
        let size_changes = rs_replicas(rs) != new_scale;
        if !size_changes
            && !annotations::replicas_annotations_need_update(rs, desired_count, max_count)
        {
            return Ok((false, rs.clone()));
        }
        let old_scale = rs_replicas(rs);
        let mut copy = rs.clone();
        copy.spec
            .get_or_insert_with(ReplicaSetSpec::default)
            .replicas = Some(new_scale);
        annotations::set_replicas_annotations(&mut copy, desired_count, max_count);
        let name = rs.name_any();
        let updated = self
            .api_rs()
            .replace(&name, &PostParams::default(), &copy)
            .await?;
        if size_changes {
            tracing::info!(deployment = %self.name, replica_set = %name, from = old_scale, to = new_scale, "scaled replica set");
            self.ctx.events.normal(
                self.reference(),
                "ScalingReplicaSet",
                "Scaling",
                format!("Scaled {operation} replica set {name} from {old_scale} to {new_scale}"),
            );
        }
        Ok((size_changes, updated))
    }

    /// Upstream's `scale`: one active ReplicaSet takes the whole count; otherwise, rolling,
    /// the difference is shared in proportion to each ReplicaSet's size.
    async fn scale(
        &mut self,
        new: Option<&ReplicaSet>,
        old: &[ReplicaSet],
    ) -> Result<(), SyncError> {
        let replicas = desired(&self.d);
        let mut newest_old: Vec<&ReplicaSet> = old.iter().collect();
        newest_old.sort_by(|a, b| by_creation(b, a));
        let mut active: Vec<&ReplicaSet> = newest_old
            .iter()
            .copied()
            .chain(new)
            .filter(|rs| rs_replicas(rs) > 0)
            .collect();
        let active_or_latest = match active.len() {
            0 => new.or(newest_old.first().copied()),
            1 => Some(active[0]),
            _ => None,
        };
        if let Some(rs) = active_or_latest {
            if rs_replicas(rs) != replicas {
                self.scale_and_record(rs, replicas).await?;
            }
            return Ok(());
        }
        if is_saturated(&self.d, new) {
            for rs in old.iter().filter(|rs| rs_replicas(rs) > 0) {
                self.scale_and_record(rs, 0).await?;
            }
            return Ok(());
        }
        if !is_rolling(&self.d) {
            return Ok(());
        }
        let current = total_replicas(active.iter().copied());
        let allowed = if replicas > 0 {
            replicas + max_surge(&self.d)
        } else {
            0
        };
        let to_add = allowed - current;
        let operation = match to_add.signum() {
            1 => {
                active.sort_by(|a, b| by_size_newer(a, b));
                "up"
            }
            -1 => {
                active.sort_by(|a, b| by_size_older(a, b));
                "down"
            }
            _ => "",
        };
        let mut added = 0;
        let mut sizes: HashMap<String, i32> = HashMap::new();
        for rs in &active {
            let share = if to_add != 0 {
                proportion(rs, &self.d, to_add, added)
            } else {
                0
            };
            added += share;
            sizes.insert(rs.name_any(), rs_replicas(rs) + share);
        }
        for (index, rs) in active.iter().enumerate() {
            let name = rs.name_any();
            let mut size = sizes.get(&name).copied().unwrap_or(0);
            if index == 0 && to_add != 0 {
                size = (size + to_add - added).max(0);
            }
            self.scale_replica_set(rs, size, operation).await?;
        }
        Ok(())
    }

    /// Upstream's `cleanupDeployment`: old ReplicaSets beyond `revisionHistoryLimit`, lowest
    /// revision first, deleted once scaled to zero and observed so.
    pub(super) async fn cleanup(&self, old: &[ReplicaSet]) -> Result<(), SyncError> {
        let limit = self
            .d
            .spec
            .as_ref()
            .and_then(|spec| spec.revision_history_limit)
            .filter(|limit| *limit != i32::MAX);
        let Some(limit) = limit else {
            return Ok(());
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        let excess = i64::try_from(cleanable.len()).unwrap_or(i64::MAX) - i64::from(limit);
        if excess <= 0 {
            return Ok(());
        }
        cleanable.sort_by(|a, b| by_revision(a, b));
        for rs in cleanable
            .into_iter()
            .take(usize::try_from(excess).unwrap_or(0))
        {
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if rs_actual(rs) != 0
                || rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
                || rs.metadata.deletion_timestamp.is_some()
            {
                continue;
            }
            tracing::info!(deployment = %self.name, replica_set = %rs.name_any(), "cleaning up old replica set");
            match self
                .api_rs()
                .delete(&rs.name_any(), &DeleteParams::default())
                .await
            {
                Ok(_) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Upstream's `calculateStatus`.
    pub(super) fn calculate_status(
        &self,
        all: &[&ReplicaSet],
        new: Option<&ReplicaSet>,
    ) -> DeploymentStatus {
        let available = total_available(all.iter().copied());
        let total = total_replicas(all.iter().copied());
        let unavailable = (total - available).max(0);
        let current = self.status();
        let mut status = DeploymentStatus {
            observed_generation: self.d.metadata.generation.filter(|g| *g != 0),
            replicas: non_zero(total_actual(all.iter().copied())),
            updated_replicas: non_zero(total_actual(new)),
            ready_replicas: non_zero(total_ready(all.iter().copied())),
            available_replicas: non_zero(available),
            unavailable_replicas: non_zero(unavailable),
            collision_count: current.collision_count,
            terminating_replicas: total_terminating(all.iter().copied()),
            conditions: current.conditions.clone(),
        };
        let condition = if available >= desired(&self.d) - max_unavailable(&self.d) {
            new_condition(
                conditions::AVAILABLE,
                "True",
                conditions::MINIMUM_AVAILABLE,
                "Deployment has minimum availability.".to_owned(),
            )
        } else {
            new_condition(
                conditions::AVAILABLE,
                "False",
                conditions::MINIMUM_UNAVAILABLE,
                "Deployment does not have minimum availability.".to_owned(),
            )
        };
        conditions::set(&mut status, condition);
        status
    }

    /// Upstream's `syncDeploymentStatus`.
    async fn sync_deployment_status(
        &mut self,
        all: &[&ReplicaSet],
        new: Option<&ReplicaSet>,
    ) -> Result<(), SyncError> {
        let status = self.calculate_status(all, new);
        if self.d.status.as_ref() == Some(&status) {
            return Ok(());
        }
        self.d.status = Some(status);
        self.update_status().await
    }
}
