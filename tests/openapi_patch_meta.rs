//! Upstream's patch and merge metadata in the published OpenAPI documents of a running
//! server, and stock kubectl building its client-side apply patches from it: the
//! `$setElementOrder` directives of a three-way strategic merge patch exist only for lists
//! the documents mark `x-kubernetes-patch-strategy: merge` (by the
//! `x-kubernetes-patch-merge-key`), every other list is sent whole.

use std::io::Write as _;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use serde_json::{json, Value};

fn start() -> Result<ServerProcess> {
    Ok(ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")),
        &[],
    )?)
}

fn get_json(server: &ServerProcess, path: &str) -> Result<Value> {
    Ok(serde_json::from_str(
        &server.kubectl_ok(&["get", "--raw", path])?,
    )?)
}

/// The v3 document of `group_version` (`apis/apps/v1`), through the index's hashed URL.
fn v3_document(server: &ServerProcess, group_version: &str) -> Result<Value> {
    let index = get_json(server, "/openapi/v3")?;
    let url = index["paths"][group_version]["serverRelativeURL"]
        .as_str()
        .with_context(|| format!("{group_version} not in the v3 index"))?;
    get_json(server, url)
}

/// The extensions of one property (or, with `property` empty, of the schema itself).
fn extensions(schemas: &Value, definition: &str, property: &str) -> Result<Value> {
    let schema = schemas
        .get(definition)
        .with_context(|| format!("no schema {definition}"))?;
    let schema = if property.is_empty() {
        schema
    } else {
        schema["properties"]
            .get(property)
            .with_context(|| format!("{definition} has no property {property}"))?
    };
    let picked: serde_json::Map<String, Value> = schema
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| {
            key.starts_with("x-kubernetes-") && *key != "x-kubernetes-group-version-kind"
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok(Value::Object(picked))
}

/// Checks `(definition, property, extensions)` rows against `schemas`.
fn expect(schemas: &Value, rows: &[(&str, &str, Value)]) -> Result<()> {
    for (definition, property, expected) in rows {
        let found = extensions(schemas, definition, property)?;
        ensure!(
            &found == expected,
            "{definition}.{property}: expected {expected}, found {found}"
        );
    }
    Ok(())
}

fn merge_map(key: &str, keys: &[&str]) -> Value {
    json!({
        "x-kubernetes-list-map-keys": keys,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": key,
        "x-kubernetes-patch-strategy": "merge",
    })
}

/// Rows both documents carry: the pod template's lists and the object metadata.
fn shared_rows() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "io.k8s.api.core.v1.PodSpec",
            "containers",
            merge_map("name", &["name"]),
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "imagePullSecrets",
            merge_map("name", &["name"]),
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "volumes",
            json!({
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge,retainKeys",
            }),
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "tolerations",
            json!({"x-kubernetes-list-type": "atomic"}),
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "nodeSelector",
            json!({"x-kubernetes-map-type": "atomic"}),
        ),
        (
            "io.k8s.api.core.v1.Container",
            "ports",
            merge_map("containerPort", &["containerPort", "protocol"]),
        ),
        (
            "io.k8s.api.core.v1.Container",
            "env",
            merge_map("name", &["name"]),
        ),
        (
            "io.k8s.api.core.v1.Container",
            "volumeMounts",
            merge_map("mountPath", &["mountPath"]),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
            json!({"x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"}),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "ownerReferences",
            merge_map("uid", &["uid"]),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "labels",
            json!({}),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
            "",
            json!({"x-kubernetes-map-type": "atomic"}),
        ),
    ]
}

fn check_documents(server: &ServerProcess) -> Result<()> {
    // v3: apps/v1 carries its own kinds and every core and meta schema they reference.
    let apps = v3_document(server, "apis/apps/v1")?;
    let schemas = &apps["components"]["schemas"];
    let mut rows = shared_rows();
    rows.extend([
        (
            "io.k8s.api.apps.v1.DeploymentSpec",
            "strategy",
            json!({"x-kubernetes-patch-strategy": "retainKeys"}),
        ),
        (
            "io.k8s.api.apps.v1.DeploymentStatus",
            "conditions",
            merge_map("type", &["type"]),
        ),
    ]);
    expect(schemas, &rows).context("/openapi/v3/apis/apps/v1")?;
    // OpenAPI 3 moves a `$ref` with siblings into `allOf`; the extensions stay beside it.
    let strategy = &schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
    ensure!(
        strategy["allOf"][0]["$ref"]
            == "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy",
        "{strategy}"
    );

    // v2: one document with every definition.
    let swagger = get_json(server, "/openapi/v2")?;
    let mut rows = shared_rows();
    rows.extend([
        (
            "io.k8s.api.batch.v1.JobStatus",
            "conditions",
            json!({
                "x-kubernetes-list-type": "atomic",
                "x-kubernetes-patch-merge-key": "type",
                "x-kubernetes-patch-strategy": "merge",
            }),
        ),
        (
            "io.k8s.api.core.v1.ServiceSpec",
            "ports",
            merge_map("port", &["port", "protocol"]),
        ),
        (
            "io.k8s.api.core.v1.PersistentVolumeSpec",
            "claimRef",
            json!({"x-kubernetes-map-type": "granular"}),
        ),
        (
            "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
            "selector",
            json!({"x-kubernetes-patch-strategy": "replace"}),
        ),
        (
            "io.k8s.api.core.v1.ObjectReference",
            "",
            json!({"x-kubernetes-map-type": "atomic"}),
        ),
        (
            "io.k8s.api.rbac.v1.RoleRef",
            "",
            json!({"x-kubernetes-map-type": "atomic"}),
        ),
    ]);
    expect(&swagger["definitions"], &rows).context("/openapi/v2")?;
    Ok(())
}

