//! Service endpoints: the Endpoints controller, the EndpointSlice controller, and the
//! mirroring of hand-written Endpoints of selector-less Services into EndpointSlices. All
//! read the same shared caches of Services, Pods, Endpoints and EndpointSlices.

mod backends;
mod mirroring;
mod objects;
mod slices;

use std::sync::Arc;
use std::time::Duration;

use futures::future::{join_all, ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;

use crate::{Change, ControllerError, Informers, Shared};

use backends::{backends, selects};

/// The caches the loops read.
#[derive(Clone)]
struct Caches {
    services: Store<Service>,
    pods: Store<Pod>,
    endpoints: Store<Endpoints>,
    slices: Store<EndpointSlice>,
}

struct Context {
    shared: Shared,
    caches: Caches,
}

/// Services a pod change concerns: those selecting it now, and those whose endpoints list
/// it (it may have stopped matching or be gone).
fn services_of_pod(caches: &Caches, change: &Change<Pod>) -> Vec<ObjectRef<Service>> {
    let pod = change.object();
    let namespace = pod.namespace();
    let uid = pod.metadata.uid.clone();
    let mut found: Vec<ObjectRef<Service>> = caches
        .services
        .state()
        .into_iter()
        .filter(|service| service.namespace() == namespace)
        .filter(|service| {
            backends::selector(service).is_some_and(|selector| selects(selector, pod))
        })
        .map(|service| ObjectRef::from_obj(&*service))
        .collect();
    for endpoints in caches.endpoints.state() {
        if endpoints.namespace() != namespace {
            continue;
        }
        let listed = endpoints.subsets.iter().flatten().any(|subset| {
            subset
                .addresses
                .iter()
                .flatten()
                .chain(subset.not_ready_addresses.iter().flatten())
                .any(|address| {
                    address.target_ref.as_ref().and_then(|t| t.uid.as_ref()) == uid.as_ref()
                })
        });
        if listed {
            let reference = ObjectRef::new(&endpoints.name_any())
                .within(namespace.as_deref().unwrap_or_default());
            if !found.contains(&reference) {
                found.push(reference);
            }
        }
    }
    found
}

/// The loops, subscribed to what they read.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let caches = Caches {
        services: informers.store::<Service>(),
        pods: informers.store::<Pod>(),
        endpoints: informers.store::<Endpoints>(),
        slices: informers.store::<EndpointSlice>(),
    };
    let context = Arc::new(Context {
        shared: shared.clone(),
        caches: caches.clone(),
    });

    let by_pod = {
        let caches = caches.clone();
        move |change: &Change<Pod>| services_of_pod(&caches, change)
    };
    let endpoints_loop = Controller::for_shared_stream(
        informers.subscribe::<Service>().applied(),
        caches.services.clone(),
    )
    .reconcile_on(informers.subscribe::<Pod>().map_to(by_pod.clone()))
    .reconcile_on(
        informers
            .subscribe::<Endpoints>()
            .map_to(|change: &Change<Endpoints>| {
                let object = change.object();
                Some(
                    ObjectRef::new(&object.name_any())
                        .within(&object.namespace().unwrap_or_default()),
                )
            }),
    )
    .run(reconcile_endpoints, error_policy, Arc::clone(&context))
    .for_each(|_| ready(()));

    let slices_loop = Controller::for_shared_stream(
        informers.subscribe::<Service>().applied(),
        caches.services.clone(),
    )
    .reconcile_on(informers.subscribe::<Pod>().map_to(by_pod))
    .reconcile_on(informers.subscribe::<EndpointSlice>().map_to(
        |change: &Change<EndpointSlice>| {
            let object = change.object();
            let service = object.labels().get(slices::SERVICE_NAME)?.clone();
            Some(ObjectRef::new(&service).within(&object.namespace().unwrap_or_default()))
        },
    ))
    .run(reconcile_slices, error_policy, Arc::clone(&context))
    .for_each(|_| ready(()));

    // A deleted Service's Endpoints go with it (its slices go by ownerReference).
    let cleanup = informers
        .subscribe::<Service>()
        .changes()
        .for_each(move |change| {
            let client = shared.client.clone();
            async move {
                if let Change::Deleted(service) = change {
                    let api: Api<Endpoints> =
                        Api::namespaced(client, &service.namespace().unwrap_or_default());
                    match api
                        .delete(&service.name_any(), &DeleteParams::default())
                        .await
                    {
                        Ok(_) | Err(kube::Error::Api(_)) => {}
                        Err(error) => tracing::debug!(%error, "deleting endpoints"),
                    }
                }
            }
        });

    let mirror = mirroring::build(informers, Arc::clone(&context));
    join_all([
        endpoints_loop.boxed(),
        slices_loop.boxed(),
        cleanup.boxed(),
        mirror,
    ])
    .map(|_| ())
    .boxed()
}

