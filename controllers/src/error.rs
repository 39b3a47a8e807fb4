//! What can stop a control loop or the manager.

/// Why a reconcile (or the manager) failed.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// The object lacks something the loop needs (a name, a namespace).
    #[error("object is missing {0}")]
    Missing(&'static str),
}
