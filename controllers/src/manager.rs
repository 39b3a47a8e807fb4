//! The controller manager: builds every loop (each subscribes to the informers it needs),
//! waits for leadership, then runs the reflectors and loops until leadership is lost or the
//! process stops.

use futures::future::BoxFuture;
use kube::Client;

use crate::leader::{LeaderElection, LeaseConfig};
use crate::nodelifecycle::{self, NodeTiming};
use crate::{disruption, endpoints, hpa, podgc, quota, serviceaccount, Informers, Shared};

/// How the manager runs.
#[derive(Clone, Debug)]
pub struct ManagerOptions {
    /// The Lease to hold; `None` runs without leader election (tests).
    pub lease: Option<LeaseConfig>,
    /// The cluster CA in PEM, for `kube-root-ca.crt`.
    pub root_ca: Option<String>,
    /// This instance's name as Lease holder; `None` for `hostname_uuid`.
    pub identity: Option<String>,
    /// How quickly silent nodes are noticed.
    pub node_timing: NodeTiming,
    /// How often pods are garbage collected (upstream: 20 s).
    pub pod_gc_period: std::time::Duration,
    /// How often autoscalers are evaluated (upstream: 15 s).
    pub hpa_sync_period: std::time::Duration,
    /// The time the Job, CronJob and TTL loops go by (a `TestClock` in tests).
    pub clock: crate::SharedClock,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            lease: Some(LeaseConfig::controller_manager()),
            root_ca: None,
            identity: None,
            node_timing: NodeTiming::default(),
            pod_gc_period: podgc::PERIOD,
            hpa_sync_period: hpa::SYNC_PERIOD,
            clock: std::sync::Arc::new(crate::SystemClock),
        }
    }
}

fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "ferrokube".to_owned());
    format!("{host}_{}", uuid::Uuid::new_v4())
}

/// Every loop, built against `informers`.
fn loops(
    informers: &mut Informers,
    shared: &Shared,
    options: &ManagerOptions,
) -> Vec<BoxFuture<'static, ()>> {
    vec![
        nodelifecycle::build(informers, shared.clone(), options.node_timing),
        podgc::build(informers, shared.clone(), options.pod_gc_period),
        hpa::build(informers, shared.clone(), options.hpa_sync_period),
        disruption::build(informers, shared.clone()),
        quota::build(informers, shared.clone()),
        serviceaccount::build(informers, shared.clone()),
        endpoints::build(informers, shared.clone()),
        crate::job::build(informers, shared.clone(), options.clock.clone()),
        crate::cronjob::build(informers, shared.clone(), options.clock.clone()),
        crate::ttlafterfinished::build(informers, shared.client.clone(), options.clock.clone()),
        crate::gc::build(shared.clone()),
        crate::workloads::build(informers, shared.clone()),
        crate::statefulset::build(informers, shared.clone()),
        crate::daemonset::build(informers, shared.clone()),
        crate::namespace::build(informers, shared.clone()),
    ]
}

/// Runs the manager until leadership is lost (then returns, as kube-controller-manager
/// exits, so that a supervisor restarts it as a fresh candidate).
pub async fn run(client: Client, options: ManagerOptions) {
    let shared = Shared {
        client: client.clone(),
        identity: options.identity.clone().unwrap_or_else(identity),
        root_ca: options.root_ca.clone(),
    };
    let election = options
        .lease
        .clone()
        .map(|lease| LeaderElection::new(client.clone(), lease, shared.identity.clone()));
    if let Some(election) = &election {
        election.acquire().await;
    }
    let mut informers = Informers::new(client);
    let mut tasks = loops(&mut informers, &shared, &options);
    tasks.extend(informers.start());
    // Each loop is a task of its own (they spread over the cores); should one end, which
    // only a bug or a panic makes happen, the manager stops (dropping the set aborts the
    // rest) and says so, rather than running on with a loop missing.
    let mut running = tokio::task::JoinSet::new();
    for task in tasks {
        running.spawn(task);
    }
    let work = async move {
        match running.join_next().await {
            Some(Ok(())) => {
                tracing::error!("a control loop ended; stopping the controller manager")
            }
            Some(Err(error)) => {
                tracing::error!(%error, "a control loop failed; stopping the controller manager");
            }
            None => {}
        }
    };
    match &election {
        Some(election) => {
            futures::pin_mut!(work);
            let lost = election.hold();
            futures::pin_mut!(lost);
            futures::future::select(work, lost).await;
        }
        None => work.await,
    }
}
