//! Resource quantities and the per-pod and per-node sums the scheduler compares: upstream's
//! `framework.Resource` (milli-CPU, bytes, pod count, extended resources as integers).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// CPU a container without a request counts as when spreading load (upstream's
/// `DefaultMilliCPURequest`), so that many best-effort pods do not pile onto one node.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory a container without a request counts as when scoring (`DefaultMemoryRequest`).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Parses a Kubernetes quantity into thousandths of its unit (rounded up, as upstream's
/// `MilliValue`), or `None` when malformed.
pub fn parse_milli(text: &str) -> Option<i128> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let multiplier: i128 = match suffix {
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        _ => 1,
    };
    let exponent: i32 = match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => 0,
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        _ if suffix.starts_with(['e', 'E']) => suffix.get(1..)?.parse().ok()?,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let negative = whole.starts_with('-');
    let whole = whole.trim_start_matches(['+', '-']);
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i128 = digits.parse().ok()?;
    let mut scale = exponent + 3 - i32::try_from(fraction.len()).ok()?;
    while scale > 0 {
        value = value.checked_mul(10)?;
        scale -= 1;
    }
    while scale < 0 {
        value = (value + 9) / 10;
        scale += 1;
    }
    let milli = value.checked_mul(multiplier)?;
    Some(if negative { -milli } else { milli })
}

/// A quantity's value in thousandths (CPU), saturating; 0 when malformed.
pub fn milli_value(quantity: &Quantity) -> i64 {
    parse_milli(&quantity.0)
        .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A quantity's whole value (bytes, counts), rounded up; 0 when malformed.
pub fn value(quantity: &Quantity) -> i64 {
    parse_milli(&quantity.0)
        .map(|v| {
            let units = if v >= 0 { (v + 999) / 1000 } else { v / 1000 };
            i64::try_from(units).unwrap_or(i64::MAX)
        })
        .unwrap_or(0)
}

/// Amounts of every resource the scheduler accounts for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    /// CPU in thousandths of a core.
    pub milli_cpu: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// How many pods (only meaningful for a node's allocatable).
    pub allowed_pods: i64,
    /// Extended and other scalar resources (`example.com/gpu`, `hugepages-2Mi`).
    pub scalar: BTreeMap<String, i64>,
}

impl Resource {
    /// Reads a resource list (requests, allocatable, overhead).
    pub fn from_list(list: &BTreeMap<String, Quantity>) -> Self {
        let mut out = Self::default();
        for (name, quantity) in list {
            out.add_named(name, quantity);
        }
        out
    }

    fn add_named(&mut self, name: &str, quantity: &Quantity) {
        match name {
            "cpu" => self.milli_cpu += milli_value(quantity),
            "memory" => self.memory += value(quantity),
            "ephemeral-storage" => self.ephemeral_storage += value(quantity),
            "pods" => self.allowed_pods += value(quantity),
            other => *self.scalar.entry(other.to_owned()).or_default() += value(quantity),
        }
    }

    /// Adds `other` in place.
    pub fn add(&mut self, other: &Self) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.allowed_pods += other.allowed_pods;
        for (name, amount) in &other.scalar {
            *self.scalar.entry(name.clone()).or_default() += amount;
        }
    }

    /// Subtracts `other` in place (when a pod leaves a node).
    pub fn sub(&mut self, other: &Self) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.allowed_pods -= other.allowed_pods;
        for (name, amount) in &other.scalar {
            *self.scalar.entry(name.clone()).or_default() -= amount;
        }
    }

    /// Raises each amount to at least `other`'s (the init-container rule).
    pub fn max_with(&mut self, other: &Self) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (name, amount) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_default();
            *entry = (*entry).max(*amount);
        }
    }

    /// Whether nothing is requested (a best-effort pod).
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }

    /// The amount of a named resource.
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.allowed_pods,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }
}

fn container_requests(container: &Container, non_zero: bool) -> Resource {
    let mut out = container
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .map(Resource::from_list)
        .unwrap_or_default();
    if non_zero {
        let requests = container
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref());
        if !requests.is_some_and(|r| r.contains_key("cpu")) {
            out.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !requests.is_some_and(|r| r.contains_key("memory")) {
            out.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    out
}

/// What a pod asks of a node, as upstream's `resourcehelper.PodRequests` sums it: regular
/// containers plus sidecars, at least any init container's need, plus the pod overhead.
/// `non_zero` counts containers without CPU/memory requests at the scoring defaults.
pub fn pod_requests(pod: &Pod, non_zero: bool) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let mut total = Resource::default();
    if let Some(pod_level) = spec.resources.as_ref().and_then(|r| r.requests.as_ref()) {
        total = Resource::from_list(pod_level);
    } else {
        for container in &spec.containers {
            total.add(&container_requests(container, non_zero));
        }
        let mut sidecars = Resource::default();
        let mut init_max = Resource::default();
        for container in spec.init_containers.iter().flatten() {
            let requests = container_requests(container, non_zero);
            if container.restart_policy.as_deref() == Some("Always") {
                total.add(&requests);
                sidecars.add(&requests);
                init_max.max_with(&sidecars);
            } else {
                let mut during = requests;
                during.add(&sidecars);
                init_max.max_with(&during);
            }
        }
        total.max_with(&init_max);
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        total.add(&Resource::from_list(overhead));
    }
    total.allowed_pods = 0;
    total
}

/// A node's `status.allocatable` (falling back to capacity, as the kubelet reports both).
pub fn node_allocatable(node: &Node) -> Resource {
    let status = node.status.as_ref();
    status
        .and_then(|s| s.allocatable.as_ref().or(s.capacity.as_ref()))
        .map(Resource::from_list)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_parse() {
        assert_eq!(parse_milli("100m"), Some(100));
        assert_eq!(parse_milli("1.5"), Some(1500));
        assert_eq!(parse_milli("1Gi"), Some(1000 << 30));
        assert_eq!(parse_milli("2k"), Some(2_000_000));
        assert_eq!(parse_milli("1e3"), Some(1_000_000));
        assert_eq!(parse_milli("abc"), None);
        assert_eq!(value(&Quantity("128Mi".into())), 128 << 20);
        assert_eq!(milli_value(&Quantity("2".into())), 2000);
    }

    #[test]
    fn init_containers_and_overhead() {
        let pod: Pod = serde_json::from_value(json!({
            "spec": {
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "200m"}}}
                ],
                "initContainers": [
                    {"name": "i", "resources": {"requests": {"cpu": "1", "example.com/gpu": "1"}}}
                ],
                "overhead": {"cpu": "50m"}
            }
        }))
        .expect("pod");
        let r = pod_requests(&pod, false);
        assert_eq!(r.milli_cpu, 1050);
        assert_eq!(r.memory, 1 << 30);
        assert_eq!(r.scalar.get("example.com/gpu"), Some(&1));
        let nz = pod_requests(&pod, true);
        assert_eq!(nz.memory, (1 << 30) + DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn sidecars_add_up() {
        let pod: Pod = serde_json::from_value(json!({
            "spec": {
                "containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}],
                "initContainers": [
                    {"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}},
                    {"name": "i", "resources": {"requests": {"cpu": "250m"}}}
                ]
            }
        }))
        .expect("pod");
        // sidecar runs beside the app (300m); the init container runs beside the sidecar (450m).
        assert_eq!(pod_requests(&pod, false).milli_cpu, 450);
    }
}
