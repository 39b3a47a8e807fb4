//! Services: ClusterIP allocation from the service CIDR (one `IPAddress` object per IP, as
//! the 1.33+ allocator records it, created with create-if-absent so two API servers never
//! hand out the same IP), NodePort allocation, defaulting and validation.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::{json, Value};

use super::Strategy;
use crate::object::{now_rfc3339, Object};
use crate::status::{ApiError, Reason};
use crate::storage::{StorageError, Store};
use crate::validation::{self, FieldError};

/// The NodePort range upstream uses by default.
const NODE_PORT_MIN: u16 = 30000;
const NODE_PORT_MAX: u16 = 32767;
const NODE_PORT_KEY: &str = "/registry/ranges/servicenodeports";
/// Random tries before scanning the range in order.
const RANDOM_TRIES: usize = 32;

/// An IPv4 service CIDR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceCidr {
    network: u32,
    prefix: u8,
}

impl ServiceCidr {
    /// `address/prefix`; host bits of `address` are ignored.
    pub fn new(address: Ipv4Addr, prefix: u8) -> Self {
        let prefix = prefix.min(30);
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
        Self {
            network: u32::from(address) & mask,
            prefix,
        }
    }

    /// Parses `10.96.0.0/12`.
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        Some(Self::new(address.parse().ok()?, prefix.parse().ok()?))
    }

    fn size(&self) -> u32 {
        1u32 << (32 - u32::from(self.prefix))
    }

    /// The first usable address: the `kubernetes` Service's.
    pub fn first(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network + 1)
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        let offset = u32::from(ip).wrapping_sub(self.network);
        offset > 0 && offset < self.size() - 1
    }

    fn nth(&self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.network + offset)
    }
}

impl std::fmt::Display for ServiceCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

/// The Services strategy.
pub struct ServiceStrategy {
    cidr: ServiceCidr,
}

fn ip_key(ip: Ipv4Addr) -> String {
    format!("/registry/ipaddresses/{ip}")
}

fn spec(object: &Object) -> Option<&serde_json::Map<String, Value>> {
    object.0.get("spec").and_then(Value::as_object)
}

fn invalid(object: &Object, errors: Vec<FieldError>) -> ApiError {
    validation::invalid("Service", "", object.name().unwrap_or_default(), errors)
}

impl ServiceStrategy {
    /// Allocating from `cidr`.
    pub fn new(cidr: ServiceCidr) -> Self {
        Self { cidr }
    }

    /// The service CIDR.
    pub fn cidr(&self) -> ServiceCidr {
        self.cidr
    }