#[test]
fn documents_carry_upstream_patch_metadata() -> Result<()> {
    let server = start()?;
    check_documents(&server).with_context(|| server.log())
}

const FIRST: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: merged
  namespace: default
  finalizers: [example.com/first]
spec:
  selector: {matchLabels: {app: merged}}
  template:
    metadata: {labels: {app: merged}}
    spec:
      tolerations: [{key: a, operator: Exists}]
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
";

const SECOND: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: merged
  namespace: default
  finalizers: [example.com/first, example.com/second]
spec:
  selector: {matchLabels: {app: merged}}
  template:
    metadata: {labels: {app: merged}}
    spec:
      tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists}]
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}, {containerPort: 443}]
";

fn manifest(text: &str) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}

/// A second `kubectl apply` sends a three-way strategic merge patch that kubectl computes
/// from the v3 document: merge lists (the finalizers, a merge-strategy set of strings, and
/// the ports, by `containerPort`) as their new items plus `$setElementOrder`, the atomic
/// tolerations whole. The server's merge then yields exactly the manifest.
fn apply_patches_follow_the_documents(server: &ServerProcess) -> Result<()> {
    let cache = tempfile::Builder::new().prefix("kubectl-cache").tempdir()?;
    let cache_dir = cache.path().to_str().context("cache path")?;
    let first = manifest(FIRST)?;
    let first_path = first.path().to_str().context("temp path")?;
    server.kubectl_ok(&["apply", "-f", first_path, "--cache-dir", cache_dir])?;

    let second = manifest(SECOND)?;
    let second_path = second.path().to_str().context("temp path")?;
    let output = server.kubectl(&["apply", "-f", second_path, "--cache-dir", cache_dir, "-v=8"])?;
    let log = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "second apply failed: {log}");
    ensure!(
        log.contains("/openapi/v3/apis/apps/v1"),
        "kubectl did not read the apps/v1 document: {log}"
    );
    let body = log
        .lines()
        .find(|line| line.contains("Request Body") && line.contains("setElementOrder"))
        .with_context(|| format!("no strategic merge patch in the log: {log}"))?;
    // The body is logged as a (possibly quoted) JSON string: compare without escapes.
    let body = body.replace("\\\"", "\"");
    for expected in [
        r#""$setElementOrder/finalizers":["example.com/first","example.com/second"]"#,
        r#""finalizers":["example.com/second"]"#,
        r#""$setElementOrder/ports":[{"containerPort":80},{"containerPort":443}]"#,
        r#""ports":[{"containerPort":443}]"#,
        r#""$setElementOrder/containers":[{"name":"web"}]"#,
        r#""tolerations":[{"key":"a","operator":"Exists"},{"key":"b","operator":"Exists"}]"#,
    ] {
        ensure!(body.contains(expected), "{expected} not in {body}");
    }
    ensure!(!body.contains("$setElementOrder/tolerations"), "{body}");

    let applied: Value = serde_json::from_str(
        &server.kubectl_ok(&["get", "deploy", "merged", "-n", "default", "-o", "json"])?,
    )?;
    ensure!(
        applied["metadata"]["finalizers"] == json!(["example.com/first", "example.com/second"]),
        "{}",
        applied["metadata"]
    );
    let pod = &applied["spec"]["template"]["spec"];
    ensure!(
        pod["containers"][0]["ports"].as_array().map(|ports| ports
            .iter()
            .map(|port| port["containerPort"].clone())
            .collect::<Vec<_>>())
            == Some(vec![json!(80), json!(443)]),
        "{pod}"
    );
    ensure!(
        pod["tolerations"]
            == json!([{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]),
        "{pod}"
    );
    Ok(())
}

#[test]
fn kubectl_apply_builds_patches_from_the_published_metadata() -> Result<()> {
    let server = start()?;
    apply_patches_follow_the_documents(&server).with_context(|| server.log())
}
