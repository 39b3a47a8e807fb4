//! The Endpoints controller: one `Endpoints` object per Service with a selector, its
//! addresses grouped into subsets by port set, ready and not-ready apart, as upstream's
//! endpoint controller writes them (terminating pods are left out).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::backends::{Backend, ResolvedPort};

/// The label upstream puts on the endpoints of headless Services.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

/// Whether a Service is headless (`clusterIP: None`).
pub fn headless(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.cluster_ip.as_deref())
        == Some("None")
}

/// The labels endpoints of `service` carry: the Service's, plus the headless marker.
pub fn endpoint_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    if headless(service) {
        labels.insert(HEADLESS_LABEL.to_owned(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
    labels
}

pub(super) fn target(backend: &Backend) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".to_owned()),
        namespace: backend.pod.metadata.namespace.clone(),
        name: backend.pod.metadata.name.clone(),
        uid: backend.pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The pod's hostname within a headless Service's DNS subdomain, if it has one.
pub(super) fn hostname(backend: &Backend, service: &Service) -> Option<String> {
    let spec = backend.pod.spec.as_ref()?;
    let service_name = service.metadata.name.as_deref()?;
    (spec.subdomain.as_deref() == Some(service_name))
        .then(|| spec.hostname.clone())
        .flatten()
}

fn address(backend: &Backend, service: &Service) -> EndpointAddress {
    EndpointAddress {
        ip: backend.ip.clone(),
        hostname: hostname(backend, service),
        node_name: backend
            .pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.clone()),
        target_ref: Some(target(backend)),
    }
}

fn endpoint_port(port: &ResolvedPort) -> EndpointPort {
    EndpointPort {
        name: port.name.clone(),
        port: port.port,
        protocol: Some(port.protocol.clone()),
        app_protocol: port.app_protocol.clone(),
    }
}

/// The subsets for `backends`: one per distinct port set, addresses sorted by IP.
pub fn subsets(service: &Service, backends: &[Backend]) -> Vec<EndpointSubset> {
    let mut groups: BTreeMap<Vec<ResolvedPort>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    for backend in backends.iter().filter(|backend| !backend.terminating) {
        let group = groups.entry(backend.ports.clone()).or_default();
        if backend.ready {
            group.0.push(address(backend, service));
        } else {
            group.1.push(address(backend, service));
        }
    }
    groups
        .into_iter()
        .map(|(ports, (ready, not_ready))| EndpointSubset {
            addresses: (!ready.is_empty()).then_some(ready),
            not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
            ports: (!ports.is_empty()).then(|| ports.iter().map(endpoint_port).collect()),
        })
        .collect()
}

/// The Endpoints object `service` should have.
pub fn desired(service: &Service, backends: &[Backend]) -> Endpoints {
    Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            labels: Some(endpoint_labels(service)).filter(|labels| !labels.is_empty()),
            ..ObjectMeta::default()
        },
        subsets: Some(subsets(service, backends)).filter(|subsets| !subsets.is_empty()),
    }
}
