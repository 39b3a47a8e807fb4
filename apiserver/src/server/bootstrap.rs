//! Objects every cluster has from its first start, created if missing.

use std::net::IpAddr;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::object::now_rfc3339;
use crate::status::{ApiError, Reason};
use crate::storage::{StorageError, Store};
use crate::strategy::ServiceStrategy;

/// The namespaces upstream creates at start-up.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the system namespaces that do not exist yet.
pub async fn ensure_system_namespaces(store: &dyn Store) -> Result<(), StorageError> {
    for name in SYSTEM_NAMESPACES {
        let key = format!("/registry/namespaces/{name}");
        if store.get(&key, None).await?.is_some() {
            continue;
        }
        let namespace = json!({
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": now_rfc3339(),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        let value = Bytes::from(serde_json::to_vec(&namespace).unwrap_or_default());
        match store.create(&key, value).await {
            Ok(_) | Err(StorageError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// The PriorityClasses upstream creates at start-up, with its descriptions.
const SYSTEM_PRIORITY_CLASSES: &[(&str, i64, &str)] = &[
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// Creates the two system PriorityClasses that do not exist yet.
pub async fn ensure_system_priority_classes(store: &dyn Store) -> Result<(), ApiError> {
    for (name, value, description) in SYSTEM_PRIORITY_CLASSES {
        let class = json!({
            "kind": "PriorityClass",
            "apiVersion": "scheduling.k8s.io/v1",
            "metadata": {
                "name": name,
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": now_rfc3339(),
                "generation": 1,
            },
            "value": value,
            "globalDefault": false,
            "description": description,
            "preemptionPolicy": "PreemptLowerPriority",
        });
        create_if_absent(store, &format!("/registry/priorityclasses/{name}"), &class).await?;
    }
    Ok(())
}

/// Creates the `kubernetes` Service in `default` (ClusterIP = the first service IP, port 443
/// to the API server's port) and its Endpoints and EndpointSlice, as upstream's endpoint
/// reconciler keeps them. Existing objects are kept; the endpoints follow the current
/// address and port.
pub async fn ensure_kubernetes_service(
    store: &dyn Store,
    services: &ServiceStrategy,
    advertise: IpAddr,
    port: u16,
) -> Result<(), ApiError> {
    let internal = |error: StorageError| ApiError::new(Reason::InternalError, error.to_string());
    let ip = services.claim_kubernetes_ip(store).await?;
    let service_key = "/registry/services/specs/default/kubernetes";
    if store
        .get(service_key, None)
        .await
        .map_err(internal)?
        .is_none()
    {
        let service = json!({
            "kind": "Service", "apiVersion": "v1",
            "metadata": {
                "name": "kubernetes", "namespace": "default",
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": now_rfc3339(),
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": port}],
                "clusterIP": ip.to_string(), "clusterIPs": [ip.to_string()],
                "type": "ClusterIP", "sessionAffinity": "None",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster",
            },
            "status": {"loadBalancer": {}},
        });
        create_if_absent(store, service_key, &service).await?;
    }
    let endpoints = json!({
        "kind": "Endpoints", "apiVersion": "v1",
        "metadata": {
            "name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [{
            "addresses": [{"ip": advertise.to_string()}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        }],
    });
    put(
        store,
        "/registry/services/endpoints/default/kubernetes",
        endpoints,
    )
    .await?;
    let slice = json!({
        "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
        "metadata": {
            "name": "kubernetes", "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"},
        },
        "addressType": if advertise.is_ipv4() { "IPv4" } else { "IPv6" },
        "endpoints": [{"addresses": [advertise.to_string()], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    put(store, "/registry/endpointslices/default/kubernetes", slice).await
}

async fn create_if_absent(store: &dyn Store, key: &str, object: &Value) -> Result<(), ApiError> {
    let value = Bytes::from(serde_json::to_vec(object).unwrap_or_default());
    match store.create(key, value).await {
        Ok(_) | Err(StorageError::AlreadyExists { .. }) => Ok(()),
        Err(error) => Err(ApiError::new(Reason::InternalError, error.to_string())),
    }
}

/// Writes `object` at `key`, keeping uid and creation time of an existing one.
async fn put(store: &dyn Store, key: &str, mut object: Value) -> Result<(), ApiError> {
    let internal = |error: StorageError| ApiError::new(Reason::InternalError, error.to_string());
    match store.get(key, None).await.map_err(internal)? {
        None => {
            object["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
            object["metadata"]["creationTimestamp"] = json!(now_rfc3339());
            create_if_absent(store, key, &object).await
        }
        Some(kv) => {
            let old: Value = serde_json::from_slice(&kv.value).unwrap_or(Value::Null);
            object["metadata"]["uid"] = old["metadata"]["uid"].clone();
            object["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
            let mut comparable = old.clone();
            if let Some(meta) = comparable
                .get_mut("metadata")
                .and_then(Value::as_object_mut)
            {
                meta.shift_remove("resourceVersion");
            }
            if comparable == object {
                return Ok(());
            }
            let value = Bytes::from(serde_json::to_vec(&object).unwrap_or_default());
            store
                .update(key, value, kv.mod_revision)
                .await
                .map(|_| ())
                .map_err(internal)
        }
    }
}
