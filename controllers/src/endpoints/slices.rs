//! The EndpointSlice controller: the same backends as EndpointSlices (at most 100 endpoints
//! each, one set of slices per port mapping), owned by the Service and labelled as upstream
//! labels them, terminating endpoints included with their conditions.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::backends::{Backend, ResolvedPort};
use super::objects::{endpoint_labels, hostname, target};

/// Who manages a slice.
pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The slices this controller writes.
pub const CONTROLLER: &str = "endpointslice-controller.k8s.io";
/// The Service a slice belongs to.
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Upstream's limit of endpoints per slice.
pub const MAX_ENDPOINTS: usize = 100;

fn endpoint(backend: &Backend, service: &Service) -> Endpoint {
    Endpoint {
        addresses: vec![backend.ip.clone()],
        conditions: Some(EndpointConditions {
            ready: Some(backend.ready),
            serving: Some(backend.serving),
            terminating: Some(backend.terminating),
        }),
        hostname: hostname(backend, service),
        node_name: backend
            .pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.clone()),
        target_ref: Some(target(backend)),
        ..Endpoint::default()
    }
}

fn slice_port(port: &ResolvedPort) -> EndpointPort {
    EndpointPort {
        name: Some(port.name.clone().unwrap_or_default()),
        port: Some(port.port),
        protocol: Some(port.protocol.clone()),
        app_protocol: port.app_protocol.clone(),
    }
}

/// The labels of a slice of `service`.
pub fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels = endpoint_labels(service);
    labels.insert(
        SERVICE_NAME.to_owned(),
        service.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(MANAGED_BY.to_owned(), CONTROLLER.to_owned());
    labels
}

/// The slices `service` should have, without names (matched to existing ones by ports).
pub fn desired(service: &Service, backends: &[Backend]) -> Vec<EndpointSlice> {
    let mut groups: BTreeMap<Vec<ResolvedPort>, Vec<Endpoint>> = BTreeMap::new();
    for backend in backends {
        groups
            .entry(backend.ports.clone())
            .or_default()
            .push(endpoint(backend, service));
    }
    if groups.is_empty() {
        // A Service without backends still gets one (empty) slice, as upstream's placeholder.
        groups.insert(Vec::new(), Vec::new());
    }
    let owner = OwnerReference {
        api_version: "v1".to_owned(),
        kind: "Service".to_owned(),
        name: service.metadata.name.clone().unwrap_or_default(),
        uid: service.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let mut slices = Vec::new();
    for (ports, endpoints) in groups {
        let chunks: Vec<Vec<Endpoint>> = if endpoints.is_empty() {
            vec![Vec::new()]
        } else {
            endpoints
                .chunks(MAX_ENDPOINTS)
                .map(<[Endpoint]>::to_vec)
                .collect()
        };
        for chunk in chunks {
            slices.push(EndpointSlice {
                metadata: ObjectMeta {
                    namespace: service.metadata.namespace.clone(),
                    generate_name: Some(format!(
                        "{}-",
                        service.metadata.name.clone().unwrap_or_default()
                    )),
                    labels: Some(slice_labels(service)),
                    owner_references: Some(vec![owner.clone()]),
                    ..ObjectMeta::default()
                },
                address_type: "IPv4".to_owned(),
                endpoints: chunk,
                ports: Some(ports.iter().map(slice_port).collect()),
            });
        }
    }
    slices
}
