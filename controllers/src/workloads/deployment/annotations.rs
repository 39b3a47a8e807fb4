//! The annotations a Deployment keeps on its ReplicaSets (and itself), as upstream's
//! `deployment_util`: the revision and its history, the desired and maximum replica counts
//! a ReplicaSet was sized for, and the Deployment's own annotations (e.g.
//! `kubernetes.io/change-cause`) copied to its new ReplicaSet.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

/// The rollout sequence number of a ReplicaSet (and the Deployment's current one).
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The former revisions a ReplicaSet served (it is reused when rolling back).
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// `spec.replicas` of the Deployment when the ReplicaSet was last sized.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// `spec.replicas + maxSurge` of the Deployment when the ReplicaSet was last sized.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// kubectl's client-side apply record, never copied.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The extensions/v1beta1 rollback request, never copied.
const ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
/// Upstream's `maxRevHistoryLengthInChars`.
pub const MAX_REVISION_HISTORY_CHARS: usize = 2000;

/// Upstream's `annotationsToSkip`.
fn skip_copy(key: &str) -> bool {
    matches!(
        key,
        LAST_APPLIED | REVISION | REVISION_HISTORY | DESIRED_REPLICAS | MAX_REPLICAS | ROLLBACK_TO
    )
}

/// A ReplicaSet's revision: 0 without the annotation, an error when it is not a number.
pub fn revision(rs: &ReplicaSet) -> Result<i64, std::num::ParseIntError> {
    match rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(REVISION))
    {
        Some(value) => value.parse(),
        None => Ok(0),
    }
}

/// The highest revision among `sets` (unparsable ones skipped).
pub fn max_revision<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i64 {
    sets.into_iter()
        .filter_map(|rs| revision(rs).ok())
        .max()
        .unwrap_or(0)
        .max(0)
}

fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}

/// `deployment.kubernetes.io/desired-replicas`, when present and numeric.
pub fn desired_replicas(rs: &ReplicaSet) -> Option<i32> {
    int_annotation(rs, DESIRED_REPLICAS)
}

/// `deployment.kubernetes.io/max-replicas`, when present and numeric.
pub fn max_replicas(rs: &ReplicaSet) -> Option<i32> {
    int_annotation(rs, MAX_REPLICAS)
}

/// Whether the replica annotations differ from `desired` and `max`.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    let annotations = rs.metadata.annotations.as_ref();
    let get = |key: &str| annotations.and_then(|a| a.get(key)).cloned();
    get(DESIRED_REPLICAS) != Some(desired.to_string()) || get(MAX_REPLICAS) != Some(max.to_string())
}

/// Sets the replica annotations; whether anything changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (key, value) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let value = value.to_string();
        if annotations.get(key) != Some(&value) {
            annotations.insert(key.to_owned(), value);
            changed = true;
        }
    }
    changed
}

/// Copies the Deployment's annotations (all but the skipped ones) to the ReplicaSet.
fn copy_deployment_annotations(deployment: &Deployment, rs: &mut ReplicaSet) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (key, value) in deployment.metadata.annotations.iter().flatten() {
        if skip_copy(key) || annotations.get(key) == Some(value) {
            continue;
        }
        annotations.insert(key.clone(), value.clone());
        changed = true;
    }
    changed
}

/// Upstream's `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, raises the
/// revision to `new_revision` (recording the former one in the history, bounded to
/// `history_limit` characters) and, for a ReplicaSet about to be created, sets the replica
/// annotations. Whether anything changed.
pub fn set_new_replica_set_annotations(
    deployment: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
    history_limit: usize,
    replicas: (i32, i32),
) -> bool {
    let mut changed = copy_deployment_annotations(deployment, rs);
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old = annotations.get(REVISION).cloned();
    let old_number = match old.as_deref() {
        None | Some("") => 0,
        Some(value) => match value.parse::<i64>() {
            Ok(number) => number,
            Err(_) => {
                tracing::warn!(revision = value, "replica set revision is not a number");
                return false;
            }
        },
    };
    if old_number < new_revision {
        annotations.insert(REVISION.to_owned(), new_revision.to_string());
        changed = true;
        // An existing revision replaced: this ReplicaSet is being rolled back to.
        if let Some(old) = old {
            let history = annotations
                .get(REVISION_HISTORY)
                .cloned()
                .unwrap_or_default();
            if history.is_empty() {
                annotations.insert(REVISION_HISTORY.to_owned(), old);
            } else {
                let mut revisions: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > history_limit && start < revisions.len() {
                    total -= revisions[start].len() + 1;
                    start += 1;
                }
                if total <= history_limit {
                    revisions.drain(..start);
                    revisions.push(&old);
                    let joined = revisions.join(",");
                    annotations.insert(REVISION_HISTORY.to_owned(), joined);
                } else {
                    tracing::warn!(history_limit, "not appending revision: history too long");
                }
            }
        }
    }
    if !exists && set_replicas_annotations(rs, replicas.0, replicas.1) {
        changed = true;
    }
    changed
}

