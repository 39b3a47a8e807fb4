//! kubectl 1.27 and 1.28 read `/openapi/v2` only in gnostic's protobuf encoding (and fall
//! back to the long-gone `/swagger-2.0.0.pb-v1`): `apply`, `create --validate` and
//! `explain` need it. Stock binaries of those versions against a real `ferrokube server`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, ensure, Context, Result};
use ferrokube_testkit::ServerProcess;

/// Where the Cloud SDK puts its older kubectl builds.
const SDK_BIN: &str = "/usr/lib/google-cloud-sdk/bin";

const CONFIG_MAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
";

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
";

const UNKNOWN_FIELD: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: typo
data:
  mode: fast
bogusField: 1
";

/// One old kubectl binary pointed at one server.
struct OldKubectl<'a> {
    binary: PathBuf,
    server: &'a ServerProcess,
}

impl OldKubectl<'_> {
    fn run(&self, args: &[&str]) -> Result<Output> {
        Command::new(&self.binary)
            .arg("--kubeconfig")
            .arg(self.server.kubeconfig())
            .arg("--request-timeout=20s")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {:?}", self.binary))
    }

    /// stdout and stderr of a run that must succeed.
    fn ok(&self, args: &[&str]) -> Result<(String, String)> {
        let output = self.run(args)?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !output.status.success() {
            bail!(
                "{:?} {args:?} failed: {stderr}\nserver log:\n{}",
                self.binary,
                self.server.log()
            );
        }
        Ok((stdout, stderr))
    }

    /// stderr of a run that must fail.
    fn err(&self, args: &[&str]) -> Result<String> {
        let output = self.run(args)?;
        ensure!(
            !output.status.success(),
            "{args:?} succeeded: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        Ok(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn manifest(text: &str) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}

fn path(file: &tempfile::NamedTempFile) -> Result<&str> {
    file.path().to_str().context("temp path is not UTF-8")
}

/// Everything an old kubectl does with the v2 document, on a fresh server.
fn exercise(version: &str) -> Result<()> {
    let binary = Path::new(SDK_BIN).join(format!("kubectl.{version}"));
    if !binary.exists() {
        eprintln!("note: {} is not installed; skipping", binary.display());
        return Ok(());
    }
    let server = ServerProcess::start(Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let kubectl = OldKubectl {
        binary,
        server: &server,
    };
    let namespace = format!("old-{}", version.replace('.', "-"));
    kubectl.ok(&["create", "namespace", &namespace])?;

    // Create through client-side apply; the request log shows where the schema came from.
    let config_map = manifest(CONFIG_MAP)?;
    let (stdout, stderr) =
        kubectl.ok(&["apply", "-n", &namespace, "-f", path(&config_map)?, "-v=6"])?;
    ensure!(
        stdout.contains("configmap/settings created"),
        "{stdout}{stderr}"
    );
    ensure!(
        stderr.lines().any(|line| line.contains("GET ")
            && line.contains("/openapi/v2")
            && line.contains(" 200 OK")),
        "no successful /openapi/v2 fetch:\n{stderr}"
    );
    ensure!(
        !stderr.contains("swagger-2.0.0.pb-v1"),
        "kubectl fell back to the legacy path:\n{stderr}"
    );
    let (mode, _) = kubectl.ok(&[
        "get",
        "configmap",
        "settings",
        "-n",
        &namespace,
        "-o",
        "jsonpath={.data.mode}",
    ])?;
    ensure!(mode == "fast", "{mode}");

    let deployment = manifest(DEPLOYMENT)?;
    let (stdout, _) = kubectl.ok(&["apply", "-n", &namespace, "-f", path(&deployment)?])?;
    ensure!(stdout.contains("deployment.apps/web created"), "{stdout}");

    // A second apply computes a strategic merge patch from the v2 schema's patch metadata;
    // kubectl warns when it cannot, then falls back to its compiled-in types.
    let changed = manifest(
        &DEPLOYMENT
            .replace("replicas: 2", "replicas: 3")
            .replace("nginx:1.25", "nginx:1.26"),
    )?;
    let (stdout, stderr) = kubectl.ok(&["apply", "-n", &namespace, "-f", path(&changed)?])?;
    ensure!(
        stdout.contains("deployment.apps/web configured"),
        "{stdout}"
    );
    ensure!(!stderr.contains("warning"), "{stderr}");
    let (spec, _) = kubectl.ok(&[
        "get",
        "deployment",
        "web",
        "-n",
        &namespace,
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[*].image}",
    ])?;
    ensure!(spec == "3 nginx:1.26", "{spec}");

    // `explain` from the v3 document (these versions' default) and from the v2 protobuf.
    for extra in [None, Some("--output=plaintext-openapiv2")] {
        let mut args = vec!["explain", "deployment.spec.replicas"];
        args.extend(extra);
        let (stdout, _) = kubectl.ok(&args)?;
        ensure!(stdout.contains("replicas <integer>"), "{args:?}: {stdout}");
        ensure!(
            stdout.contains("Number of desired pods."),
            "{args:?}: {stdout}"
        );
    }

    // Strict validation: the documents advertise `fieldValidation` on the kind's PATCH, so
    // kubectl leaves the check to the server, which names the field.
    let typo = manifest(UNKNOWN_FIELD)?;
    let stderr = kubectl.err(&[
        "create",
        "--validate=true",
        "-n",
        &namespace,
        "-f",
        path(&typo)?,
    ])?;
    ensure!(stderr.contains("unknown field \"bogusField\""), "{stderr}");
    let missing = kubectl.err(&["get", "configmap", "typo", "-n", &namespace])?;
    ensure!(missing.contains("NotFound"), "{missing}");
    Ok(())
}

#[test]
fn kubectl_1_27_uses_the_protobuf_openapi_v2() -> Result<()> {
    exercise("1.27")
}

#[test]
fn kubectl_1_28_uses_the_protobuf_openapi_v2() -> Result<()> {
    exercise("1.28")
}
