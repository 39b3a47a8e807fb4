//! The graph builder (upstream's `processGraphChanges`): applies each observed change to the
//! graph and says which nodes the workers must look at. Pure: the effects are returned, the
//! caller queues them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::graph::{Graph, Lifecycle, Node};
use super::identity::{blocks, Identity};

/// An object as a watch reported it.
#[derive(Clone, Debug)]
pub struct Observed {
    /// Its coordinates (apiVersion and kind of the watched resource).
    pub identity: Identity,
    /// Its owner references.
    pub owners: Vec<OwnerReference>,
    /// Its deletion state.
    pub lifecycle: Lifecycle,
}

/// A change to apply to the graph.
#[derive(Clone, Debug)]
pub enum GraphEvent {
    /// Added or updated, as a watch saw it.
    Upsert(Observed),
    /// Deleted, as a watch saw it.
    Delete(Observed),
    /// Verified absent by a worker (the object behind a node does not exist).
    VirtualDelete(Identity),
}

/// What the workers must do because of a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Queue the node for `attemptToDelete`.
    AttemptToDelete(String),
    /// Queue the node for `attemptToDelete` after its backoff.
    AttemptToDeleteLater(String),
    /// Queue the node for `attemptToOrphan`.
    AttemptToOrphan(String),
    /// Report an owner reference to an owner in another namespace.
    InvalidNamespace {
        /// The dependent carrying the reference.
        dependent: Box<Identity>,
        /// The owner as referenced, in the dependent's namespace.
        owner: Box<Identity>,
    },
}

