//! Server-side printing against a real `ferrokube apiserver`: stock kubectl's `get` (and
//! `-o wide`, `-w`, `--chunk-size`) shows upstream's columns and computed cells for built-in
//! kinds and custom resources, and raw requests get upstream's negotiation: `Table` in
//! `meta.k8s.io/v1` or `v1beta1`, `includeObject`, 406 for conversions nothing can serve,
//! paged tables, tables in watches, and metadata-only lists and watches for kube-rs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ferrokube_testkit::{kubectl_binary, ServerProcess};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ListParams, PartialObjectMeta, PostParams, WatchEvent};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{json, Value};

/// Numbers the manifest files tests write.
static MANIFESTS: AtomicUsize = AtomicUsize::new(0);

const TABLE_V1: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";
const KUBECTL_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/// The API server alone: no controller writes status behind the test's back.
fn start() -> Result<ServerProcess> {
    Ok(ServerProcess::start_apiserver(
        std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")),
        &[],
    )?)
}

async fn client(server: &ServerProcess) -> Result<Client> {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig())?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

fn apply(server: &ServerProcess, manifest: &str) -> Result<()> {
    let path = server.data_dir().join(format!(
        "manifest-{}.yaml",
        MANIFESTS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, manifest)?;
    server.kubectl_ok(&["apply", "-f", &path.to_string_lossy()])?;
    Ok(())
}

fn patch_status(server: &ServerProcess, kind: &str, name: &str, status: &Value) -> Result<()> {
    let patch = json!({ "status": status }).to_string();
    server.kubectl_ok(&[
        "patch",
        kind,
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &patch,
    ])?;
    Ok(())
}

/// `now - seconds` as `metav1.Time` writes it.
fn ago(seconds: i64) -> String {
    let time = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(seconds);
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// kubectl's human-readable table: headers and rows of cells, cut at the header's column
/// starts (kubectl pads columns with three spaces, so a column starts after two).
struct Printed {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Printed {
    fn parse(output: &str) -> Self {
        let mut lines = output.lines().filter(|line| !line.trim().is_empty());
        let header = lines.next().unwrap_or_default();
        let bytes = header.as_bytes();
        let starts: Vec<usize> = (0..bytes.len())
            .filter(|&at| {
                bytes[at] != b' ' && (at == 0 || (at >= 2 && &bytes[at - 2..at] == b"  "))
            })
            .collect();
        let cut = |line: &str| -> Vec<String> {
            starts
                .iter()
                .enumerate()
                .map(|(index, &start)| {
                    let end = starts.get(index + 1).copied().unwrap_or(line.len());
                    line.get(start.min(line.len())..end.min(line.len()))
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                })
                .collect()
        };
        Self {
            headers: cut(header),
            rows: lines.map(cut).collect(),
        }
    }

    /// The row whose first cell is `name`, by header.
    fn row(&self, name: &str) -> Result<HashMap<String, String>> {
        let row = self
            .rows
            .iter()
            .find(|row| row.first().map(String::as_str) == Some(name))
            .with_context(|| format!("no row {name:?} in {:?}", self.rows))?;
        Ok(self
            .headers
            .iter()
            .cloned()
            .zip(row.iter().cloned())
            .collect())
    }
}

fn get(server: &ServerProcess, args: &[&str]) -> Result<Printed> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    Ok(Printed::parse(&server.kubectl_ok(&all)?))
}

fn check(row: &HashMap<String, String>, want: &[(&str, &str)]) -> Result<()> {
    for (column, value) in want {
        let got = row.get(*column).map(String::as_str);
        ensure!(
            got == Some(*value),
            "column {column}: got {got:?}, want {value:?} in {row:?}"
        );
    }
    Ok(())
}

const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default}
spec:
  nodeName: node-1
  containers: [{name: a, image: busybox}, {name: b, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: crashing, namespace: default}
spec:
  containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: starting, namespace: default}
spec:
  initContainers: [{name: init, image: busybox}]
  containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: fresh, namespace: default}
