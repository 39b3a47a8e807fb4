//! The everyday GitOps loop with two stock kubectl builds (1.32 from the image, the newest
//! from the PyPI wheel) against a real `ferrokube server`: a multi-document manifest of many
//! kinds (a CRD and an instance of it included) applied, re-applied (`unchanged`), changed
//! (`configured`), an env var removed from the file (gone from the object), `diff` showing
//! exactly the change, `edit` through a scripted editor, `explain`, every patch type,
//! client-side to server-side apply and a field-manager conflict.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use serde_json::Value;

/// kubectl 1.32 as the machine image ships it, and the newest the install script fetches.
const KUBECTLS: [&str; 2] = [
    "/usr/lib/google-cloud-sdk/bin/kubectl.1.32",
    "/usr/local/bin/kubectl-1.37",
];

/// One kubectl build pointed at one server.
struct Kubectl<'a> {
    binary: PathBuf,
    server: &'a ServerProcess,
}

impl Kubectl<'_> {
    fn run(&self, args: &[&str], editor: Option<&str>) -> Result<Output> {
        let mut command = Command::new(&self.binary);
        command
            .arg("--kubeconfig")
            .arg(self.server.kubeconfig())
            .arg("--request-timeout=20s")
            .args(args)
            .stdin(Stdio::null());
        if let Some(editor) = editor {
            command.env("KUBE_EDITOR", editor);
        }
        command
            .output()
            .with_context(|| format!("running {}", self.binary.display()))
    }

    fn ok(&self, args: &[&str]) -> Result<String> {
        let output = self.run(args, None)?;
        if !output.status.success() {
            bail!(
                "kubectl {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn err(&self, args: &[&str]) -> Result<String> {
        let output = self.run(args, None)?;
        ensure!(
            !output.status.success(),
            "kubectl {args:?} succeeded: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        Ok(String::from_utf8_lossy(&output.stderr).into_owned())
    }

    fn json(&self, args: &[&str]) -> Result<Value> {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        Ok(serde_json::from_str(&self.ok(&all)?)?)
    }
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What a widget should be.
            properties:
              size: {type: integer, description: How big the widget is.}
              colour: {type: string}
";

/// The application: one document per kind, the values that change between steps as holes.
fn application(replicas: u32, env: &str) -> String {
    format!(
        "{CRD}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{mode: fast}}
---
apiVersion: v1
kind: Secret
metadata: {{name: token}}
data: {{token: czNjcmV0}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: app}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: reader}}
rules:
- apiGroups: ['']
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: app-reader}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}}
subjects:
- {{kind: ServiceAccount, name: app}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      serviceAccountName: app
      containers:
      - name: web
        image: nginx:1.27
        ports: [{{containerPort: 80, name: http}}]
        env:
{env}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: http}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: migrate}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: migrate, image: busybox, command: [true]}}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly}}
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{{name: backup, image: busybox, command: [true]}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  serviceName: db
  replicas: 1
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers: [{{name: db, image: busybox}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      containers: [{{name: agent, image: busybox}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web}}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {{service: {{name: web, port: {{number: 80}}}}}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {{name: gadget}}
spec: {{size: 3, colour: blue}}
"
    )
}

const TWO_VARS: &str = "        - {name: LEVEL, value: info}
        - {name: REGION, value: north}";
const ONE_VAR: &str = "        - {name: LEVEL, value: info}";

/// Every object the manifest holds, as kubectl names them in its output.
const OBJECTS: [&str; 14] = [
    "customresourcedefinition.apiextensions.k8s.io/widgets.example.com",
    "configmap/settings",
    "secret/token",
    "serviceaccount/app",
    "role.rbac.authorization.k8s.io/reader",
    "rolebinding.rbac.authorization.k8s.io/app-reader",
    "deployment.apps/web",
    "service/web",
    "job.batch/migrate",
    "cronjob.batch/nightly",
    "statefulset.apps/db",
    "daemonset.apps/agent",
    "ingress.networking.k8s.io/web",
    "widget.example.com/gadget",
];

fn write(dir: &Path, name: &str, text: &str) -> Result<String> {
    let file = dir.join(name);
    std::fs::write(&file, text)?;
    Ok(file.to_str().context("temp path is not UTF-8")?.to_owned())
}

/// kubectl's verdict for each object of an apply, keyed by the object's name.
fn verdicts(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let (object, verdict) = line.split_once(' ')?;
            Some((object.to_owned(), verdict.trim().to_owned()))
        })
        .collect()
}

