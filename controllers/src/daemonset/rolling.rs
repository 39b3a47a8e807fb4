//! Rolling updates (upstream's `rollingUpdate`). Without surge, old pods are deleted while
//! no more than `maxUnavailable` nodes lack an available pod, and the manage pass creates
//! their replacements. With surge, a new pod is started next to an old one on up to
//! `maxSurge` nodes, and the old one is deleted once the new one is available.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use super::control::sync_nodes;
use super::eligibility::{daemon_pod_spec, placement};
use super::error::DaemonSetError;
use super::pods::{by_node, is_updated, NodePods};
use super::view::View;
use super::{claim_pods, Context};
use crate::workloads::podcontrol::pods::is_available;

/// The limits of one pass.
struct Limits {
    max_surge: usize,
    max_unavailable: usize,
    desired: usize,
}

/// Upstream's `updatedDesiredNodeCounts`: the limits scaled to the number of nodes that
/// should run a pod, each of which gets an (empty) entry in `node_pods`.
fn desired_counts(
    view: &View,
    nodes: &[Arc<Node>],
    node_pods: &mut NodePods,
) -> Result<Limits, DaemonSetError> {
    let spec = daemon_pod_spec(view.template.spec.as_ref());
    let mut desired = 0usize;
    for node in nodes {
        if !placement(node, &spec).should_run {
            continue;
        }
        desired += 1;
        node_pods.entry(node.name_any()).or_default();
    }
    let total = i32::try_from(desired).unwrap_or(i32::MAX);
    let max_unavailable = view
        .unavailable_count(total)
        .map_err(|e| DaemonSetError::Strategy(format!("invalid value for MaxUnavailable: {e}")))?;
    let max_surge = view
        .surge_count(total)
        .map_err(|e| DaemonSetError::Strategy(format!("invalid value for MaxSurge: {e}")))?;
    let as_count = |value: i32| usize::try_from(value).unwrap_or(0);
    let (mut max_unavailable, max_surge) = (as_count(max_unavailable), as_count(max_surge));
    // An impossible configuration (both zero) accepts one unavailable pod.
    if desired > 0 && max_unavailable == 0 && max_surge == 0 {
        tracing::info!(daemonset = %view.name, "neither surge nor unavailability allowed; allowing one unavailable pod");
        max_unavailable = 1;
    }
    Ok(Limits {
        max_surge,
        max_unavailable,
        desired,
    })
}

/// A node's pod of the current revision and its older one (neither being deleted).
#[derive(Clone, Copy)]
struct NodeRevisions<'a> {
    new: Option<&'a Arc<Pod>>,
    old: Option<&'a Arc<Pod>>,
}

/// Upstream's `findUpdatedPodsOnNode`: `None` when a node has several new or several old
/// pods (the manage pass prunes them first).
fn updated_and_old<'a>(view: &View, pods: &'a [Arc<Pod>], hash: &str) -> Option<NodeRevisions<'a>> {
    let mut found = NodeRevisions {
        new: None,
        old: None,
    };
    for pod in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let slot = if is_updated(pod, hash, view.template_generation) {
            &mut found.new
        } else {
            &mut found.old
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(pod);
    }
    Some(found)
}

/// Without surge: the old pods to delete.
fn plan_unavailable(
    view: &View,
    node_pods: &NodePods,
    hash: &str,
    limits: &Limits,
    now: Timestamp,
) -> Vec<Arc<Pod>> {
    let available = |pod: &Pod| is_available(pod, view.min_ready_seconds, now);
    let mut unavailable = 0usize;
    let mut replacements = Vec::new();
    let mut candidates = Vec::new();
    for (node, pods) in node_pods {
        let Some(NodeRevisions { new, old }) = updated_and_old(view, pods, hash) else {
            tracing::debug!(daemonset = %view.name, node = %node, "excess pods on node; left to the manage pass");
            unavailable += 1;
            continue;
        };
        match (new, old) {
            (None, None) | (Some(_), Some(_)) => unavailable += 1,
            (Some(new), None) => {
                if !available(new) {
                    unavailable += 1;
                }
            }
            (None, Some(old)) => {
                if !available(old) {
                    replacements.push(Arc::clone(old));
                    unavailable += 1;
                } else if unavailable < limits.max_unavailable {
                    candidates.push(Arc::clone(old));
                }
            }
        }
    }
    let remaining = limits
        .max_unavailable
        .saturating_sub(unavailable)
        .min(candidates.len());
    replacements.extend(candidates.into_iter().take(remaining));
    replacements
}

