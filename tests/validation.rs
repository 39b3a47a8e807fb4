//! Upstream's validation and defaulting, seen through stock kubectl against a real
//! `ferrokube apiserver`: invalid manifests piped to `kubectl create -f -` are refused with
//! the exact lines kubectl prints for kube-apiserver (`The Deployment "web" is invalid:
//! ...`), nothing of them is stored, every problem comes in the one answer, updates that
//! change fixed fields are refused, and valid manifests come back with upstream's defaults.

use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use ferrokube_testkit::{kubectl_binary, ServerProcess};
use serde_json::{json, Value};

const LABEL_HELP: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_HELP: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const CONFIG_KEY_HELP: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

fn start() -> Result<ServerProcess> {
    Ok(ServerProcess::start_apiserver(
        std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")),
        &[],
    )?)
}

/// Runs kubectl with `manifest` on its standard input; (success, stdout, stderr).
fn kubectl_stdin(
    server: &ServerProcess,
    args: &[&str],
    manifest: &Value,
) -> Result<(bool, String, String)> {
    let mut child = Command::new(kubectl_binary())
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .arg("--request-timeout=20s")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("kubectl has no stdin")?
        .write_all(&serde_json::to_vec(manifest)?)?;
    let output = child.wait_with_output()?;
    Ok((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// `kubectl create -f -` that must succeed.
fn create(server: &ServerProcess, manifest: &Value) -> Result<()> {
    let (ok, _, stderr) = kubectl_stdin(server, &["create", "-f", "-"], manifest)?;
    ensure!(ok, "create refused: {stderr}\n{manifest:#}");
    Ok(())
}

/// What kubectl prints for a 422 with these causes.
fn invalid(kind: &str, name: &str, lines: &[&str]) -> String {
    match lines {
        [one] => format!("The {kind} \"{name}\" is invalid: {one}\n"),
        many => {
            let mut text = format!("The {kind} \"{name}\" is invalid: \n");
            for line in many {
                text.push_str(&format!("* {line}\n"));
            }
            text
        }
    }
}

/// `kubectl <verb> -f -` that must fail with exactly `expected` on stderr.
fn refused(server: &ServerProcess, verb: &str, manifest: &Value, expected: &str) -> Result<()> {
    let (ok, stdout, stderr) = kubectl_stdin(server, &[verb, "-f", "-"], manifest)?;
    ensure!(!ok, "{verb} accepted {manifest:#}: {stdout}");
    let printed: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.starts_with("Warning:"))
        .collect();
    ensure!(
        printed.join("\n") == expected.trim_end(),
        "kubectl printed\n{stderr}\nexpected\n{expected}"
    );
    Ok(())
}

/// Asserts kubectl cannot find the object: a refused create stored nothing.
fn absent(server: &ServerProcess, args: &[&str]) -> Result<()> {
    let mut all = vec!["get"];
    all.extend(args);
    let error = server.kubectl_err(&all)?;
    ensure!(error.contains("NotFound"), "{args:?}: {error}");
    Ok(())
}

fn get_json(server: &ServerProcess, args: &[&str]) -> Result<Value> {
    let mut all = vec!["get"];
    all.extend(args);
    all.extend(["-o", "json"]);
    Ok(serde_json::from_str(&server.kubectl_ok(&all)?)?)
}

fn container(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image})
}

