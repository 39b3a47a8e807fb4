//! The pod every write sends: shaped like one a Deployment's ReplicaSet makes (labels, a
//! restart annotation, env, resources, probes, mounts, tolerations), about 4.4 KB of JSON.
//! It is rendered once and spliced per request, so building bodies costs the load
//! generator next to nothing.

use bytes::Bytes;
use serde_json::json;

/// Annotation carrying the write's sequence number (watch events are matched by it).
pub const SEQ_ANNOTATION: &str = "loadgen.ferrokube.io/seq";
/// Annotation carrying the wall-clock time (Unix nanoseconds) the write was sent.
pub const SENT_ANNOTATION: &str = "loadgen.ferrokube.io/sent-unix-nanos";

const NAME: &str = "@@NAME@@";
const SEQ: &str = "@@SEQ@@";
const SENT: &str = "@@SENT@@";

/// A pre-rendered pod body with three holes: name, sequence number, send time.
pub struct PodTemplate {
    /// The text between the holes (one more piece than holes).
    pieces: Vec<String>,
    /// Which hole follows each piece but the last.
    holes: Vec<&'static str>,
}

impl PodTemplate {
    /// Renders the pod for `namespace`.
    pub fn new(namespace: &str) -> Self {
        let text = pod(namespace).to_string();
        let mut found: Vec<(usize, &'static str)> = [NAME, SEQ, SENT]
            .into_iter()
            .filter_map(|hole| text.find(hole).map(|at| (at, hole)))
            .collect();
        found.sort_unstable();
        let mut pieces = Vec::with_capacity(found.len() + 1);
        let mut holes = Vec::with_capacity(found.len());
        let mut from = 0;
        for (at, hole) in found {
            pieces.push(text[from..at].to_owned());
            holes.push(hole);
            from = at + hole.len();
        }
        pieces.push(text[from..].to_owned());
        Self { pieces, holes }
    }

    /// The body for pod `name` (a DNS label), write number `seq`, sent at `sent_unix_nanos`.
    pub fn render(&self, name: &str, seq: u64, sent_unix_nanos: u64) -> Bytes {
        let seq = seq.to_string();
        let sent = sent_unix_nanos.to_string();
        let mut body = String::with_capacity(self.len() + 64);
        for (piece, hole) in self.pieces.iter().zip(&self.holes) {
            body.push_str(piece);
            body.push_str(match *hole {
                NAME => name,
                SEQ => &seq,
                _ => &sent,
            });
        }
        if let Some(last) = self.pieces.last() {
            body.push_str(last);
        }
        Bytes::from(body)
    }

    /// The size of the body without its holes filled.
    pub fn len(&self) -> usize {
        self.pieces.iter().map(String::len).sum()
    }

    /// Whether the template is empty (it never is; for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn env(name: &str, value: &str) -> serde_json::Value {
    json!({ "name": name, "value": value })
}

fn field_env(name: &str, path: &str) -> serde_json::Value {
    json!({ "name": name, "valueFrom": { "fieldRef": { "apiVersion": "v1", "fieldPath": path } } })
}

fn probe(path: &str, initial_delay: u32) -> serde_json::Value {
    json!({
        "httpGet": { "path": path, "port": "http", "scheme": "HTTP" },
        "initialDelaySeconds": initial_delay,
        "timeoutSeconds": 2,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3
    })
}

/// A Deployment-made pod, minus ownerReferences (its ReplicaSet does not exist, and a
/// garbage collector would rightly delete the pod).
fn pod(namespace: &str) -> serde_json::Value {
    let labels = json!({
        "app": "checkout",
        "app.kubernetes.io/name": "checkout",
        "app.kubernetes.io/instance": "checkout-prod",
        "app.kubernetes.io/version": "2.14.3",
        "app.kubernetes.io/component": "api",
        "app.kubernetes.io/part-of": "shop",
        "app.kubernetes.io/managed-by": "Helm",
        "pod-template-hash": "7d9f8c6b5d",
        "tier": "backend"
    });
    let container = json!({
        "name": "checkout",
        "image": "registry.example.com/shop/checkout:2.14.3",
        "imagePullPolicy": "IfNotPresent",
        "args": ["--config=/etc/checkout/config.yaml", "--log-format=json", "--listen=:8080"],
        "ports": [
            { "name": "http", "containerPort": 8080, "protocol": "TCP" },
            { "name": "metrics", "containerPort": 9090, "protocol": "TCP" }
        ],
        "env": [
            env("SERVICE_NAME", "checkout"),
            env("ENVIRONMENT", "production"),
            env("LOG_LEVEL", "info"),
            env("HTTP_TIMEOUT", "30s"),
            env("DATABASE_HOST", "postgres-primary.shop.svc.cluster.local"),
            env("DATABASE_PORT", "5432"),
            env("DATABASE_NAME", "checkout"),
            env("REDIS_URL", "redis://redis-master.shop.svc.cluster.local:6379/0"),
            env("PAYMENTS_URL", "http://payments.shop.svc.cluster.local:8080"),
            env("INVENTORY_URL", "http://inventory.shop.svc.cluster.local:8080"),
            env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector.observability.svc:4317"),
            env("OTEL_SERVICE_NAME", "checkout"),
            env("FEATURE_FLAGS", "new-cart,fast-checkout,async-receipts"),
            field_env("POD_NAME", "metadata.name"),
            field_env("POD_NAMESPACE", "metadata.namespace"),
            field_env("POD_IP", "status.podIP"),
            field_env("NODE_NAME", "spec.nodeName")
        ],
        "resources": {
            "limits": { "cpu": "1", "memory": "512Mi" },
            "requests": { "cpu": "250m", "memory": "256Mi" }
        },
        "volumeMounts": [
            { "name": "config", "mountPath": "/etc/checkout", "readOnly": true },
            { "name": "tmp", "mountPath": "/tmp" },
            { "name": "kube-api-access-7xk2p", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true }
        ],
        "livenessProbe": probe("/healthz", 15),
        "readinessProbe": probe("/readyz", 5),
        "startupProbe": probe("/healthz", 0),
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "runAsUser": 10001,
            "capabilities": { "drop": ["ALL"] }
        }
    });
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": NAME,
            "namespace": namespace,
            "labels": labels,
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": "2025-11-03T09:12:44Z",
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9090",
                "prometheus.io/path": "/metrics",
                SEQ_ANNOTATION: SEQ,
                SENT_ANNOTATION: SENT
            }
        },
        "spec": {
            "volumes": [
                { "name": "config", "configMap": { "name": "checkout-config", "defaultMode": 420 } },
                { "name": "tmp", "emptyDir": { "sizeLimit": "64Mi" } },
                { "name": "kube-api-access-7xk2p", "projected": {
                    "defaultMode": 420,
                    "sources": [
                        { "serviceAccountToken": { "expirationSeconds": 3607, "path": "token" } },
                        { "configMap": { "name": "kube-root-ca.crt", "items": [ { "key": "ca.crt", "path": "ca.crt" } ] } },
                        { "downwardAPI": { "items": [ { "path": "namespace", "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.namespace" } } ] } }
                    ]
                } }
            ],
            "containers": [container],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "securityContext": { "fsGroup": 10001, "seccompProfile": { "type": "RuntimeDefault" } },
            "affinity": { "podAntiAffinity": { "preferredDuringSchedulingIgnoredDuringExecution": [ {
                "weight": 100,
                "podAffinityTerm": {
                    "labelSelector": { "matchLabels": { "app.kubernetes.io/name": "checkout", "app.kubernetes.io/instance": "checkout-prod" } },
                    "topologyKey": "kubernetes.io/hostname"
                }
            } ] } },
            "schedulerName": "default-scheduler",
            "tolerations": [
                { "key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300 },
                { "key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300 }
            ],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_pod_is_typical_size_and_valid_json() {
        let template = PodTemplate::new("bench");
        let body = template.render("checkout-7d9f8c6b5d-00042", 42, 1_700_000_000_123_456_789);
        let size = body.len();
        assert!((4_000..=4_800).contains(&size), "pod body is {size} bytes");
        let pod: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(pod["metadata"]["name"], "checkout-7d9f8c6b5d-00042");
        assert_eq!(pod["metadata"]["annotations"][SEQ_ANNOTATION], "42");
        assert_eq!(
            pod["metadata"]["annotations"][SENT_ANNOTATION],
            "1700000000123456789"
        );
    }
}
