//! PodDisruptionBudget status, as upstream's disruption controller computes it: the pods the
//! budget selects, how many are healthy (Ready, not terminating), how many must stay
//! (`minAvailable`, or expected pods minus `maxUnavailable`, percentages against the
//! expected count from the pods' controllers' replicas), and how many disruptions are
//! allowed now.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;
use serde_json::json;

use crate::{Change, ControllerError, Informers, Shared};

struct Context {
    shared: Shared,
    pods: Store<Pod>,
    replica_sets: Store<ReplicaSet>,
    deployments: Store<Deployment>,
    stateful_sets: Store<StatefulSet>,
    controllers: Store<ReplicationController>,
}

/// Whether `selector` selects `labels` (matchLabels and matchExpressions).
pub fn selects(
    selector: &LabelSelector,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let expressions_ok = selector
        .match_expressions
        .iter()
        .flatten()
        .all(|expression| {
            let value = labels.get(&expression.key);
            let values = expression.values.clone().unwrap_or_default();
            match expression.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
    labels_ok && expressions_ok
}

fn healthy(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|status| status.conditions.as_ref())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            })
}

/// A value of an int-or-percent against `total`, rounding up as upstream does here.
fn scaled(value: &IntOrString, total: i32) -> i32 {
    match value {
        IntOrString::Int(number) => *number,
        IntOrString::String(text) => {
            let percent: f64 = text.trim_end_matches('%').parse().unwrap_or(0.0);
            (percent * f64::from(total) / 100.0).ceil() as i32
        }
    }
}

/// The replicas the controllers of `pods` want: the expected number of pods.
fn expected_from_controllers(context: &Context, pods: &[Arc<Pod>]) -> i32 {
    let mut seen: HashMap<String, i32> = HashMap::new();
    for pod in pods {
        let namespace = pod.namespace().unwrap_or_default();
        for owner in pod
            .owner_references()
            .iter()
            .filter(|o| o.controller == Some(true))
        {
            if seen.contains_key(&owner.uid) {
                continue;
            }
            let replicas = match owner.kind.as_str() {
                "ReplicaSet" => context
                    .replica_sets
                    .get(&ObjectRef::new(&owner.name).within(&namespace))
                    .map(|rs| {
                        // A ReplicaSet owned by a Deployment counts with the Deployment.
                        let deployment = rs
                            .owner_references()
                            .iter()
                            .find(|o| o.kind == "Deployment")
                            .and_then(|d| {
                                context
                                    .deployments
                                    .get(&ObjectRef::new(&d.name).within(&namespace))
                            });
                        match deployment {
                            Some(deployment) => deployment
                                .spec
                                .as_ref()
                                .and_then(|s| s.replicas)
                                .unwrap_or(1),
                            None => rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                        }
                    }),
                "StatefulSet" => context
                    .stateful_sets
                    .get(&ObjectRef::new(&owner.name).within(&namespace))
                    .map(|set| set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)),
                "ReplicationController" => context
                    .controllers
                    .get(&ObjectRef::new(&owner.name).within(&namespace))
                    .map(|rc| rc.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)),
                _ => None,
            };
            if let Some(replicas) = replicas {
                seen.insert(owner.uid.clone(), replicas);
            }
        }
    }
    seen.values().sum()
}

/// The loop, reconciling a budget when it or a pod it may select changes.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let budgets = informers.subscribe::<PodDisruptionBudget>();
    let context = Arc::new(Context {
        shared,
        pods: informers.store::<Pod>(),
        replica_sets: informers.store::<ReplicaSet>(),
        deployments: informers.store::<Deployment>(),
        stateful_sets: informers.store::<StatefulSet>(),
        controllers: informers.store::<ReplicationController>(),
    });
    let by_pod = {
        let budgets = budgets.store.clone();
        move |change: &Change<Pod>| -> Vec<ObjectRef<PodDisruptionBudget>> {
            let pod = change.object();
            budgets
                .state()
                .into_iter()
                .filter(|budget| budget.namespace() == pod.namespace())
                .filter(|budget| {
                    budget
                        .spec
                        .as_ref()
                        .and_then(|s| s.selector.as_ref())
                        .is_some_and(|selector| {
                            selects(
                                selector,
                                pod.metadata.labels.as_ref().unwrap_or(&Default::default()),
                            )
                        })
                })
                .map(|budget| ObjectRef::from_obj(&*budget))
                .collect()
        }
    };
    let store = budgets.store.clone();
    Controller::for_shared_stream(budgets.applied(), store)
        .reconcile_on(informers.subscribe::<Pod>().map_to(by_pod))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

async fn reconcile(
    budget: Arc<PodDisruptionBudget>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    let namespace = budget
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let spec = budget.spec.clone().unwrap_or_default();
    let empty = Default::default();
    let pods: Vec<Arc<Pod>> = context
        .pods
        .state()
        .into_iter()
        .filter(|pod| pod.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|pod| {
            spec.selector.as_ref().is_some_and(|selector| {
                selects(selector, pod.metadata.labels.as_ref().unwrap_or(&empty))
            })
        })
        .collect();
    let current_healthy = pods.iter().filter(|pod| healthy(pod)).count() as i32;
    let needs_controllers = matches!(spec.min_available, Some(IntOrString::String(_)))
        || spec.max_unavailable.is_some();
    let expected = if needs_controllers {
        expected_from_controllers(&context, &pods)
    } else {
        pods.len() as i32
    };
    let desired_healthy = match (&spec.min_available, &spec.max_unavailable) {
        (Some(min), _) => scaled(min, expected),
        (None, Some(max)) => (expected - scaled(max, expected)).max(0),
        (None, None) => 0,
    };
    let allowed = (current_healthy - desired_healthy).max(0);
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (status, reason, message) = if allowed > 0 {
        ("True", "SufficientPods", "")
    } else {
        ("False", "InsufficientPods", "")
    };
    let previous = budget.status.as_ref();
    let unchanged = previous.is_some_and(|s| {
        s.current_healthy == current_healthy
            && s.desired_healthy == desired_healthy
            && s.disruptions_allowed == allowed
            && s.expected_pods == expected
            && s.observed_generation == budget.metadata.generation
    });
    if unchanged {
        return Ok(Action::await_change());
    }
    let transition = previous
        .and_then(|s| s.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == "DisruptionAllowed"))
        .filter(|c| c.status == status)
        .map_or(now.clone(), |c| {
            c.last_transition_time
                .0
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        });
    let patch = json!({"status": {
        "currentHealthy": current_healthy,
        "desiredHealthy": desired_healthy,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "observedGeneration": budget.metadata.generation,
        "conditions": [{"type": "DisruptionAllowed", "status": status, "reason": reason, "message": message,
            "lastTransitionTime": transition, "observedGeneration": budget.metadata.generation}],
    }});
    let api: Api<PodDisruptionBudget> = Api::namespaced(context.shared.client.clone(), &namespace);
    api.patch_status(
        &budget.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(Action::await_change())
}

fn error_policy(
    _budget: Arc<PodDisruptionBudget>,
    error: &ControllerError,
    _context: Arc<Context>,
) -> Action {
    tracing::debug!(%error, "disruption budget reconcile failed");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    use super::scaled;

    #[test]
    fn percentages_round_up() {
        assert_eq!(scaled(&IntOrString::String("50%".to_owned()), 3), 2);
        assert_eq!(scaled(&IntOrString::Int(2), 10), 2);
    }
}
