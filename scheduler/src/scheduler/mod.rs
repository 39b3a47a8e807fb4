//! The scheduler proper: the state the watches feed (cache, queue, priority classes), the
//! loop that takes one pod at a time through a cycle, and the asynchronous binding.

mod actions;
mod handlers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use kube::runtime::events::EventType;
use kube::Client;
use tokio::sync::Notify;

use crate::cache::Cache;
use crate::config::build::{build, Profile};
use crate::config::ProfileConfig;
use crate::cycle::{schedule_pod_with, CycleError};
use crate::events::{reference, Events};
use crate::framework::PodInfo;
use crate::plugins::inter_pod_affinity::{NamespaceLabels, NAMESPACE_LABELS};
use crate::plugins::volume_binding::{VolumeObjects, VOLUMES};
use crate::preemption::{preempt, Preemption};
use crate::priority::PriorityClasses;
use crate::queue::{QueuedPod, SchedulingQueue};
use crate::status::{record_failure, REASON_UNSCHEDULABLE};
use crate::workloads::Workloads;

/// Upstream's `ErrNoNodesAvailable`.
pub const NO_NODES: &str = "no nodes available to schedule pods";

/// What the watches keep up to date, behind one lock.
struct State {
    cache: Cache,
    queue: SchedulingQueue,
    priorities: PriorityClasses,
    next_start: usize,
    /// Pending pods nominated to a node by preemption: key → (node, pod). They count on
    /// that node for pods of lower or equal priority, so the room made is not taken.
    nominated: HashMap<String, (String, Arc<PodInfo>)>,
    /// Selectors of Services and pod controllers (default topology spreading).
    workloads: Workloads,
    /// Namespace labels (pod affinity terms' `namespaceSelector`), shared with cycles.
    namespaces: Arc<NamespaceLabels>,
    /// Claims, volumes and delayed-binding classes (VolumeBinding), shared with cycles.
    volumes: Arc<VolumeObjects>,
}

/// What a cycle decided, to act on outside the lock.
enum Decision {
    Bind(String),
    Failed {
        reason: &'static str,
        message: String,
        nominated: Option<String>,
        victims: Vec<Arc<PodInfo>>,
        /// Lower-priority pods nominated to the node preemption chose, whose nomination
        /// no longer holds.
        unnominate: Vec<Arc<PodInfo>>,
    },
}

/// One scheduler instance.
pub struct Scheduler {
    state: Mutex<State>,
    notify: Arc<Notify>,
    profile: Profile,
    client: Client,
    events: Events,
    name: String,
}

impl Scheduler {
    /// A scheduler with the default plugins for pods that name `name` (or no scheduler,
    /// when `name` is `default-scheduler`).
    pub fn new(client: Client, name: String, identity: &str) -> Arc<Self> {
        Self::with_profile(client, &ProfileConfig::default_named(&name), identity)
    }