fn apply_cycle(kubectl: &Kubectl, dir: &Path) -> Result<()> {
    // kubectl maps every document before it applies any, so a CRD and its instance in one
    // file need the CRD established first, as on a real cluster.
    let crd = write(dir, "crd.yaml", CRD)?;
    kubectl.ok(&["apply", "-f", &crd])?;
    kubectl.ok(&[
        "wait",
        "--for=condition=established",
        "--timeout=20s",
        "crd/widgets.example.com",
    ])?;

    let app = write(dir, "app.yaml", &application(2, TWO_VARS))?;
    let first = kubectl.ok(&["apply", "-f", &app])?;
    let first = verdicts(&first);
    for object in OBJECTS {
        let expected = if object.starts_with("customresourcedefinition") {
            "unchanged"
        } else {
            "created"
        };
        ensure!(
            first.contains(&(object.to_owned(), expected.to_owned())),
            "first apply: {object} not {expected}: {first:?}"
        );
    }
    ensure!(first.len() == OBJECTS.len(), "first apply: {first:?}");

    // Again, unchanged: every object says so.
    let again = verdicts(&kubectl.ok(&["apply", "-f", &app])?);
    ensure!(
        again.len() == OBJECTS.len() && again.iter().all(|(_, verdict)| verdict == "unchanged"),
        "second apply: {again:?}"
    );

    // `diff` against a change shows exactly that change, and exits 1.
    let scaled = write(dir, "app.yaml", &application(4, TWO_VARS))?;
    let diff = kubectl.run(&["diff", "-f", &scaled], None)?;
    ensure!(
        diff.status.code() == Some(1),
        "diff exit: {:?}",
        diff.status
    );
    let diff_text = String::from_utf8_lossy(&diff.stdout);
    let changed: Vec<&str> = diff_text
        .lines()
        .filter(|line| {
            (line.starts_with('+') || line.starts_with('-'))
                && !line.starts_with("+++")
                && !line.starts_with("---")
        })
        .collect();
    ensure!(
        changed.iter().any(|line| line.trim() == "-  replicas: 2")
            && changed.iter().any(|line| line.trim() == "+  replicas: 4")
            && changed.iter().all(|line| {
                let line = line.trim_start_matches(['+', '-']).trim();
                line.starts_with("replicas:") || line.starts_with("generation:")
            }),
        "diff shows more than the change: {diff_text}"
    );

    // One field changed: only that object is configured.
    let applied = verdicts(&kubectl.ok(&["apply", "-f", &scaled])?);
    for (object, verdict) in &applied {
        let expected = if object == "deployment.apps/web" {
            "configured"
        } else {
            "unchanged"
        };
        ensure!(verdict == expected, "third apply: {applied:?}");
    }
    let web = kubectl.json(&["get", "deploy", "web"])?;
    ensure!(web["spec"]["replicas"] == 4, "{}", web["spec"]);

    // An env var dropped from the file is dropped from the object.
    let fewer = write(dir, "app.yaml", &application(4, ONE_VAR))?;
    kubectl.ok(&["apply", "-f", &fewer])?;
    let env = kubectl.json(&["get", "deploy", "web"])?["spec"]["template"]["spec"]["containers"][0]
        ["env"]
        .clone();
    ensure!(
        env == serde_json::json!([{"name": "LEVEL", "value": "info"}]),
        "env after removal: {env}"
    );
    let widget = kubectl.json(&["get", "wg", "gadget"])?;
    ensure!(widget["spec"]["size"] == 3, "{widget}");
    Ok(())
}

