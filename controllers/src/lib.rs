//! The Ferrokube controller manager: upstream's control loops as clients of the API server
//! (kube-rs), sharing one watch per resource, behind a Lease so that only one instance acts.
#![forbid(unsafe_code)]

mod api_resources;
mod connect;
mod disruption;
mod endpoints;
mod error;
mod gc;
mod hpa;
mod informers;
mod leader;
mod manager;
mod namespace;
mod nodelifecycle;
mod podgc;
mod quantity;
mod quota;
mod serviceaccount;
mod shared;
mod workqueue;

pub use connect::{connect, ConnectError};
pub use error::ControllerError;
pub use informers::{Change, Informers, Subscription, Watched};
pub use leader::{LeaderElection, LeaseConfig};
pub use manager::{run, ManagerOptions};
pub use nodelifecycle::NodeTiming;
pub use shared::Shared;
