//! Strategic merge patch against a real `ferrokube server`, driven by stock kubectl, whose
//! everyday commands send it: a second `kubectl apply` (three-way patch with
//! `$setElementOrder`, deletions and `$retainKeys`), `label`, `annotate`, `patch` (default
//! type strategic), `edit` and `diff` (server-side dry run).

use std::io::Write as _;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use serde_json::Value;

fn manifest(text: &str) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}

fn path(file: &tempfile::NamedTempFile) -> Result<&str> {
    file.path().to_str().context("temp path is not UTF-8")
}

fn deployment(server: &ServerProcess) -> Result<Value> {
    Ok(serde_json::from_str(
        &server.kubectl_ok(&["get", "deploy", "web", "-o", "json"])?,
    )?)
}

const FIRST: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 2}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1
        env: [{name: A, value: '1'}, {name: B, value: '2'}]
        ports: [{containerPort: 80}]
      - name: side
        image: busybox
";

/// The second version: one container gone, one env var gone, image and strategy changed.
const SECOND: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy: {type: Recreate}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:2
        env: [{name: B, value: '3'}]
        ports: [{containerPort: 80}]
";

fn apply_twice(server: &ServerProcess) -> Result<()> {
    let first = manifest(FIRST)?;
    server.kubectl_ok(&["apply", "-f", path(&first)?])?;
    // Something else adds a label the manifest does not own: apply must keep it.
    server.kubectl_ok(&["label", "deploy", "web", "owner=ops"])?;
    let second = manifest(SECOND)?;
    let out = server.kubectl_ok(&["apply", "-f", path(&second)?])?;
    ensure!(out.contains("configured"), "{out}");
    let live = deployment(server)?;
    let spec = &live["spec"];
    ensure!(spec["replicas"] == 3, "{spec}");
    let containers = spec["template"]["spec"]["containers"]
        .as_array()
        .context("containers")?;
    ensure!(
        containers.len() == 1,
        "removed container kept: {containers:?}"
    );
    ensure!(containers[0]["image"] == "nginx:2", "{}", containers[0]);
    ensure!(
        containers[0]["env"] == serde_json::json!([{"name": "B", "value": "3"}]),
        "env: {}",
        containers[0]["env"]
    );
    ensure!(
        spec["strategy"] == serde_json::json!({"type": "Recreate"}),
        "retainKeys did not clear rollingUpdate: {}",
        spec["strategy"]
    );
    ensure!(
        live["metadata"]["labels"]["owner"] == "ops",
        "{}",
        live["metadata"]
    );
    ensure!(live["metadata"]["generation"] == 2, "{}", live["metadata"]);
    // Applying the same file again changes nothing.
    let out = server.kubectl_ok(&["apply", "-f", path(&second)?])?;
    ensure!(out.contains("unchanged"), "{out}");
    ensure!(deployment(server)?["metadata"]["generation"] == 2);
    Ok(())
}

fn everyday_commands(server: &ServerProcess) -> Result<()> {
    server.kubectl_ok(&["annotate", "deploy", "web", "note=hello"])?;
    server.kubectl_ok(&["label", "deploy", "web", "owner-"])?;
    let live = deployment(server)?;
    ensure!(live["metadata"]["annotations"]["note"] == "hello");
    ensure!(
        live["metadata"]["labels"].get("owner").is_none(),
        "{}",
        live["metadata"]
    );

    // `kubectl patch` sends a strategic merge patch by default: containers merge by name,
    // env by name, and `$patch: delete` removes one element.
    server.kubectl_ok(&[
        "patch", "deploy", "web", "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"C","value":"4"}]},{"name":"extra","image":"busybox"}]}}}}"#,
    ])?;
    let containers = deployment(server)?["spec"]["template"]["spec"]["containers"].clone();
    let names: Vec<&str> = containers
        .as_array()
        .context("containers")?
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    ensure!(names == ["web", "extra"], "patch order first: {names:?}");
    let web = containers
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == "web"))
        .context("web container")?;
    ensure!(
        web["env"] == serde_json::json!([{"name": "C", "value": "4"}, {"name": "B", "value": "3"}]),
        "{}",
        web["env"]
    );
    server.kubectl_ok(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","$patch":"delete"}]}}}}"#,
    ])?;
    let containers = deployment(server)?["spec"]["template"]["spec"]["containers"].clone();
    ensure!(
        containers.as_array().map(Vec::len) == Some(1),
        "{containers}"
    );

    // `kubectl edit` with a scripted editor.
    let output = std::process::Command::new(ferrokube_testkit::kubectl_binary())
        .env("KUBECONFIG", server.kubeconfig())
        .env("EDITOR", "sed -i s/replicas:\\ 3/replicas:\\ 7/")
        .args(["edit", "deploy", "web"])
        .output()?;
    ensure!(
        output.status.success(),
        "edit: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    ensure!(deployment(server)?["spec"]["replicas"] == 7);

    // `kubectl diff` against the first manifest: a server-side dry run that changes nothing.
    let before = deployment(server)?;
    let first = manifest(FIRST)?;
    let diff = server.kubectl(&["diff", "-f", path(&first)?])?;
    ensure!(
        diff.status.code() == Some(1),
        "diff should find differences: {diff:?}"
    );
    let text = String::from_utf8_lossy(&diff.stdout);
    ensure!(
        text.contains("-  replicas: 7") && text.contains("+  replicas: 2"),
        "{text}"
    );
    // The deployment controller in this server writes status meanwhile, so the
    // resourceVersion may move; what a persisted dry run would change is spec, generation
    // and the last-applied annotation.
    let after = deployment(server)?;
    ensure!(
        ["spec", "metadata/generation", "metadata/annotations"]
            .iter()
            .all(
                |field| after.pointer(&format!("/{field}")) == before.pointer(&format!("/{field}"))
            ),
        "diff changed the object"
    );
    Ok(())
}

fn malformed_patches(server: &ServerProcess) -> Result<()> {
    let error = server.kubectl_err(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"strategy":{"$retainKeys":"type"}}}"#,
    ])?;
    ensure!(
        error.contains("invalid patch format of retainKeys"),
        "{error}"
    );
    let error = server.kubectl_err(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#,
    ])?;
    ensure!(
        error.contains("does not contain declared merge key: name"),
        "{error}"
    );
    Ok(())
}

#[test]
fn kubectl_strategic_merge_patches() -> Result<()> {
    let server = ServerProcess::start(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    apply_twice(&server).context("apply")?;
    everyday_commands(&server).context("label, annotate, patch, edit, diff")?;
    malformed_patches(&server).context("malformed patches")?;
    Ok(())
}
