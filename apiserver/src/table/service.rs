//! Services (type, cluster and external IPs, ports) and Endpoints.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Endpoints, ServiceSpec};

use super::common::{age, doc, name, text, AGE, NAME};
use super::format;
use super::node::Node;
use super::printer::{Column, Context, Printer, Row};

/// `services`.
pub static SERVICE: Printer = Printer::new(
    &[
        NAME,
        Column::new("Type", "string", doc::<ServiceSpec>("type")),
        Column::new("Cluster-IP", "string", doc::<ServiceSpec>("clusterIP")),
        Column::new("External-IP", "string", doc::<ServiceSpec>("externalIPs")),
        Column::new("Port(s)", "string", doc::<ServiceSpec>("ports")),
        AGE,
        Column::wide("Selector", "string", doc::<ServiceSpec>("selector")),
    ],
    service_row,
);

/// The sorted, de-duplicated ingress IPs (or hostnames) of a load balancer status.
pub fn load_balancer_ingress(status: Node<'_>) -> String {
    let addresses: BTreeSet<&str> = status
        .get("ingress")
        .items()
        .filter_map(|ingress| {
            let ip = ingress.get("ip").str();
            let hostname = ingress.get("hostname").str();
            if !ip.is_empty() {
                Some(ip)
            } else if !hostname.is_empty() {
                Some(hostname)
            } else {
                None
            }
        })
        .collect();
    addresses.into_iter().collect::<Vec<_>>().join(",")
}

/// The service's type as defaulted.
fn service_type(spec: Node<'_>) -> &str {
    spec.get("type").as_str().unwrap_or("ClusterIP")
}

/// `getServiceExternalIP` (server-side tables are always wide, so nothing is clipped).
pub fn external_ip(service: Node<'_>) -> String {
    let spec = service.get("spec");
    let external: Vec<&str> = spec.get("externalIPs").items().map(Node::str).collect();
    match service_type(spec) {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_owned()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let balancer = load_balancer_ingress(service.at(&["status", "loadBalancer"]));
            if !external.is_empty() {
                let mut all: Vec<&str> = Vec::new();
                if !balancer.is_empty() {
                    all.extend(balancer.split(','));
                }
                all.extend(external);
                return all.join(",");
            }
            if balancer.is_empty() {
                "<pending>".to_owned()
            } else {
                balancer
            }
        }
        "ExternalName" => spec.get("externalName").str().to_owned(),
        _ => "<unknown>".to_owned(),
    }
}

/// `makePortString`: `80/TCP`, or `80:30080/TCP` with a node port.
pub fn ports(ports: Node<'_>) -> String {
    ports
        .items()
        .map(|port| {
            let number = port.get("port").int();
            let protocol = port.get("protocol").as_str().unwrap_or("TCP");
            let node_port = port.get("nodePort").int();
            if node_port > 0 {
                format!("{number}:{node_port}/{protocol}")
            } else {
                format!("{number}/{protocol}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn service_row(service: Node<'_>, context: &Context) -> Row {
    let spec = service.get("spec");
    let cluster_ip = spec
        .get("clusterIPs")
        .items()
        .next()
        .map(Node::str)
        .or_else(|| spec.get("clusterIP").as_str().filter(|ip| !ip.is_empty()))
        .unwrap_or("<none>");
    let mut port_text = ports(spec.get("ports"));
    if port_text.is_empty() {
        port_text = "<none>".to_owned();
    }
    vec![
        name(service),
        text(service_type(spec)),
        text(cluster_ip),
        text(external_ip(service)),
        text(port_text),
        age(service, context),
        text(format::labels(spec.get("selector"))),
    ]
    .into()
}

/// `endpoints`.
pub static ENDPOINTS: Printer = Printer::new(
    &[
        NAME,
        Column::new("Endpoints", "string", doc::<Endpoints>("subsets")),
        AGE,
    ],
    |object, context| vec![name(object), text(endpoints(object)), age(object, context)].into(),
);

/// `host:port` as Go's `net.JoinHostPort` writes it (IPv6 hosts in brackets).
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints`: up to three addresses, then `+ N more...`.
pub fn endpoints(object: Node<'_>) -> String {
    const MAX: usize = 3;
    let subsets = object.get("subsets");
    if subsets.count() == 0 {
        return "<none>".to_owned();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for subset in subsets.items() {
        let addresses: Vec<&str> = subset
            .get("addresses")
            .items()
            .map(|address| address.get("ip").str())
            .collect();
        if subset.get("ports").count() == 0 {
            count += addresses.len();
            for ip in &addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push((*ip).to_owned());
            }
            continue;
        }
        for port in subset.get("ports").items() {
            count += addresses.len();
            for ip in &addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(ip, port.get("port").int()));
            }
        }
    }
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", count - MAX);
    }
    joined
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{endpoints, external_ip, ports};
    use crate::table::node::Node;

    #[test]
    fn ports_show_node_ports_and_protocols() {
        let spec = json!([
            {"port": 80, "protocol": "TCP"},
            {"port": 443, "nodePort": 30443, "protocol": "TCP"},
            {"port": 53, "protocol": "UDP"}
        ]);
        assert_eq!(ports(Node::of(&spec)), "80/TCP,443:30443/TCP,53/UDP");
        assert_eq!(ports(Node::of(&json!([]))), "");
    }

    #[test]
    fn external_ips_by_type() {
        let lb = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}});
        assert_eq!(external_ip(Node::of(&lb)), "<pending>");
        let lb = json!({"spec": {"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]},
                        "status": {"loadBalancer": {"ingress": [{"ip": "5.5.5.5"}, {"hostname": "lb.example"}]}}});
        assert_eq!(external_ip(Node::of(&lb)), "5.5.5.5,lb.example,9.9.9.9");
        let name = json!({"spec": {"type": "ExternalName", "externalName": "db.example"}});
        assert_eq!(external_ip(Node::of(&name)), "db.example");
        assert_eq!(external_ip(Node::of(&json!({"spec": {}}))), "<none>");
    }

    #[test]
    fn endpoints_list_three_then_count() {
        let object = json!({"subsets": [{
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "fd00::4"}],
            "ports": [{"port": 80}]
        }]});
        assert_eq!(
            endpoints(Node::of(&object)),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..."
        );
        let headless = json!({"subsets": [{"addresses": [{"ip": "fd00::1"}]}]});
        assert_eq!(endpoints(Node::of(&headless)), "fd00::1");
        assert_eq!(endpoints(Node::of(&json!({}))), "<none>");
    }
}
