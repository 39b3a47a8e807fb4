//! A namespace's deletion as the API server carries it out (the namespace controller does
//! the emptying and is tested with the controller manager): created with the `kubernetes`
//! finalizer, marked Terminating by the first delete, closed to new objects, a second delete
//! refused with 409 while content may remain, and removed once `finalize` clears it.

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::client::Body;
use serde_json::Value;

#[tokio::test]
async fn namespace_deletion_waits_for_finalize() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut doomed = Namespace::default();
    doomed.metadata.name = Some("doomed".to_owned());
    let created = namespaces.create(&PostParams::default(), &doomed).await?;
    let finalizers = created
        .spec
        .and_then(|spec| spec.finalizers)
        .unwrap_or_default();
    ensure!(finalizers == ["kubernetes"], "{finalizers:?}");

    let out = server.kubectl_ok(&["delete", "namespace", "doomed", "--wait=false"])?;
    ensure!(out.contains("deleted"), "{out}");
    let marked = namespaces.get("doomed").await?;
    ensure!(marked.metadata.deletion_timestamp.is_some());
    ensure!(
        marked.status.and_then(|s| s.phase).as_deref() == Some("Terminating"),
        "phase"
    );
    let refused = server.kubectl_err(&["delete", "namespace", "doomed", "--wait=false"])?;
    ensure!(
        refused.contains("The system is ensuring all content is removed from this namespace"),
        "{refused}"
    );

    // What the namespace controller does once the namespace is empty.
    let mut body: Value = serde_json::to_value(namespaces.get("doomed").await?)?;
    body["spec"]["finalizers"] = serde_json::json!([]);
    let request = http::Request::builder()
        .method("PUT")
        .uri("/api/v1/namespaces/doomed/finalize")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body)?))?;
    let response = client.send(request).await?;
    ensure!(response.status() == 200, "finalize: {}", response.status());
    let gone = namespaces.get_opt("doomed").await?;
    ensure!(gone.is_none(), "the finalized namespace is still there");
    let listed = server.kubectl_ok(&["get", "ns", "-o", "name"])?;
    ensure!(!listed.contains("doomed"), "{listed}");
    Ok(())
}

#[tokio::test]
async fn terminating_namespaces_take_no_new_objects() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let manifest = tempfile::Builder::new().suffix(".json").tempfile()?;
    std::fs::write(
        manifest.path(),
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"closing"}}"#,
    )?;
    let path = manifest.path().to_str().context("path")?;
    server.kubectl_ok(&["create", "-f", path])?;
    server.kubectl_ok(&["delete", "namespace", "closing", "--wait=false"])?;
    let config = tempfile::Builder::new().suffix(".json").tempfile()?;
    std::fs::write(
        config.path(),
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late","namespace":"closing"}}"#,
    )?;
    let error = server.kubectl_err(&["create", "-f", config.path().to_str().context("path")?])?;
    ensure!(error.contains("because it is being terminated"), "{error}");
    Ok(())
}
