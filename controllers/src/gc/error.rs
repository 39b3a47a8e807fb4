//! Why a garbage collector work item failed.

/// A failed attempt; the item is retried with backoff unless said otherwise.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// The API server refused or failed a request.
    #[error("{0}")]
    Api(#[from] kube::Error),
    /// Discovery does not (yet) serve this apiVersion/kind.
    #[error("unable to get REST mapping for {kind}/{api_version}.")]
    Mapping {
        /// The apiVersion looked up.
        api_version: String,
        /// The kind looked up.
        kind: String,
    },
    /// A cluster-scoped object names a namespaced owner: retrying cannot help.
    #[error("cluster-scoped objects cannot refer to namespaced owners")]
    NamespacedOwnerOfClusterScopedObject,
    /// An object could not be turned into a patch.
    #[error("encoding a patch: {0}")]
    Encode(#[from] serde_json::Error),
    /// The object is gone (or another object now has its name).
    #[error("{0} not found")]
    Gone(String),
    /// Some dependents could not be orphaned.
    #[error("failed to orphan dependents of owner {owner}, got errors: {errors}")]
    Orphan {
        /// The owner being deleted.
        owner: String,
        /// What failed, joined.
        errors: String,
    },
    /// The finalizer could not be removed after retrying conflicts.
    #[error("updateMaxRetries({retries}) has reached. The garbage collector will retry later for owner {owner}")]
    FinalizerConflicts {
        /// How many attempts were made.
        retries: u32,
        /// The owner.
        owner: String,
    },
}

impl GcError {
    /// Whether the API answered 404.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Gone(_) => true,
            Self::Api(kube::Error::Api(status)) => status.code == 404,
            _ => false,
        }
    }

    /// Whether the API answered 409.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Api(kube::Error::Api(status)) if status.code == 409)
    }
}