/// Sets the Deployment's revision annotation; whether it changed.
pub fn set_deployment_revision(deployment: &mut Deployment, revision: &str) -> bool {
    let annotations = deployment
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    if annotations.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    annotations.insert(REVISION.to_owned(), revision.to_owned());
    true
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

    use super::{
        max_revision, revision, set_new_replica_set_annotations, REVISION, REVISION_HISTORY,
    };

    fn rs(revision: Option<&str>, history: Option<&str>) -> ReplicaSet {
        let mut rs = ReplicaSet::default();
        let mut annotations = std::collections::BTreeMap::new();
        if let Some(revision) = revision {
            annotations.insert(REVISION.to_owned(), revision.to_owned());
        }
        if let Some(history) = history {
            annotations.insert(REVISION_HISTORY.to_owned(), history.to_owned());
        }
        rs.metadata.annotations = Some(annotations);
        rs
    }

    fn annotation(rs: &ReplicaSet, key: &str) -> Option<String> {
        rs.metadata.annotations.as_ref()?.get(key).cloned()
    }

    #[test]
    fn new_replica_sets_copy_annotations_and_replica_counts() {
        let mut deployment = Deployment::default();
        deployment.metadata.annotations = Some(
            [
                ("kubernetes.io/change-cause".to_owned(), "v2".to_owned()),
                (REVISION.to_owned(), "7".to_owned()),
            ]
            .into(),
        );
        let mut new = ReplicaSet::default();
        assert!(set_new_replica_set_annotations(
            &deployment,
            &mut new,
            3,
            false,
            2000,
            (4, 5)
        ));
        assert_eq!(
            annotation(&new, "kubernetes.io/change-cause").as_deref(),
            Some("v2")
        );
        assert_eq!(annotation(&new, REVISION).as_deref(), Some("3"));
        assert_eq!(
            annotation(&new, super::DESIRED_REPLICAS).as_deref(),
            Some("4")
        );
        assert_eq!(annotation(&new, super::MAX_REPLICAS).as_deref(), Some("5"));
        assert_eq!(annotation(&new, REVISION_HISTORY), None);
    }

    #[test]
    fn rollback_records_history_within_the_limit() {
        let deployment = Deployment::default();
        let mut old = rs(Some("2"), None);
        assert!(set_new_replica_set_annotations(
            &deployment,
            &mut old,
            5,
            true,
            2000,
            (1, 1)
        ));
        assert_eq!(annotation(&old, REVISION).as_deref(), Some("5"));
        assert_eq!(annotation(&old, REVISION_HISTORY).as_deref(), Some("2"));
        let mut again = rs(Some("5"), Some("2"));
        set_new_replica_set_annotations(&deployment, &mut again, 9, true, 2000, (1, 1));
        assert_eq!(annotation(&again, REVISION_HISTORY).as_deref(), Some("2,5"));
        // A limit of 3 characters keeps only the newest entries.
        let mut bounded = rs(Some("9"), Some("2,5"));
        set_new_replica_set_annotations(&deployment, &mut bounded, 11, true, 3, (1, 1));
        assert_eq!(
            annotation(&bounded, REVISION_HISTORY).as_deref(),
            Some("5,9")
        );
        // Not a rollback: an equal or higher revision stays.
        let mut current = rs(Some("12"), None);
        assert!(!set_new_replica_set_annotations(
            &deployment,
            &mut current,
            11,
            true,
            2000,
            (1, 1)
        ));
    }

    #[test]
    fn revisions_parse_and_max() {
        let sets = [
            rs(Some("3"), None),
            rs(None, None),
            rs(Some("x"), None),
            rs(Some("10"), None),
        ];
        assert_eq!(max_revision(&sets), 10);
        assert!(revision(&sets[2]).is_err());
        assert_eq!(revision(&sets[1]), Ok(0));
    }
}
