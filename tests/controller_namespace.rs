//! The namespace controller against a real API server, driven by stock kubectl: deleting a
//! namespace empties it of built-in and custom objects and then it disappears
//! (`kubectl delete ns --wait` returns), content held by a finalizer is reported in the
//! namespace's conditions until released, and `ferrokube server` runs the loop in-process.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_controllers::ManagerOptions;
use ferrokube_testkit::ServerProcess;
use serde_json::Value;

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.ns.example.com}
spec:
  group: ns.example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const CONTENT: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: doomed}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: more-settings, namespace: doomed}
---
apiVersion: v1
kind: Secret
metadata: {name: password, namespace: doomed}
stringData: {password: hunter2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: doomed}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: ns.example.com/v1
kind: Gizmo
metadata: {name: sprocket, namespace: doomed}
spec: {teeth: 12}
"#;

fn binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube"))
}

fn kubectl(server: &ServerProcess, args: &[&str]) -> Result<String> {
    Ok(tokio::task::block_in_place(|| server.kubectl_ok(args))?)
}

fn kubectl_err(server: &ServerProcess, args: &[&str]) -> Result<String> {
    Ok(tokio::task::block_in_place(|| server.kubectl_err(args))?)
}

fn apply(server: &ServerProcess, text: &str) -> Result<()> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    kubectl(
        server,
        &["apply", "-f", file.path().to_str().context("temp path")?],
    )?;
    Ok(())
}

fn install_crd(server: &ServerProcess) -> Result<()> {
    apply(server, CRD)?;
    kubectl(
        server,
        &[
            "wait",
            "--for",
            "condition=established",
            "--timeout=20s",
            "crd/gizmos.ns.example.com",
        ],
    )?;
    Ok(())
}

/// The API server alone with the manager running in the test.
async fn cluster() -> Result<ServerProcess> {
    // The controller's log, shown when a test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("ferrokube_controllers::namespace=debug")
        .with_test_writer()
        .try_init();
    let server = ServerProcess::start_apiserver(binary(), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let options = ManagerOptions {
        lease: None,
        identity: Some("namespace-test".to_owned()),
        ..ManagerOptions::default()
    };
    tokio::spawn(ferrokube_controllers::run(client, options));
    Ok(server)
}

fn get_json(server: &ServerProcess, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    Ok(serde_json::from_str(&kubectl(server, &all)?)?)
}

/// Polls `check` until it holds or `timeout` passes.
async fn eventually<F>(timeout: Duration, what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Result<bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::new();
    loop {
        match check() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => last = error.to_string(),
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what} {last}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn condition<'a>(namespace: &'a Value, kind: &str) -> Option<&'a Value> {
    namespace["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_namespace_empties_it_and_waits() -> Result<()> {
    let server = cluster().await?;
    install_crd(&server)?;
    apply(
        &server,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n",
    )?;
    apply(&server, CONTENT)?;
    let listed = kubectl(
        &server,
        &[
            "get",
            "configmaps,secrets,deployments,gizmos",
            "-n",
            "doomed",
            "-o",
            "name",
        ],
    )?;
    for name in [
        "configmap/settings",
        "secret/password",
        "deployment.apps/web",
        "gizmo.ns.example.com/sprocket",
    ] {
        if !listed.contains(name) {
            bail!("{name} missing: {listed}");
        }
    }

    // `--wait` (the default) returns once the namespace is gone.
    let started = std::time::Instant::now();
    let out = kubectl(&server, &["delete", "namespace", "doomed", "--timeout=90s"])?;
    if !out.contains("namespace \"doomed\" deleted") {
        bail!("{out}");
    }
    let took = started.elapsed();
    let error = kubectl_err(&server, &["get", "namespace", "doomed"])?;
    if !error.contains("not found") {
        bail!("namespace still there after {took:?}: {error}");
    }
    // Upstream waits its grace period before acting.
    if took < Duration::from_secs(4) {
        bail!("namespace deleted after only {took:?}");
    }
    // Its content went with it (a new namespace of the same name starts empty).
    apply(
        &server,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n",
    )?;
    let left = kubectl(
        &server,
        &[
            "get",
            "configmaps,secrets,deployments,gizmos",
            "-n",
            "doomed",
            "-o",
            "name",
        ],
    )?;
    for name in ["settings", "password", "web", "sprocket"] {
        if left.contains(name) {
            bail!("{name} survived its namespace: {left}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn content_held_by_finalizers_is_reported_in_conditions() -> Result<()> {
    let server = cluster().await?;
    apply(
        &server,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: stuck}\n",
    )?;
    apply(
        &server,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: stuck, finalizers: [example.com/hold]}\n",
    )?;
    kubectl(&server, &["delete", "namespace", "stuck", "--wait=false"])?;
    eventually(
        Duration::from_secs(30),
        "the remaining-content conditions",
        || {
            let namespace = get_json(&server, &["get", "namespace", "stuck"])?;
            let remaining = condition(&namespace, "NamespaceContentRemaining");
            let finalizers = condition(&namespace, "NamespaceFinalizersRemaining");
            Ok(remaining.is_some_and(|c| {
                c["status"] == "True"
                    && c["reason"] == "SomeResourcesRemain"
                    && c["message"]
                        == "Some resources are remaining: configmaps. has 1 resource instances"
            }) && finalizers.is_some_and(|c| {
                c["status"] == "True"
                    && c["reason"] == "SomeFinalizerRemain"
                    && c["message"]
                        == "Some finalizers are remaining: example.com/hold in 1 resource instances"
            }))
        },
    )
    .await?;
    let namespace = get_json(&server, &["get", "namespace", "stuck"])?;
    for (kind, reason, message) in [
        (
            "NamespaceDeletionDiscoveryFailure",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        (
            "NamespaceDeletionContentFailure",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
    ] {
        let found = condition(&namespace, kind).with_context(|| format!("{kind} missing"))?;
        if found["status"] != "False" || found["reason"] != reason || found["message"] != message {
            bail!("{kind}: {found}");
        }
    }
    if namespace["status"]["phase"] != "Terminating"
        || namespace["spec"]["finalizers"] != serde_json::json!(["kubernetes"])
    {
        bail!("{}", namespace);
    }
    let described = kubectl(&server, &["describe", "namespace", "stuck"])?;
    if !described.contains("NamespaceFinalizersRemaining") {
        bail!("{described}");
    }

    // Released by its finalizer, the object goes and the namespace follows.
    kubectl(
        &server,
        &[
            "patch",
            "configmap",
            "held",
            "-n",
            "stuck",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
    )?;
    eventually(Duration::from_secs(40), "the namespace to go", || {
        let out = tokio::task::block_in_place(|| server.kubectl(&["get", "namespace", "stuck"]))?;
        Ok(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not found"))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_runs_the_namespace_controller_itself() -> Result<()> {
    let server = ServerProcess::start(binary(), &[])?;
    apply(
        &server,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: short-lived}\n",
    )?;
    apply(
        &server,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: note, namespace: short-lived}\ndata: {a: b}\n",
    )?;
    let out = kubectl(
        &server,
        &["delete", "namespace", "short-lived", "--timeout=90s"],
    )?;
    if !out.contains("deleted") {
        bail!("{out}");
    }
    let error = kubectl_err(&server, &["get", "namespace", "short-lived"])?;
    if !error.contains("not found") {
        bail!("{error}");
    }
    Ok(())
}
