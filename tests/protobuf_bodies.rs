//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`) against a real
//! `ferrokube server`: stock kubectl 1.35's `create` generators and Helm, whose typed
//! clients send every body as protobuf; raw protobuf creates, updates and deletes built
//! with k8s-pb as client-go encodes them; and upstream's 400s and 415s.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use kube::client::Body;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use prost::Message as _;
use serde_json::{json, Value};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn start() -> Result<ServerProcess> {
    Ok(ServerProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ferrokube")),
        &[],
    )?)
}

fn get_json(server: &ServerProcess, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    Ok(serde_json::from_str(&server.kubectl_ok(&all)?)?)
}

/// Maps, whose values may be empty strings (`--from-literal=empty=`).
const MAPS: &[&str] = &["data", "binaryData", "stringData", "labels", "annotations"];

/// Fails on any struct field holding `""` or `null`: the zero values of non-pointer Go
/// fields that gogo-protobuf always writes and Go's JSON leaves out (list items such as
/// a Role's `apiGroups: [""]` and map values are real values).
fn no_zero_junk(value: &Value, path: &str) -> Result<()> {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                if MAPS.contains(&name.as_str()) {
                    continue;
                }
                let here = format!("{path}.{name}");
                ensure!(
                    !matches!(field, Value::Null) && field != &json!(""),
                    "{here} is {field}"
                );
                no_zero_junk(field, &here)?;
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if item.is_object() || item.is_array() {
                    no_zero_junk(item, &format!("{path}[{index}]"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Creates with a kubectl generator, then returns the stored object, checked for junk.
fn create(server: &ServerProcess, args: &[&str], get: &[&str]) -> Result<Value> {
    let mut all = vec!["create"];
    all.extend(args);
    server.kubectl_ok(&all)?;
    let object = get_json(server, get)?;
    no_zero_junk(&object, "")?;
    Ok(object)
}

#[test]
fn kubectl_create_generators_send_protobuf() -> Result<()> {
    let server = start()?;

    let config_map = create(
        &server,
        &[
            "configmap",
            "settings",
            "--from-literal=a=b",
            "--from-literal=empty=",
        ],
        &["get", "configmap", "settings"],
    )?;
    ensure!(
        config_map["data"] == json!({"a": "b", "empty": ""}),
        "{config_map}"
    );

    let secret = create(
        &server,
        &[
            "secret",
            "generic",
            "creds",
            "--from-literal=password=hunter2",
        ],
        &["get", "secret", "creds"],
    )?;
    // `type` is sent empty (upstream's defaulting, not the codec, makes it `Opaque`).
    ensure!(
        secret["data"] == json!({"password": "aHVudGVyMg=="}),
        "{secret}"
    );

    // `replicas` is a pointer: an explicit 0 must not become the default 1.
    let deployment = create(
        &server,
        &[
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=0",
            "--port=80",
        ],
        &["get", "deployment", "web"],
    )?;
    ensure!(deployment["spec"]["replicas"] == 0, "{deployment}");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    ensure!(
        container["image"] == "nginx"
            && container["ports"] == json!([{"containerPort": 80, "protocol": "TCP"}])
            && deployment["spec"]["selector"] == json!({"matchLabels": {"app": "web"}}),
        "{deployment}"
    );
    ensure!(
        deployment["spec"]["template"]["metadata"] == json!({"labels": {"app": "web"}}),
        "{deployment}"
    );

    let namespace = create(
        &server,
        &["namespace", "team-a"],
        &["get", "namespace", "team-a"],
    )?;
    ensure!(namespace["status"]["phase"] == "Active", "{namespace}");

    let service = create(
        &server,
        &["service", "clusterip", "svc", "--tcp=80:8080"],
        &["get", "service", "svc"],
    )?;
    ensure!(
        service["spec"]["ports"]
            == json!([{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}])
            && service["spec"]["type"] == "ClusterIP"
            && service["spec"]["selector"] == json!({"app": "svc"}),
        "{service}"
    );

    let job = create(
        &server,
        &["job", "once", "--image=busybox", "--", "echo", "hi"],
        &["get", "job", "once"],
    )?;
    let pod = &job["spec"]["template"]["spec"];
    ensure!(
        pod["containers"][0]["command"] == json!(["echo", "hi"]) && pod["restartPolicy"] == "Never",
        "{job}"
    );

    let cron_job = create(
        &server,
        &[
            "cronjob",
            "nightly",
            "--image=busybox",
            "--schedule=0 0 * * *",
            "--",
            "date",
        ],
        &["get", "cronjob", "nightly"],
    )?;
    ensure!(
        cron_job["spec"]["schedule"] == "0 0 * * *"
            && cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
                ["command"]
                == json!(["date"]),
        "{cron_job}"
    );

    let role = create(
        &server,
        &[
            "role",
            "reader",
            "--verb=get,list",
            "--resource=pods,deployments.apps",
        ],
        &["get", "role", "reader"],
    )?;
    ensure!(
        role["rules"]
            == json!([
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
            ]),
        "{role}"
    );

    let binding = create(
        &server,
        &[
            "rolebinding",
            "reader-binding",
            "--role=reader",
            "--user=alice",
            "--serviceaccount=default:robot",
        ],
        &["get", "rolebinding", "reader-binding"],
    )?;
    ensure!(
        binding["roleRef"]
            == json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"})
            && binding["subjects"]
                == json!([
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"},
                    {"kind": "ServiceAccount", "name": "robot", "namespace": "default"},
                ]),
        "{binding}"
    );

    let account = create(
        &server,
        &["serviceaccount", "robot"],
        &["get", "serviceaccount", "robot"],
    )?;
    ensure!(account["metadata"]["name"] == "robot", "{account}");

    let quota = create(
        &server,
        &["quota", "q", "--hard=pods=10,cpu=2,memory=1Gi"],
        &["get", "resourcequota", "q"],
    )?;
    ensure!(
        quota["spec"]["hard"] == json!({"cpu": "2", "memory": "1Gi", "pods": "10"}),
        "{quota}"
    );

    let high = create(
        &server,
        &[
            "priorityclass",
            "high",
            "--value=1000",
            "--description=important",
        ],
        &["get", "priorityclass", "high"],
    )?;
    ensure!(
        high["value"] == 1000 && high["description"] == "important",
        "{high}"
    );
    // `value` has no omitempty: zero is a value.
    let zero = create(
        &server,
        &["priorityclass", "zero", "--value=0"],
        &["get", "priorityclass", "zero"],
    )?;
    ensure!(zero["value"] == 0, "{zero}");
    Ok(())
}

/// Runs helm against the server, with its own cache and config directories.
fn helm(server: &ServerProcess, home: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("/usr/local/bin/helm")
        .args(args)
        .env("KUBECONFIG", server.kubeconfig())
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .current_dir(home)
        .output()
        .context("running /usr/local/bin/helm")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "helm {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

/// Names of Helm's release Secrets (`sh.helm.release.v1.demo.v1`, ...).
fn release_secrets(server: &ServerProcess) -> Result<Vec<String>> {
    let secrets = get_json(server, &["get", "secrets", "-l", "owner=helm"])?;
    Ok(secrets["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["metadata"]["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

#[test]
fn helm_install_upgrade_uninstall() -> Result<()> {
    let server = start()?;
    let home = tempfile::tempdir()?;
    helm(&server, home.path(), &["create", "demo"])?;

    helm(&server, home.path(), &["install", "demo", "./demo"])?;
    let deployment = get_json(&server, &["get", "deployment", "demo"])?;
    ensure!(deployment["spec"]["replicas"] == 1, "{deployment}");
    ensure!(
        release_secrets(&server)? == ["sh.helm.release.v1.demo.v1"],
        "{:?}",
        release_secrets(&server)?
    );
    let release = get_json(&server, &["get", "secret", "sh.helm.release.v1.demo.v1"])?;
    ensure!(
        release["type"] == "helm.sh/release.v1"
            && release["data"]["release"]
                .as_str()
                .is_some_and(|data| data.len() > 100)
            && release["metadata"]["labels"]["status"] == "deployed",
        "{release}"
    );
    ensure!(helm(&server, home.path(), &["list", "-q"])?.trim() == "demo");

    helm(
        &server,
        home.path(),
        &["upgrade", "demo", "./demo", "--set", "replicaCount=3"],
    )?;
    let deployment = get_json(&server, &["get", "deployment", "demo"])?;
    ensure!(deployment["spec"]["replicas"] == 3, "{deployment}");
    let mut secrets = release_secrets(&server)?;
    secrets.sort();
    ensure!(
        secrets == ["sh.helm.release.v1.demo.v1", "sh.helm.release.v1.demo.v2"],
        "{secrets:?}"
    );
    let first = get_json(&server, &["get", "secret", "sh.helm.release.v1.demo.v1"])?;
    ensure!(
        first["metadata"]["labels"]["status"] == "superseded",
        "{first}"
    );

    // History and rollback: revision 3 restores revision 1's single replica.
    let history = helm(&server, home.path(), &["history", "demo"])?;
    ensure!(
        history.contains("superseded") && history.contains("Upgrade complete"),
        "{history}"
    );
    helm(&server, home.path(), &["rollback", "demo", "1"])?;
    let deployment = get_json(&server, &["get", "deployment", "demo"])?;
    ensure!(deployment["spec"]["replicas"] == 1, "{deployment}");
    let history = helm(&server, home.path(), &["history", "demo"])?;
    ensure!(history.contains("Rollback to 1"), "{history}");

    helm(&server, home.path(), &["uninstall", "demo"])?;
    ensure!(release_secrets(&server)?.is_empty());
    let left = server.kubectl_ok(&["get", "deployments,services,serviceaccounts", "-o", "name"])?;
    ensure!(!left.contains("demo"), "left after uninstall: {left}");
    Ok(())
}

async fn client(server: &ServerProcess) -> Result<Client> {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig())?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

/// Sends a raw body; returns the status and the JSON reply.
async fn send(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Value)> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(Body::from(body))?;
    let response = client.send(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect_bytes().await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// `k8s\0` and a `runtime.Unknown` around `raw`, as client-go's protobuf serializer
/// writes an object.
fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.to_owned()),
            kind: Some(kind.to_owned()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\x00".to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

fn deployment(replicas: i32, resource_version: &str) -> apps::Deployment {
    let labels = BTreeMap::from([("app".to_owned(), "raw".to_owned())]);
    apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: Some("raw".to_owned()),
            namespace: Some(String::new()),
            resource_version: Some(resource_version.to_owned()),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(replicas),
            selector: Some(meta::LabelSelector {
                match_labels: labels.clone(),
                match_expressions: Vec::new(),
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels,
                    creation_timestamp: Some(meta::Time::default()),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: Some("app".to_owned()),
                        image: Some("nginx".to_owned()),
                        security_context: Some(core::SecurityContext {
                            run_as_user: Some(0),
                            allow_privilege_escalation: Some(false),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    automount_service_account_token: Some(false),
                    ..Default::default()
                }),
            }),
            paused: Some(false),
            min_ready_seconds: Some(0),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus::default()),
    }
}

fn delete_options(uid: &str) -> Vec<u8> {
    let options = meta::DeleteOptions {
        grace_period_seconds: None,
        preconditions: Some(meta::Preconditions {
            uid: Some(uid.to_owned()),
            resource_version: None,
        }),
        orphan_dependents: None,
        propagation_policy: Some("Background".to_owned()),
        dry_run: Vec::new(),
        ignore_store_read_error_with_cluster_breaking_potential: None,
    };
    envelope("apps/v1", "DeleteOptions", options.encode_to_vec())
}

#[tokio::test]
async fn raw_protobuf_create_update_delete() -> Result<()> {
    let server = start()?;
    let client = client(&server).await?;
    let body = envelope("apps/v1", "Deployment", deployment(0, "").encode_to_vec());
    let (status, created) = send(&client, "POST", DEPLOYMENTS, PROTOBUF, body).await?;
    ensure!(status == 201, "{status} {created}");
    let spec = &created["spec"];
    ensure!(spec["replicas"] == 0, "{created}");
    ensure!(
        spec.get("paused").is_none() && spec["minReadySeconds"].is_null(),
        "{created}"
    );
    let pod = &spec["template"]["spec"];
    ensure!(
        pod["automountServiceAccountToken"] == false
            && pod["containers"][0]["securityContext"]
                == json!({"runAsUser": 0, "allowPrivilegeEscalation": false}),
        "{created}"
    );

    let version = created["metadata"]["resourceVersion"]
        .as_str()
        .context("no resourceVersion")?;
    let body = envelope(
        "apps/v1",
        "Deployment",
        deployment(2, version).encode_to_vec(),
    );
    let (status, updated) = send(
        &client,
        "PUT",
        &format!("{DEPLOYMENTS}/raw"),
        PROTOBUF,
        body,
    )
    .await?;
    ensure!(
        status == 200 && updated["spec"]["replicas"] == 2,
        "{status} {updated}"
    );

    // A protobuf `DeleteOptions` is read: its precondition fails the first delete.
    let (status, refused) = send(
        &client,
        "DELETE",
        &format!("{DEPLOYMENTS}/raw"),
        PROTOBUF,
        delete_options("not-the-uid"),
    )
    .await?;
    ensure!(status == 409, "{status} {refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    ensure!(
        message.contains("Precondition failed: UID in precondition: not-the-uid"),
        "{message}"
    );
    let uid = created["metadata"]["uid"].as_str().context("no uid")?;
    let (status, deleted) = send(
        &client,
        "DELETE",
        &format!("{DEPLOYMENTS}/raw"),
        PROTOBUF,
        delete_options(uid),
    )
    .await?;
    ensure!(status == 200, "{status} {deleted}");
    let (status, _) = send(
        &client,
        "GET",
        &format!("{DEPLOYMENTS}/raw"),
        "",
        Vec::new(),
    )
    .await?;
    ensure!(status == 404, "still there: {status}");
    Ok(())
}

#[tokio::test]
async fn malformed_and_unsupported_protobuf_bodies() -> Result<()> {
    let server = start()?;
    let client = client(&server).await?;
    let mut truncated = deployment(1, "").encode_to_vec();
    truncated.truncate(truncated.len() - 3);
    let cases = [
        (
            b"k8s\x00\x0a\xff".to_vec(),
            "the object provided is unrecognized (must be of type Deployment): unexpected EOF (6b3873000aff)",
        ),
        (
            b"{\"kind\":\"Deployment\"}".to_vec(),
            "the object provided is unrecognized (must be of type Deployment): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] ({\"kind\":\"Deployment\"})",
        ),
        (
            envelope("apps/v1", "Deployment", truncated),
            "Deployment in version \"v1\" cannot be handled as a Deployment: unexpected EOF",
        ),
    ];
    for (body, want) in cases {
        let (status, reply) = send(&client, "POST", DEPLOYMENTS, PROTOBUF, body).await?;
        ensure!(
            status == 400 && reply["reason"] == "BadRequest" && reply["message"] == want,
            "{status} {reply}"
        );
    }
    let (status, reply) =
        send(&client, "POST", DEPLOYMENTS, "application/cbor", vec![0xa0]).await?;
    ensure!(
        status == 415
            && reply["message"]
                == "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got \"application/cbor\")",
        "{status} {reply}"
    );
    let (status, list) = send(&client, "GET", DEPLOYMENTS, "", Vec::new()).await?;
    ensure!(
        status == 200 && list["items"] == json!([]),
        "a refused body left something: {list}"
    );
    Ok(())
}

/// A CRD whose schema uses the schema unions (`additionalProperties: false`, `items`) and
/// embedded JSON (`default`).
fn widget_crd() -> ext::CustomResourceDefinition {
    let typed = |ty: &str| ext::JsonSchemaProps {
        r#type: Some(ty.to_owned()),
        ..Default::default()
    };
    let spec = ext::JsonSchemaProps {
        properties: BTreeMap::from([
            (
                "size".to_owned(),
                ext::JsonSchemaProps {
                    default: Some(ext::Json {
                        raw: Some(b"3".to_vec()),
                    }),
                    ..typed("integer")
                },
            ),
            (
                "tags".to_owned(),
                ext::JsonSchemaProps {
                    items: Some(Box::new(ext::JsonSchemaPropsOrArray {
                        schema: Some(Box::new(typed("string"))),
                        j_son_schemas: Vec::new(),
                    })),
                    ..typed("array")
                },
            ),
        ]),
        additional_properties: Some(Box::new(ext::JsonSchemaPropsOrBool {
            allows: Some(false),
            schema: None,
        })),
        ..typed("object")
    };
    ext::CustomResourceDefinition {
        metadata: Some(meta::ObjectMeta {
            name: Some("widgets.example.com".to_owned()),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        spec: Some(ext::CustomResourceDefinitionSpec {
            group: Some("example.com".to_owned()),
            names: Some(ext::CustomResourceDefinitionNames {
                plural: Some("widgets".to_owned()),
                singular: Some("widget".to_owned()),
                kind: Some("Widget".to_owned()),
                list_kind: Some(String::new()),
                ..Default::default()
            }),
            scope: Some("Namespaced".to_owned()),
            versions: vec![ext::CustomResourceDefinitionVersion {
                name: Some("v1".to_owned()),
                served: Some(true),
                storage: Some(true),
                deprecated: Some(false),
                schema: Some(ext::CustomResourceValidation {
                    open_apiv3_schema: Some(ext::JsonSchemaProps {
                        properties: BTreeMap::from([("spec".to_owned(), spec)]),
                        ..typed("object")
                    }),
                }),
                ..Default::default()
            }],
            preserve_unknown_fields: Some(false),
            ..Default::default()
        }),
        status: Some(ext::CustomResourceDefinitionStatus::default()),
    }
}

#[tokio::test]
async fn crd_by_protobuf_and_custom_resources_without_it() -> Result<()> {
    let server = start()?;
    let client = client(&server).await?;
    let body = envelope(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        widget_crd().encode_to_vec(),
    );
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let (status, created) = send(&client, "POST", crds, PROTOBUF, body).await?;
    ensure!(status == 201, "{status} {created}");
    let schema = &created["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    ensure!(
        schema
            == &json!({
                "type": "object",
                "properties": {
                    "size": {"type": "integer", "default": 3},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
                "additionalProperties": false,
            }),
        "{created}"
    );
    server.kubectl_ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=10s",
        "crd/widgets.example.com",
    ])?;

    // Custom resources have no protobuf form: upstream's 415 leaves it out.
    let widgets = "/apis/example.com/v1/namespaces/default/widgets";
    let (status, reply) = send(&client, "POST", widgets, PROTOBUF, b"k8s\x00".to_vec()).await?;
    ensure!(
        status == 415
            && reply["message"]
                == "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got \"application/vnd.kubernetes.protobuf\")",
        "{status} {reply}"
    );
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}});
    let (status, created) = send(
        &client,
        "POST",
        widgets,
        "application/json",
        serde_json::to_vec(&widget)?,
    )
    .await?;
    ensure!(
        status == 201 && created["spec"]["size"] == 3,
        "{status} {created}"
    );

    // Their deletes still take protobuf `DeleteOptions` (a built-in kind).
    let (status, refused) = send(
        &client,
        "DELETE",
        &format!("{widgets}/w"),
        PROTOBUF,
        delete_options("not-the-uid"),
    )
    .await?;
    ensure!(status == 409, "{status} {refused}");
    let uid = created["metadata"]["uid"].as_str().context("no uid")?;
    let (status, deleted) = send(
        &client,
        "DELETE",
        &format!("{widgets}/w"),
        PROTOBUF,
        delete_options(uid),
    )
    .await?;
    ensure!(status == 200, "{status} {deleted}");
    Ok(())
}
