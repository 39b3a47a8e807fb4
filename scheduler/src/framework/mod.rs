//! The scheduling framework: the pod and node views plugins see, their verdicts, the
//! per-cycle state, and the plugin interface (upstream's `pkg/scheduler/framework`).

pub mod cycle_state;
pub mod labels;
pub mod plugin;
pub mod status;
pub mod types;

pub use cycle_state::CycleState;
pub use plugin::Plugin;
pub use status::{Code, Status};
pub use types::{NodeInfo, PodInfo};

/// The highest score a plugin gives a node after normalizing (upstream's `MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// Upstream's `DefaultNormalizeScore`: scales scores so the best is `max`; `reverse`
/// flips them (for counts where fewer is better).
pub fn default_normalize(max: i64, reverse: bool, scores: &mut [i64]) {
    let highest = scores.iter().copied().max().unwrap_or(0).max(0);
    if highest == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max);
        }
        return;
    }
    for score in scores.iter_mut() {
        let scaled = max * *score / highest;
        *score = if reverse { max - scaled } else { scaled };
    }
}
