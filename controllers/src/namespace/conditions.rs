//! The status conditions a terminating namespace reports (upstream's
//! `status_condition_utils.go`): each deletion failure becomes a True condition, every
//! other condition type is set to its "all good" False variant, so `kubectl describe ns`
//! shows why a namespace is stuck.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::NamespaceCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

const DISCOVERY_FAILURE: &str = "NamespaceDeletionDiscoveryFailure";
const GROUP_VERSION_FAILURE: &str = "NamespaceDeletionGroupVersionParsingFailure";
const CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
const CONTENT_REMAINING: &str = "NamespaceContentRemaining";
const FINALIZERS_REMAINING: &str = "NamespaceFinalizersRemaining";

/// The condition types this controller owns, in the order they are added, with the reason
/// and message of their False ("it worked") variant.
const CONDITIONS: [(&str, &str, &str); 5] = [
    (
        DISCOVERY_FAILURE,
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        GROUP_VERSION_FAILURE,
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        CONTENT_FAILURE,
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    (
        CONTENT_REMAINING,
        "ContentRemoved",
        "All content successfully removed",
    ),
    (
        FINALIZERS_REMAINING,
        "ContentRemoved",
        "All content successfully removed",
    ),
];

/// The outcome of one pass over a namespace's content, turned into conditions.
#[derive(Debug, Default)]
pub struct ConditionUpdater {
    failures: Vec<(&'static str, &'static str, String)>,
    content_errors: Vec<String>,
}

impl ConditionUpdater {
    /// Discovery failed: `message` is the error, or for failing groups
    /// `Discovery failed for some groups, N failing: ...`.
    pub fn discovery_failed(&mut self, message: String) {
        self.failures
            .push((DISCOVERY_FAILURE, "DiscoveryFailed", message));
    }

    /// A discovered group version did not parse.
    pub fn group_version_failed(&mut self, message: String) {
        self.failures
            .push((GROUP_VERSION_FAILURE, "GroupVersionParsingFailed", message));
    }

    /// Deleting one resource's objects failed.
    pub fn content_deletion_failed(&mut self, message: String) {
        self.content_errors.push(message);
    }

    /// What is left: instances per `resource.group`, and instances per finalizer.
    pub fn content_totals(
        &mut self,
        remaining: &BTreeMap<String, usize>,
        finalizers: &BTreeMap<String, usize>,
    ) {
        let resources: Vec<String> = remaining
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(resource, count)| format!("{resource} has {count} resource instances"))
            .collect();
        if !remaining.is_empty() {
            self.failures.push((
                CONTENT_REMAINING,
                "SomeResourcesRemain",
                format!(
                    "Some resources are remaining: {}",
                    sorted(resources).join(", ")
                ),
            ));
        }
        let held: Vec<String> = finalizers
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(finalizer, count)| format!("{finalizer} in {count} resource instances"))
            .collect();
        if !finalizers.is_empty() {
            self.failures.push((
                FINALIZERS_REMAINING,
                "SomeFinalizerRemain",
                format!("Some finalizers are remaining: {}", sorted(held).join(", ")),
            ));
        }
    }

    /// Brings `conditions` in line (at `now`); whether anything changed.
    pub fn update(mut self, conditions: &mut Vec<NamespaceCondition>, now: Time) -> bool {
        if !self.content_errors.is_empty()
            && !self
                .failures
                .iter()
                .any(|(kind, ..)| *kind == CONTENT_FAILURE)
        {
            let errors = sorted(std::mem::take(&mut self.content_errors));
            self.failures.push((
                CONTENT_FAILURE,
                "ContentDeletionFailed",
                format!(
                    "Failed to delete all resource types, {} remaining: {}",
                    errors.len(),
                    errors.join(", ")
                ),
            ));
        }
        let mut changed = false;
        for (kind, ok_reason, ok_message) in CONDITIONS {
            let (status, reason, message) =
                match self.failures.iter().find(|(failed, ..)| *failed == kind) {
                    Some((_, reason, message)) => ("True", *reason, message.clone()),
                    None => ("False", ok_reason, ok_message.to_owned()),
                };
            match conditions.iter_mut().find(|c| c.type_ == kind) {
                None => {
                    conditions.push(NamespaceCondition {
                        type_: kind.to_owned(),
                        status: status.to_owned(),
                        reason: Some(reason.to_owned()),
                        message: Some(message),
                        last_transition_time: Some(now.clone()),
                    });
                    changed = true;
                }
                Some(old) => {
                    if old.status != status
                        || old.reason.as_deref() != Some(reason)
                        || old.message.as_deref() != Some(message.as_str())
                    {
                        if old.status != status {
                            old.last_transition_time = Some(now.clone());
                        }
                        old.status = status.to_owned();
                        old.reason = Some(reason.to_owned());
                        old.message = Some(message);
                        changed = true;
                    }
                }
            }
        }
        changed
    }
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Time {
        Time(jiff::Timestamp::UNIX_EPOCH)
    }

    fn find<'a>(conditions: &'a [NamespaceCondition], kind: &str) -> &'a NamespaceCondition {
        conditions
            .iter()
            .find(|c| c.type_ == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    }

    #[test]
    fn success_sets_every_condition_false() {
        let mut conditions = Vec::new();
        assert!(ConditionUpdater::default().update(&mut conditions, now()));
        let kinds: Vec<&str> = conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(
            kinds,
            [
                DISCOVERY_FAILURE,
                GROUP_VERSION_FAILURE,
                CONTENT_FAILURE,
                CONTENT_REMAINING,
                FINALIZERS_REMAINING
            ]
        );
        assert!(conditions.iter().all(|c| c.status == "False"));
        assert_eq!(
            find(&conditions, CONTENT_REMAINING).message.as_deref(),
            Some("All content successfully removed")
        );
        // The same outcome again changes nothing.
        assert!(!ConditionUpdater::default().update(&mut conditions, now()));
    }

    #[test]
    fn remaining_content_and_finalizers_are_counted() {
        let mut updater = ConditionUpdater::default();
        updater.content_totals(
            &[
                ("widgets.stable.example.com".to_owned(), 2),
                ("pods.".to_owned(), 1),
            ]
            .into(),
            &[("example.com/hold".to_owned(), 2)].into(),
        );
        let mut conditions = Vec::new();
        updater.update(&mut conditions, now());
        let remaining = find(&conditions, CONTENT_REMAINING);
        assert_eq!(remaining.status, "True");
        assert_eq!(remaining.reason.as_deref(), Some("SomeResourcesRemain"));
        assert_eq!(
            remaining.message.as_deref(),
            Some("Some resources are remaining: pods. has 1 resource instances, widgets.stable.example.com has 2 resource instances")
        );
        let held = find(&conditions, FINALIZERS_REMAINING);
        assert_eq!(held.reason.as_deref(), Some("SomeFinalizerRemain"));
        assert_eq!(
            held.message.as_deref(),
            Some("Some finalizers are remaining: example.com/hold in 2 resource instances")
        );
    }

    #[test]
    fn content_errors_are_aggregated_sorted() {
        let mut updater = ConditionUpdater::default();
        updater.content_deletion_failed("b failed".to_owned());
        updater.content_deletion_failed("a failed".to_owned());
        updater.discovery_failed("Discovery failed for some groups, 1 failing: x".to_owned());
        let mut conditions = Vec::new();
        updater.update(&mut conditions, now());
        let content = find(&conditions, CONTENT_FAILURE);
        assert_eq!(content.reason.as_deref(), Some("ContentDeletionFailed"));
        assert_eq!(
            content.message.as_deref(),
            Some("Failed to delete all resource types, 2 remaining: a failed, b failed")
        );
        assert_eq!(
            find(&conditions, DISCOVERY_FAILURE).reason.as_deref(),
            Some("DiscoveryFailed")
        );
    }
}
