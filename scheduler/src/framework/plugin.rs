//! The plugin interface: one trait with upstream's extension points as optional methods,
//! so a plugin implements only the points it uses.

use super::{CycleState, NodeInfo, PodInfo, Status};

/// A scheduling plugin (upstream's PreFilter/Filter/PreScore/Score/NormalizeScore points).
pub trait Plugin: Send + Sync {
    /// Upstream's plugin name (used in logs).
    fn name(&self) -> &'static str;

    /// Whether this plugin filters nodes.
    fn filters(&self) -> bool {
        false
    }

    /// Computes per-cycle data from every node before filtering; a non-success status
    /// fails every node with it.
    fn pre_filter(&self, _state: &mut CycleState, _pod: &PodInfo, _nodes: &[&NodeInfo]) -> Status {
        Status::success()
    }

    /// Whether `node` can run `pod`.
    fn filter(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> Status {
        Status::success()
    }

    /// The plugin's weight when scoring (0: does not score).
    fn score_weight(&self) -> i64 {
        0
    }

    /// Computes per-cycle scoring data over the feasible nodes (`all` is every node);
    /// `Skip` leaves this plugin out of scoring for this pod.
    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _feasible: &[&NodeInfo],
        _all: &[&NodeInfo],
    ) -> Status {
        Status::success()
    }

    /// The raw score of `node` for `pod`.
    fn score(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> i64 {
        0
    }

    /// Brings raw scores (in the order of the feasible nodes) to 0..=100.
    fn normalize(&self, _state: &CycleState, _scores: &mut [i64]) {}
}
