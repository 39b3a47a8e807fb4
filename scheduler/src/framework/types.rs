//! The views of pods and nodes every plugin reads: a pod with its precomputed requests and
//! priority, and a node with the pods on it (bound or assumed) and what they use.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};

use super::labels::Labels;
use crate::resources::{node_allocatable, pod_requests, Resource};

/// A host port a pod claims (`hostIP`, protocol, port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    /// Address; `0.0.0.0` when unset.
    pub ip: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The port.
    pub port: i32,
}

impl HostPort {
    /// Whether two claims collide (same protocol and port, and the same or a wildcard IP).
    pub fn conflicts(&self, other: &Self) -> bool {
        self.protocol == other.protocol
            && self.port == other.port
            && (self.ip == other.ip || self.ip == "0.0.0.0" || other.ip == "0.0.0.0")
    }
}

/// A pod as the scheduler sees it, with what every cycle needs computed once.
#[derive(Clone, Debug)]
pub struct PodInfo {
    /// The object.
    pub pod: Arc<Pod>,
    /// `namespace/name`.
    pub key: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The object's UID.
    pub uid: String,
    /// Its labels.
    pub labels: Labels,
    /// `spec.priority`, or its PriorityClass's value.
    pub priority: i32,
    /// Requests (init containers, sidecars and overhead included).
    pub requests: Resource,
    /// Requests with the scoring defaults for missing CPU/memory.
    pub non_zero_requests: Resource,
    /// Host ports its containers claim.
    pub host_ports: Vec<HostPort>,
    /// Creation time (queue order among equal priorities).
    pub created: Option<Timestamp>,
}

impl PodInfo {
    /// Wraps `pod`, whose priority the caller resolved.
    pub fn new(pod: Arc<Pod>, priority: i32) -> Self {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let host_ports = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .filter_map(|p| {
                let port = p.host_port.filter(|port| *port > 0)?;
                Some(HostPort {
                    ip: p
                        .host_ip
                        .clone()
                        .filter(|ip| !ip.is_empty())
                        .unwrap_or_else(|| "0.0.0.0".to_owned()),
                    protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_owned()),
                    port,
                })
            })
            .collect();
        Self {
            key: format!("{namespace}/{name}"),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            requests: pod_requests(&pod, false),
            non_zero_requests: pod_requests(&pod, true),
            created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
            namespace,
            name,
            priority,
            host_ports,
            pod,
        }
    }

    /// The pod's tolerations.
    pub fn tolerations(&self) -> &[Toleration] {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.as_deref())
            .unwrap_or_default()
    }

    /// Whether the pod is being deleted.
    pub fn terminating(&self) -> bool {
        self.pod.metadata.deletion_timestamp.is_some()
    }
}

/// A node with the pods the scheduler counts on it (bound and assumed).
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// The object.
    pub node: Arc<Node>,
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// Pods on it.
    pub pods: Vec<Arc<PodInfo>>,
    /// Sum of the pods' requests.
    pub requested: Resource,
    /// Sum of the pods' requests with scoring defaults.
    pub non_zero_requested: Resource,
    /// `status.allocatable`.
    pub allocatable: Resource,
    /// Host ports in use.
    pub used_ports: Vec<HostPort>,
    /// Image name → size in bytes, from `status.images`.
    pub images: HashMap<String, i64>,
}

/// Upstream's `normalizedImageName`: an untagged, undigested name means `:latest`.
pub fn normalized_image(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

impl NodeInfo {
    /// A node with no pods yet.
    pub fn new(node: Arc<Node>) -> Self {
        let mut info = Self {
            name: String::new(),
            labels: Labels::new(),
            pods: Vec::new(),
            requested: Resource::default(),
            non_zero_requested: Resource::default(),
            allocatable: Resource::default(),
            used_ports: Vec::new(),
            images: HashMap::new(),
            node: node.clone(),
        };
        info.set_node(node);
        info
    }

    /// Replaces the node object, keeping the pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.name = node.metadata.name.clone().unwrap_or_default();
        self.labels = node.metadata.labels.clone().unwrap_or_default();
        self.allocatable = node_allocatable(&node);
        self.images = node
            .status
            .iter()
            .flat_map(|s| s.images.iter().flatten())
            .flat_map(|image| {
                let size = image.size_bytes.unwrap_or(0);
                image
                    .names
                    .iter()
                    .flatten()
                    .map(move |n| (normalized_image(n), size))
            })
            .collect();
        self.node = node;
    }

    /// The node's taints.
    pub fn taints(&self) -> &[Taint] {
        self.node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or_default()
    }

    /// Counts `pod` on this node.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero_requests);
        self.used_ports.extend(pod.host_ports.iter().cloned());
        self.pods.push(pod);
    }

    /// Stops counting the pod with `key`; whether it was here.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        let Some(index) = self.pods.iter().position(|p| p.key == key) else {
            return false;
        };
        let pod = self.pods.swap_remove(index);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.sub(&pod.non_zero_requests);
        for port in &pod.host_ports {
            if let Some(i) = self.used_ports.iter().position(|p| p == port) {
                self.used_ports.swap_remove(i);
            }
        }
        true
    }
}