    /// A scheduler for the pods of one configured profile.
    pub fn with_profile(client: Client, config: &ProfileConfig, identity: &str) -> Arc<Self> {
        let profile = build(config);
        let name = profile.scheduler_name.clone();
        let notify = Arc::new(Notify::new());
        Arc::new(Self {
            state: Mutex::new(State {
                cache: Cache::default(),
                queue: SchedulingQueue::new(notify.clone()),
                priorities: PriorityClasses::default(),
                next_start: 0,
                nominated: HashMap::new(),
                workloads: Workloads::default(),
                namespaces: Arc::default(),
                volumes: Arc::default(),
            }),
            notify,
            profile,
            events: Events::new(client.clone(), &name, identity),
            client,
            name,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn pop(&self) -> QueuedPod {
        loop {
            let notified = self.notify.notified();
            if let Some(queued) = self.lock().queue.pop() {
                return queued;
            }
            notified.await;
        }
    }

    /// Moves pods whose back-off ended to the active queue, every second (upstream's
    /// `flushBackoffQCompleted` period).
    pub async fn flush_loop(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            self.lock().queue.flush(Instant::now());
        }
    }

    /// Schedules pods one at a time, forever.
    pub async fn schedule_loop(self: Arc<Self>) {
        loop {
            let queued = self.pop().await;
            self.schedule_one(queued).await;
        }
    }

    fn decide(&self, queued: &QueuedPod) -> Option<Decision> {
        let mut guard = self.lock();
        let State {
            cache,
            queue,
            next_start,
            nominated,
            workloads,
            namespaces,
            volumes,
            ..
        } = &mut *guard;
        let info = queued.info.clone();
        if cache.is_placed(&info.key) {
            queue.scheduled(&info.key);
            nominated.remove(&info.key);
            return None;
        }
        let base = cache.nodes();
        let mut with_nominated: HashMap<String, crate::framework::NodeInfo> = HashMap::new();
        for (key, (node, other)) in nominated.iter() {
            if *key == info.key || other.priority < info.priority {
                continue;
            }
            if let Some(original) = cache.node(node) {
                with_nominated
                    .entry(node.clone())
                    .or_insert_with(|| original.clone())
                    .add_pod(other.clone());
            }
        }
        let nodes: Vec<&crate::framework::NodeInfo> = base
            .iter()
            .map(|n| with_nominated.get(&n.name).unwrap_or(n))
            .collect();
        let seed = |state: &mut crate::framework::CycleState| {
            state.write(NAMESPACE_LABELS, namespaces.clone());
            state.write(VOLUMES, volumes.clone());
        };
        let mut state = crate::framework::CycleState::default();
        seed(&mut state);
        if let Some(selector) = workloads.default_selector(&info.pod) {
            state.write(
                crate::plugins::pod_topology_spread::DEFAULT_SELECTOR,
                selector,
            );
        }
        let profile = &self.profile;
        let result = schedule_pod_with(
            &profile.plugins,
            profile.percentage_of_nodes_to_score,
            &info,
            &nodes,
            next_start,
            state,
        );
        match result {
            Ok(node) => {
                drop(nodes);
                drop(base);
                nominated.remove(&info.key);
                cache.assume(info.clone(), &node);
                queue.scheduled(&info.key);
                Some(Decision::Bind(node))
            }
            Err(CycleError::NoNodes) => {
                // Upstream treats this as unresolvable: wait for a node to be added.
                queue.unschedulable(&info.key);
                Some(Decision::Failed {
                    reason: REASON_UNSCHEDULABLE,
                    message: NO_NODES.to_owned(),
                    nominated: None,
                    victims: Vec::new(),
                    unnominate: Vec::new(),
                })
            }
            Err(CycleError::Fit(mut fit)) => {
                let outcome = if profile.preemption {
                    preempt(&profile.plugins, &info, &nodes, &fit, &seed)
                } else {
                    // No PostFilter plugin: the fit error alone, and no nomination.
                    Preemption::Failed(String::new())
                };
                let (nominated_node, victims) = match outcome {
                    Preemption::Victims { node, victims } => (Some(node), victims),
                    Preemption::Failed(message) => {
                        fit.post_filter_msg = Some(message);
                        (None, Vec::new())
                    }
                    Preemption::NoCandidates(message) => {
                        fit.post_filter_msg = Some(message);
                        (Some(String::new()), Vec::new())
                    }
                };
                drop(nodes);
                drop(base);
                let mut unnominate = Vec::new();
                match nominated_node.as_deref() {
                    Some("") => {
                        nominated.remove(&info.key);
                    }
                    Some(node) => {
                        let displaced: Vec<String> = nominated
                            .iter()
                            .filter(|(k, (n, other))| {
                                n == node && **k != info.key && other.priority < info.priority
                            })
                            .map(|(k, _)| k.clone())
                            .collect();
                        for key in displaced {
                            if let Some((_, other)) = nominated.remove(&key) {
                                unnominate.push(other);
                            }
                        }
                        nominated.insert(info.key.clone(), (node.to_owned(), info.clone()));
                    }
                    None => {}
                }
                queue.unschedulable(&info.key);
                Some(Decision::Failed {
                    reason: REASON_UNSCHEDULABLE,
                    message: fit.message(),
                    nominated: nominated_node,
                    victims,
                    unnominate,
                })
            }
        }
    }

    async fn schedule_one(self: &Arc<Self>, queued: QueuedPod) {
        let pod = queued.info.pod.clone();
        let Some(decision) = self.decide(&queued) else {
            return;
        };
        match decision {
            Decision::Bind(node) => {
                tracing::debug!(pod = %queued.info.key, %node, "assumed; binding");
                let this = self.clone();
                tokio::spawn(async move { this.bind(queued, node).await });
            }
            Decision::Failed {
                reason,
                message,
                nominated,
                victims,
                unnominate,
            } => {
                tracing::info!(pod = %queued.info.key, %message, "unable to schedule pod");
                if let Some(node) = nominated.as_deref().filter(|n| !n.is_empty()) {
                    self.evict(&pod, node, &victims).await;
                    self.clear_nominations(&unnominate).await;
                }
                let regarding = reference(&pod);
                self.events
                    .record(
                        &regarding,
                        None,
                        EventType::Warning,
                        "FailedScheduling",
                        "Scheduling",
                        message.clone(),
                    )
                    .await;
                if let Err(error) =
                    record_failure(&self.client, &pod, reason, &message, nominated.as_deref()).await
                {
                    tracing::debug!(%error, pod = %queued.info.key, "updating pod status");
                }
            }
        }
    }
}
