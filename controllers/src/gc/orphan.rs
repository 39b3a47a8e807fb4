//! The `attemptToOrphan` work: an owner deleted with the `orphan` finalizer loses its place
//! in its dependents' owner references, then the finalizer goes and the owner with it.

use super::error::GcError;
use super::{Collector, ORPHAN_FINALIZER};

impl Collector {
    /// Orphans the dependents of the node with `uid`, then removes its finalizer.
    pub(super) async fn attempt_to_orphan(&self, uid: &str) -> Result<(), GcError> {
        let Some(owner) = self.node(uid) else {
            return Ok(());
        };
        let dependents = self.with_graph(|graph| graph.dependents(uid));
        let owner_uid = [uid.to_owned()];
        let results = futures::future::join_all(dependents.iter().map(|dependent| async {
            self.objects
                .remove_owner_references(&dependent.identity, &owner_uid)
                .await
                .map_err(|error| (dependent.identity.to_string(), error))
        }))
        .await;
        let failures: Vec<String> = results
            .into_iter()
            .filter_map(Result::err)
            .filter(|(_, error)| !error.is_not_found())
            .map(|(dependent, error)| format!("orphaning {dependent} failed, {error}"))
            .collect();
        if !failures.is_empty() {
            return Err(GcError::Orphan {
                owner: owner.identity.to_string(),
                errors: failures.join(", "),
            });
        }
        tracing::info!(owner = %owner.identity, dependents = dependents.len(), "orphaned dependents, removing the orphan finalizer");
        self.objects
            .remove_finalizer(&owner.identity, ORPHAN_FINALIZER)
            .await
    }
}
