//! The namespace controller, after upstream's `pkg/controller/namespace`: a namespace
//! marked for deletion is emptied of every namespaced object (built-in and custom), its
//! conditions tell what is left, and it is released through `namespaces/{name}/finalize`,
//! after which the API server removes it.

mod conditions;
mod deleter;

use std::sync::Arc;
use std::time::Duration;

use futures::future::{join_all, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::ResourceExt;

use crate::workqueue::WorkQueue;
use crate::{Change, Informers, Shared};

use deleter::Deleter;

/// How long a namespace event waits before it is acted on, so that every API server sees
/// the namespace terminating and late creations in it are visible (upstream's
/// `namespaceDeletionGracePeriod`).
const DELETION_GRACE: Duration = Duration::from_secs(5);
/// Namespaces emptied at once (kube-controller-manager's `--concurrent-namespace-syncs`).
const WORKERS: usize = 10;

/// Why a namespace pass did not finish.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// The API server refused or failed a request.
    #[error("{0}")]
    Api(#[from] kube::Error),
    /// Content is still being removed.
    #[error(
        "some content remains in the namespace, estimate {estimate} seconds before it is removed"
    )]
    Remaining {
        /// Seconds before it should be gone.
        estimate: i64,
    },
    /// Some content could not be listed or deleted (or discovery was incomplete).
    #[error("{0}")]
    Content(String),
    /// The namespace was replaced by another of the same name meanwhile.
    #[error("namespace uid has changed across retries")]
    UidChanged,
}

impl NamespaceError {
    fn is_not_found(&self) -> bool {
        matches!(self, Self::Api(kube::Error::Api(status)) if status.code == 404)
    }

    fn is_conflict(&self) -> bool {
        matches!(self, Self::Api(kube::Error::Api(status)) if status.code == 409)
    }
}

/// The loop: namespaces being deleted are queued (after the grace period) and emptied.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let namespaces = informers.subscribe::<Namespace>();
    let queue: Arc<WorkQueue<String>> = WorkQueue::new();
    let deleter = Arc::new(Deleter::new(shared.client.clone()));
    let feed = {
        let queue = Arc::clone(&queue);
        namespaces.changes().for_each(move |change| {
            if let Change::Applied(namespace) = change {
                if namespace.metadata.deletion_timestamp.is_some() {
                    queue.add_after(namespace.name_any(), DELETION_GRACE);
                }
            }
            futures::future::ready(())
        })
    };
    let workers = join_all((0..WORKERS).map(|_| worker(Arc::clone(&queue), Arc::clone(&deleter))));
    async move {
        futures::join!(feed, workers);
    }
    .boxed()
}

async fn worker(queue: Arc<WorkQueue<String>>, deleter: Arc<Deleter>) {
    loop {
        let name = queue.get().await;
        let started = std::time::Instant::now();
        match deleter.delete(&name).await {
            Ok(()) => queue.forget(&name),
            Err(NamespaceError::Remaining { estimate }) => {
                let wait = u64::try_from(estimate / 2 + 1).unwrap_or(1);
                tracing::debug!(namespace = %name, wait, "content remaining in namespace");
                queue.add_after(name.clone(), Duration::from_secs(wait));
            }
            Err(error) => {
                tracing::info!(%error, namespace = %name, "namespace deletion failed, retrying");
                queue.add_rate_limited(name.clone());
            }
        }
        tracing::debug!(namespace = %name, elapsed = ?started.elapsed(), "finished syncing namespace");
        queue.done(&name);
    }
}
