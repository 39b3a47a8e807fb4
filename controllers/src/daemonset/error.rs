//! Why a DaemonSet sync failed (the loop retries it with backoff).

use crate::history::RevisionError;
use crate::workloads::error::SyncError;
use crate::workloads::podcontrol::selector::SelectorError;

/// A failed sync of one DaemonSet.
#[derive(Debug, thiserror::Error)]
pub enum DaemonSetError {
    /// Claiming, creating or deleting pods failed (or the object lacks a field).
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Writing a ControllerRevision failed.
    #[error("failed to construct revisions of DaemonSet: {0}")]
    Revision(#[from] RevisionError),
    /// `maxSurge` or `maxUnavailable` cannot be scaled (upstream's wording).
    #[error("couldn't get unavailable numbers: {0}")]
    Strategy(String),
    /// A node a pod is meant for is not in the cache (upstream fails the same way).
    #[error("couldn't get node for nodeName {0:?}")]
    NodeMissing(String),
    /// Several pod creations or deletions failed; the first is reported.
    #[error("{count} pod operations failed, first: {first}")]
    Many {
        /// How many failed.
        count: usize,
        /// The first failure.
        first: Box<SyncError>,
    },
}

impl From<kube::Error> for DaemonSetError {
    fn from(error: kube::Error) -> Self {
        Self::Sync(SyncError::Api(error))
    }
}

impl From<SelectorError> for DaemonSetError {
    fn from(error: SelectorError) -> Self {
        Self::Sync(SyncError::Selector(error))
    }
}

/// The error for a list of failures (upstream's `utilerrors.NewAggregate`), `None` if empty.
pub fn aggregate(mut errors: Vec<SyncError>) -> Option<DaemonSetError> {
    match errors.len() {
        0 => None,
        1 => errors.pop().map(DaemonSetError::Sync),
        count => Some(DaemonSetError::Many {
            count,
            first: Box::new(errors.swap_remove(0)),
        }),
    }
}
