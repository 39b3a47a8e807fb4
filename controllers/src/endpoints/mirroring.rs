//! EndpointSlice mirroring: the hand-written Endpoints of a Service without a selector are
//! mirrored into EndpointSlices (managed by `endpointslicemirroring-controller.k8s.io`), as
//! upstream's mirroring controller does; Endpoints labelled `skip-mirror` (such as the API
//! server's own) are left alone.

use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use super::slices::{MANAGED_BY, SERVICE_NAME};
use super::{backends, create, Context};
use crate::{Change, ControllerError, Informers};

const MIRROR: &str = "endpointslicemirroring-controller.k8s.io";
const SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";

pub(super) fn build(informers: &mut Informers, context: Arc<Context>) -> BoxFuture<'static, ()> {
    let endpoints = informers.subscribe::<Endpoints>();
    let store = endpoints.store.clone();
    Controller::for_shared_stream(endpoints.applied(), store)
        .reconcile_on(informers.subscribe::<EndpointSlice>().map_to(
            |change: &Change<EndpointSlice>| {
                let slice = change.object();
                (slice.labels().get(MANAGED_BY).map(String::as_str) == Some(MIRROR))
                    .then(|| slice.labels().get(SERVICE_NAME).cloned())
                    .flatten()
                    .map(|service| {
                        ObjectRef::new(&service).within(&slice.namespace().unwrap_or_default())
                    })
            },
        ))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

fn mirrored(endpoints: &Endpoints) -> Vec<EndpointSlice> {
    let name = endpoints.name_any();
    let mut slices = Vec::new();
    for subset in endpoints.subsets.iter().flatten() {
        let mut list: Vec<Endpoint> = Vec::new();
        for (addresses, ready) in [
            (&subset.addresses, true),
            (&subset.not_ready_addresses, false),
        ] {
            for address in addresses.iter().flatten() {
                list.push(Endpoint {
                    addresses: vec![address.ip.clone()],
                    conditions: Some(EndpointConditions {
                        ready: Some(ready),
                        ..EndpointConditions::default()
                    }),
                    hostname: address.hostname.clone(),
                    node_name: address.node_name.clone(),
                    target_ref: address.target_ref.clone(),
                    ..Endpoint::default()
                });
            }
        }
        let ports: Vec<EndpointPort> = subset
            .ports
            .iter()
            .flatten()
            .map(|port| EndpointPort {
                name: Some(port.name.clone().unwrap_or_default()),
                port: Some(port.port),
                protocol: port.protocol.clone(),
                app_protocol: port.app_protocol.clone(),
            })
            .collect();
        let mut labels = endpoints.labels().clone();
        labels.insert(SERVICE_NAME.to_owned(), name.clone());
        labels.insert(MANAGED_BY.to_owned(), MIRROR.to_owned());
        slices.push(EndpointSlice {
            metadata: ObjectMeta {
                namespace: endpoints.namespace(),
                generate_name: Some(format!("{name}-")),
                labels: Some(labels),
                owner_references: Some(vec![OwnerReference {
                    api_version: "v1".to_owned(),
                    kind: "Endpoints".to_owned(),
                    name: name.clone(),
                    uid: endpoints.metadata.uid.clone().unwrap_or_default(),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }]),
                ..ObjectMeta::default()
            },
            address_type: "IPv4".to_owned(),
            endpoints: list,
            ports: Some(ports),
        });
    }
    slices
}

async fn reconcile(
    endpoints: Arc<Endpoints>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    let namespace = endpoints
        .namespace()
        .ok_or(ControllerError::Missing("namespace"))?;
    let name = endpoints.name_any();
    let service = context
        .caches
        .services
        .get(&ObjectRef::new(&name).within(&namespace));
    let wanted = match &service {
        Some(service)
            if backends::selector(service).is_none()
                && !endpoints.labels().contains_key(SKIP_MIRROR) =>
        {
            mirrored(&endpoints)
        }
        _ => Vec::new(),
    };
    let mut existing: Vec<Arc<EndpointSlice>> = context
        .caches
        .slices
        .state()
        .into_iter()
        .filter(|slice| slice.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|slice| {
            slice.labels().get(SERVICE_NAME) == Some(&name)
                && slice.labels().get(MANAGED_BY).map(String::as_str) == Some(MIRROR)
        })
        .collect();
    existing.sort_by_key(|slice| slice.name_any());
    let api: Api<EndpointSlice> = Api::namespaced(context.shared.client.clone(), &namespace);
    for mut slice in wanted {
        match existing.pop() {
            Some(current) => {
                if current.endpoints == slice.endpoints && current.ports == slice.ports {
                    continue;
                }
                slice.metadata.name = current.metadata.name.clone();
                slice.metadata.resource_version = current.resource_version();
                api.replace(&current.name_any(), &PostParams::default(), &slice)
                    .await?;
            }
            None => create(&api, &slice).await?,
        }
    }
    for stale in existing {
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

fn error_policy(
    _object: Arc<Endpoints>,
    error: &ControllerError,
    _context: Arc<Context>,
) -> Action {
    tracing::debug!(%error, "endpointslice mirroring failed");
    Action::requeue(Duration::from_secs(1))
}
