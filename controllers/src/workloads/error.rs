//! Why a workload sync failed (the loop retries it).

use super::podcontrol::selector::SelectorError;

/// A failed sync of a ReplicaSet, ReplicationController or Deployment.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// The object lacks something the loop needs (a name, a namespace, a UID).
    #[error("object is missing {0}")]
    Missing(&'static str),
    /// The selector cannot be evaluated.
    #[error("invalid label selector: {0}")]
    Selector(#[from] SelectorError),
    /// The loop declined to act, as upstream does (e.g. adopting for a deleted owner).
    #[error("{0}")]
    Refused(String),
}

/// The message upstream prints for an API error (`StatusError.Error()` is the message).
pub fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// Whether the error is the API's 404.
pub fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

/// Whether the error is the API's 409 (conflict or already exists).
pub fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409)
}

/// Whether a create failed because the namespace is terminating (upstream: the
/// `NamespaceTerminating` status cause; kube-rs keeps only the message).
pub fn is_namespace_terminating(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status)
        if status.code == 403 && status.message.contains("because it is being terminated"))
}
