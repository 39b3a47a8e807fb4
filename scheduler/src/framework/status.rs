//! A plugin's verdict on a node, as upstream's `fwk.Status`: a code and the reasons that
//! end up, counted, in the pod's `Unschedulable` message.

/// Upstream's status codes (those the default plugins use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// The node passes.
    Success,
    /// The node fails, but removing pods (preemption) might help.
    Unschedulable,
    /// The node fails whatever pods are removed; preemption skips it.
    UnschedulableAndUnresolvable,
    /// The plugin has nothing to say for this pod (PreScore/PreFilter).
    Skip,
}

/// A verdict with its reasons and the plugin that gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// What kind of verdict.
    pub code: Code,
    /// Human-readable reasons, each counted separately in the fit error.
    pub reasons: Vec<String>,
    /// The plugin that failed the node (empty on success).
    pub plugin: &'static str,
}

impl Status {
    /// The node passes.
    pub fn success() -> Self {
        Self {
            code: Code::Success,
            reasons: Vec::new(),
            plugin: "",
        }
    }

    /// Nothing to do for this pod.
    pub fn skip() -> Self {
        Self {
            code: Code::Skip,
            reasons: Vec::new(),
            plugin: "",
        }
    }

    /// The node fails with `reason`; preemption may help.
    pub fn unschedulable(plugin: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code: Code::Unschedulable,
            reasons: vec![reason.into()],
            plugin,
        }
    }

    /// The node fails with `reason`, and no preemption can change that.
    pub fn unresolvable(plugin: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.into()],
            plugin,
        }
    }

    /// Whether the node passes.
    pub fn is_success(&self) -> bool {
        matches!(self.code, Code::Success | Code::Skip)
    }
}