fn deployment(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

fn deployments(server: &ServerProcess) -> Result<()> {
    refused(
        server,
        "create",
        &deployment(
            "web",
            json!({"selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "other"}},
                                "spec": {"containers": [container("web", "nginx:1.27")]}}}),
        ),
        &invalid(
            "Deployment",
            "web",
            &["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"],
        ),
    )?;
    let name_line =
        format!("spec.template.spec.containers[0].name: Invalid value: \"Web_1\": {LABEL_HELP}");
    refused(
        server,
        "create",
        &deployment(
            "web",
            json!({"replicas": -1,
                   "strategy": {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [container("Web_1", "")]}}}),
        ),
        &invalid(
            "Deployment",
            "web",
            &[
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
                &name_line,
                "spec.template.spec.containers[0].image: Required value",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
            ],
        ),
    )?;
    absent(server, &["deployment", "web"])?;

    let valid = deployment(
        "web",
        json!({"selector": {"matchLabels": {"app": "web"}},
               "template": {"metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                "ports": [{"containerPort": 80}],
                                "readinessProbe": {"httpGet": {"port": 80}}}]}}}),
    );
    create(server, &valid)?;
    let stored = get_json(server, &["deployment", "web"])?;
    let spec = &stored["spec"];
    ensure!(spec["replicas"] == 1, "{spec}");
    ensure!(
        spec["strategy"]["rollingUpdate"]["maxSurge"] == "25%",
        "{spec}"
    );
    ensure!(spec["progressDeadlineSeconds"] == 600, "{spec}");
    let web = &spec["template"]["spec"]["containers"][0];
    ensure!(web["terminationMessagePolicy"] == "File", "{web}");
    ensure!(web["imagePullPolicy"] == "IfNotPresent", "{web}");
    ensure!(web["ports"][0]["protocol"] == "TCP", "{web}");
    ensure!(web["readinessProbe"]["periodSeconds"] == 10, "{web}");
    ensure!(web["readinessProbe"]["httpGet"]["path"] == "/", "{web}");

    let mut moved = valid.clone();
    moved["spec"]["selector"]["matchLabels"]["app"] = json!("web2");
    moved["spec"]["template"]["metadata"]["labels"]["app"] = json!("web2");
    refused(
        server,
        "replace",
        &moved,
        &invalid(
            "Deployment",
            "web",
            &["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"],
        ),
    )?;
    let mut scaled = valid;
    scaled["spec"]["replicas"] = json!(3);
    let (ok, _, stderr) = kubectl_stdin(server, &["replace", "-f", "-"], &scaled)?;
    ensure!(ok, "a valid update was refused: {stderr}");
    Ok(())
}

fn workload_template(labels: Value, restart: Option<&str>) -> Value {
    let mut spec = json!({"containers": [container("main", "busybox:1.36")]});
    if let Some(restart) = restart {
        spec["restartPolicy"] = json!(restart);
    }
    json!({"metadata": {"labels": labels}, "spec": spec})
}

fn stateful_and_daemon_sets(server: &ServerProcess) -> Result<()> {
    let stateful = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"serviceName": "db", "podManagementPolicy": "Sometimes",
                 "selector": {"matchLabels": {"app": "db"}},
                 "template": workload_template(json!({"app": "db"}), Some("OnFailure"))}});
    refused(
        server,
        "create",
        &stateful,
        &invalid(
            "StatefulSet",
            "db",
            &[
                "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'",
                "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"",
            ],
        ),
    )?;
    let mut valid = stateful.clone();
    valid["spec"]["podManagementPolicy"] = json!("Parallel");
    valid["spec"]["template"]["spec"]
        .as_object_mut()
        .context("template spec")?
        .remove("restartPolicy");
    create(server, &valid)?;
    let stored = get_json(server, &["statefulset", "db"])?;
    ensure!(stored["spec"]["updateStrategy"]["rollingUpdate"]["partition"] == 0);
    let mut renamed = valid;
    renamed["spec"]["serviceName"] = json!("other");
    refused(
        server,
        "replace",
        &renamed,
        &invalid(
            "StatefulSet",
            "db",
            &["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"],
        ),
    )?;

    refused(
        server,
        "create",
        &json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "updateStrategy": {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}},
                     "template": workload_template(json!({"app": "agent"}), None)}}),
        &invalid(
            "DaemonSet",
            "agent",
            &["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"],
        ),
    )?;
    absent(server, &["daemonset", "agent"])
}

