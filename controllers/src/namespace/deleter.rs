//! Emptying a terminating namespace (upstream's `namespacedResourcesDeleter`): every
//! namespaced resource discovery lists is deleted (a collection delete where served, else
//! one by one), what remains is counted into the namespace's conditions, and once nothing
//! remains the `kubernetes` finalizer is removed through `namespaces/{name}/finalize`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::{Client, ResourceExt};

use super::conditions::ConditionUpdater;
use super::NamespaceError;
use crate::api_resources::{error_text, Discovered, ServedResource};

/// The finalizer this controller owns.
pub const FINALIZER: &str = "kubernetes";
/// How long items held by finalizers are assumed to take.
const FINALIZER_ESTIMATE_SECONDS: i64 = 15;

/// What one resource's deletion left.
#[derive(Debug, Default)]
struct Leftover {
    /// Seconds before the rest should be gone (0: no estimate).
    estimate: i64,
    /// Objects still listed.
    remaining: usize,
    /// Objects still listed, per finalizer they carry.
    finalizers: BTreeMap<String, usize>,
}

/// Deletes a terminating namespace's content and then releases it.
pub struct Deleter {
    client: Client,
}

impl Deleter {
    /// A deleter acting through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    fn namespaces(&self) -> Api<Namespace> {
        Api::all(self.client.clone())
    }

    /// One pass over the namespace `name`: `Ok` when it is released (or gone, or not being
    /// deleted); `Remaining` when content is still being removed.
    pub async fn delete(&self, name: &str) -> Result<(), NamespaceError> {
        let Some(namespace) = self.namespaces().get_opt(name).await? else {
            return Ok(());
        };
        if namespace.metadata.deletion_timestamp.is_none() {
            return Ok(());
        }
        let namespace = match self.retry_on_conflict(namespace, Step::Terminating).await {
            Err(error) if error.is_not_found() => return Ok(()),
            other => other?,
        };
        if namespace.metadata.deletion_timestamp.is_none() || finalizers(&namespace).is_empty() {
            return Ok(());
        }
        let estimate = self.delete_all_content(namespace.clone()).await?;
        if estimate > 0 {
            return Err(NamespaceError::Remaining { estimate });
        }
        match self.retry_on_conflict(namespace, Step::Finalize).await {
            Err(error) if error.is_not_found() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Applies `step`, re-reading the namespace after conflicts (the UID must not change).
    async fn retry_on_conflict(
        &self,
        mut namespace: Namespace,
        step: Step,
    ) -> Result<Namespace, NamespaceError> {
        loop {
            match self.apply(&namespace, step).await {
                Err(error) if error.is_conflict() => {
                    let latest = self.namespaces().get(&namespace.name_any()).await?;
                    if latest.metadata.uid != namespace.metadata.uid {
                        return Err(NamespaceError::UidChanged);
                    }
                    namespace = latest;
                }
                other => return other,
            }
        }
    }

    async fn apply(&self, namespace: &Namespace, step: Step) -> Result<Namespace, NamespaceError> {
        let name = namespace.name_any();
        match step {
            Step::Terminating => {
                let phase = namespace.status.as_ref().and_then(|s| s.phase.as_deref());
                if namespace.metadata.deletion_timestamp.is_none() || phase == Some("Terminating") {
                    return Ok(namespace.clone());
                }
                let mut updated = namespace.clone();
                updated.status.get_or_insert_with(Default::default).phase =
                    Some("Terminating".to_owned());
                Ok(self
                    .namespaces()
                    .replace_status(&name, &PostParams::default(), &updated)
                    .await?)
            }
            Step::Finalize => {
                let kept: BTreeSet<String> = finalizers(namespace)
                    .into_iter()
                    .filter(|finalizer| finalizer != FINALIZER)
                    .collect();
                let mut finalized = namespace.clone();
                finalized
                    .spec
                    .get_or_insert_with(Default::default)
                    .finalizers = Some(kept.into_iter().collect());
                finalized.status = None;
                tracing::info!(namespace = %name, "namespace emptied, removing the kubernetes finalizer");
                Ok(self
                    .namespaces()
                    .replace_subresource("finalize", &name, &PostParams::default(), &finalized)
                    .await?)
            }
        }
    }

    /// Deletes every namespaced resource's objects in the namespace; the estimate of how
    /// long what remains will take.
    async fn delete_all_content(&self, mut namespace: Namespace) -> Result<i64, NamespaceError> {
        let name = namespace.name_any();
        let deleted_at = namespace
            .metadata
            .deletion_timestamp
            .as_ref()
            .map_or_else(jiff::Timestamp::now, |time| time.0);
        let mut errors: Vec<String> = Vec::new();
        let mut updater = ConditionUpdater::default();
        let discovered = match Discovered::fetch(&self.client).await {
            Ok(discovered) => discovered,
            Err(error) => {
                errors.push(error.to_string());
                updater.discovery_failed(error.to_string());
                Discovered::default()
            }
        };
        if let Some(failure) = discovered.failure() {
            errors.push(failure.clone());
            updater.discovery_failed(format!(
                "Discovery failed for some groups, {} failing: {failure}",
                discovered.failure_count()
            ));
        }
        if let Some(failure) = discovered.parse_failure() {
            errors.push(failure.clone());
            updater.group_version_failed(failure);
        }
        let resources: Vec<ServedResource> = discovered
            .preferred()
            .into_iter()
            .filter(|resource| resource.namespaced && resource.supports(&["delete"]))
            .cloned()
            .collect();
        let mut estimate = 0;
        let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
        let mut finalizers: BTreeMap<String, usize> = BTreeMap::new();
        for resource in &resources {
            let (leftover, result) = self.delete_resource(resource, &name, deleted_at).await;
            if let Err(error) = result {
                updater.content_deletion_failed(error.clone());
                errors.push(error);
            }
            estimate = estimate.max(leftover.estimate);
            if leftover.remaining > 0 {
                remaining.insert(resource.group_resource(), leftover.remaining);
                for (finalizer, count) in leftover.finalizers {
                    *finalizers.entry(finalizer).or_default() += count;
                }
            }
        }
        updater.content_totals(&remaining, &finalizers);
        let status = namespace.status.get_or_insert_with(Default::default);
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        if updater.update(conditions, Time(jiff::Timestamp::now())) {
            if let Err(error) = self
                .namespaces()
                .replace_status(&name, &PostParams::default(), &namespace)
                .await
            {
                tracing::info!(%error, namespace = %name, "couldn't update status condition for namespace");
            }
        }
        match errors.as_slice() {
            [] => Ok(estimate),
            [one] => Err(NamespaceError::Content(one.clone())),
            many => Err(NamespaceError::Content(format!("[{}]", many.join(", ")))),
        }
    }

    /// Deletes one resource's objects in the namespace and says what is left.
    async fn delete_resource(
        &self,
        resource: &ServedResource,
        namespace: &str,
        deleted_at: jiff::Timestamp,
    ) -> (Leftover, Result<(), String>) {
        let gvr = format!(
            "{{{} {} {}}}",
            resource.group, resource.version, resource.plural
        );
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &resource.api_resource());
        let estimate = match self.estimate(resource, namespace, deleted_at).await {
            Ok(estimate) => estimate,
            Err(error) => return (Leftover::default(), Err(error_text(&error))),
        };
        let failed = |error: &kube::Error| {
            (
                Leftover {
                    estimate,
                    ..Leftover::default()
                },
                Err(error_text(error)),
            )
        };
        let background = DeleteParams::background();
        let mut collected = false;
        if resource.supports(&["deletecollection"]) {
            match api
                .delete_collection(&background, &ListParams::default())
                .await
            {
                Ok(_) => collected = true,
                Err(error) if unsupported(&error) => {}
                Err(error) => return failed(&error),
            }
        }
        if !resource.supports(&["list"]) {
            return (
                Leftover {
                    estimate,
                    ..Leftover::default()
                },
                Ok(()),
            );
        }
        if !collected {
            match api.list(&ListParams::default()).await {
                Ok(list) => {
                    for item in list {
                        match api.delete(&item.name_any(), &background).await {
                            Ok(_) => {}
                            Err(error) if unsupported(&error) => {}
                            Err(error) => return failed(&error),
                        }
                    }
                }
                Err(error) if unsupported(&error) => {
                    return (
                        Leftover {
                            estimate,
                            ..Leftover::default()
                        },
                        Ok(()),
                    )
                }
                Err(error) => return failed(&error),
            }
        }
        let left = match api.list(&ListParams::default()).await {
            Ok(list) => list.items,
            Err(error) if unsupported(&error) => Vec::new(),
            Err(error) => return failed(&error),
        };
        if left.is_empty() {
            return (Leftover::default(), Ok(()));
        }
        let mut finalizers: BTreeMap<String, usize> = BTreeMap::new();
        for item in &left {
            for finalizer in item.finalizers() {
                *finalizers.entry(finalizer.clone()).or_default() += 1;
            }
        }
        let remaining = left.len();
        if estimate != 0 {
            return (
                Leftover {
                    estimate,
                    remaining,
                    finalizers,
                },
                Ok(()),
            );
        }
        if !finalizers.is_empty() {
            return (
                Leftover {
                    estimate: FINALIZER_ESTIMATE_SECONDS,
                    remaining,
                    finalizers,
                },
                Ok(()),
            );
        }
        (
            Leftover {
                estimate,
                remaining,
                finalizers: BTreeMap::new(),
            },
            Err(format!(
                "unexpected items still remain in namespace: {namespace} for gvr: {gvr}"
            )),
        )
    }

    /// For pods, the longest grace period of the running ones, unless the namespace has been
    /// terminating longer than that already.
    async fn estimate(
        &self,
        resource: &ServedResource,
        namespace: &str,
        deleted_at: jiff::Timestamp,
    ) -> Result<i64, kube::Error> {
        if !(resource.group.is_empty() && resource.plural == "pods") {
            return Ok(0);
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let estimate = pods
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .filter(|pod| {
                let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
                !matches!(phase, Some("Succeeded" | "Failed"))
            })
            .filter_map(|pod| pod.spec.as_ref()?.termination_grace_period_seconds)
            .max()
            .unwrap_or(0);
        let elapsed = jiff::Timestamp::now().as_second() - deleted_at.as_second();
        Ok(if elapsed >= estimate { 0 } else { estimate })
    }
}

#[derive(Clone, Copy)]
enum Step {
    /// Make sure the phase reads Terminating.
    Terminating,
    /// Remove this controller's finalizer.
    Finalize,
}

fn finalizers(namespace: &Namespace) -> Vec<String> {
    namespace
        .spec
        .as_ref()
        .and_then(|spec| spec.finalizers.clone())
        .unwrap_or_default()
}

/// 405 and 404 mean the verb is not served for the resource (upstream special-cases both).
fn unsupported(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 405 || status.code == 404)
}
