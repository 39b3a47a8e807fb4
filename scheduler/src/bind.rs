//! DefaultBinder: assigns a pod to its node through the `pods/binding` subresource.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kube::Client;
use serde_json::json;

/// POSTs a Binding of `pod` to `node` (with the pod's UID, so a recreated pod of the same
/// name is not bound by mistake).
pub async fn bind(client: &Client, pod: &Pod, node: &str) -> Result<(), kube::Error> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let mut metadata = json!({"name": name, "namespace": namespace});
    if let Some(uid) = pod.metadata.uid.as_deref() {
        metadata["uid"] = json!(uid);
    }
    let binding = json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": metadata,
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    Api::<Pod>::namespaced(client.clone(), namespace)
        .create_subresource::<serde_json::Value, serde_json::Value>(
            "binding",
            name,
            &PostParams::default(),
            &binding,
        )
        .await?;
    Ok(())
}
