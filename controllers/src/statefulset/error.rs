//! Why a StatefulSet sync failed (the loop retries it with backoff).

use crate::history::RevisionError;
use crate::workloads::error::{api_message, SyncError};
use crate::workloads::podcontrol::selector::SelectorError;

/// A failed StatefulSet sync.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// The object lacks something the loop needs (a name, a namespace, a UID, a spec).
    #[error("object is missing {0}")]
    Missing(&'static str),
    /// The selector cannot be evaluated.
    #[error("invalid label selector: {0}")]
    Selector(#[from] SelectorError),
    /// A ControllerRevision could not be written.
    #[error(transparent)]
    Revision(#[from] RevisionError),
    /// Claiming pods (shared with the ReplicaSet loop) failed.
    #[error(transparent)]
    Claim(#[from] SyncError),
    /// The loop declined to act, as upstream does (e.g. a claim being deleted).
    #[error("{0}")]
    Refused(String),
}

impl SetError {
    /// The message upstream prints for the error (`err.Error()`), for events.
    pub fn message(&self) -> String {
        match self {
            Self::Api(error) => api_message(error),
            other => other.to_string(),
        }
    }
}
