//! `spec.podFailurePolicy`: the first rule matching a failed pod (by container exit codes
//! or pod conditions) decides whether the Job fails, the failure is ignored, counted, or
//! fails the pod's index.

use k8s_openapi::api::batch::v1::{PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// The action of the matching rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Fail the whole Job.
    FailJob,
    /// Fail the pod's index (with `backoffLimitPerIndex`).
    FailIndex,
    /// Do not count the failure.
    Ignore,
    /// Count the failure (the default).
    Count,
}

/// What a failed pod means under the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The Job failure message, for a `FailJob` rule.
    pub fail_job: Option<String>,
    /// Whether the failure counts toward the back-off limits.
    pub counts: bool,
    /// The matched rule's action.
    pub action: Option<Action>,
}

const NO_MATCH: Verdict = Verdict {
    fail_job: None,
    counts: true,
    action: None,
};

/// Matches `pod` (failed) against `policy`, as upstream's `matchPodFailurePolicy`.
pub fn match_policy(policy: Option<&PodFailurePolicy>, pod: &Pod) -> Verdict {
    let Some(policy) = policy else {
        return NO_MATCH;
    };
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    for (index, rule) in policy.rules.iter().enumerate() {
        let matched: Option<String> = if let Some(requirement) = &rule.on_exit_codes {
            matching_container(pod, requirement).map(|container| {
                let code = container
                    .state
                    .as_ref()
                    .and_then(|state| state.terminated.as_ref())
                    .map(|terminated| terminated.exit_code)
                    .unwrap_or(0);
                format!(
                    "Container {} for pod {namespace}/{name} failed with exit code {code} matching {} rule at index {index}",
                    container.name, rule.action
                )
            })
        } else if let Some(patterns) = &rule.on_pod_conditions {
            pod.status
                .as_ref()
                .and_then(|status| status.conditions.as_ref())
                .and_then(|conditions| {
                    conditions.iter().find(|condition| {
                        patterns.iter().any(|pattern| {
                            condition.type_ == pattern.type_
                                && Some(condition.status.as_str())
                                    == pattern.status.as_deref().or(Some("True"))
                        })
                    })
                })
                .map(|condition| {
                    format!(
                        "Pod {namespace}/{name} has condition {} matching {} rule at index {index}",
                        condition.type_, rule.action
                    )
                })
        } else {
            None
        };
        let Some(message) = matched else {
            continue;
        };
        match rule.action.as_str() {
            "Ignore" => {
                return Verdict {
                    fail_job: None,
                    counts: false,
                    action: Some(Action::Ignore),
                }
            }
            "FailIndex" => {
                return Verdict {
                    fail_job: None,
                    counts: true,
                    action: Some(Action::FailIndex),
                }
            }
            "Count" => {
                return Verdict {
                    fail_job: None,
                    counts: true,
                    action: Some(Action::Count),
                }
            }
            "FailJob" => {
                return Verdict {
                    fail_job: Some(message),
                    counts: true,
                    action: Some(Action::FailJob),
                }
            }
            // An unknown action matches nothing (upstream falls through its switch).
            _ => {}
        }
    }
    NO_MATCH
}

fn matching_container<'a>(
    pod: &'a Pod,
    requirement: &PodFailurePolicyOnExitCodesRequirement,
) -> Option<&'a ContainerStatus> {
    let status = pod.status.as_ref()?;
    let find = |statuses: Option<&'a Vec<ContainerStatus>>| {
        statuses?.iter().find(|container| {
            let Some(terminated) = container.state.as_ref().and_then(|s| s.terminated.as_ref())
            else {
                return false;
            };
            let named = requirement
                .container_name
                .as_deref()
                .is_none_or(|name| name == container.name);
            named && terminated.exit_code != 0 && {
                let listed = requirement.values.contains(&terminated.exit_code);
                match requirement.operator.as_str() {
                    "In" => listed,
                    "NotIn" => !listed,
                    _ => false,
                }
            }
        })
    };
    find(status.container_statuses.as_ref())
        .or_else(|| find(status.init_container_statuses.as_ref()))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::batch::v1::PodFailurePolicy;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    use super::{match_policy, Action};

    fn from(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap_or_default()
    }

    fn policy(value: serde_json::Value) -> PodFailurePolicy {
        serde_json::from_value(value).unwrap_or_default()
    }

    fn failed_with(code: i32) -> Pod {
        from(json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": "Failed", "containerStatuses": [{
                "name": "main", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": code}}
            }]}
        }))
    }

    #[test]
    fn exit_codes_decide() {
        let rules = policy(json!({"rules": [
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
            {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}},
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [42, 3]}}
        ]}));
        let verdict = match_policy(Some(&rules), &failed_with(42));
        assert_eq!(verdict.action, Some(Action::FailJob));
        assert_eq!(
            verdict.fail_job.as_deref(),
            Some("Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0")
        );
        let ignored = match_policy(Some(&rules), &failed_with(3));
        assert!(!ignored.counts && ignored.action == Some(Action::Ignore));
        assert_eq!(
            match_policy(Some(&rules), &failed_with(1)).action,
            Some(Action::Count)
        );
    }

    #[test]
    fn pod_conditions_decide() {
        let rules = policy(json!({"rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
        ]}));
        let pod = from(json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": "Failed", "conditions": [{"type": "DisruptionTarget", "status": "True"}]}
        }));
        assert!(!match_policy(Some(&rules), &pod).counts);
        assert!(match_policy(None, &pod).counts);
    }
}