/// With surge: the old pods to delete and the nodes to start a new pod on.
fn plan_surge(
    view: &View,
    nodes: &HashMap<String, Arc<Node>>,
    node_pods: &NodePods,
    hash: &str,
    limits: &Limits,
    now: Timestamp,
) -> Result<(Vec<Arc<Pod>>, Vec<String>), DaemonSetError> {
    let available = |pod: &Pod| is_available(pod, view.min_ready_seconds, now);
    let spec = daemon_pod_spec(view.template.spec.as_ref());
    let should_run = |name: &str| -> Result<bool, DaemonSetError> {
        let node = nodes
            .get(name)
            .ok_or_else(|| DaemonSetError::NodeMissing(name.to_owned()))?;
        Ok(placement(node, &spec).should_run)
    };
    let mut delete = Vec::new();
    let mut sunset = Vec::new();
    let mut candidates = Vec::new();
    let mut allowed = Vec::new();
    let (mut surging, mut available_count) = (0usize, 0usize);
    for (node, pods) in node_pods {
        let Some(NodeRevisions { new, old }) = updated_and_old(view, pods, hash) else {
            surging += 1;
            continue;
        };
        if let Some(pod) = old.or(new) {
            if available(pod) {
                available_count += 1;
            }
        }
        match (new, old) {
            (_, None) => {}
            (None, Some(old)) => {
                if !available(old) {
                    if should_run(node)? {
                        allowed.push(node.clone());
                    } else {
                        delete.push(Arc::clone(old));
                    }
                } else if !should_run(node)? {
                    sunset.push(Arc::clone(old));
                } else if surging < limits.max_surge {
                    candidates.push(node.clone());
                }
            }
            (Some(new), Some(old)) => {
                if available(new) {
                    delete.push(Arc::clone(old));
                } else {
                    surging += 1;
                }
            }
        }
    }
    // Pods on nodes that no longer qualify go only once enough pods elsewhere are
    // available: surge promises full availability.
    let deletable = available_count
        .saturating_sub(limits.desired)
        .min(sunset.len());
    delete.extend(sunset.into_iter().take(deletable));
    let remaining = limits
        .max_surge
        .saturating_sub(surging)
        .min(candidates.len());
    allowed.extend(candidates.into_iter().take(remaining));
    Ok((delete, allowed))
}

