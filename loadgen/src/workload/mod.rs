//! Controller-manager load: a Deployment of many replicas created, rolled out and scaled
//! while a stand-in kubelet makes every pod Ready at once, so that the figures measure the
//! controllers and the API server, not containers starting.

pub mod kubelet;
pub mod rollout;

pub use kubelet::InstantKubelet;
pub use rollout::{Deployments, RolloutError};