fn edit_and_explain(kubectl: &Kubectl) -> Result<()> {
    let edit = kubectl.run(
        &["edit", "configmap", "settings"],
        Some("sed -i -e s/mode:\\ fast/mode:\\ slow/"),
    )?;
    ensure!(
        edit.status.success(),
        "edit: {}",
        String::from_utf8_lossy(&edit.stderr)
    );
    let settings = kubectl.json(&["get", "cm", "settings"])?;
    ensure!(settings["data"]["mode"] == "slow", "{settings}");

    let builtin = kubectl.ok(&["explain", "deployment.spec.replicas"])?;
    ensure!(
        builtin.contains("FIELD: replicas") && builtin.contains("desired pods"),
        "{builtin}"
    );
    let custom = kubectl.ok(&["explain", "widget.spec"])?;
    ensure!(
        custom.contains("What a widget should be.") && custom.contains("How big the widget is."),
        "{custom}"
    );
    Ok(())
}

fn patches(kubectl: &Kubectl) -> Result<()> {
    kubectl.ok(&[
        "patch",
        "deploy",
        "web",
        "--type=strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"EXTRA","value":"1"}]}]}}}}"#,
    ])?;
    kubectl.ok(&[
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":"front"}}}"#,
    ])?;
    kubectl.ok(&[
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":1}]"#,
    ])?;
    let web = kubectl.json(&["get", "deploy", "web"])?;
    let env = &web["spec"]["template"]["spec"]["containers"][0]["env"];
    ensure!(
        *env == serde_json::json!([{"name": "EXTRA", "value": "1"}, {"name": "LEVEL", "value": "info"}])
            || *env
                == serde_json::json!([{"name": "LEVEL", "value": "info"}, {"name": "EXTRA", "value": "1"}]),
        "strategic patch merged env by name: {env}"
    );
    ensure!(web["metadata"]["labels"]["tier"] == "front", "{web}");
    ensure!(web["spec"]["replicas"] == 1, "{}", web["spec"]);

    // A patch that breaks the object is refused whole.
    let refused = kubectl.err(&[
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":-3}]"#,
    ])?;
    ensure!(refused.contains("Invalid value"), "{refused}");
    let web = kubectl.json(&["get", "deploy", "web"])?;
    ensure!(web["spec"]["replicas"] == 1, "{}", web["spec"]);
    Ok(())
}

fn server_side(kubectl: &Kubectl, dir: &Path) -> Result<()> {
    // Moving the client-side-applied ConfigMap to server-side apply keeps it whole.
    let settings = write(
        dir,
        "settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: slow}\n",
    )?;
    let moved = kubectl.ok(&["apply", "--server-side", "-f", &settings])?;
    ensure!(moved.contains("serverside-applied"), "{moved}");
    let live = kubectl.json(&["get", "cm", "settings", "--show-managed-fields"])?;
    ensure!(
        live["metadata"]["managedFields"]
            .as_array()
            .is_some_and(|entries| entries
                .iter()
                .any(|e| e["manager"] == "kubectl" && e["operation"] == "Apply")),
        "{live}"
    );

    // Another manager claiming the same field conflicts until it forces.
    let rival = write(
        dir,
        "rival.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: eco}\n",
    )?;
    let conflict = kubectl.err(&[
        "apply",
        "--server-side",
        "--field-manager=rival",
        "-f",
        &rival,
    ])?;
    ensure!(
        conflict.contains("conflict") && conflict.contains(".data.mode"),
        "{conflict}"
    );
    kubectl.ok(&[
        "apply",
        "--server-side",
        "--field-manager=rival",
        "--force-conflicts",
        "-f",
        &rival,
    ])?;
    let live = kubectl.json(&["get", "cm", "settings"])?;
    ensure!(live["data"]["mode"] == "eco", "{live}");
    Ok(())
}

fn gitops_with(binary: &str) -> Result<()> {
    let binary = PathBuf::from(binary);
    ensure!(
        binary.exists(),
        "{} is missing: run hack/install-deps.sh",
        binary.display()
    );
    let server = ServerProcess::start(Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let kubectl = Kubectl {
        binary,
        server: &server,
    };
    let dir = tempfile::tempdir()?;
    apply_cycle(&kubectl, dir.path()).context("apply cycle")?;
    edit_and_explain(&kubectl).context("edit and explain")?;
    patches(&kubectl).context("patches")?;
    server_side(&kubectl, dir.path()).context("server-side apply")?;
    Ok(())
}

#[test]
fn gitops_with_kubectl_1_32() -> Result<()> {
    gitops_with(KUBECTLS[0])
}

#[test]
fn gitops_with_the_newest_kubectl() -> Result<()> {
    gitops_with(KUBECTLS[1])
}
