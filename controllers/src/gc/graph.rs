//! The dependency graph: one node per object (or per owner only known from a reference, a
//! "virtual" node), its owner references, and the dependents that reference it; plus the
//! cache of owners known to be absent. Only the graph builder changes it; the workers read
//! copies of nodes.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::identity::{blocks, Identity};

/// The deletion state of an object as last observed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// It has a deletionTimestamp.
    pub being_deleted: bool,
    /// It carries the `orphan` finalizer.
    pub orphan: bool,
    /// It carries the `foregroundDeletion` finalizer.
    pub foreground: bool,
}

/// One object of the graph.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its coordinates (for a virtual node, as its first dependent named it).
    pub identity: Identity,
    /// Its owner references as last observed.
    pub owners: Vec<OwnerReference>,
    /// The UIDs of the nodes that list it as an owner.
    pub dependents: BTreeSet<String>,
    /// Being deleted (a one-way trip).
    pub being_deleted: bool,
    /// Being deleted in the foreground: waiting for its blocking dependents.
    pub deleting_dependents: bool,
    /// Created from an owner reference, not from an observed object.
    pub virtual_node: bool,
    /// The lifecycle last seen by a watch; `None` until a watch has seen it.
    pub observed: Option<Lifecycle>,
}

impl Node {
    /// Whether a watch has reported this object (virtual nodes have not been).
    pub fn is_observed(&self) -> bool {
        self.observed.is_some()
    }
}

/// How many absent owners are remembered.
const ABSENT_CAPACITY: usize = 500;

/// Owners verified not to exist, least recently added forgotten first.
#[derive(Debug, Default)]
pub struct AbsentOwners {
    order: VecDeque<Identity>,
    known: HashSet<Identity>,
}

impl AbsentOwners {
    /// Remembers `identity` as absent.
    pub fn add(&mut self, identity: Identity) {
        if self.known.contains(&identity) {
            return;
        }
        if self.order.len() >= ABSENT_CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.known.remove(&oldest);
            }
        }
        self.known.insert(identity.clone());
        self.order.push_back(identity);
    }

    /// Whether `identity` is known absent.
    pub fn has(&self, identity: &Identity) -> bool {
        self.known.contains(identity)
    }
}

/// The graph, keyed by UID.
#[derive(Debug, Default)]
pub struct Graph {
    pub(super) nodes: HashMap<String, Node>,
    /// Owners known to be absent (shared by the builder and the workers).
    pub absent: AbsentOwners,
}

impl Graph {
    /// A copy of the node with `uid`.
    pub fn node(&self, uid: &str) -> Option<Node> {
        self.nodes.get(uid).cloned()
    }

    /// Copies of the dependents of `uid`.
    pub fn dependents(&self, uid: &str) -> Vec<Node> {
        self.nodes
            .get(uid)
            .map(|node| {
                node.dependents
                    .iter()
                    .filter_map(|dependent| self.nodes.get(dependent).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The dependents of `uid` whose reference to it has `blockOwnerDeletion: true`.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<Node> {
        self.dependents(uid)
            .into_iter()
            .filter(|dependent| {
                dependent
                    .owners
                    .iter()
                    .any(|owner| owner.uid == uid && blocks(owner))
            })
            .collect()
    }
}