fn jobs(server: &ServerProcess) -> Result<()> {
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {"completions": -1, "template": workload_template(json!({"app": "pi"}), None)}});
    refused(
        server,
        "create",
        &job,
        &invalid(
            "Job",
            "pi",
            &[
                "spec.completions: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
            ],
        ),
    )?;
    absent(server, &["job", "pi"])?;
    let valid = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {"template": workload_template(json!({"app": "pi"}), Some("Never"))}});
    create(server, &valid)?;
    let stored = get_json(server, &["job", "pi"])?;
    ensure!(stored["spec"]["backoffLimit"] == 6, "{}", stored["spec"]);
    ensure!(stored["spec"]["completionMode"] == "NonIndexed");
    let mut changed = stored.clone();
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:1.37");
    let (ok, _, stderr) = kubectl_stdin(server, &["replace", "-f", "-"], &changed)?;
    ensure!(
        !ok && stderr.starts_with("The Job \"pi\" is invalid: spec.template: Invalid value: ")
            && stderr.trim_end().ends_with(": field is immutable"),
        "{stderr}"
    );

    let cron = |schedule: &str| {
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "default"},
            "spec": {"schedule": schedule,
                     "jobTemplate": {"spec": {"template":
                        workload_template(json!({"app": "tick"}), Some("OnFailure"))}}}})
    };
    refused(
        server,
        "create",
        &cron("x"),
        &invalid(
            "CronJob",
            "tick",
            &["spec.schedule: Invalid value: \"x\": expected exactly 5 fields, found 1: [x]"],
        ),
    )?;
    refused(
        server,
        "create",
        &cron("61 * * * *"),
        &invalid(
            "CronJob",
            "tick",
            &["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"],
        ),
    )?;
    absent(server, &["cronjob", "tick"])?;
    create(server, &cron("@hourly"))?;
    let stored = get_json(server, &["cronjob", "tick"])?;
    ensure!(stored["spec"]["concurrencyPolicy"] == "Allow");
    ensure!(
        stored["spec"]["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    );
    Ok(())
}

fn config_maps_and_secrets(server: &ServerProcess) -> Result<()> {
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"},
        "data": {"a b": "1", "ok": "2"}, "binaryData": {"ok": "Mg=="}});
    let key_line = format!("data[a b]: Invalid value: \"a b\": {CONFIG_KEY_HELP}");
    refused(
        server,
        "create",
        &config,
        &invalid(
            "ConfigMap",
            "settings",
            &[
                &key_line,
                "data[ok]: Invalid value: \"ok\": duplicate of key present in binaryData",
            ],
        ),
    )?;
    absent(server, &["configmap", "settings"])?;
    let frozen = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"},
        "immutable": true, "data": {"mode": "fast"}});
    create(server, &frozen)?;
    let mut thawed = frozen.clone();
    thawed["data"]["mode"] = json!("slow");
    thawed
        .as_object_mut()
        .context("configmap")?
        .remove("immutable");
    refused(
        server,
        "replace",
        &thawed,
        &invalid(
            "ConfigMap",
            "settings",
            &[
                "immutable: Forbidden: field is immutable when `immutable` is set",
                "data: Forbidden: field is immutable when `immutable` is set",
            ],
        ),
    )?;

    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "cert", "namespace": "default"},
            "data": {"tls.crt": "Y2VydA=="}}),
        &invalid("Secret", "cert", &["data[tls.key]: Required value"]),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "token", "namespace": "default"}}),
        &invalid(
            "Secret",
            "token",
            &["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
        ),
    )?;
    absent(server, &["secret", "cert"])?;
    let login = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "login", "namespace": "default"},
        "stringData": {"password": "hunter2"}});
    create(server, &login)?;
    let stored = get_json(server, &["secret", "login"])?;
    ensure!(stored["type"] == "Opaque", "{stored}");
    ensure!(stored["data"]["password"] == "aHVudGVyMg==", "{stored}");
    ensure!(stored.get("stringData").is_none(), "{stored}");
    let mut retyped = stored;
    retyped["type"] = json!("kubernetes.io/basic-auth");
    refused(
        server,
        "replace",
        &retyped,
        &invalid(
            "Secret",
            "login",
            &["type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"],
        ),
    )
}

fn cluster_objects(server: &ServerProcess) -> Result<()> {
    let name_line = format!("metadata.name: Invalid value: \"team.a\": {LABEL_HELP}");
    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}}),
        &invalid("Namespace", "team.a", &[&name_line]),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"},
            "spec": {"finalizers": ["mine"]}}),
        &invalid(
            "Namespace",
            "team-a",
            &["spec.finalizers: Invalid value: \"mine\": name is neither a standard finalizer name nor is it fully qualified"],
        ),
    )?;
    absent(server, &["namespace", "team-a"])?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"},
            "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "Sometimes"}]}}),
        &invalid(
            "Node",
            "node-1",
            &["metadata.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""],
        ),
    )?;
    absent(server, &["node", "node-1"])
}

