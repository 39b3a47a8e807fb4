//! `networking.k8s.io/v1` (Ingresses, IngressClasses, NetworkPolicies, ServiceCIDRs,
//! IPAddresses) and `discovery.k8s.io/v1` EndpointSlices.

use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{IPAddressSpec, NetworkPolicySpec, ServiceCIDRSpec};

use super::common::{age, doc, name, text, AGE, NAME};
use super::format;
use super::node::Node;
use super::printer::{Column, Doc, Printer};
use super::service::load_balancer_ingress;

/// `ingresses`.
pub static INGRESS: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Class",
            "string",
            Doc::Text("The name of the IngressClass resource that should be used for additional configuration"),
        ),
        Column::new(
            "Hosts",
            "string",
            Doc::Text("Hosts that incoming requests are matched against before the ingress rule"),
        ),
        Column::new(
            "Address",
            "string",
            Doc::Text("Address is a list containing ingress points for the load-balancer"),
        ),
        Column::new(
            "Ports",
            "string",
            Doc::Text("Ports of TLS configurations that open"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let class = spec
            .get("ingressClassName")
            .as_str()
            .map_or_else(|| "<none>".to_owned(), str::to_owned);
        let ports = if spec.get("tls").count() == 0 {
            "80"
        } else {
            "80, 443"
        };
        vec![
            name(object),
            text(class),
            text(hosts(spec.get("rules"))),
            text(load_balancer_ingress(
                object.at(&["status", "loadBalancer"]),
            )),
            text(ports),
            age(object, context),
        ]
        .into()
    },
);

/// `formatHosts`: up to three rule hosts, `*` when none names one.
pub fn hosts(rules: Node<'_>) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules.items() {
        if list.len() == MAX {
            more = true;
        }
        let host = rule.get("host").str();
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_owned();
    }
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", rules.count() - MAX);
    }
    joined
}

/// `ingressclasses`.
pub static INGRESS_CLASS: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Controller",
            "string",
            Doc::Text("Controller that is responsible for handling this class"),
        ),
        Column::new(
            "Parameters",
            "string",
            Doc::Text("A reference to a resource with additional parameters"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let parameters = spec.get("parameters");
        let parameters = if parameters.is_set() {
            let mut kind = parameters.get("kind").str().to_owned();
            if let Some(group) = parameters.get("apiGroup").as_str() {
                kind = format!("{kind}.{group}");
            }
            format!("{kind}/{}", parameters.get("name").str())
        } else {
            "<none>".to_owned()
        };
        vec![
            name(object),
            text(spec.get("controller").str()),
            text(parameters),
            age(object, context),
        ]
        .into()
    },
);

/// `networkpolicies`.
pub static NETWORK_POLICY: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Pod-Selector",
            "string",
            doc::<NetworkPolicySpec>("podSelector"),
        ),
        AGE,
    ],
    |object, context| {
        vec![
            name(object),
            text(format::label_selector(object.at(&["spec", "podSelector"]))),
            age(object, context),
        ]
        .into()
    },
);

/// `servicecidrs`.
pub static SERVICE_CIDR: Printer = Printer::new(
    &[
        NAME,
        Column::new("CIDRs", "string", doc::<ServiceCIDRSpec>("cidrs")),
        AGE,
    ],
    |object, context| {
        let cidrs: Vec<&str> = object
            .at(&["spec", "cidrs"])
            .items()
            .map(Node::str)
            .collect();
        vec![name(object), text(cidrs.join(",")), age(object, context)].into()
    },
);

/// `ipaddresses` (upstream declares no Age column but still sends the age cell).
pub static IP_ADDRESS: Printer = Printer::new(
    &[
        NAME,
        Column::new("ParentRef", "string", doc::<IPAddressSpec>("parentRef")),
    ],
    |object, context| {
        let parent = object.at(&["spec", "parentRef"]);
        let parent = if parent.is_set() {
            let group = parent.get("group").str();
            let resource = parent.get("resource").str();
            let mut text = if group.is_empty() {
                resource.to_owned()
            } else {
                format!("{resource}.{group}")
            }
            .to_lowercase();
            let namespace = parent.get("namespace").str();
            if !namespace.is_empty() {
                text = format!("{text}/{namespace}");
            }
            format!("{text}/{}", parent.get("name").str())
        } else {
            "<none>".to_owned()
        };
        vec![name(object), text(parent), age(object, context)].into()
    },
);

/// `endpointslices`.
pub static ENDPOINT_SLICE: Printer = Printer::new(
    &[
        NAME,
        Column::new("AddressType", "string", doc::<EndpointSlice>("addressType")),
        Column::new("Ports", "string", doc::<EndpointSlice>("ports")),
        Column::new("Endpoints", "string", doc::<EndpointSlice>("endpoints")),
        AGE,
    ],
    |object, context| {
        const MAX: usize = 3;
        let ports: Vec<String> = object
            .get("ports")
            .items()
            .take(MAX)
            .map(|port| match port.get("port").as_i64() {
                Some(number) => number.to_string(),
                None => port
                    .get("name")
                    .as_str()
                    .map_or_else(|| "*".to_owned(), str::to_owned),
            })
            .collect();
        let port_count = object.get("ports").count();
        let addresses: Vec<String> = object
            .get("endpoints")
            .items()
            .flat_map(|endpoint| endpoint.get("addresses").items())
            .map(|address| address.str().to_owned())
            .collect();
        let shown = &addresses[..addresses.len().min(MAX)];
        vec![
            name(object),
            text(object.get("addressType").str()),
            text(format::list_with_more(&ports, port_count, MAX)),
            text(format::list_with_more(shown, addresses.len(), MAX)),
            age(object, context),
        ]
        .into()
    },
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::hosts;
    use crate::table::node::Node;

    #[test]
    fn hosts_list_three_then_count() {
        let rules = json!([{"host": "a"}, {}, {"host": "b"}, {"host": "c"}, {"host": "d"}]);
        assert_eq!(hosts(Node::of(&rules)), "a,b,c + 2 more...");
        assert_eq!(hosts(Node::of(&json!([{}]))), "*");
    }
}