spec:
  containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {node-role.kubernetes.io/control-plane: ""}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
spec: {unschedulable: true}
"#;

fn container(name: &str, state: Value, ready: bool, restarts: i64) -> Value {
    json!({"name": name, "image": "busybox", "imageID": "", "ready": ready,
           "restartCount": restarts, "started": ready, "state": state})
}

#[test]
fn pods_and_nodes_show_computed_status() -> Result<()> {
    let server = start()?;
    apply(&server, PODS)?;
    let mut restarted = container("b", json!({"running": {"startedAt": ago(60)}}), true, 2);
    restarted["lastState"] =
        json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(300)}});
    patch_status(
        &server,
        "pod",
        "web-1",
        &json!({
            "phase": "Running",
            "podIP": "10.1.2.3",
            "podIPs": [{"ip": "10.1.2.3"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                container("a", json!({"running": {"startedAt": ago(600)}}), true, 0),
                restarted,
            ],
        }),
    )?;
    patch_status(
        &server,
        "pod",
        "crashing",
        &json!({"phase": "Running", "containerStatuses": [
            container("a", json!({"waiting": {"reason": "CrashLoopBackOff"}}), false, 4),
        ]}),
    )?;
    patch_status(
        &server,
        "pod",
        "starting",
        &json!({"phase": "Pending", "initContainerStatuses": [
            container("init", json!({"waiting": {"reason": "PodInitializing"}}), false, 0),
        ]}),
    )?;

    let pods = get(&server, &["pods", "-n", "default"])?;
    ensure!(
        pods.headers == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{:?}",
        pods.headers
    );
    let web = pods.row("web-1")?;
    check(&web, &[("READY", "2/2"), ("STATUS", "Running")])?;
    let restarts = &web["RESTARTS"];
    ensure!(
        restarts.starts_with("2 (5m") && restarts.ends_with(" ago)"),
        "restarts {restarts:?}"
    );
    check(
        &pods.row("crashing")?,
        &[
            ("READY", "0/1"),
            ("STATUS", "CrashLoopBackOff"),
            ("RESTARTS", "4"),
        ],
    )?;
    check(
        &pods.row("starting")?,
        &[("READY", "0/1"), ("STATUS", "Init:0/1")],
    )?;
    let fresh = pods.row("fresh")?;
    check(
        &fresh,
        &[("READY", "0/1"), ("STATUS", "Pending"), ("RESTARTS", "0")],
    )?;
    ensure!(fresh["AGE"].ends_with('s'), "age {:?}", fresh["AGE"]);

    let wide = get(&server, &["pods", "-n", "default", "-o", "wide"])?;
    ensure!(
        wide.headers
            == [
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "AGE",
                "IP",
                "NODE",
                "NOMINATED NODE",
                "READINESS GATES"
            ],
        "{:?}",
        wide.headers
    );
    check(
        &wide.row("web-1")?,
        &[
            ("IP", "10.1.2.3"),
            ("NODE", "node-1"),
            ("NOMINATED NODE", "<none>"),
            ("READINESS GATES", "<none>"),
        ],
    )?;
    check(&wide.row("fresh")?, &[("IP", "<none>"), ("NODE", "<none>")])?;

    patch_status(
        &server,
        "node",
        "node-1",
        &json!({
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": "v1.35.0", "osImage": "Debian GNU/Linux 12",
                "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://2.0.0",
                "machineID": "", "systemUUID": "", "bootID": "", "kubeProxyVersion": "",
                "operatingSystem": "linux", "architecture": "amd64"},
        }),
    )?;
    let nodes = get(&server, &["nodes", "-o", "wide"])?;
    ensure!(
        nodes.headers
            == [
                "NAME",
                "STATUS",
                "ROLES",
                "AGE",
                "VERSION",
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME"
            ],
        "{:?}",
        nodes.headers
    );
    check(
        &nodes.row("node-1")?,
        &[
            ("STATUS", "Ready"),
            ("ROLES", "control-plane"),
            ("VERSION", "v1.35.0"),
            ("INTERNAL-IP", "192.168.1.10"),
            ("EXTERNAL-IP", "<none>"),
            ("OS-IMAGE", "Debian GNU/Linux 12"),
            ("CONTAINER-RUNTIME", "containerd://2.0.0"),
        ],
    )?;
    check(
        &nodes.row("node-2")?,
        &[
            ("STATUS", "Unknown,SchedulingDisabled"),
            ("ROLES", "<none>"),
            ("OS-IMAGE", "<unknown>"),
        ],
    )?;
    Ok(())
}

