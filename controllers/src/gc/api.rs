//! The garbage collector's requests, on any kind: objects are found through the latest
//! discovery (a kind discovery does not know triggers a rediscovery), read, deleted with
//! preconditions, and patched with JSON merge patches guarded by the resourceVersion they
//! were computed from.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy,
};
use kube::Client;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::error::GcError;
use super::identity::Identity;
use crate::api_resources::{Discovered, ServedResource};

/// How often a finalizer removal is retried on conflicts (client-go's `retry.DefaultBackoff`).
const FINALIZER_RETRIES: u32 = 4;

/// Requests on objects of any served kind.
#[derive(Clone)]
pub struct Objects {
    client: Client,
    discovered: Arc<RwLock<Arc<Discovered>>>,
    rediscover: Arc<Notify>,
}

impl Objects {
    /// Requests through `client`, mapping kinds with `discovered` (kept current by the
    /// resync loop, which `rediscover` wakes).
    pub fn new(
        client: Client,
        discovered: Arc<RwLock<Arc<Discovered>>>,
        rediscover: Arc<Notify>,
    ) -> Self {
        Self {
            client,
            discovered,
            rediscover,
        }
    }

    /// The resource serving `kind` at `api_version`.
    pub fn resolve(&self, api_version: &str, kind: &str) -> Result<ServedResource, GcError> {
        let discovered = self
            .discovered
            .read()
            .map(|guard| Arc::clone(&guard))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()));
        match discovered.find_kind(api_version, kind) {
            Some(resource) => Ok(resource.clone()),
            None => {
                // A kind discovery does not know yet (a new CRD): look again soon.
                self.rediscover.notify_one();
                Err(GcError::Mapping {
                    api_version: api_version.to_owned(),
                    kind: kind.to_owned(),
                })
            }
        }
    }

    /// The API of `kind` at `api_version`, in `namespace` when the kind is namespaced.
    fn api(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
    ) -> Result<Api<DynamicObject>, GcError> {
        let resource = self.resolve(api_version, kind)?;
        let served = resource.api_resource();
        if resource.namespaced {
            if namespace.is_empty() {
                return Err(GcError::NamespacedOwnerOfClusterScopedObject);
            }
            Ok(Api::namespaced_with(
                self.client.clone(),
                namespace,
                &served,
            ))
        } else {
            Ok(Api::all_with(self.client.clone(), &served))
        }
    }

    /// The object at `identity`'s coordinates, if any (whatever its UID).
    pub async fn get(&self, identity: &Identity) -> Result<Option<DynamicObject>, GcError> {
        let api = self.api(&identity.api_version, &identity.kind, &identity.namespace)?;
        Ok(api.get_opt(&identity.name).await?)
    }

    /// The owner `reference` names, looked up in the dependent's `namespace`.
    pub async fn get_owner(
        &self,
        reference: &OwnerReference,
        namespace: &str,
    ) -> Result<Option<DynamicObject>, GcError> {
        let api = self.api(&reference.api_version, &reference.kind, namespace)?;
        Ok(api.get_opt(&reference.name).await?)
    }

    /// Deletes the object if it is still the one at `resource_version` (or, when only
    /// unrelated fields changed meanwhile, whatever its version).
    pub async fn delete(
        &self,
        identity: &Identity,
        resource_version: Option<String>,
        owners_at_version: &[OwnerReference],
        policy: PropagationPolicy,
    ) -> Result<(), GcError> {
        let api = self.api(&identity.api_version, &identity.kind, &identity.namespace)?;
        let guarded = resource_version.is_some();
        let params = DeleteParams {
            propagation_policy: Some(policy.clone()),
            preconditions: Some(Preconditions {
                uid: Some(identity.uid.clone()),
                resource_version,
            }),
            ..DeleteParams::default()
        };
        let error = match api.delete(&identity.name, &params).await {
            Ok(_) => return Ok(()),
            Err(error) => GcError::from(error),
        };
        if !(guarded && error.is_conflict()) {
            return Err(error);
        }
        match api.get_opt(&identity.name).await? {
            None => Ok(()),
            Some(live) if live.metadata.uid.as_deref() != Some(identity.uid.as_str()) => Ok(()),
            Some(live) => {
                let owners = live.metadata.owner_references.unwrap_or_default();
                if owners.as_slice() != owners_at_version {
                    return Err(error);
                }
                // Only unrelated fields changed: delete it whatever its version.
                let params = DeleteParams {
                    propagation_policy: Some(policy),
                    preconditions: Some(Preconditions {
                        uid: Some(identity.uid.clone()),
                        resource_version: None,
                    }),
                    ..DeleteParams::default()
                };
                api.delete(&identity.name, &params).await?;
                Ok(())
            }
        }
    }

    /// Removes the owner references with `uids` from the object (a no-op when it has none
    /// of them; gone is fine for the caller to judge).
    pub async fn remove_owner_references(
        &self,
        identity: &Identity,
        uids: &[String],
    ) -> Result<(), GcError> {
        let api = self.api(&identity.api_version, &identity.kind, &identity.namespace)?;
        let Some(live) = api.get_opt(&identity.name).await? else {
            return Err(not_found(identity));
        };
        if live.metadata.uid.as_deref() != Some(identity.uid.as_str()) {
            return Err(not_found(identity));
        }
        let owners = live.metadata.owner_references.clone().unwrap_or_default();
        let kept: Vec<&OwnerReference> = owners
            .iter()
            .filter(|owner| !uids.contains(&owner.uid))
            .collect();
        if kept.len() == owners.len() {
            return Ok(());
        }
        let kept = if kept.is_empty() {
            Value::Null
        } else {
            serde_json::to_value(&kept)?
        };
        let patch = json!({"metadata": {
            "ownerReferences": kept,
            "resourceVersion": live.metadata.resource_version,
        }});
        api.patch(
            &identity.name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        Ok(())
    }

    /// Turns every owner reference of the object non-blocking (breaking a foreground
    /// deletion cycle).
    pub async fn unblock_owner_references(&self, identity: &Identity) -> Result<(), GcError> {
        let api = self.api(&identity.api_version, &identity.kind, &identity.namespace)?;
        let Some(live) = api.get_opt(&identity.name).await? else {
            return Err(not_found(identity));
        };
        let owners: Vec<OwnerReference> = live
            .metadata
            .owner_references
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|owner| OwnerReference {
                block_owner_deletion: Some(false),
                ..owner
            })
            .collect();
        let patch = json!({"metadata": {
            "ownerReferences": owners,
            "resourceVersion": live.metadata.resource_version,
        }});
        api.patch(
            &identity.name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        Ok(())
    }

    /// Removes `finalizer` from the object, retrying conflicts a few times.
    pub async fn remove_finalizer(
        &self,
        identity: &Identity,
        finalizer: &str,
    ) -> Result<(), GcError> {
        let api = self.api(&identity.api_version, &identity.kind, &identity.namespace)?;
        let mut delay = Duration::from_millis(10);
        for _ in 0..FINALIZER_RETRIES {
            let Some(live) = api.get_opt(&identity.name).await? else {
                return Ok(());
            };
            let finalizers = live.metadata.finalizers.clone().unwrap_or_default();
            if !finalizers.iter().any(|f| f == finalizer) {
                return Ok(());
            }
            let kept: Vec<&String> = finalizers.iter().filter(|f| *f != finalizer).collect();
            let kept = if kept.is_empty() {
                Value::Null
            } else {
                serde_json::to_value(&kept)?
            };
            let patch = json!({"metadata": {
                "finalizers": kept,
                "resourceVersion": live.metadata.resource_version,
            }});
            match api
                .patch(
                    &identity.name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    tokio::time::sleep(delay).await;
                    delay *= 5;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(GcError::FinalizerConflicts {
            retries: FINALIZER_RETRIES,
            owner: identity.to_string(),
        })
    }
}

/// The object was found missing (or replaced) before a patch.
fn not_found(identity: &Identity) -> GcError {
    GcError::Gone(identity.to_string())
}
