//! Stock kubectl against `/openapi/v2` and `/openapi/v3`: its default validation
//! (`--validate=strict`) must work without `--validate=false`, `explain` must print upstream's
//! documentation, and the v3 index must list what the registry serves.

use std::io::Write as _;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use serde_json::Value;

fn start() -> Result<ServerProcess> {
    Ok(ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")),
        &[],
    )?)
}

/// A manifest file as users write them: YAML.
fn yaml(text: &str) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}

fn path(file: &tempfile::NamedTempFile) -> Result<&str> {
    file.path().to_str().context("temp path is not UTF-8")
}

/// kubectl's own cache directory for one run, so every run really asks the server.
fn fresh_cache() -> Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new().prefix("kubectl-cache").tempdir()?)
}

const CONFIG_MAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: validated
  namespace: default
data:
  greeting: hello
";

const DEPLOYMENT_WITH_TYPO: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: typo
  namespace: default
spec:
  replicass: 2
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
      - name: web
        image: nginx
";

/// `kubectl create -f` with default validation: kubectl downloads the v3 index and the
/// `api/v1` document, finds `fieldValidation` on the ConfigMap PATCH operation and so sends
/// `fieldValidation=Strict` to the server instead of validating client-side.
fn create_validates_by_default(server: &ServerProcess) -> Result<()> {
    let file = yaml(CONFIG_MAP)?;
    let cache = fresh_cache()?;
    let cache_dir = cache.path().to_str().context("cache path")?;
    let output = server.kubectl(&[
        "create",
        "-f",
        path(&file)?,
        "--cache-dir",
        cache_dir,
        "-v=6",
    ])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "kubectl create failed: {stderr}");
    ensure!(
        String::from_utf8_lossy(&output.stdout).contains("configmap/validated created"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    ensure!(
        stderr.contains("/openapi/v3?"),
        "no index request: {stderr}"
    );
    ensure!(
        stderr.contains("/openapi/v3/api/v1?hash="),
        "no api/v1 document request: {stderr}"
    );
    ensure!(
        stderr.contains("configmaps?fieldManager=kubectl-create&fieldValidation=Strict"),
        "server-side validation not requested: {stderr}"
    );
    ensure!(!stderr.contains("/openapi/v2"), "fell back to v2: {stderr}");
    let data = server.kubectl_ok(&["get", "cm", "validated", "-o", "jsonpath={.data.greeting}"])?;
    ensure!(data == "hello", "{data}");
    Ok(())
}

/// An unknown field is left to the server, as against a real cluster: kubectl does not
/// validate client-side (no `error validating data`), it sends `fieldValidation=Strict`.
fn unknown_fields_are_left_to_the_server(server: &ServerProcess) -> Result<()> {
    let file = yaml(DEPLOYMENT_WITH_TYPO)?;
    let output = server.kubectl(&["create", "-f", path(&file)?, "-v=6"])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        !stderr.contains("error validating"),
        "kubectl validated client-side: {stderr}"
    );
    ensure!(
        stderr.contains("deployments?fieldManager=kubectl-create&fieldValidation=Strict"),
        "server-side validation not requested: {stderr}"
    );
    Ok(())
}

/// `kubectl explain` renders upstream's descriptions from the v3 document.
fn explain_prints_upstream_descriptions(server: &ServerProcess) -> Result<()> {
    let replicas = server.kubectl_ok(&["explain", "deployment.spec.replicas"])?;
    for expected in [
        "GROUP:      apps",
        "KIND:       Deployment",
        "VERSION:    v1",
        "FIELD: replicas <integer>",
        "Number of desired pods. This is a pointer to distinguish between explicit",
        "zero and not specified. Defaults to 1.",
    ] {
        ensure!(
            replicas.contains(expected),
            "{expected:?} not in:\n{replicas}"
        );
    }
    let containers = server.kubectl_ok(&["explain", "pods.spec.containers"])?;
    ensure!(
        containers.contains("FIELD: containers <[]Container>"),
        "{containers}"
    );
    ensure!(
        containers.contains("name\t<string> -required-"),
        "{containers}"
    );
    let recursive = server.kubectl_ok(&["explain", "cronjob.spec", "--recursive"])?;
    ensure!(
        recursive.contains("jobTemplate\t<JobTemplateSpec> -required-"),
        "{recursive}"
    );
    Ok(())
}

