//! Node lifecycle: a node whose kubelet stops renewing its Lease (and posting status) has
//! its conditions set to Unknown after the grace period; the Ready condition drives the
//! `not-ready`/`unreachable` NoSchedule and NoExecute taints; pods on a node with NoExecute
//! taints they do not tolerate are evicted, at once or after their tolerationSeconds (the
//! taint eviction controller).

mod taints;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use serde_json::json;
use tokio::sync::Notify;

use crate::{ControllerError, Informers, Shared};

use taints::{desired_taints, eviction_time};

/// How quickly a silent node is noticed.
#[derive(Clone, Copy, Debug)]
pub struct NodeTiming {
    /// How long a node may go without a heartbeat before it is Unknown (upstream's
    /// `--node-monitor-grace-period`, 50 s).
    pub grace_period: Duration,
    /// How often nodes are checked (`--node-monitor-period`, 5 s).
    pub monitor_period: Duration,
}

impl Default for NodeTiming {
    fn default() -> Self {
        Self {
            grace_period: Duration::from_secs(50),
            monitor_period: Duration::from_secs(5),
        }
    }
}

struct Context {
    shared: Shared,
    timing: NodeTiming,
    nodes: Store<Node>,
    leases: Store<Lease>,
    pods: Store<Pod>,
    recorder: Recorder,
}

/// The loop, waking on node, lease and pod changes and every monitor period.
pub fn build(
    informers: &mut Informers,
    shared: Shared,
    timing: NodeTiming,
) -> BoxFuture<'static, ()> {
    let wake = Arc::new(Notify::new());
    let context = Arc::new(Context {
        recorder: shared.recorder("node-controller"),
        shared,
        timing,
        nodes: informers.store::<Node>(),
        leases: informers.store::<Lease>(),
        pods: informers.store::<Pod>(),
    });
    let nodes = informers.subscribe::<Node>().changes();
    let leases = informers.subscribe::<Lease>().changes();
    let watch_wake = Arc::clone(&wake);
    let triggers =
        futures::stream::select(nodes.map(|_| ()), leases.map(|_| ())).for_each(move |()| {
            watch_wake.notify_one();
            futures::future::ready(())
        });
    let work = async move {
        loop {
            let next = match pass(&context).await {
                Ok(next) => next,
                Err(error) => {
                    tracing::debug!(%error, "node lifecycle pass failed");
                    None
                }
            };
            let sleep = next
                .map(|at| {
                    let seconds = at.duration_since(Timestamp::now()).as_secs_f64().max(0.05);
                    Duration::from_secs_f64(seconds)
                })
                .unwrap_or(timing.monitor_period)
                .min(timing.monitor_period);
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = wake.notified() => {}
            }
        }
    };
    futures::future::join(triggers, work).map(|_| ()).boxed()
}

/// The latest sign of life of a node: its Lease renewal or its Ready heartbeat.
fn last_heartbeat(node: &Node, leases: &Store<Lease>) -> Option<Timestamp> {
    let lease = leases
        .get(&ObjectRef::new(&node.name_any()).within("kube-node-lease"))
        .and_then(|lease| lease.spec.as_ref()?.renew_time.as_ref().map(|time| time.0));
    let posted = node
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Ready"))
        .and_then(|ready| ready.last_heartbeat_time.as_ref().map(|time| time.0));
    match (lease, posted) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (one, other) => one.or(other),
    }
}

/// Conditions of a node whose kubelet went quiet: every reported condition Unknown, and a
/// Ready condition if it never reported one.
fn unknown_conditions(node: &Node, now: Timestamp) -> Option<Vec<NodeCondition>> {
    let mut conditions = node
        .status
        .as_ref()
        .and_then(|status| status.conditions.clone())
        .unwrap_or_default();
    let never = conditions.iter().all(|c| c.type_ != "Ready");
    if never {
        conditions.push(NodeCondition {
            type_: "Ready".to_owned(),
            status: "Unknown".to_owned(),
            reason: Some("NodeStatusNeverUpdated".to_owned()),
            message: Some("Kubelet never posted node status.".to_owned()),
            last_transition_time: Some(Time(now)),
            last_heartbeat_time: None,
        });
        return Some(conditions);
    }
    let mut changed = false;
    for condition in conditions.iter_mut() {
        let tracked = matches!(
            condition.type_.as_str(),
            "Ready" | "MemoryPressure" | "DiskPressure" | "PIDPressure"
        );
        if tracked && condition.status != "Unknown" {
            condition.status = "Unknown".to_owned();
            condition.reason = Some("NodeStatusUnknown".to_owned());
            condition.message = Some("Kubelet stopped posting node status.".to_owned());
            condition.last_transition_time = Some(Time(now));
            changed = true;
        }
    }
    changed.then_some(conditions)
}

/// One pass over every node; returns when the next eviction is due, if any.
async fn pass(context: &Context) -> Result<Option<Timestamp>, ControllerError> {
    let now = Timestamp::now();
    let grace = jiff::SignedDuration::try_from(context.timing.grace_period).unwrap_or_default();
    let api: Api<Node> = Api::all(context.shared.client.clone());
    let mut next: Option<Timestamp> = None;
    for node in context.nodes.state() {
        let name = node.name_any();
        let mut node = (*node).clone();
        let since = last_heartbeat(&node, &context.leases)
            .or_else(|| node.metadata.creation_timestamp.as_ref().map(|time| time.0))
            .unwrap_or(now);
        let silent = since
            .checked_add(grace)
            .is_ok_and(|deadline| deadline < now);
        if silent && taints::ready_status(&node) != Some("Unknown") {
            if let Some(conditions) = unknown_conditions(&node, now) {
                let patch = json!({"status": {"conditions": conditions}});
                node = api
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
                tracing::info!(node = %name, "node stopped posting status");
            }
        }
        let current = node
            .spec
            .as_ref()
            .and_then(|spec| spec.taints.clone())
            .unwrap_or_default();
        let wanted = desired_taints(&node, now);
        if wanted != current {
            let patch = json!({"spec": {"taints": wanted}});
            node = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        let taints = node
            .spec
            .as_ref()
            .and_then(|spec| spec.taints.clone())
            .unwrap_or_default();
        if !taints.iter().any(|taint| taint.effect == "NoExecute") {
            continue;
        }
        for pod in context.pods.state() {
            let on_node =
                pod.spec.as_ref().and_then(|spec| spec.node_name.as_deref()) == Some(name.as_str());
            if !on_node || pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match eviction_time(&pod, &taints, now) {
                Some(at) if at <= now => evict(context, &pod).await?,
                Some(at) => next = Some(next.map_or(at, |earlier: Timestamp| earlier.min(at))),
                None => {}
            }
        }
    }
    Ok(next)
}

async fn evict(context: &Context, pod: &Pod) -> Result<(), ControllerError> {
    let namespace = pod
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let name = pod.name_any();
    let reference = pod.object_ref(&());
    if let Err(error) = context
        .recorder
        .publish(
            &Event {
                type_: EventType::Normal,
                reason: "TaintManagerEviction".to_owned(),
                note: Some(format!("Marking for deletion Pod {namespace}/{name}")),
                action: "Evict".to_owned(),
                secondary: None,
            },
            &reference,
        )
        .await
    {
        tracing::debug!(%error, "recording eviction event");
    }
    let api: Api<Pod> = Api::namespaced(context.shared.client.clone(), &namespace);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}
