//! Control-plane load beyond the API itself: a Deployment of many replicas created, rolled
//! out and scaled while a stand-in kubelet makes every pod Ready at once (the controllers'
//! figures), and fake Nodes with pods for a scheduler to bind (the scheduler's).

pub mod kubelet;
pub mod rollout;
pub mod scheduling;

pub use kubelet::InstantKubelet;
pub use rollout::{Deployments, RolloutError};
