//! Pods: the computed status (`Running`, `ContainerCreating`, `Init:0/1`,
//! `CrashLoopBackOff`, `Terminating`, ...), ready containers, restarts with the time of the
//! last one, as `kubectl get pods` shows them.

use std::collections::HashMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
use serde_json::{json, Value};

use super::common::{age, doc, name, text, AGE, NAME};
use super::format;
use super::node::Node;
use super::printer::{Column, Context, Doc, Printer, Row};

const COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Ready",
        "string",
        Doc::Text("The aggregate readiness state of this pod for accepting traffic."),
    ),
    Column::new(
        "Status",
        "string",
        Doc::Text("The aggregate status of the containers in this pod."),
    ),
    Column::new(
        "Restarts",
        "string",
        Doc::Text("The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    ),
    AGE,
    Column::wide("IP", "string", doc::<PodStatus>("podIP")),
    Column::wide("Node", "string", doc::<PodSpec>("nodeName")),
    Column::wide(
        "Nominated Node",
        "string",
        doc::<PodStatus>("nominatedNodeName"),
    ),
    Column::wide(
        "Readiness Gates",
        "string",
        doc::<PodSpec>("readinessGates"),
    ),
];

/// `pods`.
pub static POD: Printer = Printer::new(COLUMNS, row);

/// The reason upstream gives for pods on an unreachable node.
const NODE_LOST: &str = "NodeLost";

/// What `printPod` computes from the status.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    /// Ready containers.
    pub ready: usize,
    /// Containers (plus restartable init containers).
    pub total: usize,
    /// The `Status` column.
    pub reason: String,
    /// Restarts counted.
    pub restarts: i64,
    /// When the last counted restart ended.
    pub last_restart: Option<Timestamp>,
}

fn terminated_at(status: Node<'_>) -> Option<Timestamp> {
    format::timestamp(status.at(&["lastState", "terminated", "finishedAt"]))
}