    /// Records `ip` as taken by the Service; false if someone holds it already.
    async fn claim_ip(
        &self,
        store: &dyn Store,
        ip: Ipv4Addr,
        namespace: &str,
        name: &str,
    ) -> Result<bool, ApiError> {
        let record = json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IPAddress",
            "metadata": {
                "name": ip.to_string(),
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": now_rfc3339(),
                "labels": {
                    "ipaddress.kubernetes.io/ip-family": "IPv4",
                    "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io",
                },
            },
            "spec": {"parentRef": {"group": "", "resource": "services", "namespace": namespace, "name": name}},
        });
        let value = Bytes::from(serde_json::to_vec(&record).unwrap_or_default());
        match store.create(&ip_key(ip), value).await {
            Ok(_) => Ok(true),
            Err(StorageError::AlreadyExists { .. }) => Ok(false),
            Err(error) => Err(ApiError::new(Reason::InternalError, error.to_string())),
        }
    }

    async fn allocate_ip(
        &self,
        store: &dyn Store,
        namespace: &str,
        name: &str,
    ) -> Result<Ipv4Addr, ApiError> {
        let usable = self.cidr.size().saturating_sub(2);
        for _ in 0..RANDOM_TRIES {
            // Offset 1 is the kubernetes Service's; leave it to start-up.
            let ip = self
                .cidr
                .nth(2 + fastrand::u32(0..usable.saturating_sub(1).max(1)));
            if self.claim_ip(store, ip, namespace, name).await? {
                return Ok(ip);
            }
        }
        for offset in 2..=usable {
            let ip = self.cidr.nth(offset);
            if self.claim_ip(store, ip, namespace, name).await? {
                return Ok(ip);
            }
        }
        Err(ApiError::new(
            Reason::InternalError,
            format!(
                "failed to allocate a serviceIP: range is full ({})",
                self.cidr
            ),
        ))
    }

    /// Creates the `kubernetes` Service's IP record if missing (idempotent at start-up).
    pub async fn claim_kubernetes_ip(&self, store: &dyn Store) -> Result<Ipv4Addr, ApiError> {
        let ip = self.cidr.first();
        self.claim_ip(store, ip, "default", "kubernetes").await?;
        Ok(ip)
    }

    async fn release_ip(&self, store: &dyn Store, ip: &str) {
        let key = format!("/registry/ipaddresses/{ip}");
        if let Err(error) = store.delete(&key, None).await {
            if !matches!(error, StorageError::NotFound { .. }) {
                tracing::warn!(%ip, %error, "cannot release service IP");
            }
        }
    }

    /// Gives node ports back to the range (logged, not failed: the object's change is done).
    async fn release_node_ports(&self, store: &dyn Store, ports: &[u16]) {
        if ports.is_empty() {
            return;
        }
        if let Err(error) = self.update_node_ports(store, &[], 0, ports).await {
            tracing::warn!(%error, ?ports, "cannot release node ports");
        }
    }

    /// Takes or gives back node ports in the shared range record (compare-and-swap).
    async fn update_node_ports(
        &self,
        store: &dyn Store,
        take: &[u16],
        want_random: usize,
        give_back: &[u16],
    ) -> Result<Vec<u16>, ApiError> {
        let internal =
            |error: StorageError| ApiError::new(Reason::InternalError, error.to_string());
        loop {
            let current = store.get(NODE_PORT_KEY, None).await.map_err(internal)?;
            let mut used: BTreeSet<u16> = current
                .as_ref()
                .and_then(|kv| serde_json::from_slice::<Value>(&kv.value).ok())
                .and_then(|value| value.get("used").cloned())
                .and_then(|used| serde_json::from_value(used).ok())
                .unwrap_or_default();
            for port in give_back {
                used.remove(port);
            }
            for port in take {
                if !used.insert(*port) {
                    return Err(ApiError::new(
                        Reason::Invalid,
                        format!("spec.ports[].nodePort: Invalid value: {port}: provided port is already allocated"),
                    ));
                }
            }
            let mut granted = Vec::new();
            let free: Vec<u16> = (NODE_PORT_MIN..=NODE_PORT_MAX)
                .filter(|port| !used.contains(port))
                .collect();
            if free.len() < want_random {
                return Err(ApiError::new(
                    Reason::InternalError,
                    "failed to allocate a nodePort: range is full",
                ));
            }
            let mut pool = free;
            for _ in 0..want_random {
                let port = pool.swap_remove(fastrand::usize(..pool.len()));
                used.insert(port);
                granted.push(port);
            }
            let record = json!({
                "kind": "RangeAllocation", "apiVersion": "v1", "metadata": {},
                "range": format!("{NODE_PORT_MIN}-{NODE_PORT_MAX}"),
                "used": used,
            });
            let value = Bytes::from(serde_json::to_vec(&record).unwrap_or_default());
            let written = match &current {
                Some(kv) => store
                    .update(NODE_PORT_KEY, value, kv.mod_revision)
                    .await
                    .map(|_| ()),
                None => store.create(NODE_PORT_KEY, value).await.map(|_| ()),
            };
            match written {
                Ok(()) => return Ok(granted),
                Err(StorageError::Conflict { .. } | StorageError::AlreadyExists { .. }) => continue,
                Err(error) => return Err(internal(error)),
            }
        }
    }
}

/// Upstream's defaults for a Service spec.
fn default_spec(spec: &mut serde_json::Map<String, Value>) {
    let service_type = spec
        .entry("type")
        .or_insert_with(|| json!("ClusterIP"))
        .as_str()
        .unwrap_or("ClusterIP")
        .to_owned();
    spec.entry("sessionAffinity")
        .or_insert_with(|| json!("None"));
    if service_type != "ExternalName" {
        spec.entry("internalTrafficPolicy")
            .or_insert_with(|| json!("Cluster"));
    }
    if matches!(service_type.as_str(), "NodePort" | "LoadBalancer") {
        spec.entry("externalTrafficPolicy")
            .or_insert_with(|| json!("Cluster"));
    }
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            port.entry("protocol").or_insert_with(|| json!("TCP"));
            if !port.contains_key("targetPort") {
                if let Some(number) = port.get("port").cloned() {
                    port.insert("targetPort".into(), number);
                }
            }
        }
    }
}

