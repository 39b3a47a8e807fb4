//! The watches' handlers: keeping the cache, queue, nominations and the objects plugins
//! read up to date, and retrying unschedulable pods on changes that can help them.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::Scheduler;
use crate::framework::labels::Labels;
use crate::framework::PodInfo;
use crate::plugins::volume_binding::VolumeObjects;
use crate::workloads::Workloads;

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Whether a node update can change a scheduling decision (upstream's node update event
/// kinds: allocatable, labels, taints, conditions ignoring heartbeats, annotations,
/// `unschedulable`), so heartbeats alone do not retry every unschedulable pod.
fn scheduling_relevant_change(old: &Node, new: &Node) -> bool {
    let conditions = |node: &Node| {
        node.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .map(|c| {
                c.iter()
                    .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone()))
                    .collect::<Vec<_>>()
            })
    };
    let spec = |node: &Node| {
        node.spec
            .as_ref()
            .map(|s| (s.unschedulable, s.taints.clone()))
    };
    old.metadata.labels != new.metadata.labels
        || old.metadata.annotations != new.metadata.annotations
        || spec(old) != spec(new)
        || old.status.as_ref().map(|s| (&s.allocatable, &s.images))
            != new.status.as_ref().map(|s| (&s.allocatable, &s.images))
        || conditions(old) != conditions(new)
}

/// Whether a newly placed pod can make this pod schedulable: it has required pod affinity
/// (the new pod may be what it follows) or spread constraints (the new pod may raise the
/// least-loaded domain).
fn helped_by_placed_pods(pod: &PodInfo) -> bool {
    let spec = pod.pod.spec.as_ref();
    let affinity = spec
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.pod_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .is_some_and(|t| !t.is_empty());
    let spreads = spec
        .and_then(|s| s.topology_spread_constraints.as_ref())
        .is_some_and(|c| !c.is_empty());
    affinity || spreads
}

impl Scheduler {
    fn responsible_for(&self, pod: &Pod) -> bool {
        let wanted = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .filter(|n| !n.is_empty())
            .unwrap_or("default-scheduler");
        wanted == self.name
    }

    /// A pod was added or changed.
    pub fn pod_applied(&self, pod: Pod) {
        let pod = Arc::new(pod);
        let mut state = self.lock();
        let info = Arc::new(PodInfo::new(pod.clone(), state.priorities.of(&pod)));
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        state.nominated.remove(&info.key);
        if is_terminal(&pod) {
            state.queue.remove(&info.key);
            if state.cache.remove_pod(&info.key) {
                state.queue.move_all("AssignedPodDelete");
            }
            return;
        }
        if let Some(node) = node {
            state.queue.remove(&info.key);
            let known = state.cache.is_placed(&info.key);
            state.cache.add_bound_pod(info, &node);
            if !known {
                state
                    .queue
                    .move_matching("AssignedPodAdd", helped_by_placed_pods);
            }
            return;
        }
        let gated = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduling_gates.as_ref())
            .is_some_and(|g| !g.is_empty());
        if !self.responsible_for(&pod) || pod.metadata.deletion_timestamp.is_some() || gated {
            state.queue.remove(&info.key);
            return;
        }
        if state.cache.is_placed(&info.key) {
            // Assumed, binding in flight.
            return;
        }
        let nominated = pod
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.clone())
            .filter(|n| !n.is_empty());
        if let Some(node) = nominated {
            state
                .nominated
                .insert(info.key.clone(), (node, info.clone()));
        }
        state.queue.upsert(info);
    }

    /// A pod was deleted.
    pub fn pod_deleted(&self, key: &str) {
        let mut state = self.lock();
        state.queue.remove(key);
        state.nominated.remove(key);
        if state.cache.remove_pod(key) {
            state.queue.move_all("AssignedPodDelete");
        }
    }

    /// After a relist: forget pods that were not listed.
    pub fn pods_relisted(&self, seen: &HashSet<String>) {
        let stale: Vec<String> = {
            let state = self.lock();
            state
                .cache
                .bound_keys()
                .into_iter()
                .chain(state.queue.keys())
                .filter(|k| !seen.contains(k))
                .collect()
        };
        for key in stale {
            self.pod_deleted(&key);
        }
    }

    /// A node was added or changed: it may now fit unschedulable pods.
    pub fn node_applied(&self, node: Node) {
        let mut state = self.lock();
        let node = Arc::new(node);
        let old = state
            .cache
            .node(&node.metadata.name.clone().unwrap_or_default())
            .map(|n| n.node.clone());
        state.cache.upsert_node(node.clone());
        match old {
            None => state.queue.move_all("NodeAdd"),
            Some(old) if scheduling_relevant_change(&old, &node) => {
                state.queue.move_all("NodeUpdate");
            }
            Some(_) => {}
        }
    }

    /// A node was deleted.
    pub fn node_deleted(&self, name: &str) {
        self.lock().cache.remove_node(name);
    }

    /// After a relist: forget nodes that were not listed.
    pub fn nodes_relisted(&self, seen: &HashSet<String>) {
        let mut state = self.lock();
        for name in state.cache.node_names() {
            if !seen.contains(&name) {
                state.cache.remove_node(&name);
            }
        }
    }

    /// Applies a change to the Services and pod controllers.
    pub fn with_workloads(&self, change: impl FnOnce(&mut Workloads)) {
        change(&mut self.lock().workloads);
    }

    /// A namespace was added or changed (copy-on-write: cycles hold the previous map).
    pub fn namespace_applied(&self, name: String, labels: Labels) {
        let mut state = self.lock();
        Arc::make_mut(&mut state.namespaces).insert(name, labels);
    }

    /// A namespace was deleted.
    pub fn namespace_deleted(&self, name: &str) {
        let mut state = self.lock();
        Arc::make_mut(&mut state.namespaces).remove(name);
    }

    /// Applies a change to the claims, volumes or classes; claims and volumes changing can
    /// let waiting pods in, so they are retried.
    pub fn with_volumes(&self, event: &str, change: impl FnOnce(&mut VolumeObjects)) {
        let mut state = self.lock();
        change(Arc::make_mut(&mut state.volumes));
        state.queue.move_all(event);
    }

    /// A PriorityClass was added or changed.
    pub fn priority_class_applied(&self, class: &PriorityClass) {
        let mut state = self.lock();
        state.priorities.upsert(class);
        // Queued pods of this class (created before it was seen) take its value now.
        let name = class.metadata.name.as_deref().unwrap_or_default();
        let stale: Vec<Arc<PodInfo>> = state
            .queue
            .infos()
            .filter(|info| {
                info.pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.priority_class_name.as_deref())
                    == Some(name)
                    && info.priority != class.value
            })
            .cloned()
            .collect();
        for info in stale {
            let priority = state.priorities.of(&info.pod);
            state
                .queue
                .upsert(Arc::new(PodInfo::new(info.pod.clone(), priority)));
        }
    }

    /// A PriorityClass was deleted.
    pub fn priority_class_deleted(&self, name: &str) {
        self.lock().priorities.remove(name);
    }
}
