//! The shape of upstream's scheduler_perf "SchedulingBasic": fake Nodes created through the
//! API, then pods, counting the pods a scheduler binds as the bindings arrive on a watch.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

/// What the pods ask of the scheduler beyond resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PodShape {
    /// Requests only (SchedulingBasic).
    Basic,
    /// Required anti-affinity to pods of the same group on the same host
    /// (SchedulingPodAntiAffinity).
    AntiAffinity,
    /// A zone topology spread constraint (SchedulingPodTopologySpread).
    TopologySpread,
}

/// Zones the fake nodes are spread over.
const ZONES: usize = 10;

/// Creates `count` Ready nodes with 4 CPUs, 32 GiB and 110 pods each, `writers` at a time.
pub async fn create_nodes(
    client: &Client,
    count: usize,
    writers: usize,
) -> Result<(), kube::Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    futures::stream::iter(0..count)
        .map(|index| {
            let nodes = nodes.clone();
            async move {
                let name = format!("bench-node-{index}");
                let node: Node = serde_json::from_value(json!({
                    "metadata": {"name": name, "labels": {
                        "kubernetes.io/hostname": name,
                        "topology.kubernetes.io/zone": format!("zone-{}", index % ZONES),
                    }},
                    "status": {
                        "capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                        "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True"}],
                    },
                }))
                .map_err(kube::Error::SerdeError)?;
                nodes.create(&PostParams::default(), &node).await.map(drop)
            }
        })
        .buffer_unordered(writers.max(1))
        .try_collect::<Vec<()>>()
        .await
        .map(drop)
}

/// The pod `index` of a run, in `shape`.
pub fn pod(index: usize, shape: PodShape) -> Result<Pod, serde_json::Error> {
    let group = format!("group-{}", index % 100);
    let mut spec = json!({
        "containers": [{"name": "app", "image": "registry.local/pause:3",
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
    });
    let selector = json!({"matchLabels": {"group": group}});
    match shape {
        PodShape::Basic => {}
        PodShape::AntiAffinity => {
            spec["affinity"] = json!({"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"}
            ]}});
        }
        PodShape::TopologySpread => {
            spec["topologySpreadConstraints"] = json!([{
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector,
            }]);
        }
    }
    serde_json::from_value(json!({
        "metadata": {"name": format!("bench-pod-{index}"), "labels": {"group": group}},
        "spec": spec,
    }))
}

/// Creates pods `0..count` in `namespace`, `writers` at a time.
pub async fn create_pods(
    client: &Client,
    namespace: &str,
    count: usize,
    shape: PodShape,
    writers: usize,
) -> Result<(), kube::Error> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    futures::stream::iter(0..count)
        .map(|index| {
            let pods = pods.clone();
            async move {
                let pod = pod(index, shape).map_err(kube::Error::SerdeError)?;
                pods.create(&PostParams::default(), &pod).await.map(drop)
            }
        })
        .buffer_unordered(writers.max(1))
        .try_collect::<Vec<()>>()
        .await
        .map(drop)
}

/// Counts the pods of a namespace that have a node, as a watch reports them.
pub struct BoundCounter {
    bound: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BoundCounter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BoundCounter {
    /// Starts watching `namespace`.
    pub fn start(client: Client, namespace: &str) -> Self {
        let bound = Arc::new(AtomicUsize::new(0));
        let pods: Api<Pod> = Api::namespaced(client, namespace);
        let counted = Arc::clone(&bound);
        let task = tokio::spawn(async move {
            let mut seen: HashSet<String> = HashSet::new();
            let mut events = std::pin::pin!(watcher(pods, watcher::Config::default()));
            while let Some(event) = events.next().await {
                if let Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) = event {
                    let node = pod
                        .spec
                        .as_ref()
                        .and_then(|spec| spec.node_name.as_deref())
                        .is_some_and(|node| !node.is_empty());
                    if node && seen.insert(pod.name_any()) {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        Self { bound, task }
    }

    /// Pods bound so far.
    pub fn bound(&self) -> usize {
        self.bound.load(Ordering::Relaxed)
    }
}