fn validate_spec(object: &Object, needs_ports: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(spec) = spec(object) else {
        errors.push(FieldError::required("spec", ""));
        return errors;
    };
    let service_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    if !matches!(
        service_type,
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName"
    ) {
        errors.push(FieldError {
            reason: "FieldValueNotSupported",
            field: "spec.type".into(),
            message: format!(
                "Unsupported value: {service_type:?}: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            ),
        });
    }
    let ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if ports.is_empty() && needs_ports && service_type != "ExternalName" {
        errors.push(FieldError::required("spec.ports", ""));
    }
    let mut names = BTreeSet::new();
    for (index, port) in ports.iter().enumerate() {
        let field = format!("spec.ports[{index}]");
        let name = port.get("name").and_then(Value::as_str).unwrap_or_default();
        if ports.len() > 1 && name.is_empty() {
            errors.push(FieldError::required(format!("{field}.name"), ""));
        }
        if !name.is_empty() && !names.insert(name.to_owned()) {
            errors.push(FieldError {
                reason: "FieldValueDuplicate",
                field: format!("{field}.name"),
                message: format!("Duplicate value: {name:?}"),
            });
        }
        match port.get("port").and_then(Value::as_i64) {
            Some(number) if (1..=65535).contains(&number) => {}
            Some(number) => errors.push(FieldError::invalid(
                format!("{field}.port"),
                &number.to_string(),
                "must be between 1 and 65535, inclusive",
            )),
            None => errors.push(FieldError::required(format!("{field}.port"), "")),
        }
        let protocol = port
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("TCP");
        if !matches!(protocol, "TCP" | "UDP" | "SCTP") {
            errors.push(FieldError {
                reason: "FieldValueNotSupported",
                field: format!("{field}.protocol"),
                message: format!(
                    "Unsupported value: {protocol:?}: supported values: \"SCTP\", \"TCP\", \"UDP\""
                ),
            });
        }
    }
    errors
}

fn node_port_types(object: &Object) -> bool {
    matches!(
        spec(object)
            .and_then(|spec| spec.get("type"))
            .and_then(Value::as_str),
        Some("NodePort" | "LoadBalancer")
    )
}

fn node_ports(object: &Object) -> Vec<u16> {
    spec(object)
        .and_then(|spec| spec.get("ports"))
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|port| port.get("nodePort").and_then(Value::as_u64))
                .filter_map(|port| u16::try_from(port).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn cluster_ip(object: &Object) -> Option<String> {
    spec(object)
        .and_then(|spec| spec.get("clusterIP"))
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty() && *ip != "None")
        .map(str::to_owned)
}

#[async_trait]
impl Strategy for ServiceStrategy {
    async fn before_create(&self, store: &dyn Store, object: &mut Object) -> Result<(), ApiError> {
        let headless = spec(object)
            .and_then(|spec| spec.get("clusterIP"))
            .and_then(Value::as_str)
            == Some("None");
        let errors = validate_spec(object, !headless);
        if !errors.is_empty() {
            return Err(invalid(object, errors));
        }
        let namespace = object.namespace().unwrap_or("default").to_owned();
        let name = object.name().unwrap_or_default().to_owned();
        let external_name = spec(object)
            .and_then(|spec| spec.get("type"))
            .and_then(Value::as_str)
            == Some("ExternalName");
        let requested = cluster_ip(object);
        let ip = if headless || external_name {
            None
        } else if let Some(text) = requested {
            let ip: Ipv4Addr = text.parse().map_err(|_| {
                invalid(
                    object,
                    vec![FieldError::invalid(
                        "spec.clusterIPs[0]",
                        &text,
                        "must be a valid IP address",
                    )],
                )
            })?;
            if !self.cidr.contains(ip) {
                return Err(invalid(object, vec![FieldError::invalid(
                    "spec.clusterIPs",
                    &text,
                    &format!("failed to allocate IP {text}: provided IP is not in the valid range. The range of valid IPs is {}", self.cidr),
                )]));
            }
            if !self.claim_ip(store, ip, &namespace, &name).await? {
                return Err(invalid(
                    object,
                    vec![FieldError::invalid(
                        "spec.clusterIPs",
                        &text,
                        &format!("failed to allocate IP {text}: provided IP is already allocated"),
                    )],
                ));
            }
            Some(ip)
        } else {
            Some(self.allocate_ip(store, &namespace, &name).await?)
        };
        let wants_node_ports = node_port_types(object);
        let requested_ports = if wants_node_ports {
            node_ports(object)
        } else {
            Vec::new()
        };
        let missing = if wants_node_ports {
            spec(object)
                .and_then(|spec| spec.get("ports"))
                .and_then(Value::as_array)
                .map(|ports| {
                    ports
                        .iter()
                        .filter(|port| port.get("nodePort").is_none())
                        .count()
                })
                .unwrap_or(0)
        } else {
            0
        };
        let granted = if wants_node_ports {
            match self
                .update_node_ports(store, &requested_ports, missing, &[])
                .await
            {
                Ok(granted) => granted,
                Err(error) => {
                    if let Some(ip) = ip {
                        self.release_ip(store, &ip.to_string()).await;
                    }
                    return Err(error);
                }
            }
        } else {
            Vec::new()
        };
        let spec = object.0.entry("spec").or_insert_with(|| json!({}));
        if let Value::Object(spec) = spec {
            default_spec(spec);
            match ip {
                Some(ip) => {
                    spec.insert("clusterIP".into(), json!(ip.to_string()));
                    spec.insert("clusterIPs".into(), json!([ip.to_string()]));
                }
                None if headless => {
                    spec.insert("clusterIPs".into(), json!(["None"]));
                }
                None => {}
            }
            if !external_name {
                spec.insert("ipFamilies".into(), json!(["IPv4"]));
                spec.insert("ipFamilyPolicy".into(), json!("SingleStack"));
            }
            let mut granted = granted.into_iter();
            if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    if wants_node_ports && !port.contains_key("nodePort") {
                        if let Some(node_port) = granted.next() {
                            port.insert("nodePort".into(), json!(node_port));
                        }
                    }
                }
            }
        }
        object.set("status", json!({"loadBalancer": {}}));
        Ok(())
    }

    async fn create_failed(&self, store: &dyn Store, object: &Object) {
        self.after_delete(store, object).await;
    }

    async fn before_update(
        &self,
        store: &dyn Store,
        old: &Object,
        new: &mut Object,
    ) -> Result<(), ApiError> {
        let errors = validate_spec(new, cluster_ip(old).is_some());
        if !errors.is_empty() {
            return Err(invalid(new, errors));
        }
        let old_ip = cluster_ip(old);
        let new_ip = cluster_ip(new);
        if new_ip.is_some() && new_ip != old_ip {
            return Err(invalid(
                new,
                vec![FieldError::invalid(
                    "spec.clusterIPs[0]",
                    new_ip.as_deref().unwrap_or_default(),
                    "may not change once set",
                )],
            ));
        }
        let old_ports = node_ports(old);
        if let Some(Value::Object(spec)) = new.0.get_mut("spec") {
            default_spec(spec);
            if let Some(ip) = &old_ip {
                spec.insert("clusterIP".into(), json!(ip));
                spec.insert("clusterIPs".into(), json!([ip]));
            }
            for field in ["ipFamilies", "ipFamilyPolicy"] {
                if let Some(value) = old.0.get("spec").and_then(|spec| spec.get(field)) {
                    spec.entry(field).or_insert_with(|| value.clone());
                }
            }
        }
        // Node ports: keep the ones the Service had, allocate new ones for new ports.
        if node_port_types(new) {
            let kept: Vec<u16> = node_ports(new);
            let take: Vec<u16> = kept
                .iter()
                .copied()
                .filter(|port| !old_ports.contains(port))
                .collect();
            let missing = new
                .0
                .get("spec")
                .and_then(|spec| spec.get("ports"))
                .and_then(Value::as_array)
                .map(|ports| {
                    ports
                        .iter()
                        .filter(|port| port.get("nodePort").is_none())
                        .count()
                })
                .unwrap_or(0);
            // Ports the old object held are given back only once the update is stored
            // (`after_update`), so a failed update leaves the Service as it was.
            let granted = self.update_node_ports(store, &take, missing, &[]).await?;
            let mut granted = granted.into_iter();
            if let Some(Value::Array(ports)) =
                new.0.get_mut("spec").and_then(|spec| spec.get_mut("ports"))
            {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    if !port.contains_key("nodePort") {
                        if let Some(node_port) = granted.next() {
                            port.insert("nodePort".into(), json!(node_port));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn after_update(&self, store: &dyn Store, old: &Object, new: &Object) {
        let kept = node_ports(new);
        let released: Vec<u16> = node_ports(old)
            .into_iter()
            .filter(|port| !kept.contains(port))
            .collect();
        self.release_node_ports(store, &released).await;
    }

    async fn update_failed(&self, store: &dyn Store, old: &Object, new: &Object) {
        let held = node_ports(old);
        let taken: Vec<u16> = node_ports(new)
            .into_iter()
            .filter(|port| !held.contains(port))
            .collect();
        self.release_node_ports(store, &taken).await;
    }

    async fn after_delete(&self, store: &dyn Store, object: &Object) {
        if let Some(ip) = cluster_ip(object) {
            self.release_ip(store, &ip).await;
        }
        self.release_node_ports(store, &node_ports(object)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::ServiceCidr;

    #[test]
    fn cidr_arithmetic() {
        let cidr = ServiceCidr::parse("10.96.0.0/12")
            .unwrap_or(ServiceCidr::new(Ipv4Addr::UNSPECIFIED, 0));
        assert_eq!(cidr.first(), Ipv4Addr::new(10, 96, 0, 1));
        assert!(cidr.contains(Ipv4Addr::new(10, 111, 255, 254)));
        assert!(!cidr.contains(Ipv4Addr::new(10, 112, 0, 1)));
        assert!(!cidr.contains(Ipv4Addr::new(10, 96, 0, 0)));
        assert_eq!(cidr.to_string(), "10.96.0.0/12");
    }
}