const WORKLOADS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: "nginx:1.27"}, {name: side, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080, nodePort: 30080}
  - {name: dns, port: 53, protocol: UDP, nodePort: 30053}
---
apiVersion: v1
kind: Service
metadata: {name: balancer, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: alias, namespace: default}
spec: {type: ExternalName, externalName: db.example.com}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: default}
type: kubernetes.io/basic-auth
stringData: {username: a, password: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default}
data: {a: "1", b: "2"}
binaryData: {c: AAEC}
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch, namespace: default}
spec:
  completions: 2
  parallelism: 2
  template:
    spec: {restartPolicy: Never, containers: [{name: work, image: busybox}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: default}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  tls: [{hosts: [a.example.com]}]
  rules:
  - host: a.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: default}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: User, name: alice}
- {kind: Group, name: devs}
- {kind: ServiceAccount, name: default, namespace: default}
"#;

#[test]
fn workloads_services_and_config() -> Result<()> {
    let server = start()?;
    apply(&server, WORKLOADS)?;
    patch_status(
        &server,
        "deployment",
        "web",
        &json!({"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}),
    )?;
    patch_status(
        &server,
        "job",
        "batch",
        &json!({"startTime": ago(125), "active": 2, "succeeded": 1}),
    )?;

    let deployments = get(&server, &["deployments", "-n", "default", "-o", "wide"])?;
    ensure!(
        deployments.headers
            == [
                "NAME",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "AGE",
                "CONTAINERS",
                "IMAGES",
                "SELECTOR"
            ],
        "{:?}",
        deployments.headers
    );
    check(
        &deployments.row("web")?,
        &[
            ("READY", "2/3"),
            ("UP-TO-DATE", "3"),
            ("AVAILABLE", "2"),
            ("CONTAINERS", "nginx,side"),
            ("IMAGES", "nginx:1.27,busybox"),
            ("SELECTOR", "app=web"),
        ],
    )?;

    let scale = get(
        &server,
        &["deployment", "web", "-n", "default", "--subresource=scale"],
    )?;
    ensure!(
        scale.headers == ["NAME", "DESIRED", "AVAILABLE", "AGE"],
        "{:?}",
        scale.headers
    );
    check(&scale.row("web")?, &[("DESIRED", "3"), ("AVAILABLE", "3")])?;

    let services = get(&server, &["services", "-n", "default", "-o", "wide"])?;
    ensure!(
        services.headers
            == [
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
                "SELECTOR"
            ],
        "{:?}",
        services.headers
    );
    let web = services.row("web")?;
    check(
        &web,
        &[
            ("TYPE", "NodePort"),
            ("EXTERNAL-IP", "<none>"),
            ("PORT(S)", "80:30080/TCP,53:30053/UDP"),
            ("SELECTOR", "app=web"),
        ],
    )?;
    ensure!(
        web["CLUSTER-IP"].parse::<std::net::IpAddr>().is_ok(),
        "cluster IP {:?}",
        web["CLUSTER-IP"]
    );
    check(
        &services.row("balancer")?,
        &[("TYPE", "LoadBalancer"), ("EXTERNAL-IP", "<pending>")],
    )?;
    let balancer_ports = &services.row("balancer")?["PORT(S)"];
    ensure!(
        balancer_ports.starts_with("443:") && balancer_ports.ends_with("/TCP"),
        "{balancer_ports}"
    );
    check(
        &services.row("alias")?,
        &[
            ("TYPE", "ExternalName"),
            ("CLUSTER-IP", "<none>"),
            ("EXTERNAL-IP", "db.example.com"),
            ("PORT(S)", "<none>"),
        ],
    )?;

    let secrets = get(&server, &["secrets", "-n", "default"])?;
    ensure!(secrets.headers == ["NAME", "TYPE", "DATA", "AGE"]);
    check(
        &secrets.row("creds")?,
        &[("TYPE", "kubernetes.io/basic-auth"), ("DATA", "2")],
    )?;
    let configmaps = get(&server, &["configmaps", "-n", "default"])?;
    ensure!(configmaps.headers == ["NAME", "DATA", "AGE"]);
    check(&configmaps.row("settings")?, &[("DATA", "3")])?;

    let jobs = get(&server, &["jobs", "-n", "default", "-o", "wide"])?;
    ensure!(
        jobs.headers
            == [
                "NAME",
                "STATUS",
                "COMPLETIONS",
                "DURATION",
                "AGE",
                "CONTAINERS",
                "IMAGES",
                "SELECTOR"
            ],
        "{:?}",
        jobs.headers
    );
    let job = jobs.row("batch")?;
    check(
        &job,
        &[
            ("STATUS", "Running"),
            ("COMPLETIONS", "1/2"),
            ("CONTAINERS", "work"),
        ],
    )?;
    ensure!(
        job["DURATION"].starts_with("2m"),
        "duration {:?}",
        job["DURATION"]
    );

    let cronjobs = get(&server, &["cronjobs", "-n", "default"])?;
    ensure!(
        cronjobs.headers
            == [
                "NAME",
                "SCHEDULE",
                "TIMEZONE",
                "SUSPEND",
                "ACTIVE",
                "LAST SCHEDULE",
                "AGE"
            ],
        "{:?}",
        cronjobs.headers
    );
    check(
        &cronjobs.row("tick")?,
        &[
            ("SCHEDULE", "*/5 * * * *"),
            ("TIMEZONE", "<none>"),
            ("SUSPEND", "False"),
            ("ACTIVE", "0"),
            ("LAST SCHEDULE", "<none>"),
        ],
    )?;

    check(
        &get(&server, &["pdb", "-n", "default"])?.row("web")?,
        &[
            ("MIN AVAILABLE", "1"),
            ("MAX UNAVAILABLE", "N/A"),
            ("ALLOWED DISRUPTIONS", "0"),
        ],
    )?;
    check(
        &get(&server, &["hpa", "-n", "default"])?.row("web")?,
        &[
            ("REFERENCE", "Deployment/web"),
            ("TARGETS", "cpu: <unknown>/70%"),
            ("MINPODS", "1"),
            ("MAXPODS", "5"),
            ("REPLICAS", "0"),
        ],
    )?;
    check(
        &get(&server, &["ingress", "-n", "default"])?.row("web")?,
        &[
            ("CLASS", "<none>"),
            ("HOSTS", "a.example.com"),
            ("ADDRESS", ""),
            ("PORTS", "80, 443"),
        ],
    )?;
    check(
        &get(&server, &["rolebindings", "-n", "default", "-o", "wide"])?.row("read")?,
        &[
            ("ROLE", "Role/reader"),
            ("USERS", "alice"),
            ("GROUPS", "devs"),
            ("SERVICEACCOUNTS", "default/default"),
        ],
    )?;
    // Roles have no printer upstream: the default table's creation time.
    let roles = get(&server, &["roles", "-n", "default"])?;
    ensure!(
        roles.headers == ["NAME", "CREATED AT"],
        "{:?}",
        roles.headers
    );
    let created = &roles.row("reader")?["CREATED AT"];
    ensure!(
        created.len() == 20 && created.ends_with('Z') && created.contains('T'),
        "{created}"
    );
    // `--sort-by` asks for whole objects in the rows; `--chunk-size` pages the table.
    for name in ["c-three", "a-one", "b-two"] {
        server.kubectl_ok(&["create", "configmap", name, "-n", "default"])?;
    }
    let sorted = get(
        &server,
        &["configmaps", "-n", "default", "--sort-by=.metadata.name"],
    )?;
    let names: Vec<&str> = sorted.rows.iter().map(|row| row[0].as_str()).collect();
    ensure!(
        names.starts_with(&["a-one", "b-two", "c-three"]),
        "{names:?}"
    );
    let paged = get(&server, &["configmaps", "-n", "default", "--chunk-size=1"])?;
    ensure!(
        paged.headers == ["NAME", "DATA", "AGE"],
        "{:?}",
        paged.headers
    );
    ensure!(paged.rows.len() == names.len(), "{:?}", paged.rows);
    check(&paged.row("b-two")?, &[("DATA", "0")])?;
    let namespaces = get(&server, &["namespaces"])?;
    ensure!(namespaces.headers == ["NAME", "STATUS", "AGE"]);
    check(&namespaces.row("default")?, &[("STATUS", "Active")])?;
    Ok(())
}

const STORAGE_AND_EVENTS: &str = r#"
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec:
  capacity: {storage: 1024Mi}
  accessModes: [ReadWriteMany, ReadWriteOnce]
  hostPath: {path: /tmp/pv1}
  storageClassName: slow
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  storageClassName: slow
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: slow
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: example.com/slow
---
apiVersion: v1
kind: Event
metadata: {name: web-1.pulled, namespace: default}
involvedObject: {kind: Pod, name: web-1, namespace: default, fieldPath: "spec.containers{a}"}
reason: Pulled
message: "  Successfully pulled image  "
type: Normal
source: {component: kubelet, host: node-1}
count: 3
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:00:00Z"
---
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: web.scaled, namespace: default}
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: example.com/scaler
reportingInstance: scaler-1
action: Scale
reason: Scaled
type: Warning
note: scaled up
regarding: {kind: Deployment, name: web, namespace: default}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Color, type: string, jsonPath: .spec.color, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;

#[test]
fn storage_events_and_custom_resources() -> Result<()> {
    let server = start()?;
    apply(&server, STORAGE_AND_EVENTS)?;

    let volumes = get(&server, &["pv", "-o", "wide"])?;
    ensure!(
        volumes.headers
            == [
                "NAME",
                "CAPACITY",
                "ACCESS MODES",
                "RECLAIM POLICY",
                "STATUS",
                "CLAIM",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "REASON",
                "AGE",
                "VOLUMEMODE"
            ],
        "{:?}",
        volumes.headers
    );
    check(
        &volumes.row("pv1")?,
        &[
            ("CAPACITY", "1Gi"),
            ("ACCESS MODES", "RWO,RWX"),
            ("RECLAIM POLICY", "Retain"),
            ("STORAGECLASS", "slow"),
            ("VOLUMEATTRIBUTESCLASS", "<unset>"),
            ("VOLUMEMODE", "Filesystem"),
        ],
    )?;
    let claims = get(&server, &["pvc", "-n", "default"])?;
    ensure!(
        claims.headers
            == [
                "NAME",
                "STATUS",
                "VOLUME",
                "CAPACITY",
                "ACCESS MODES",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "AGE"
            ],
        "{:?}",
        claims.headers
    );
    check(
        &claims.row("data")?,
        &[
            ("STATUS", "Pending"),
            ("VOLUME", ""),
            ("CAPACITY", ""),
            ("STORAGECLASS", "slow"),
        ],
    )?;
    let classes = get(&server, &["storageclasses"])?;
    check(
        &classes.row("slow (default)")?,
        &[
            ("PROVISIONER", "example.com/slow"),
            ("RECLAIMPOLICY", "Delete"),
            ("VOLUMEBINDINGMODE", "Immediate"),
            ("ALLOWVOLUMEEXPANSION", "false"),
        ],
    )?;

    let events = get(&server, &["events", "-n", "default", "-o", "wide"])?;
    ensure!(
        events.headers
            == [
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "SUBOBJECT",
                "SOURCE",
                "MESSAGE",
                "FIRST SEEN",
                "COUNT",
                "NAME"
            ],
        "{:?}",
        events.headers
    );
    let by_name = |name: &str| -> Result<HashMap<String, String>> {
        let row = events
            .rows
            .iter()
            .find(|row| row.last().map(String::as_str) == Some(name))
            .with_context(|| format!("no event {name}: {:?}", events.rows))?;
        Ok(events
            .headers
            .iter()
            .cloned()
            .zip(row.iter().cloned())
            .collect())
    };
    check(
        &by_name("web-1.pulled")?,
        &[
            ("TYPE", "Normal"),
            ("REASON", "Pulled"),
            ("OBJECT", "pod/web-1"),
            ("SUBOBJECT", "spec.containers{a}"),
            ("SOURCE", "kubelet, node-1"),
            ("MESSAGE", "Successfully pulled image"),
            ("COUNT", "3"),
        ],
    )?;
    check(
        &by_name("web.scaled")?,
        &[
            ("TYPE", "Warning"),
            ("OBJECT", "deployment/web"),
            ("SOURCE", "example.com/scaler, scaler-1"),
            ("MESSAGE", "scaled up"),
            ("COUNT", "1"),
        ],
    )?;
    // events.k8s.io prints the same columns.
    let new_api = get(&server, &["events.v1.events.k8s.io", "-n", "default"])?;
    ensure!(
        new_api.headers == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{:?}",
        new_api.headers
    );

    // The CRD's columns once its version is served.
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 3, color: red}\nstatus: {conditions: [{type: Synced, status: \"True\"}, {type: Ready, status: \"False\"}]}\n";
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if apply(&server, widget).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            bail!("widgets never served");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let widgets = get(&server, &["widgets", "-n", "default", "-o", "wide"])?;
    ensure!(
        widgets.headers == ["NAME", "SIZE", "READY", "COLOR", "AGE"],
        "{:?}",
        widgets.headers
    );
    check(
        &widgets.row("w1")?,
        &[("SIZE", "3"), ("READY", "False"), ("COLOR", "red")],
    )?;
    let narrow = get(&server, &["widgets", "-n", "default"])?;
    ensure!(narrow.headers == ["NAME", "SIZE", "READY", "AGE"]);
    // No declared columns: name and age.
    apply(
        &server,
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\n",
    )?;
    let gadgets = get(&server, &["gadgets"])?;
    ensure!(gadgets.headers == ["NAME", "AGE"], "{:?}", gadgets.headers);
    gadgets.row("g1")?;
    let crds = get(&server, &["crds"])?;
    ensure!(crds.headers == ["NAME", "CREATED AT"], "{:?}", crds.headers);
    Ok(())
}

fn request(uri: &str, accept: &str) -> Result<http::Request<Vec<u8>>> {
    Ok(http::Request::get(uri)
        .header(http::header::ACCEPT, accept)
        .body(Vec::new())?)
}

async fn fetch(client: &Client, uri: &str, accept: &str) -> Result<Value> {
    let text = client.request_text(request(uri, accept)?).await?;
    Ok(serde_json::from_str(&text)?)
}

async fn refused(client: &Client, uri: &str, accept: &str) -> Result<(u16, String, String)> {
    match client.request_text(request(uri, accept)?).await {
        Err(kube::Error::Api(status)) => {
            Ok((status.code, status.reason.clone(), status.message.clone()))
        }
        Err(other) => bail!("unexpected error {other}"),
        Ok(body) => bail!("unexpectedly served: {body}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_negotiation_over_http() -> Result<()> {
    let server = start()?;
    let client = client(&server).await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    for index in 0..5 {
        let mut secret = Secret::default();
        secret.metadata.name = Some(format!("s{index}"));
        secret.string_data = Some([("k".to_owned(), "v".to_owned())].into());
        secrets.create(&PostParams::default(), &secret).await?;
    }
    let list = "/api/v1/namespaces/default/secrets";

    // kubectl's Accept gets a v1 Table; rows carry PartialObjectMetadata by default.
    let table = fetch(&client, list, KUBECTL_ACCEPT).await?;
    ensure!(
        table["kind"] == "Table" && table["apiVersion"] == "meta.k8s.io/v1",
        "{table}"
    );
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .context("columns")?
        .iter()
        .filter_map(|column| column["name"].as_str())
        .collect();
    ensure!(columns == ["Name", "Type", "Data", "Age"], "{columns:?}");
    ensure!(table["columnDefinitions"][0]["format"] == "name");
    ensure!(table["columnDefinitions"][2]["type"] == "string");
    ensure!(table["columnDefinitions"][0]["description"]
        .as_str()
        .is_some_and(|text| text.starts_with("Name must be unique")));
    ensure!(table["metadata"]["resourceVersion"].as_str().is_some());
    let rows = table["rows"].as_array().context("rows")?;
    ensure!(rows.len() == 5, "{rows:?}");
    ensure!(
        rows[0]["cells"][0] == "s0" && rows[0]["cells"][1] == "Opaque" && rows[0]["cells"][2] == 1
    );
    ensure!(rows[0]["object"]["kind"] == "PartialObjectMetadata");
    ensure!(rows[0]["object"]["apiVersion"] == "meta.k8s.io/v1");
    ensure!(rows[0]["object"]["metadata"]["name"] == "s0");

    // includeObject=None and Object.
    let none = fetch(&client, &format!("{list}?includeObject=None"), TABLE_V1).await?;
    ensure!(none["rows"][0]["object"].is_null(), "{none}");
    let whole = fetch(&client, &format!("{list}?includeObject=Object"), TABLE_V1).await?;
    ensure!(whole["rows"][0]["object"]["kind"] == "Secret", "{whole}");
    ensure!(whole["rows"][0]["object"]["apiVersion"] == "v1");
    ensure!(whole["rows"][0]["object"]["data"]["k"] == "dg==");
    let bad = refused(
        &client,
        &format!("{list}?includeObject=Everything"),
        TABLE_V1,
    )
    .await?;
    ensure!(bad.0 == 400 && bad.2.contains("includeObject"), "{bad:?}");

    // v1beta1 when only that is acceptable; 406 for a version that does not exist.
    let beta = fetch(
        &client,
        &format!("{list}/s1"),
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
    )
    .await?;
    ensure!(beta["apiVersion"] == "meta.k8s.io/v1beta1", "{beta}");
    ensure!(beta["rows"].as_array().map(Vec::len) == Some(1));
    ensure!(beta["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1");
    ensure!(beta["metadata"]["resourceVersion"].as_str().is_some());
    let (code, reason, message) = refused(
        &client,
        list,
        "application/json;as=Table;v=v2;g=meta.k8s.io",
    )
    .await?;
    ensure!(code == 406 && reason == "NotAcceptable", "{code} {reason}");
    ensure!(
        message == "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        "{message}"
    );
    // ... but a later acceptable clause is used instead.
    let fallback = fetch(
        &client,
        list,
        "application/json;as=Table;v=v2;g=meta.k8s.io,application/json",
    )
    .await?;
    ensure!(fallback["kind"] == "SecretList", "{fallback}");

    // Paged tables: limit and continue, with remainingItemCount.
    let first = fetch(&client, &format!("{list}?limit=2"), TABLE_V1).await?;
    ensure!(first["rows"].as_array().map(Vec::len) == Some(2), "{first}");
    ensure!(first["metadata"]["remainingItemCount"] == 3, "{first}");
    let token = first["metadata"]["continue"].as_str().context("continue")?;
    let second = fetch(
        &client,
        &format!("{list}?limit=2&continue={token}"),
        TABLE_V1,
    )
    .await?;
    let names: Vec<&str> = second["rows"]
        .as_array()
        .context("rows")?
        .iter()
        .filter_map(|row| row["cells"][0].as_str())
        .collect();
    ensure!(names == ["s2", "s3"], "{names:?}");

    // Metadata-only list through kube-rs, and PartialObjectMetadata of a list is a 406.
    let metadata = secrets.list_metadata(&ListParams::default()).await?;
    ensure!(metadata.items.len() == 5);
    ensure!(metadata.items[0].metadata.name.as_deref() == Some("s0"));
    let empty: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-public-nothing");
    ensure!(empty
        .list_metadata(&ListParams::default())
        .await?
        .items
        .is_empty());
    let (code, _, message) = refused(
        &client,
        list,
        "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
    )
    .await?;
    ensure!(
        code == 406 && message.contains("requested object is a list"),
        "{code} {message}"
    );
    let one = fetch(
        &client,
        &format!("{list}/s3"),
        "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
    )
    .await?;
    ensure!(one["kind"] == "PartialObjectMetadata" && one["metadata"]["name"] == "s3");
    ensure!(one.get("data").is_none());

    // A watch of tables: headers in the first event only, one row per event.
    let resource_version = first["metadata"]["resourceVersion"]
        .as_str()
        .context("resourceVersion")?
        .to_owned();
    let watch = request(
        &format!("{list}?watch=true&resourceVersion={resource_version}"),
        TABLE_V1,
    )?;
    let mut events = client.request_events::<Value>(watch).await?.boxed();
    for name in ["w1", "w2"] {
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.to_owned());
        secrets.create(&PostParams::default(), &secret).await?;
    }
    let mut tables = Vec::new();
    for _ in 0..2 {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await {
            Ok(Ok(Some(WatchEvent::Added(table)))) => tables.push(table),
            other => bail!("unexpected watch event {other:?}"),
        }
    }
    ensure!(tables[0]["kind"] == "Table" && tables[0]["columnDefinitions"].is_array());
    ensure!(tables[1]["columnDefinitions"].is_null(), "{}", tables[1]);
    ensure!(tables[0]["rows"][0]["cells"][0] == "w1" && tables[1]["rows"][0]["cells"][0] == "w2");
    ensure!(tables[1]["metadata"]["resourceVersion"].as_str().is_some());

    // kube-rs's metadata watcher sees metadata-only objects.
    let metadata_only: Api<PartialObjectMeta<Secret>> = Api::namespaced(client.clone(), "default");
    let stream = kube::runtime::watcher(metadata_only, kube::runtime::watcher::Config::default());
    let mut stream = std::pin::pin!(stream);
    let mut seen = 0;
    while seen < 7 {
        match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            Ok(Some(Ok(kube::runtime::watcher::Event::InitApply(object)))) => {
                ensure!(object.metadata.name.is_some());
                seen += 1;
            }
            Ok(Some(Ok(_))) => {}
            other => bail!("metadata watcher: {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn kubectl_get_watch_prints_rows() -> Result<()> {
    let server = start()?;
    apply(
        &server,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: first, namespace: default}\nspec: {containers: [{name: a, image: busybox}]}\n",
    )?;
    let mut child = Command::new(kubectl_binary())
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .args(["get", "pods", "-n", "default", "-w"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| -> Result<Vec<String>> {
        let line = received
            .recv_timeout(Duration::from_secs(15))
            .with_context(|| format!("no line for {what}"))?;
        Ok(line.split_whitespace().map(str::to_owned).collect())
    };
    let outcome = (|| -> Result<()> {
        let header = next("the header")?;
        ensure!(
            header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            "{header:?}"
        );
        let listed = next("the listed pod")?;
        ensure!(
            listed[..4] == ["first", "0/1", "Pending", "0"],
            "{listed:?}"
        );
        apply(
            &server,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: second, namespace: default}\nspec: {containers: [{name: a, image: busybox}]}\n",
        )?;
        let added = next("the added pod")?;
        ensure!(added[..4] == ["second", "0/1", "Pending", "0"], "{added:?}");
        patch_status(
            &server,
            "pod",
            "second",
            &json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [container("a", json!({"running": {"startedAt": ago(5)}}), true, 1)]}),
        )?;
        let modified = next("the running pod")?;
        ensure!(
            modified[..4] == ["second", "1/1", "Running", "1"],
            "{modified:?}"
        );
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    outcome
}
