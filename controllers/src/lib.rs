//! The Ferrokube controller manager: upstream's control loops as clients of the API server
//! (kube-rs), sharing one watch per resource, behind a Lease so that only one instance acts.
#![forbid(unsafe_code)]

mod api_resources;
mod clock;
mod connect;
mod cronjob;
mod daemonset;
mod disruption;
mod endpoints;
mod error;
mod events;
mod gc;
mod history;
mod hpa;
mod informers;
mod job;
mod leader;
mod manager;
mod namespace;
mod nodelifecycle;
mod podgc;
mod quantity;
mod quota;
mod serviceaccount;
mod shared;
mod statefulset;
mod ttlafterfinished;
mod workloads;
mod workqueue;

pub use clock::{Clock, SharedClock, SystemClock, TestClock};
pub use connect::{connect, ConnectError};
pub use error::ControllerError;
pub use informers::{Change, Informers, Ready, Subscription, Watched};
pub use leader::{LeaderElection, LeaseConfig};
pub use manager::{run, ManagerOptions};
pub use nodelifecycle::NodeTiming;
pub use shared::Shared;