impl Graph {
    /// Applies `event` and returns what the workers must do.
    pub fn process(&mut self, event: GraphEvent) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            GraphEvent::Upsert(observed) => self.upsert(observed, &mut effects),
            GraphEvent::Delete(observed) => self.delete(&observed.identity, false, &mut effects),
            GraphEvent::VirtualDelete(identity) => self.delete(&identity, true, &mut effects),
        }
        effects
    }

    fn upsert(&mut self, observed: Observed, effects: &mut Vec<Effect>) {
        let uid = observed.identity.uid.clone();
        self.replace_virtual_identity(&observed.identity, effects);
        let lifecycle = observed.lifecycle;
        let Some(node) = self.nodes.get_mut(&uid) else {
            let owners = observed.owners.clone();
            self.nodes.insert(
                uid.clone(),
                Node {
                    identity: observed.identity,
                    owners: observed.owners,
                    dependents: Default::default(),
                    being_deleted: lifecycle.being_deleted,
                    deleting_dependents: lifecycle.being_deleted && lifecycle.foreground,
                    virtual_node: false,
                    observed: Some(lifecycle),
                },
            );
            self.add_dependent_to_owners(&uid, &owners, effects);
            self.transitions(&uid, None, lifecycle, effects);
            return;
        };
        node.identity.api_version = observed.identity.api_version.clone();
        node.identity.kind = observed.identity.kind.clone();
        let (added, removed, changed) = diff_references(&node.owners, &observed.owners);
        if lifecycle.being_deleted {
            node.being_deleted = true;
        }
        let previous = node.observed.replace(lifecycle);
        if !added.is_empty() || !removed.is_empty() || !changed.is_empty() {
            node.owners = observed.owners;
            self.unblocked_owners(&removed, &changed, effects);
            self.add_dependent_to_owners(&uid, &added, effects);
            self.remove_dependent_from_owners(&uid, &removed);
        }
        self.transitions(&uid, previous, lifecycle, effects);
    }

    /// A virtual node seen by a watch for the first time takes the observed coordinates;
    /// dependents that named it otherwise are re-examined.
    fn replace_virtual_identity(&mut self, observed: &Identity, effects: &mut Vec<Effect>) {
        let Some(node) = self.nodes.get(&observed.uid) else {
            return;
        };
        if node.is_observed() || node.identity == *observed {
            return;
        }
        let (_, mismatched) = self.partition_dependents(&observed.uid, observed);
        for dependent in mismatched {
            if !observed.namespace.is_empty() && dependent.identity.namespace != observed.namespace
            {
                self.report_invalid_namespace(&dependent, &observed.uid, effects);
            }
            effects.push(Effect::AttemptToDelete(dependent.identity.uid.clone()));
        }
        if let Some(node) = self.nodes.get_mut(&observed.uid) {
            node.identity = observed.clone();
        }
    }

    /// Upstream's `processTransitions`: deletion starting with the orphan or foreground
    /// finalizer.
    fn transitions(
        &mut self,
        uid: &str,
        previous: Option<Lifecycle>,
        current: Lifecycle,
        effects: &mut Vec<Effect>,
    ) {
        let starts = |flag: fn(&Lifecycle) -> bool| {
            current.being_deleted
                && flag(&current)
                && previous.is_none_or(|old| !old.being_deleted || !flag(&old))
        };
        if starts(|l| l.orphan) {
            effects.push(Effect::AttemptToOrphan(uid.to_owned()));
            return;
        }
        if starts(|l| l.foreground) {
            let Some(node) = self.nodes.get_mut(uid) else {
                return;
            };
            node.deleting_dependents = true;
            for dependent in &node.dependents {
                effects.push(Effect::AttemptToDelete(dependent.clone()));
            }
            effects.push(Effect::AttemptToDelete(uid.to_owned()));
        }
    }

    /// Adds `uid` to the dependents of each of `owners`, creating virtual nodes for owners
    /// not seen yet (queued, so that a worker verifies they exist).
    fn add_dependent_to_owners(
        &mut self,
        uid: &str,
        owners: &[OwnerReference],
        effects: &mut Vec<Effect>,
    ) {
        let Some(dependent) = self.nodes.get(uid).cloned() else {
            return;
        };
        let mut potentially_invalid = false;
        for owner in owners {
            match self.nodes.get_mut(&owner.uid) {
                None => {
                    let mut node = Node {
                        identity: Identity::of_owner(owner, &dependent.identity.namespace),
                        owners: Vec::new(),
                        dependents: Default::default(),
                        being_deleted: false,
                        deleting_dependents: false,
                        virtual_node: true,
                        observed: None,
                    };
                    node.dependents.insert(uid.to_owned());
                    self.nodes.insert(owner.uid.clone(), node);
                    effects.push(Effect::AttemptToDelete(owner.uid.clone()));
                }
                Some(node) => {
                    node.dependents.insert(uid.to_owned());
                    if potentially_invalid {
                        continue;
                    }
                    let owner_namespaced = !node.identity.namespace.is_empty();
                    let observed = node.is_observed();
                    if owner_namespaced && node.identity.namespace != dependent.identity.namespace {
                        if observed {
                            effects.push(Effect::InvalidNamespace {
                                dependent: Box::new(dependent.identity.clone()),
                                owner: Box::new(Identity::of_owner(
                                    owner,
                                    &dependent.identity.namespace,
                                )),
                            });
                        }
                        potentially_invalid = true;
                    } else if !node.identity.matches(owner)
                        || (!owner_namespaced
                            && !dependent.identity.namespace.is_empty()
                            && !observed)
                    {
                        potentially_invalid = true;
                    }
                }
            }
        }
        if potentially_invalid {
            effects.push(Effect::AttemptToDelete(uid.to_owned()));
        }
    }

    fn remove_dependent_from_owners(&mut self, uid: &str, owners: &[OwnerReference]) {
        for owner in owners {
            if let Some(node) = self.nodes.get_mut(&owner.uid) {
                node.dependents.remove(uid);
            }
        }
    }

    /// Owners a dependent stopped blocking (reference removed, or `blockOwnerDeletion`
    /// turned off) may now finish a foreground deletion.
    fn unblocked_owners(
        &self,
        removed: &[OwnerReference],
        changed: &[(OwnerReference, OwnerReference)],
        effects: &mut Vec<Effect>,
    ) {
        let removed = removed.iter().filter(|reference| blocks(reference));
        let changed = changed
            .iter()
            .filter(|(old, new)| blocks(old) && !blocks(new))
            .map(|(_, new)| new);
        for reference in removed.chain(changed) {
            if self.nodes.contains_key(&reference.uid) {
                effects.push(Effect::AttemptToDelete(reference.uid.clone()));
            }
        }
    }

    fn delete(&mut self, identity: &Identity, virtual_event: bool, effects: &mut Vec<Effect>) {
        let Some(existing) = self.nodes.get(&identity.uid) else {
            return;
        };
        let mut remove = true;
        if virtual_event {
            if existing.virtual_node {
                let (matching, mismatched) = self.partition_dependents(&identity.uid, identity);
                if !mismatched.is_empty() {
                    // Dependents disagree on the owner's coordinates: keep the node.
                    remove = false;
                    if !matching.is_empty() {
                        self.absent.add(identity.clone());
                        for dependent in &matching {
                            effects.push(Effect::AttemptToDelete(dependent.identity.uid.clone()));
                        }
                    }
                    let verified_self = self
                        .nodes
                        .get(&identity.uid)
                        .is_some_and(|node| node.identity == *identity);
                    if verified_self {
                        if let Some(alternate) = alternate_identity(&mismatched, identity) {
                            if let Some(node) = self.nodes.get_mut(&identity.uid) {
                                node.identity = alternate;
                            }
                            effects.push(Effect::AttemptToDeleteLater(identity.uid.clone()));
                        }
                    }
                }
            } else if existing.identity != *identity {
                // The observed object stands; only dependents naming the absent
                // coordinates are affected.
                remove = false;
                let (matching, _) = self.partition_dependents(&identity.uid, identity);
                if !matching.is_empty() {
                    self.absent.add(identity.clone());
                    for dependent in &matching {
                        effects.push(Effect::AttemptToDelete(dependent.identity.uid.clone()));
                    }
                }
            }
        }
        if !remove {
            return;
        }
        let Some(node) = self.nodes.remove(&identity.uid) else {
            return;
        };
        self.remove_dependent_from_owners(&identity.uid, &node.owners);
        if !node.dependents.is_empty() {
            self.absent.add(identity.clone());
        }
        for dependent in &node.dependents {
            effects.push(Effect::AttemptToDelete(dependent.clone()));
        }
        for owner in &node.owners {
            if self
                .nodes
                .get(&owner.uid)
                .is_some_and(|owner| owner.deleting_dependents)
            {
                effects.push(Effect::AttemptToDelete(owner.uid.clone()));
            }
        }
    }

    /// The dependents of `uid` whose reference to it matches `identity`, and those whose
    /// reference does not (a dependent may be in both).
    fn partition_dependents(&self, uid: &str, identity: &Identity) -> (Vec<Node>, Vec<Node>) {
        let owner_namespaced = !identity.namespace.is_empty();
        let mut matching = Vec::new();
        let mut mismatched = Vec::new();
        for dependent in self.dependents(uid) {
            let (mut found_match, mut found_mismatch) = (false, false);
            if owner_namespaced && identity.namespace != dependent.identity.namespace {
                found_mismatch = true;
            } else {
                for reference in dependent.owners.iter().filter(|r| r.uid == identity.uid) {
                    if identity.matches(reference) {
                        found_match = true;
                    } else {
                        found_mismatch = true;
                    }
                }
            }
            if found_match {
                matching.push(dependent.clone());
            }
            if found_mismatch {
                mismatched.push(dependent);
            }
        }
        (matching, mismatched)
    }

    fn report_invalid_namespace(
        &self,
        dependent: &Node,
        owner_uid: &str,
        effects: &mut Vec<Effect>,
    ) {
        if let Some(reference) = dependent.owners.iter().find(|r| r.uid == owner_uid) {
            effects.push(Effect::InvalidNamespace {
                dependent: Box::new(dependent.identity.clone()),
                owner: Box::new(Identity::of_owner(reference, &dependent.identity.namespace)),
            });
        }
    }
}

