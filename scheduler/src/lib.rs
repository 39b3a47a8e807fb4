//! The Ferrokube scheduler: binds pending pods to nodes as kube-scheduler does (its queue,
//! default plugins, preemption, events and status), talking to the API server only through
//! the API.
#![forbid(unsafe_code)]

pub mod bind;
pub mod cache;
pub mod config;
pub mod cycle;
pub mod events;
pub mod framework;
pub mod plugins;
pub mod preemption;
pub mod priority;
pub mod queue;
pub mod resources;
pub mod scheduler;
pub mod status;
mod watch;
pub mod workloads;

use std::time::Duration;

use ferrokube_controllers::{LeaderElection, LeaseConfig};
use futures::future::{select, select_all, Either};
use kube::Client;

/// Why the scheduler stopped.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// Another instance holds the Lease now; the caller should stand again as a candidate.
    #[error("lost the leader lease")]
    LeadershipLost,
    /// A watch or loop ended unexpectedly.
    #[error("scheduler task stopped: {0}")]
    Stopped(String),
}

/// How to run the scheduler.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// The Lease to hold while scheduling; `None` runs without leader election.
    pub lease: Option<LeaseConfig>,
    /// This instance's identity (Lease holder, event reporter); generated when `None`.
    pub identity: Option<String>,
    /// Pods naming this scheduler (or none) are ours; used when `config` is `None`.
    pub scheduler_name: String,
    /// A `KubeSchedulerConfiguration` (see [`config::load`]): its profiles replace the
    /// single default profile named `scheduler_name`.
    pub config: Option<config::SchedulerConfig>,
}

/// kube-scheduler's Lease: `kube-system/kube-scheduler`, 15 s, renewed every 2 s.
pub fn scheduler_lease() -> LeaseConfig {
    LeaseConfig {
        namespace: "kube-system".to_owned(),
        name: "kube-scheduler".to_owned(),
        lease_duration: Duration::from_secs(15),
        retry_period: Duration::from_secs(2),
    }
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            lease: Some(scheduler_lease()),
            identity: None,
            scheduler_name: config::DEFAULT_SCHEDULER_NAME.to_owned(),
            config: None,
        }
    }
}

/// Tasks aborted when dropped, so that losing the Lease stops every watch and loop.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "ferrokube".to_owned());
    format!("{host}_{}", uuid::Uuid::new_v4())
}

/// Runs the scheduler: waits for the Lease (when configured), syncs its watches, then
/// schedules until leadership is lost.
pub async fn run(client: Client, options: SchedulerOptions) -> Result<(), SchedulerError> {
    let identity = options.identity.clone().unwrap_or_else(identity);
    let election = options
        .lease
        .clone()
        .map(|lease| LeaderElection::new(client.clone(), lease, identity.clone()));
    if let Some(election) = &election {
        election.acquire().await;
    }
    let profiles = match &options.config {
        Some(config) => config.profiles.clone(),
        None => vec![config::ProfileConfig::default_named(
            &options.scheduler_name,
        )],
    };
    let work = async {
        let mut tasks = Tasks(Vec::new());
        // One scheduler (cache, queue, watches) per profile.
        for profile in &profiles {
            let scheduler = scheduler::Scheduler::with_profile(client.clone(), profile, &identity);
            watch::start(&client, &scheduler, &mut tasks.0).await;
            tracing::info!(scheduler = %profile.scheduler_name, "caches synced; scheduling");
            tasks.0.push(tokio::spawn(scheduler.clone().flush_loop()));
            tasks.0.push(tokio::spawn(scheduler.schedule_loop()));
        }
        let (result, _, _) = select_all(tasks.0.iter_mut()).await;
        Err(SchedulerError::Stopped(match result {
            Ok(()) => "a task returned".to_owned(),
            Err(error) => error.to_string(),
        }))
    };
    match &election {
        Some(election) => {
            futures::pin_mut!(work);
            let lost = election.hold();
            futures::pin_mut!(lost);
            match select(work, lost).await {
                Either::Left((result, _)) => result,
                Either::Right(((), _)) => Err(SchedulerError::LeadershipLost),
            }
        }
        None => work.await,
    }
}