fn later(current: Option<Timestamp>, candidate: Option<Timestamp>) -> Option<Timestamp> {
    match (current, candidate) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn condition_true(pod: Node<'_>, kind: &str) -> bool {
    pod.at(&["status", "conditions"])
        .items()
        .find(|condition| condition.get("type").str() == kind)
        .is_some_and(|condition| condition.get("status").str() == "True")
}

fn has_ready_condition(pod: Node<'_>) -> bool {
    pod.at(&["status", "conditions"]).items().any(|condition| {
        condition.get("type").str() == "Ready" && condition.get("status").str() == "True"
    })
}

/// Termination as a reason: its reason, else `Signal:N` or `ExitCode:N`.
fn terminated_reason(terminated: Node<'_>, prefix: &str) -> String {
    let reason = terminated.get("reason").str();
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = terminated.get("signal").int();
    if signal != 0 {
        return format!("{prefix}Signal:{signal}");
    }
    format!("{prefix}ExitCode:{}", terminated.get("exitCode").int())
}

/// The status summary `printPod` computes.
pub fn summarize(pod: Node<'_>) -> Summary {
    let spec = pod.get("spec");
    let status = pod.get("status");
    let phase = status.get("phase").str();
    let mut reason = phase.to_owned();
    if !status.get("reason").str().is_empty() {
        reason = status.get("reason").str().to_owned();
    }
    if status.get("conditions").items().any(|condition| {
        condition.get("type").str() == "PodScheduled"
            && condition.get("reason").str() == "SchedulingGated"
    }) {
        reason = "SchedulingGated".to_owned();
    }

    let restartable: HashMap<&str, bool> = spec
        .get("initContainers")
        .items()
        .map(|container| {
            (
                container.get("name").str(),
                container.get("restartPolicy").str() == "Always",
            )
        })
        .collect();
    let init_count = spec.get("initContainers").count();
    let total =
        spec.get("containers").count() + restartable.values().filter(|always| **always).count();
    let mut ready = 0;
    let mut restarts = 0;
    let mut restartable_restarts = 0;
    let mut last_restart = None;
    let mut last_restartable_restart = None;

    let mut initializing = false;
    for (index, container) in status.get("initContainerStatuses").items().enumerate() {
        let count = container.get("restartCount").int();
        restarts += count;
        last_restart = later(last_restart, terminated_at(container));
        let is_restartable = restartable
            .get(container.get("name").str())
            .copied()
            .unwrap_or(false);
        if is_restartable {
            restartable_restarts += count;
            last_restartable_restart = later(last_restartable_restart, terminated_at(container));
        }
        let state = container.get("state");
        let terminated = state.get("terminated");
        let waiting_reason = state.at(&["waiting", "reason"]).str();
        if terminated.is_set() && terminated.get("exitCode").int() == 0 {
            continue;
        }
        if is_restartable && container.get("started").bool() {
            if container.get("ready").bool() {
                ready += 1;
            }
            continue;
        }
        if terminated.is_set() {
            reason = terminated_reason(terminated, "Init:");
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{index}/{init_count}");
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        let statuses: Vec<Node<'_>> = status.get("containerStatuses").items().collect();
        for container in statuses.iter().rev() {
            restarts += container.get("restartCount").int();
            last_restart = later(last_restart, terminated_at(*container));
            let state = container.get("state");
            let waiting_reason = state.at(&["waiting", "reason"]).str();
            let terminated = state.get("terminated");
            if state.get("waiting").is_set() && !waiting_reason.is_empty() {
                reason = waiting_reason.to_owned();
            } else if terminated.is_set() {
                reason = terminated_reason(terminated, "");
            } else if container.get("ready").bool() && state.get("running").is_set() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_ready_condition(pod) {
                "Running".to_owned()
            } else {
                "NotReady".to_owned()
            };
        }
    }

    let deleting = pod.at(&["metadata", "deletionTimestamp"]).is_set();
    if deleting && status.get("reason").str() == NODE_LOST {
        reason = "Unknown".to_owned();
    } else if deleting && !matches!(phase, "Succeeded" | "Failed") {
        reason = "Terminating".to_owned();
    }
    Summary {
        ready,
        total,
        reason,
        restarts,
        last_restart,
    }
}

fn readiness_gates(pod: Node<'_>) -> String {
    let gates = pod.at(&["spec", "readinessGates"]);
    if gates.count() == 0 {
        return "<none>".to_owned();
    }
    let conditions = pod.at(&["status", "conditions"]);
    let passing = gates
        .items()
        .filter(|gate| {
            let kind = gate.get("conditionType").str();
            conditions
                .items()
                .find(|condition| condition.get("type").str() == kind)
                .is_some_and(|condition| condition.get("status").str() == "True")
        })
        .count();
    format!("{passing}/{}", gates.count())
}

fn row(pod: Node<'_>, context: &Context) -> Row {
    let summary = summarize(pod);
    let restarts = match summary.last_restart {
        Some(time) if summary.restarts != 0 => format!(
            "{} ({} ago)",
            summary.restarts,
            format::human_duration(context.now.duration_since(time))
        ),
        _ => summary.restarts.to_string(),
    };
    // As the internal form has it: `podIPs`, or the single `podIP` of older writers.
    let ip = pod
        .at(&["status", "podIPs"])
        .items()
        .next()
        .map(|ip| ip.get("ip").str())
        .unwrap_or_else(|| pod.at(&["status", "podIP"]).str());
    let cells = vec![
        name(pod),
        text(format!("{}/{}", summary.ready, summary.total)),
        text(summary.reason),
        text(restarts),
        age(pod, context),
        text(format::or_none(ip)),
        text(format::or_none(pod.at(&["spec", "nodeName"]).str())),
        text(format::or_none(
            pod.at(&["status", "nominatedNodeName"]).str(),
        )),
        text(readiness_gates(pod)),
    ];
    let conditions = match pod.at(&["status", "phase"]).str() {
        "Succeeded" => vec![completed(
            "Succeeded",
            "The pod has completed successfully.",
        )],
        "Failed" => vec![completed("Failed", "The pod failed.")],
        _ => Vec::new(),
    };
    Row { cells, conditions }
}

fn completed(reason: &str, message: &str) -> Value {
    json!({"type": "Completed", "status": "True", "reason": reason, "message": message})
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::summarize;
    use crate::table::node::Node;

    fn status_of(pod: &Value) -> (String, String, i64) {
        let summary = summarize(Node::of(pod));
        (
            format!("{}/{}", summary.ready, summary.total),
            summary.reason,
            summary.restarts,
        )
    }

    fn running(name: &str, ready: bool, restarts: i64) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts,
               "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}})
    }

    #[test]
    fn pending_pods_show_their_phase() {
        let pod = json!({"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}});
        assert_eq!(status_of(&pod), ("0/1".into(), "Pending".into(), 0));
    }

    #[test]
    fn running_pods_count_ready_containers_and_restarts() {
        let pod = json!({
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                running("a", true, 2),
                {"name": "b", "ready": false, "restartCount": 3,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:05:00Z"}}},
            ]}
        });
        let summary = summarize(Node::of(&pod));
        assert_eq!((summary.ready, summary.total), (1, 2));
        assert_eq!(summary.reason, "CrashLoopBackOff");
        assert_eq!(summary.restarts, 5);
        assert_eq!(
            summary.last_restart.map(|time| time.to_string()),
            Some("2026-01-01T00:05:00Z".to_owned())
        );
    }

    #[test]
    fn waiting_containers_name_the_reason() {
        let pod = json!({
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}}
            ]}
        });
        assert_eq!(status_of(&pod).1, "ContainerCreating");
    }

    #[test]
    fn completed_and_failed_containers() {
        let completed = json!({
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ]}
        });
        assert_eq!(status_of(&completed), ("0/1".into(), "Completed".into(), 0));
        let signal = json!({
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Failed", "containerStatuses": [
                {"name": "a", "restartCount": 0, "state": {"terminated": {"exitCode": 137, "signal": 9}}}
            ]}
        });
        assert_eq!(status_of(&signal).1, "Signal:9");
        let code = json!({
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Failed", "containerStatuses": [
                {"name": "a", "restartCount": 0, "state": {"terminated": {"exitCode": 2}}}
            ]}
        });
        assert_eq!(status_of(&code).1, "ExitCode:2");
    }

    #[test]
    fn completed_with_a_running_container_is_running_or_not_ready() {
        let mut pod = json!({
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                running("b", true, 0),
            ]}
        });
        // Containers are visited last to first, so `a`'s Completed is the final reason.
        assert_eq!(status_of(&pod).1, "NotReady");
        pod["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
        assert_eq!(status_of(&pod), ("1/2".into(), "Running".into(), 0));
    }

    #[test]
    fn init_containers_show_progress() {
        let pod = json!({
            "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "restartCount": 0, "state": {"terminated": {"exitCode": 0}}},
                {"name": "i2", "restartCount": 0, "state": {"running": {}}},
            ]}
        });
        assert_eq!(status_of(&pod), ("0/1".into(), "Init:1/2".into(), 0));
        let failing = json!({
            "spec": {"initContainers": [{"name": "i1"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            ]}
        });
        assert_eq!(
            status_of(&failing),
            ("0/1".into(), "Init:CrashLoopBackOff".into(), 4)
        );
        let errored = json!({
            "spec": {"initContainers": [{"name": "i1"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "restartCount": 0, "state": {"terminated": {"exitCode": 3, "reason": "Error"}}},
            ]}
        });
        assert_eq!(status_of(&errored).1, "Init:Error");
    }

    #[test]
    fn sidecars_count_as_containers() {
        let pod = json!({
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                     "containers": [{"name": "a"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "initContainerStatuses": [
                    {"name": "proxy", "ready": true, "started": true, "restartCount": 1,
                     "state": {"running": {}}},
                ],
                "containerStatuses": [running("a", true, 0)]}
        });
        assert_eq!(status_of(&pod), ("2/2".into(), "Running".into(), 1));
    }

    #[test]
    fn deleted_pods_are_terminating_or_unknown() {
        let mut pod = json!({
            "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [running("a", true, 0)]}
        });
        assert_eq!(status_of(&pod).1, "Terminating");
        pod["status"]["reason"] = json!("NodeLost");
        assert_eq!(status_of(&pod).1, "Unknown");
        pod["status"]["phase"] = json!("Succeeded");
        pod["status"]["reason"] = json!("");
        pod["status"]["containerStatuses"] = json!([]);
        assert_eq!(status_of(&pod).1, "Succeeded");
    }

    #[test]
    fn scheduling_gated_pods() {
        let pod = json!({
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
            ]}
        });
        assert_eq!(status_of(&pod).1, "SchedulingGated");
    }
}