/// Upstream's `referencesDiffs`: references added, removed, and changed (same UID).
fn diff_references(
    old: &[OwnerReference],
    new: &[OwnerReference],
) -> (
    Vec<OwnerReference>,
    Vec<OwnerReference>,
    Vec<(OwnerReference, OwnerReference)>,
) {
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for reference in new {
        match old.iter().find(|o| o.uid == reference.uid) {
            Some(previous) if previous != reference => {
                changed.push((previous.clone(), reference.clone()));
            }
            Some(_) => {}
            None => added.push(reference.clone()),
        }
    }
    let removed = old
        .iter()
        .filter(|o| !new.iter().any(|n| n.uid == o.uid))
        .cloned()
        .collect();
    (added, removed, changed)
}

/// Upstream's `getAlternateOwnerIdentity`: another identity the dependents name the owner
/// UID by, the first following `absent` in order, else the first.
fn alternate_identity(dependents: &[Node], absent: &Identity) -> Option<Identity> {
    let cluster_scoped = absent.namespace.is_empty();
    let mut seen = std::collections::HashSet::from([absent.clone()]);
    let mut first: Option<Identity> = None;
    let mut first_following: Option<Identity> = None;
    for dependent in dependents {
        for reference in dependent.owners.iter().filter(|r| r.uid == absent.uid) {
            if absent.matches(reference)
                && (cluster_scoped || absent.namespace == dependent.identity.namespace)
            {
                continue;
            }
            let mut candidate = Identity::of_owner(reference, &dependent.identity.namespace);
            if cluster_scoped
                && candidate.api_version == absent.api_version
                && candidate.kind == absent.kind
            {
                candidate.namespace.clear();
            }
            if !seen.insert(candidate.clone()) {
                continue;
            }
            if first.as_ref().is_none_or(|f| candidate < *f) {
                first = Some(candidate.clone());
            }
            if *absent < candidate && first_following.as_ref().is_none_or(|f| candidate < *f) {
                first_following = Some(candidate);
            }
        }
    }
    first_following.or(first)
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