fn pods_in(caches: &Caches, namespace: Option<&str>) -> Vec<Arc<Pod>> {
    caches
        .pods
        .state()
        .into_iter()
        .filter(|pod| pod.metadata.namespace.as_deref() == namespace)
        .collect()
}

async fn reconcile_endpoints(
    service: Arc<Service>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    if backends::selector(&service).is_none() {
        return Ok(Action::await_change());
    }
    let namespace = service
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let pods = pods_in(&context.caches, Some(&namespace));
    let found = backends(&service, &pods);
    let mut wanted = objects::desired(&service, &found);
    let reference = ObjectRef::new(&service.name_any()).within(&namespace);
    let api: Api<Endpoints> = Api::namespaced(context.shared.client.clone(), &namespace);
    match context.caches.endpoints.get(&reference) {
        Some(current) => {
            if current.subsets == wanted.subsets
                && current.metadata.labels == wanted.metadata.labels
            {
                return Ok(Action::await_change());
            }
            wanted.metadata.resource_version = current.resource_version();
            wanted.metadata.annotations = current.metadata.annotations.clone();
            api.replace(&service.name_any(), &PostParams::default(), &wanted)
                .await?;
        }
        None => create(&api, &wanted).await?,
    }
    Ok(Action::await_change())
}

async fn reconcile_slices(
    service: Arc<Service>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    if backends::selector(&service).is_none() {
        return Ok(Action::await_change());
    }
    let namespace = service
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let pods = pods_in(&context.caches, Some(&namespace));
    let found = backends(&service, &pods);
    let wanted = slices::desired(&service, &found);
    let name = service.name_any();
    let mut existing: Vec<Arc<EndpointSlice>> = context
        .caches
        .slices
        .state()
        .into_iter()
        .filter(|slice| slice.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|slice| {
            let labels = slice.labels();
            labels.get(slices::SERVICE_NAME) == Some(&name)
                && labels.get(slices::MANAGED_BY).map(String::as_str) == Some(slices::CONTROLLER)
        })
        .collect();
    existing.sort_by_key(|slice| slice.name_any());
    let api: Api<EndpointSlice> = Api::namespaced(context.shared.client.clone(), &namespace);
    let mut unused: Vec<Arc<EndpointSlice>> = existing;
    for mut slice in wanted {
        // Reuse a slice with the same ports (else any unused one), as upstream reuses.
        let position = unused
            .iter()
            .position(|current| current.ports == slice.ports)
            .or(if unused.is_empty() { None } else { Some(0) });
        match position {
            Some(at) => {
                let current = unused.remove(at);
                if current.endpoints == slice.endpoints
                    && current.ports == slice.ports
                    && current.metadata.labels == slice.metadata.labels
                {
                    continue;
                }
                slice.metadata.name = current.metadata.name.clone();
                slice.metadata.generate_name = current.metadata.generate_name.clone();
                slice.metadata.resource_version = current.resource_version();
                api.replace(&current.name_any(), &PostParams::default(), &slice)
                    .await?;
            }
            None => create(&api, &slice).await?,
        }
    }
    for stale in unused {
        match api
            .delete(&stale.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Action::await_change())
}

/// Creates `object`, treating "already exists" as a race another writer won.
async fn create<K>(api: &Api<K>, object: &K) -> Result<(), ControllerError>
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.create(&PostParams::default(), object).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

fn error_policy<K>(_object: Arc<K>, error: &ControllerError, _context: Arc<Context>) -> Action {
    tracing::debug!(%error, "endpoints reconcile failed");
    Action::requeue(Duration::from_secs(1))
}
