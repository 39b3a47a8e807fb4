//! Which pods back a Service and on which ports: the selection both the Endpoints and the
//! EndpointSlice controllers start from (upstream's `podToEndpointAddress`,
//! `ShouldPodBeInEndpoints` and port resolution by number or container port name).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// One pod's address as a Service endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Backend {
    /// The pod.
    pub pod: Arc<Pod>,
    /// Its IP.
    pub ip: String,
    /// Ready to take traffic (its Ready condition, or published regardless).
    pub ready: bool,
    /// Its Ready condition, even while terminating.
    pub serving: bool,
    /// Being deleted.
    pub terminating: bool,
    /// The service ports this pod serves, resolved to its container ports.
    pub ports: Vec<ResolvedPort>,
}

/// A service port with its target resolved for one pod.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResolvedPort {
    /// The service port's name.
    pub name: Option<String>,
    /// The pod's port number.
    pub port: i32,
    /// TCP, UDP or SCTP.
    pub protocol: String,
    /// The service port's appProtocol.
    pub app_protocol: Option<String>,
}

/// The selector of a Service, if it selects pods at all (selector-less Services have
/// endpoints managed by hand, or mirrored).
pub fn selector(service: &Service) -> Option<&BTreeMap<String, String>> {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.as_ref())
        .filter(|selector| !selector.is_empty())
}

/// Whether `pod` carries every label of `selector`.
pub fn selects(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    selector
        .iter()
        .all(|(key, value)| labels.and_then(|labels| labels.get(key)) == Some(value))
}

fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition.type_ == "Ready" && condition.status == "True")
        })
}

fn terminal(pod: &Pod) -> bool {
    matches!(
        pod.status
            .as_ref()
            .and_then(|status| status.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// A service port's target on `pod`: a number, or the container port with that name.
fn resolve(port: &ServicePort, pod: &Pod) -> Option<i32> {
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(number)) => Some(*number),
        Some(IntOrString::String(name)) => {
            if let Ok(number) = name.parse::<i32>() {
                return Some(number);
            }
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            pod.spec
                .as_ref()?
                .containers
                .iter()
                .flat_map(|container| container.ports.iter().flatten())
                .find(|container_port| {
                    container_port.name.as_deref() == Some(name.as_str())
                        && container_port.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|container_port| container_port.container_port)
        }
    }
}

/// The pods backing `service`, by IP; terminating pods are kept (EndpointSlices show them)
/// and marked.
pub fn backends(service: &Service, pods: &[Arc<Pod>]) -> Vec<Backend> {
    let Some(selector) = selector(service) else {
        return Vec::new();
    };
    let namespace = service.metadata.namespace.as_deref();
    let publish_not_ready = service
        .spec
        .as_ref()
        .and_then(|spec| spec.publish_not_ready_addresses)
        .unwrap_or(false);
    let service_ports = service
        .spec
        .as_ref()
        .and_then(|spec| spec.ports.clone())
        .unwrap_or_default();
    let mut backends: Vec<Backend> = pods
        .iter()
        .filter(|pod| pod.metadata.namespace.as_deref() == namespace)
        .filter(|pod| selects(selector, pod) && !terminal(pod))
        .filter_map(|pod| {
            let ip = pod
                .status
                .as_ref()
                .and_then(|status| status.pod_ip.clone())
                .filter(|ip| !ip.is_empty())?;
            let terminating = pod.metadata.deletion_timestamp.is_some();
            let serving = pod_ready(pod);
            let ready = (serving || publish_not_ready) && !terminating;
            let mut ports: Vec<ResolvedPort> = service_ports
                .iter()
                .filter_map(|port| {
                    Some(ResolvedPort {
                        name: port.name.clone().filter(|name| !name.is_empty()),
                        port: resolve(port, pod)?,
                        protocol: port.protocol.clone().unwrap_or_else(|| "TCP".to_owned()),
                        app_protocol: port.app_protocol.clone(),
                    })
                })
                .collect();
            ports.sort();
            Some(Backend {
                pod: Arc::clone(pod),
                ip,
                ready,
                serving: serving || publish_not_ready,
                terminating,
                ports,
            })
        })
        .collect();
    backends.sort_by(|a, b| a.ip.cmp(&b.ip));
    backends
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::{Pod, Service};
    use serde_json::json;

    use super::backends;

    fn pod(name: &str, ip: &str, ready: bool, labels: serde_json::Value) -> Arc<Pod> {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
        }))
        .unwrap_or_default();
        Arc::new(pod)
    }

    #[test]
    fn selected_pods_with_ips_back_the_service() {
        let service: Service = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [
                {"name": "http", "port": 80, "targetPort": "http"},
                {"name": "metrics", "port": 9090, "targetPort": 9090},
            ]},
        }))
        .unwrap_or_default();
        let pods = vec![
            pod("b", "10.0.0.2", false, json!({"app": "web"})),
            pod("a", "10.0.0.1", true, json!({"app": "web"})),
            pod("other", "10.0.0.3", true, json!({"app": "db"})),
            pod("no-ip", "", true, json!({"app": "web"})),
        ];
        let found = backends(&service, &pods);
        let summary: Vec<(&str, bool)> = found.iter().map(|b| (b.ip.as_str(), b.ready)).collect();
        assert_eq!(summary, [("10.0.0.1", true), ("10.0.0.2", false)]);
        let ports: Vec<i32> = found[0].ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, [8080, 9090]);
    }
}