fn rbac(server: &ServerProcess) -> Result<()> {
    refused(
        server,
        "create",
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "readers", "namespace": "default"},
            "subjects": [{"kind": "Robot", "name": "r2"}]}),
        &invalid(
            "RoleBinding",
            "readers",
            &[
                "roleRef.kind: Unsupported value: \"\": supported values: \"Role\", \"ClusterRole\"",
                "roleRef.name: Required value",
                "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            ],
        ),
    )?;
    absent(server, &["rolebinding", "readers"])?;
    create(
        server,
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "acme:reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "empty", "namespace": "default"},
            "rules": [{"resources": ["pods"]}]}),
        &invalid(
            "Role",
            "empty",
            &[
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
            ],
        ),
    )?;
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "readers", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "acme:reader"},
        "subjects": [{"kind": "User", "name": "jane"}]});
    create(server, &binding)?;
    let stored = get_json(server, &["rolebinding", "readers"])?;
    ensure!(stored["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io");
    let mut rebound = binding;
    rebound["roleRef"]["name"] = json!("view");
    refused(
        server,
        "replace",
        &rebound,
        &invalid(
            "RoleBinding",
            "readers",
            &["roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"view\"}: cannot change roleRef"],
        ),
    )
}

fn storage(server: &ServerProcess) -> Result<()> {
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"}, "spec": {}});
    refused(
        server,
        "create",
        &claim,
        &invalid(
            "PersistentVolumeClaim",
            "data",
            &[
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ],
        ),
    )?;
    absent(server, &["pvc", "data"])?;
    let valid = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}}});
    create(server, &valid)?;
    let stored = get_json(server, &["pvc", "data"])?;
    ensure!(stored["spec"]["volumeMode"] == "Filesystem", "{stored}");
    ensure!(stored["status"]["phase"] == "Pending", "{stored}");
    let mut widened = stored;
    widened["spec"]["accessModes"] = json!(["ReadWriteMany"]);
    let (ok, _, stderr) = kubectl_stdin(server, &["replace", "-f", "-"], &widened)?;
    ensure!(
        !ok && stderr.starts_with(
            "The PersistentVolumeClaim \"data\" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
        ),
        "{stderr}"
    );

    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
            "spec": {"accessModes": ["ReadWriteOnce"]}}),
        &invalid(
            "PersistentVolume",
            "pv-1",
            &[
                "spec.capacity: Required value",
                "spec.capacity: Unsupported value: core.ResourceList(nil): supported values: \"storage\"",
                "spec: Required value: must specify a volume type",
            ],
        ),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "fast"}}),
        &invalid("StorageClass", "fast", &["provisioner: Required value"]),
    )?;
    let class = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "fast"}, "provisioner": "example.com/ssd",
        "parameters": {"tier": "gold"}});
    create(server, &class)?;
    let stored = get_json(server, &["storageclass", "fast"])?;
    ensure!(stored["reclaimPolicy"] == "Delete" && stored["volumeBindingMode"] == "Immediate");
    let mut cheaper = class;
    cheaper["parameters"]["tier"] = json!("bronze");
    refused(
        server,
        "replace",
        &cheaper,
        &invalid(
            "StorageClass",
            "fast",
            &["parameters: Forbidden: updates to parameters are forbidden."],
        ),
    )
}

fn networking_and_scaling(server: &ServerProcess) -> Result<()> {
    refused(
        server,
        "create",
        &json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "site", "namespace": "default"},
            "spec": {"rules": [{"host": "example.com", "http": {"paths": [
                {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
        &invalid(
            "Ingress",
            "site",
            &["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"],
        ),
    )?;
    absent(server, &["ingress", "site"])?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 70000}]}]}}),
        &invalid(
            "NetworkPolicy",
            "db",
            &["spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"],
        ),
    )?;
    create(
        server,
        &json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                     "egress": [{"ports": [{"port": 5432}]}]}}),
    )?;
    let stored = get_json(server, &["networkpolicy", "db"])?;
    ensure!(
        stored["spec"]["policyTypes"] == json!(["Ingress", "Egress"]),
        "{stored}"
    );
    ensure!(stored["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP");

    refused(
        server,
        "create",
        &json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"minReplicas": 0, "maxReplicas": 0,
                     "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
        &invalid(
            "HorizontalPodAutoscaler",
            "web",
            &[
                "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
                "spec.maxReplicas: Invalid value: 0: must be greater than 0",
            ],
        ),
    )?;
    create(
        server,
        &json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"maxReplicas": 5,
                     "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
    )?;
    let stored = get_json(server, &["horizontalpodautoscalers.v2.autoscaling", "web"])?;
    ensure!(stored["spec"]["minReplicas"] == 1, "{stored}");
    ensure!(
        stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80,
        "{stored}"
    );

    let (ok, _, stderr) = kubectl_stdin(
        server,
        &["create", "-f", "-"],
        &json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"minAvailable": 1, "maxUnavailable": 1,
                     "selector": {"matchLabels": {"app": "web"}}}}),
    )?;
    ensure!(
        !ok && stderr.starts_with(
            "The PodDisruptionBudget \"web\" is invalid: spec: Invalid value: policy.PodDisruptionBudgetSpec{"
        ) && stderr
            .trim_end()
            .ends_with(": minAvailable and maxUnavailable cannot be both set"),
        "{stderr}"
    );
    absent(server, &["pdb", "web"])
}