/// The v3 index and documents as `kubectl get --raw` shows them.
fn raw_documents(server: &ServerProcess) -> Result<()> {
    let index: Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "--raw", "/openapi/v3"])?)?;
    let paths = index
        .get("paths")
        .and_then(Value::as_object)
        .context("index has no paths")?;
    let apps = paths
        .get("apis/apps/v1")
        .and_then(|entry| entry.get("serverRelativeURL"))
        .and_then(Value::as_str)
        .context("apis/apps/v1 not in the index")?;
    ensure!(apps.starts_with("/openapi/v3/apis/apps/v1?hash="), "{apps}");
    for served in [
        "api/v1",
        "apis/batch/v1",
        "apis/rbac.authorization.k8s.io/v1",
    ] {
        ensure!(
            paths.contains_key(served),
            "{served} missing from the index"
        );
    }
    ensure!(
        !paths
            .keys()
            .any(|name| name.contains("alpha") || name.contains("beta")),
        "unserved versions in the index: {:?}",
        paths.keys().collect::<Vec<_>>()
    );

    let document: Value = serde_json::from_str(&server.kubectl_ok(&["get", "--raw", apps])?)?;
    ensure!(document["openapi"] == "3.0.0", "{}", document["openapi"]);
    let spec = &document["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"];
    ensure!(
        spec["properties"]["strategy"]["x-kubernetes-patch-strategy"] == "retainKeys",
        "{spec}"
    );

    let swagger: Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "--raw", "/openapi/v2"])?)?;
    ensure!(swagger["swagger"] == "2.0", "{}", swagger["swagger"]);
    ensure!(
        swagger["definitions"]["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"][0]
            ["kind"]
            == "Pod"
    );
    Ok(())
}

fn scenarios(server: &ServerProcess) -> Result<()> {
    create_validates_by_default(server).context("create with default validation")?;
    unknown_fields_are_left_to_the_server(server).context("unknown fields")?;
    explain_prints_upstream_descriptions(server).context("explain")?;
    raw_documents(server).context("raw documents")?;
    Ok(())
}

#[test]
fn kubectl_reads_the_openapi_documents() -> Result<()> {
    let server = start()?;
    scenarios(&server).with_context(|| server.log())
}

/// What a real cluster answers for a typo under default (strict) validation:
/// `Error from server (BadRequest): error when creating "...": Deployment in version "v1"
/// cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"`;
/// under `--validate=warn` the object is created without the field and kubectl prints the
/// server's `Warning: unknown field "spec.replicass"`.
#[test]
fn strict_validation_rejects_unknown_fields() -> Result<()> {
    let server = start()?;
    let file = yaml(DEPLOYMENT_WITH_TYPO)?;
    let stderr = server.kubectl_err(&["create", "-f", path(&file)?])?;
    ensure!(
        stderr.contains("Error from server (BadRequest)")
            && stderr.contains(
                "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replicass\""
            ),
        "{stderr}"
    );
    let listed = server.kubectl_ok(&["get", "deploy", "-n", "default", "-o", "name"])?;
    ensure!(!listed.contains("typo"), "{listed}");

    let output = server.kubectl(&["create", "-f", path(&file)?, "--validate=warn"])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "{stderr}");
    ensure!(
        stderr.contains("Warning: unknown field \"spec.replicass\""),
        "{stderr}"
    );
    let stored: Value = serde_json::from_str(
        &server.kubectl_ok(&["get", "deploy", "typo", "-n", "default", "-o", "json"])?,
    )?;
    ensure!(stored["spec"].get("replicass").is_none(), "{stored}");
    ensure!(stored["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx");
    Ok(())
}
