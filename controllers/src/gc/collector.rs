//! The `attemptToDelete` work (upstream's `attemptToDeleteItem`): given a node, look at the
//! live object and its owners; delete it when every owner is gone, drop references to gone
//! owners when another owner stands, take part in a foreground deletion, or (for an owner
//! being deleted in the foreground) release it once no blocking dependent is left.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DynamicObject, PropagationPolicy};

use super::error::GcError;
use super::graph::Node;
use super::identity::Identity;
use super::{Collector, FOREGROUND_FINALIZER, ORPHAN_FINALIZER};

/// How an attempt ended, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing more to do for now.
    Done,
    /// The object is gone; the graph builder was told, so the item is not retried.
    VerifiedAbsent,
}

/// Owner references sorted by what their owner's state means for the dependent.
#[derive(Default)]
struct Classified {
    /// The owner exists and is not waiting for its dependents.
    solid: Vec<OwnerReference>,
    /// The owner does not exist (or another object has its name).
    dangling: Vec<OwnerReference>,
    /// The owner is being deleted in the foreground.
    waiting: Vec<OwnerReference>,
}

impl Collector {
    /// Looks at the node with `uid` and acts on it.
    pub(super) async fn attempt_to_delete(&self, uid: &str) -> Result<Outcome, GcError> {
        let Some(item) = self.node(uid) else {
            return Ok(Outcome::Done);
        };
        tracing::debug!(item = %item.identity, virtual_node = !item.is_observed(), "processing item");
        // Being deleted is a one-way trip: its dependents are handled once it is gone.
        if item.being_deleted && !item.deleting_dependents {
            return Ok(Outcome::Done);
        }
        let latest = match self.objects.get(&item.identity).await? {
            Some(latest) if latest.metadata.uid.as_deref() == Some(uid) => latest,
            _ => {
                self.verified_absent(&item.identity);
                return Ok(Outcome::VerifiedAbsent);
            }
        };
        if item.deleting_dependents {
            self.process_deleting_dependents(&item).await?;
            return Ok(Outcome::Done);
        }
        let owners = latest.metadata.owner_references.clone().unwrap_or_default();
        if owners.is_empty() {
            return Ok(Outcome::Done);
        }
        let classified = self.classify(&item, &owners).await?;
        if !classified.solid.is_empty() {
            if classified.dangling.is_empty() && classified.waiting.is_empty() {
                return Ok(Outcome::Done);
            }
            // References to gone owners, and to owners waiting for their dependents (which
            // would otherwise wait forever), go; the standing owner keeps the object.
            let uids: Vec<String> = classified
                .dangling
                .iter()
                .chain(&classified.waiting)
                .map(|owner| owner.uid.clone())
                .collect();
            tracing::info!(item = %item.identity, ?uids, "removing dangling and waiting owner references");
            self.objects
                .remove_owner_references(&item.identity, &uids)
                .await?;
            return Ok(Outcome::Done);
        }
        if !classified.waiting.is_empty() && !item.dependents.is_empty() {
            let cycle = self
                .with_graph(|graph| graph.dependents(uid))
                .into_iter()
                .any(|dependent| dependent.deleting_dependents);
            if cycle {
                // Owners and a dependent all deleting in the foreground may wait on each
                // other: stop blocking the owners, then delete in the foreground.
                tracing::info!(item = %item.identity, "unblocking owner references to break a possible foreground deletion cycle");
                self.objects
                    .unblock_owner_references(&item.identity)
                    .await?;
            }
            return self
                .delete(&item.identity, &latest, PropagationPolicy::Foreground)
                .await;
        }
        let policy = match finalizers(&latest) {
            list if list.iter().any(|f| f == ORPHAN_FINALIZER) => PropagationPolicy::Orphan,
            list if list.iter().any(|f| f == FOREGROUND_FINALIZER) => PropagationPolicy::Foreground,
            _ => PropagationPolicy::Background,
        };
        self.delete(&item.identity, &latest, policy).await
    }

    async fn delete(
        &self,
        identity: &Identity,
        latest: &DynamicObject,
        policy: PropagationPolicy,
    ) -> Result<Outcome, GcError> {
        tracing::info!(item = %identity, ?policy, "deleting object whose owners are all gone");
        let owners = latest.metadata.owner_references.clone().unwrap_or_default();
        match self
            .objects
            .delete(
                identity,
                latest.metadata.resource_version.clone(),
                &owners,
                policy,
            )
            .await
        {
            Ok(()) => Ok(Outcome::Done),
            Err(error) if error.is_not_found() => {
                self.verified_absent(identity);
                Ok(Outcome::VerifiedAbsent)
            }
            Err(error) => Err(error),
        }
    }

    /// An owner being deleted in the foreground: done once no blocking dependent is left.
    async fn process_deleting_dependents(&self, item: &Node) -> Result<(), GcError> {
        let blocking = self.with_graph(|graph| graph.blocking_dependents(&item.identity.uid));
        if blocking.is_empty() {
            tracing::info!(item = %item.identity, "removing the foregroundDeletion finalizer");
            return self
                .objects
                .remove_finalizer(&item.identity, FOREGROUND_FINALIZER)
                .await;
        }
        for dependent in blocking {
            if !dependent.deleting_dependents {
                self.attempt_to_delete_queue.add(dependent.identity.uid);
            }
        }
        Ok(())
    }

    async fn classify(
        &self,
        item: &Node,
        owners: &[OwnerReference],
    ) -> Result<Classified, GcError> {
        let mut classified = Classified::default();
        for reference in owners {
            match self.live_owner(reference, item).await? {
                None => classified.dangling.push(reference.clone()),
                Some(owner) => {
                    let list = finalizers(&owner);
                    if owner.metadata.deletion_timestamp.is_some()
                        && list.iter().any(|f| f == FOREGROUND_FINALIZER)
                    {
                        classified.waiting.push(reference.clone());
                    } else {
                        classified.solid.push(reference.clone());
                    }
                }
            }
        }
        Ok(classified)
    }

    /// The owner `reference` names, or `None` when it is dangling (upstream's
    /// `isDangling`, with its cache of owners known absent).
    async fn live_owner(
        &self,
        reference: &OwnerReference,
        item: &Node,
    ) -> Result<Option<DynamicObject>, GcError> {
        let mut key = Identity::of_owner(reference, "");
        let namespace = item.identity.namespace.clone();
        let known_absent = self.with_graph(|graph| {
            graph.absent.has(&key) || graph.absent.has(&Identity::of_owner(reference, &namespace))
        });
        if known_absent {
            return Ok(None);
        }
        let resource = self
            .objects
            .resolve(&reference.api_version, &reference.kind)?;
        if resource.namespaced {
            key.namespace = namespace.clone();
        }
        if namespace.is_empty() && resource.namespaced {
            return Err(GcError::NamespacedOwnerOfClusterScopedObject);
        }
        match self.objects.get_owner(reference, &namespace).await? {
            Some(owner) if owner.metadata.uid.as_deref() == Some(reference.uid.as_str()) => {
                Ok(Some(owner))
            }
            _ => {
                tracing::debug!(item = %item.identity, owner = %key, "owner not found");
                self.with_graph(|graph| graph.absent.add(key));
                Ok(None)
            }
        }
    }
}

fn finalizers(object: &DynamicObject) -> &[String] {
    object.metadata.finalizers.as_deref().unwrap_or_default()
}
