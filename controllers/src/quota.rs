//! ResourceQuota usage, as upstream's resourcequota controller reports it: `status.hard`
//! mirrors `spec.hard`, and `status.used` counts objects and sums the requests and limits of
//! the namespace's non-terminal pods, for each resource the quota names.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, Secret, Service,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Wire;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;
use serde_json::json;

use crate::quantity::Quantity;
use crate::{Change, ControllerError, Informers, Shared};

struct Context {
    shared: Shared,
    quotas: Store<ResourceQuota>,
    pods: Store<Pod>,
    services: Store<Service>,
    config_maps: Store<ConfigMap>,
    secrets: Store<Secret>,
    claims: Store<PersistentVolumeClaim>,
    controllers: Store<ReplicationController>,
}

fn in_namespace<K>(store: &Store<K>, namespace: &str) -> Vec<Arc<K>>
where
    K: kube::Resource + Clone,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    store
        .state()
        .into_iter()
        .filter(|object| object.meta().namespace.as_deref() == Some(namespace))
        .collect()
}

fn live(pod: &Pod) -> bool {
    !matches!(
        pod.status
            .as_ref()
            .and_then(|status| status.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Sum of a resource over every container of live pods, `requests` or `limits` (init
/// containers counted as upstream does: the larger of the max init container and the sum).
fn pod_sum(pods: &[Arc<Pod>], kind: &str, resource: &str) -> Quantity {
    let mut total = Quantity::default();
    for pod in pods.iter().filter(|pod| live(pod)) {
        let Some(spec) = pod.spec.as_ref() else {
            continue;
        };
        let of = |container: &k8s_openapi::api::core::v1::Container| {
            container
                .resources
                .as_ref()
                .and_then(|r| {
                    if kind == "requests" {
                        r.requests.as_ref()
                    } else {
                        r.limits.as_ref()
                    }
                })
                .and_then(|map| map.get(resource))
                .and_then(|q| Quantity::parse(&q.0))
                .unwrap_or_default()
        };
        let regular = spec
            .containers
            .iter()
            .map(of)
            .fold(Quantity::default(), Quantity::add);
        let init = spec
            .init_containers
            .iter()
            .flatten()
            .map(of)
            .max_by_key(|q| q.milli)
            .unwrap_or_default();
        total = total.add(if init.milli > regular.milli {
            init
        } else {
            regular
        });
    }
    total
}

fn used(context: &Context, namespace: &str, resource: &str) -> Option<Quantity> {
    let pods = in_namespace(&context.pods, namespace);
    let count = |n: usize| Some(Quantity::count(n));
    match resource {
        "pods" | "count/pods" => count(pods.iter().filter(|pod| live(pod)).count()),
        "services" | "count/services" => count(in_namespace(&context.services, namespace).len()),
        "services.nodeports" => count(
            in_namespace(&context.services, namespace)
                .iter()
                .filter(|s| {
                    matches!(
                        s.spec.as_ref().and_then(|spec| spec.type_.as_deref()),
                        Some("NodePort" | "LoadBalancer")
                    )
                })
                .map(|s| {
                    s.spec
                        .as_ref()
                        .and_then(|spec| spec.ports.as_ref())
                        .map_or(0, Vec::len)
                })
                .sum(),
        ),
        "services.loadbalancers" => count(
            in_namespace(&context.services, namespace)
                .iter()
                .filter(|s| {
                    s.spec.as_ref().and_then(|spec| spec.type_.as_deref()) == Some("LoadBalancer")
                })
                .count(),
        ),
        "configmaps" | "count/configmaps" => {
            count(in_namespace(&context.config_maps, namespace).len())
        }
        "secrets" | "count/secrets" => count(in_namespace(&context.secrets, namespace).len()),
        "persistentvolumeclaims" | "count/persistentvolumeclaims" => {
            count(in_namespace(&context.claims, namespace).len())
        }
        "replicationcontrollers" | "count/replicationcontrollers" => {
            count(in_namespace(&context.controllers, namespace).len())
        }
        "resourcequotas" | "count/resourcequotas" => {
            count(in_namespace(&context.quotas, namespace).len())
        }
        "requests.storage" => Some(
            in_namespace(&context.claims, namespace)
                .iter()
                .filter_map(|claim| {
                    claim
                        .spec
                        .as_ref()?
                        .resources
                        .as_ref()?
                        .requests
                        .as_ref()?
                        .get("storage")
                        .and_then(|q| Quantity::parse(&q.0))
                })
                .fold(Quantity::default(), Quantity::add),
        ),
        "cpu" | "requests.cpu" => Some(pod_sum(&pods, "requests", "cpu")),
        "memory" | "requests.memory" => Some(pod_sum(&pods, "requests", "memory")),
        "limits.cpu" => Some(pod_sum(&pods, "limits", "cpu")),
        "limits.memory" => Some(pod_sum(&pods, "limits", "memory")),
        "ephemeral-storage" | "requests.ephemeral-storage" => {
            Some(pod_sum(&pods, "requests", "ephemeral-storage"))
        }
        "limits.ephemeral-storage" => Some(pod_sum(&pods, "limits", "ephemeral-storage")),
        _ => None,
    }
}

/// The loop: a quota is recomputed when it or anything in its namespace it counts changes.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let quotas = informers.subscribe::<ResourceQuota>();
    let context = Arc::new(Context {
        shared,
        quotas: quotas.store.clone(),
        pods: informers.store::<Pod>(),
        services: informers.store::<Service>(),
        config_maps: informers.store::<ConfigMap>(),
        secrets: informers.store::<Secret>(),
        claims: informers.store::<PersistentVolumeClaim>(),
        controllers: informers.store::<ReplicationController>(),
    });
    fn by_namespace<K: kube::Resource>(
        quotas: Store<ResourceQuota>,
    ) -> impl Fn(&Change<K>) -> Vec<ObjectRef<ResourceQuota>> + Send + 'static {
        move |change: &Change<K>| {
            let namespace = change.object().meta().namespace.clone();
            quotas
                .state()
                .into_iter()
                .filter(|quota| quota.namespace() == namespace)
                .map(|quota| ObjectRef::from_obj(&*quota))
                .collect()
        }
    }
    let store = quotas.store.clone();
    Controller::for_shared_stream(quotas.applied(), store.clone())
        .reconcile_on(
            informers
                .subscribe::<Pod>()
                .map_to(by_namespace::<Pod>(store.clone())),
        )
        .reconcile_on(
            informers
                .subscribe::<Service>()
                .map_to(by_namespace::<Service>(store.clone())),
        )
        .reconcile_on(
            informers
                .subscribe::<ConfigMap>()
                .map_to(by_namespace::<ConfigMap>(store.clone())),
        )
        .reconcile_on(
            informers
                .subscribe::<Secret>()
                .map_to(by_namespace::<Secret>(store.clone())),
        )
        .reconcile_on(
            informers
                .subscribe::<PersistentVolumeClaim>()
                .map_to(by_namespace::<PersistentVolumeClaim>(store)),
        )
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

async fn reconcile(
    quota: Arc<ResourceQuota>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    let namespace = quota
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let hard = quota
        .spec
        .as_ref()
        .and_then(|spec| spec.hard.clone())
        .unwrap_or_default();
    let mut usage: BTreeMap<String, Wire> = BTreeMap::new();
    for resource in hard.keys() {
        if let Some(amount) = used(&context, &namespace, resource) {
            usage.insert(resource.clone(), Wire(amount.format()));
        }
    }
    let status = quota.status.clone().unwrap_or_default();
    if status.hard.as_ref() == Some(&hard) && status.used.as_ref() == Some(&usage) {
        return Ok(Action::await_change());
    }
    let api: Api<ResourceQuota> = Api::namespaced(context.shared.client.clone(), &namespace);
    let patch = json!({"status": {"hard": hard, "used": usage}});
    api.patch_status(
        &quota.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(Action::await_change())
}

fn error_policy(
    _quota: Arc<ResourceQuota>,
    error: &ControllerError,
    _context: Arc<Context>,
) -> Action {
    tracing::debug!(%error, "resource quota reconcile failed");
    Action::requeue(Duration::from_secs(1))
}