fn the_rest(server: &ServerProcess) -> Result<()> {
    refused(
        server,
        "create",
        &json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "leader", "namespace": "default"},
            "spec": {"leaseDurationSeconds": 0}}),
        &invalid(
            "Lease",
            "leader",
            &["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
        ),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "urgent"}, "value": 2_000_000_000}),
        &invalid(
            "PriorityClass",
            "urgent",
            &["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
        ),
    )?;
    let class = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "urgent"}, "value": 1000});
    create(server, &class)?;
    let stored = get_json(server, &["priorityclass", "urgent"])?;
    ensure!(
        stored["preemptionPolicy"] == "PreemptLowerPriority",
        "{stored}"
    );
    let mut raised = class;
    raised["value"] = json!(2000);
    refused(
        server,
        "replace",
        &raised,
        &invalid(
            "PriorityClass",
            "urgent",
            &["value: Forbidden: may not be changed in an update."],
        ),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "kube-system"},
            "reason": "Started"}),
        &invalid(
            "Event",
            "web.1",
            &["involvedObject.namespace: Invalid value: \"kube-system\": does not match event.namespace"],
        ),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-1", "namespace": "default"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"]}], "ports": [{"port": 80}]}),
        &invalid(
            "EndpointSlice",
            "web-1",
            &["endpoints[0].addresses[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)"],
        ),
    )?;
    create(
        server,
        &json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-1", "namespace": "default"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.7"]}], "ports": [{"port": 80}]}),
    )?;
    let stored = get_json(server, &["endpointslice", "web-1"])?;
    ensure!(stored["ports"][0]["protocol"] == "TCP", "{stored}");
    Ok(())
}

fn pods_and_names(server: &ServerProcess) -> Result<()> {
    let name_line = format!("metadata.name: Invalid value: \"Bad_Pod\": {SUBDOMAIN_HELP}");
    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "Bad_Pod", "namespace": "default"}, "spec": {}}),
        &invalid(
            "Pod",
            "Bad_Pod",
            &[&name_line, "spec.containers: Required value"],
        ),
    )?;
    refused(
        server,
        "create",
        &json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 0}],
                 "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]},
                {"name": "web", "image": "nginx"}]}}),
        &invalid(
            "Pod",
            "web",
            &[
                "spec.containers[0].ports[0].containerPort: Required value",
                "spec.containers[0].volumeMounts[0].name: Not found: \"cache\"",
                "spec.containers[1].name: Duplicate value: \"web\"",
            ],
        ),
    )?;
    absent(server, &["pod", "web"])?;
    let service_line = "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    let (ok, _, stderr) = kubectl_stdin(
        server,
        &["create", "-f", "-"],
        &json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "1web", "namespace": "default"},
            "spec": {"ports": [{"port": 80}]}}),
    )?;
    if ok || !stderr.contains(service_line) {
        bail!("a DNS-1035 service name rule was not applied: {stderr}");
    }
    Ok(())
}

#[test]
fn kubectl_sees_upstream_validation_and_defaults() -> Result<()> {
    let server = start()?;
    deployments(&server)?;
    stateful_and_daemon_sets(&server)?;
    jobs(&server)?;
    config_maps_and_secrets(&server)?;
    cluster_objects(&server)?;
    rbac(&server)?;
    storage(&server)?;
    networking_and_scaling(&server)?;
    the_rest(&server)?;
    pods_and_names(&server)
}