/// Upstream's `rollingUpdate`.
pub async fn rolling_update(
    context: &Context,
    view: &View,
    nodes: &[Arc<Node>],
    hash: &str,
) -> Result<(), DaemonSetError> {
    let claimed = claim_pods(context, view).await?;
    let mut node_pods = by_node(&claimed, false);
    let limits = desired_counts(view, nodes, &mut node_pods)?;
    let now = Timestamp::now();
    if limits.max_surge == 0 {
        let delete = plan_unavailable(view, &node_pods, hash, &limits, now);
        return sync_nodes(context, view, delete, Vec::new(), hash).await;
    }
    let by_name: HashMap<String, Arc<Node>> = nodes
        .iter()
        .map(|node| (node.name_any(), Arc::clone(node)))
        .collect();
    let (delete, create) = plan_surge(view, &by_name, &node_pods, hash, &limits, now)?;
    sync_nodes(context, view, delete, create, hash).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use k8s_openapi::api::apps::v1::DaemonSet;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    use super::{desired_counts, plan_surge, plan_unavailable};
    use crate::daemonset::pods::NodePods;
    use crate::daemonset::view::View;

    fn view(rolling: serde_json::Value) -> Option<View> {
        let ds: DaemonSet = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "ds-uid"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        }))
        .ok()?;
        View::of(&ds).ok()
    }

    fn pod(name: &str, hash: &str, ready: bool) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "labels": {"controller-revision-hash": hash}},
                "spec": {"containers": []},
                "status": {"conditions": [{"type": "Ready",
                                            "status": if ready { "True" } else { "False" }}]},
            }))
            .unwrap_or_default(),
        )
    }

    fn nodes(names: &[&str]) -> Vec<Arc<Node>> {
        names
            .iter()
            .map(|name| {
                Arc::new(
                    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap_or_default(),
                )
            })
            .collect()
    }

    fn names(pods: &[Arc<Pod>]) -> Vec<String> {
        let mut names: Vec<String> = pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn without_surge_old_pods_go_within_max_unavailable() {
        let Some(view) = view(json!({"maxUnavailable": 1, "maxSurge": 0})) else {
            panic!("bad DaemonSet");
        };
        let all = nodes(&["a", "b", "c", "d"]);
        let mut node_pods: NodePods = HashMap::new();
        node_pods.insert("a".into(), vec![pod("a-old", "h1", true)]);
        node_pods.insert("b".into(), vec![pod("b-old", "h1", true)]);
        node_pods.insert("c".into(), vec![pod("c-old", "h1", false)]);
        let limits = desired_counts(&view, &all, &mut node_pods);
        let Ok(limits) = limits else {
            panic!("limits");
        };
        assert_eq!(
            (limits.desired, limits.max_unavailable, limits.max_surge),
            (4, 1, 0)
        );
        // Node d has no pod and c's old pod is unavailable: already over the limit, so only
        // c's unavailable pod is replaced.
        let doomed = plan_unavailable(&view, &node_pods, "h2", &limits, Timestamp::now());
        assert_eq!(names(&doomed), ["c-old"]);
        // With room for two, one available old pod goes too.
        let Some(wide) = view_with_unavailable(3) else {
            panic!("bad DaemonSet");
        };
        let limits = desired_counts(&wide, &all, &mut node_pods).ok();
        let doomed = limits
            .map(|limits| plan_unavailable(&wide, &node_pods, "h2", &limits, Timestamp::now()))
            .unwrap_or_default();
        assert_eq!(doomed.len(), 2);
        assert!(names(&doomed).contains(&"c-old".to_owned()));
    }

    fn view_with_unavailable(count: i32) -> Option<View> {
        view(json!({"maxUnavailable": count, "maxSurge": 0}))
    }

    #[test]
    fn surge_starts_new_pods_then_retires_old_ones() {
        let Some(view) = view(json!({"maxUnavailable": 0, "maxSurge": 1})) else {
            panic!("bad DaemonSet");
        };
        let all = nodes(&["a", "b", "c"]);
        let by_name = all
            .iter()
            .map(|node| {
                (
                    node.metadata.name.clone().unwrap_or_default(),
                    Arc::clone(node),
                )
            })
            .collect();
        let mut node_pods: NodePods = HashMap::new();
        // a: surged and the new pod is available; b: surged, new pod not yet ready;
        // c: old pod only.
        node_pods.insert(
            "a".into(),
            vec![pod("a-old", "h1", true), pod("a-new", "h2", true)],
        );
        node_pods.insert(
            "b".into(),
            vec![pod("b-old", "h1", true), pod("b-new", "h2", false)],
        );
        node_pods.insert("c".into(), vec![pod("c-old", "h1", true)]);
        let Ok(limits) = desired_counts(&view, &all, &mut node_pods) else {
            panic!("limits");
        };
        let planned = plan_surge(&view, &by_name, &node_pods, "h2", &limits, Timestamp::now());
        let Ok((doomed, create)) = planned else {
            panic!("plan");
        };
        assert_eq!(names(&doomed), ["a-old"]);
        // b is still surging, which uses the one allowed surge: c waits.
        assert!(create.is_empty());
        node_pods.insert("b".into(), vec![pod("b-new", "h2", true)]);
        let planned = plan_surge(&view, &by_name, &node_pods, "h2", &limits, Timestamp::now());
        let Ok((_, create)) = planned else {
            panic!("plan");
        };
        assert_eq!(create, ["c"]);
    }
}
