//! The pod spec defaults every kube-apiserver applies (upstream's `SetDefaults_PodSpec`,
//! `_Container`, `_Probe`, `_HTTPGetAction`, `_Volume` and friends), to Pods and to the pod
//! templates of the workload kinds alike.

use serde_json::{json, Map, Value};

/// The default grace period of a pod.
pub(super) const DEFAULT_GRACE_SECONDS: i64 = 30;
/// The default file mode of Secret, ConfigMap, downward API and projected volumes (0644).
const DEFAULT_FILE_MODE: i64 = 0o644;

/// The object at `field` of `map`, made an empty object when absent or not an object.
pub(super) fn object_at<'a>(
    map: &'a mut Map<String, Value>,
    field: &str,
) -> &'a mut Map<String, Value> {
    let slot = map.entry(field).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(inner) => inner,
        _ => unreachable!("made an object above"),
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`, as upstream defaults.
pub(super) fn default_pull_policy(image: &str) -> &'static str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    match last.split_once(':') {
        None if image.contains('@') => "IfNotPresent",
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_http_get(handler: &mut Map<String, Value>) {
    if let Some(Value::Object(http)) = handler.get_mut("httpGet") {
        http.entry("path").or_insert_with(|| json!("/"));
        http.entry("scheme").or_insert_with(|| json!("HTTP"));
    }
}

fn default_probe(probe: &mut Map<String, Value>) {
    probe.entry("timeoutSeconds").or_insert_with(|| json!(1));
    probe.entry("periodSeconds").or_insert_with(|| json!(10));
    probe.entry("successThreshold").or_insert_with(|| json!(1));
    probe.entry("failureThreshold").or_insert_with(|| json!(3));
    default_http_get(probe);
}

fn default_container(container: &mut Map<String, Value>) {
    container
        .entry("terminationMessagePath")
        .or_insert_with(|| json!("/dev/termination-log"));
    container
        .entry("terminationMessagePolicy")
        .or_insert_with(|| json!("File"));
    let image = container
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    container
        .entry("imagePullPolicy")
        .or_insert_with(|| json!(default_pull_policy(&image)));
    container.entry("resources").or_insert_with(|| json!({}));
    if let Some(Value::Array(ports)) = container.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            port.entry("protocol").or_insert_with(|| json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(Value::Object(probe)) = container.get_mut(probe) {
            default_probe(probe);
        }
    }
    if let Some(Value::Object(lifecycle)) = container.get_mut("lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(Value::Object(handler)) = lifecycle.get_mut(hook) {
                default_http_get(handler);
            }
        }
    }
    if let Some(Value::Array(env)) = container.get_mut("env") {
        for var in env.iter_mut().filter_map(Value::as_object_mut) {
            let field_ref = var
                .get_mut("valueFrom")
                .and_then(|from| from.get_mut("fieldRef"))
                .and_then(Value::as_object_mut);
            if let Some(field_ref) = field_ref {
                field_ref.entry("apiVersion").or_insert_with(|| json!("v1"));
            }
        }
    }
}

fn default_volume(volume: &mut Map<String, Value>) {
    let has_source = volume
        .iter()
        .any(|(key, value)| key != "name" && !value.is_null());
    if !has_source {
        volume.insert("emptyDir".into(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(Value::Object(source)) = volume.get_mut(source) {
            source
                .entry("defaultMode")
                .or_insert_with(|| json!(DEFAULT_FILE_MODE));
        }
    }
}

/// The pod spec defaults every kube-apiserver applies, to pods and pod templates alike.
pub fn default_pod_spec(spec: &mut Map<String, Value>) {
    spec.entry("restartPolicy")
        .or_insert_with(|| json!("Always"));
    spec.entry("terminationGracePeriodSeconds")
        .or_insert_with(|| json!(DEFAULT_GRACE_SECONDS));
    spec.entry("dnsPolicy")
        .or_insert_with(|| json!("ClusterFirst"));
    spec.entry("securityContext").or_insert_with(|| json!({}));
    spec.entry("schedulerName")
        .or_insert_with(|| json!("default-scheduler"));
    spec.entry("enableServiceLinks")
        .or_insert_with(|| json!(true));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(containers)) = spec.get_mut(list) {
            for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                default_container(container);
            }
        }
    }
    if let Some(Value::Array(volumes)) = spec.get_mut("volumes") {
        for volume in volumes.iter_mut().filter_map(Value::as_object_mut) {
            default_volume(volume);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::{default_pod_spec, default_pull_policy};

    fn spec(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(default_pull_policy("busybox"), "Always");
        assert_eq!(default_pull_policy("busybox:latest"), "Always");
        assert_eq!(default_pull_policy("busybox:1.36"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/busybox"), "Always");
        assert_eq!(default_pull_policy("busybox@sha256:abc"), "IfNotPresent");
        assert_eq!(
            default_pull_policy("registry.k8s.io/pause:3.10"),
            "IfNotPresent"
        );
    }

    #[test]
    fn probes_volumes_and_field_refs() {
        let mut pod = spec(json!({
            "containers": [{"name": "a", "image": "x:1",
                "livenessProbe": {"httpGet": {"port": 8080}},
                "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}],
            "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]
        }));
        default_pod_spec(&mut pod);
        let probe = &pod["containers"][0]["livenessProbe"];
        assert_eq!(probe["periodSeconds"], 10);
        assert_eq!(probe["httpGet"]["path"], "/");
        assert_eq!(probe["httpGet"]["scheme"], "HTTP");
        assert_eq!(
            pod["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"],
            "v1"
        );
        assert_eq!(pod["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(pod["volumes"][1]["configMap"]["defaultMode"], 420);
    }
}
