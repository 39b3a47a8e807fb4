//! Server-side apply and managed fields against a real `ferrokube server`, driven by stock
//! kubectl (`apply --server-side`, `--force-conflicts`, `--field-manager`, the move from
//! client-side apply) and raw requests for the options kubectl never gets wrong.

use std::io::Write as _;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use kube::client::Body;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{json, Value};

fn manifest(text: &str) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}

fn path(file: &tempfile::NamedTempFile) -> Result<&str> {
    file.path().to_str().context("temp path is not UTF-8")
}

fn live(server: &ServerProcess, what: &[&str]) -> Result<Value> {
    let mut args = vec!["get"];
    args.extend(what);
    args.extend(["-o", "json", "--show-managed-fields"]);
    Ok(serde_json::from_str(&server.kubectl_ok(&args)?)?)
}

fn entry<'a>(object: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

fn deployment(replicas: u32, containers: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
{containers}"
    )
}

const TWO: &str = "      - {name: web, image: 'nginx:1'}
      - {name: side, image: busybox}
";
const ONE: &str = "      - {name: web, image: 'nginx:2'}
";

fn apply_and_prune(server: &ServerProcess) -> Result<()> {
    let first = manifest(&deployment(2, TWO))?;
    let out = server.kubectl_ok(&["apply", "--server-side", "-f", path(&first)?])?;
    ensure!(out.contains("serverside-applied"), "{out}");
    let object = live(server, &["deploy", "web"])?;
    let mine = entry(&object, "kubectl", "Apply").context("no Apply entry")?;
    ensure!(mine["fieldsType"] == "FieldsV1", "{mine}");
    let containers = &mine["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"];
    ensure!(
        containers["k:{\"name\":\"side\"}"] == json!({".": {}, "f:image": {}, "f:name": {}}),
        "{containers}"
    );

    // Applying without the second container removes it: only this manager owned it.
    let second = manifest(&deployment(2, ONE))?;
    server.kubectl_ok(&["apply", "--server-side", "-f", path(&second)?])?;
    let object = live(server, &["deploy", "web"])?;
    let names: Vec<&str> = object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .context("containers")?
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    ensure!(names == ["web"], "{names:?}");
    ensure!(object["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2");
    // Defaults filled in by the server are nobody's applied fields.
    ensure!(
        object["spec"]["strategy"]["type"] == "RollingUpdate",
        "{}",
        object["spec"]
    );
    Ok(())
}

fn conflicts(server: &ServerProcess) -> Result<()> {
    let other = manifest(&deployment(5, ONE))?;
    let error = server.kubectl_err(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        path(&other)?,
    ])?;
    ensure!(
        error.contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"),
        "{error}"
    );
    ensure!(live(server, &["deploy", "web"])?["spec"]["replicas"] == 2);
    server.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        path(&other)?,
    ])?;
    let object = live(server, &["deploy", "web"])?;
    ensure!(object["spec"]["replicas"] == 5);
    let kubectl = entry(&object, "kubectl", "Apply").context("kubectl entry")?;
    ensure!(
        kubectl["fieldsV1"]["f:spec"].get("f:replicas").is_none(),
        "forced field still owned by kubectl: {kubectl}"
    );
    ensure!(entry(&object, "other", "Apply").is_some());

    // Scaling through the subresource makes replicas the scaler's.
    server.kubectl_ok(&["scale", "deploy", "web", "--replicas=3"])?;
    let error = server.kubectl_err(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        path(&other)?,
    ])?;
    ensure!(error.contains("with subresource \"scale\""), "{error}");
    // Updates are recorded with their manager and operation.
    server.kubectl_ok(&["label", "deploy", "web", "tier=front"])?;
    let object = live(server, &["deploy", "web"])?;
    let label = entry(&object, "kubectl-label", "Update").context("kubectl-label entry")?;
    ensure!(
        label["fieldsV1"] == json!({"f:metadata": {"f:labels": {"f:tier": {}}}}),
        "{label}"
    );
    ensure!(
        label["time"].is_string() && label["apiVersion"] == "apps/v1",
        "{label}"
    );
    Ok(())
}

fn client_side_to_server_side(server: &ServerProcess) -> Result<()> {
    let config = manifest(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: moved}\ndata: {a: '1', b: '2'}\n",
    )?;
    server.kubectl_ok(&["apply", "-f", path(&config)?])?;
    let object = live(server, &["cm", "moved"])?;
    ensure!(
        entry(&object, "kubectl-client-side-apply", "Update").is_some(),
        "{object}"
    );
    let config =
        manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: moved}\ndata: {a: '1'}\n")?;
    server.kubectl_ok(&["apply", "--server-side", "-f", path(&config)?])?;
    let object = live(server, &["cm", "moved"])?;
    ensure!(
        object["data"] == json!({"a": "1"}),
        "b should be pruned: {}",
        object["data"]
    );
    ensure!(entry(&object, "kubectl", "Apply").is_some(), "{object}");
    Ok(())
}

async fn raw_options(server: &ServerProcess) -> Result<()> {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig())?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    let client = Client::try_from(config)?;
    let send = |uri: &str, content_type: &str, body: &str| {
        http::Request::builder()
            .method("PATCH")
            .uri(uri)
            .header("content-type", content_type)
            .body(Body::from(body.as_bytes().to_vec()))
    };
    let body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"raw\"},\"data\":{\"x\":\"1\"}}";
    let uri = "/api/v1/namespaces/default/configmaps/raw";
    let response = client
        .send(send(uri, "application/apply-patch+yaml", body)?)
        .await?;
    ensure!(
        response.status() == 422,
        "apply without fieldManager: {}",
        response.status()
    );
    let status: Value = serde_json::from_slice(&response.into_body().collect_bytes().await?)?;
    ensure!(
        status["message"].as_str().is_some_and(
            |m| m.contains("fieldManager: Required value: is required for apply requests")
        ),
        "{status}"
    );
    let response = client
        .send(send(
            &format!("{uri}?fieldManager=raw"),
            "application/apply-patch+yaml",
            body,
        )?)
        .await?;
    ensure!(
        response.status() == 201,
        "apply creates: {}",
        response.status()
    );
    let response = client
        .send(send(
            &format!("{uri}?force=true"),
            "application/merge-patch+json",
            "{}",
        )?)
        .await?;
    ensure!(
        response.status() == 422,
        "force on a merge patch: {}",
        response.status()
    );
    Ok(())
}

#[tokio::test]
async fn server_side_apply_with_stock_kubectl() -> Result<()> {
    let server = ServerProcess::start(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    apply_and_prune(&server).context("apply and prune")?;
    conflicts(&server).context("conflicts")?;
    client_side_to_server_side(&server).context("client-side to server-side")?;
    raw_options(&server).await.context("raw options")?;
    Ok(())
}
