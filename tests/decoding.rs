//! Request bodies as upstream decodes them, against a real `ferrokube server`: JSON and YAML
//! (`application/yaml`) bodies, fields given twice and fields the type lacks under each
//! `fieldValidation` mode (the 400 under Strict, `Warning` headers otherwise, with
//! upstream's exact wording and order), malformed bodies and unsupported media types, and
//! that a refused body leaves nothing stored.

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use kube::client::Body;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;

/// upstream's `invalidBodyJSON` shape from its field validation integration test.
const INVALID_JSON: &str = r#"{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "NAME", "name": "NAME", "unknownMeta": "x", "labels": {"app": "nginx"}},
  "spec": {
    "unknown1": "val1",
    "unknownDupe": "valDupe",
    "unknownDupe": "valDupe2",
    "paused": true,
    "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {
      "metadata": {"labels": {"app": "nginx"}},
      "spec": {"containers": [{
        "name": "nginx",
        "image": "nginx:latest",
        "unknownNested": "val1",
        "imagePullPolicy": "Always",
        "imagePullPolicy": "Never"
      }]}
    }
  }
}"#;

const INVALID_YAML: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  name: NAME
  unknownMeta: x
  labels:
    app: nginx
spec:
  unknown1: val1
  unknownDupe: valDupe
  unknownDupe: valDupe2
  paused: true
  paused: false
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        unknownNested: val1
        imagePullPolicy: Always
        imagePullPolicy: Never
";

const JSON_PROBLEMS: [&str; 7] = [
    r#"duplicate field "metadata.name""#,
    r#"unknown field "metadata.unknownMeta""#,
    r#"unknown field "spec.unknown1""#,
    r#"unknown field "spec.unknownDupe""#,
    r#"duplicate field "spec.paused""#,
    r#"unknown field "spec.template.spec.containers[0].unknownNested""#,
    r#"duplicate field "spec.template.spec.containers[0].imagePullPolicy""#,
];

const YAML_PROBLEMS: [&str; 8] = [
    r#"line 5: key "name" already set in map"#,
    r#"line 12: key "unknownDupe" already set in map"#,
    r#"line 14: key "paused" already set in map"#,
    r#"line 28: key "imagePullPolicy" already set in map"#,
    r#"unknown field "metadata.unknownMeta""#,
    r#"unknown field "spec.template.spec.containers[0].unknownNested""#,
    r#"unknown field "spec.unknown1""#,
    r#"unknown field "spec.unknownDupe""#,
];

struct Reply {
    status: u16,
    warnings: Vec<String>,
    body: Value,
}

async fn client(server: &ServerProcess) -> Result<Client> {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig())?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

/// Sends a raw request, as a client that writes its own bodies would.
async fn send(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: String,
) -> Result<Reply> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(Body::from(body.into_bytes()))?;
    let response = client.send(request).await?;
    let status = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(unquote_warning)
        .collect();
    let bytes = response.into_body().collect_bytes().await?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        warnings,
        body,
    })
}

/// `299 - "text"` → `text`.
fn unquote_warning(header: &str) -> String {
    let text = header.strip_prefix("299 - \"").unwrap_or(header);
    let text = text.strip_suffix('"').unwrap_or(text);
    text.replace("\\\"", "\"").replace("\\\\", "\\")
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

async fn exists(client: &Client, name: &str) -> Result<bool> {
    let reply = send(
        client,
        "GET",
        &format!("{DEPLOYMENTS}/{name}"),
        "",
        String::new(),
    )
    .await?;
    Ok(reply.status == 200)
}

fn expected(problems: &[&str]) -> Vec<String> {
    problems
        .iter()
        .map(|problem| (*problem).to_owned())
        .collect()
}

async fn json_bodies(client: &Client) -> Result<()> {
    // Strict: one 400 naming every problem in document order; nothing stored.
    let body = INVALID_JSON.replace("NAME", "strict-json");
    let reply = send(
        client,
        "POST",
        &format!("{DEPLOYMENTS}?fieldValidation=Strict"),
        "application/json",
        body,
    )
    .await?;
    ensure!(
        reply.status == 400,
        "strict: {} {}",
        reply.status,
        reply.body
    );
    ensure!(reply.body["reason"] == "BadRequest", "{}", reply.body);
    let message = reply.body["message"].as_str().unwrap_or_default();
    let want = format!(
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: {}",
        JSON_PROBLEMS.join(", ")
    );
    ensure!(message == want, "strict message:\n{message}\nwant:\n{want}");
    ensure!(
        !exists(client, "strict-json").await?,
        "a refused body was stored"
    );

    // Warn, and the default: created, one warning per problem, the last value kept.
    for (name, query) in [("warn-json", "?fieldValidation=Warn"), ("default-json", "")] {
        let body = INVALID_JSON.replace("NAME", name);
        let reply = send(
            client,
            "POST",
            &format!("{DEPLOYMENTS}{query}"),
            "application/json",
            body,
        )
        .await?;
        ensure!(
            reply.status == 201,
            "{name}: {} {}",
            reply.status,
            reply.body
        );
        ensure!(
            reply.warnings == expected(&JSON_PROBLEMS),
            "{name} warnings: {:?}",
            reply.warnings
        );
        ensure!(
            reply.body["spec"]["paused"] == false,
            "{}",
            reply.body["spec"]
        );
        let container = &reply.body["spec"]["template"]["spec"]["containers"][0];
        ensure!(container["imagePullPolicy"] == "Never", "{container}");
        ensure!(
            container.get("unknownNested").is_none(),
            "unknown field kept: {container}"
        );
        ensure!(
            reply.body["spec"].get("unknown1").is_none(),
            "unknown field kept"
        );
    }

    // Ignore: created without a word.
    let body = INVALID_JSON.replace("NAME", "ignore-json");
    let reply = send(
        client,
        "POST",
        &format!("{DEPLOYMENTS}?fieldValidation=Ignore"),
        "application/json",
        body,
    )
    .await?;
    ensure!(
        reply.status == 201,
        "ignore: {} {}",
        reply.status,
        reply.body
    );
    ensure!(
        reply.warnings.is_empty(),
        "ignore warnings: {:?}",
        reply.warnings
    );

    // Updates decode the same way.
    let current = send(
        client,
        "GET",
        &format!("{DEPLOYMENTS}/warn-json"),
        "",
        String::new(),
    )
    .await?;
    let version = current.body["metadata"]["resourceVersion"]
        .as_str()
        .context("resourceVersion")?
        .to_owned();
    let body = INVALID_JSON.replace(
        r#""name": "NAME", "name": "NAME","#,
        &format!(r#""name": "warn-json", "name": "warn-json", "resourceVersion": "{version}","#),
    );
    let reply = send(
        client,
        "PUT",
        &format!("{DEPLOYMENTS}/warn-json?fieldValidation=Strict"),
        "application/json",
        body,
    )
    .await?;
    ensure!(
        reply.status == 400,
        "strict update: {} {}",
        reply.status,
        reply.body
    );
    let after = send(
        client,
        "GET",
        &format!("{DEPLOYMENTS}/warn-json"),
        "",
        String::new(),
    )
    .await?;
    ensure!(
        after.body["metadata"]["resourceVersion"] == version.as_str(),
        "a refused update changed the object"
    );
    Ok(())
}

async fn yaml_bodies(client: &Client) -> Result<()> {
    let body = INVALID_YAML.replace("NAME", "strict-yaml");
    let reply = send(
        client,
        "POST",
        &format!("{DEPLOYMENTS}?fieldValidation=Strict"),
        "application/yaml",
        body,
    )
    .await?;
    ensure!(
        reply.status == 400,
        "strict yaml: {} {}",
        reply.status,
        reply.body
    );
    let message = reply.body["message"].as_str().unwrap_or_default();
    let want = format!(
        "strict decoding error: yaml: unmarshal errors:\n  {}, {}",
        YAML_PROBLEMS[..4].join("\n  "),
        YAML_PROBLEMS[4..].join(", ")
    );
    ensure!(
        message.ends_with(&want),
        "strict yaml message:\n{message}\nwant suffix:\n{want}"
    );
    ensure!(
        !exists(client, "strict-yaml").await?,
        "a refused YAML body was stored"
    );

    let body = INVALID_YAML.replace("NAME", "warn-yaml");
    let reply = send(client, "POST", DEPLOYMENTS, "application/yaml", body).await?;
    ensure!(reply.status == 201, "yaml: {} {}", reply.status, reply.body);
    ensure!(
        reply.warnings == expected(&YAML_PROBLEMS),
        "yaml warnings: {:?}",
        reply.warnings
    );
    ensure!(
        reply.body["spec"]["paused"] == false,
        "{}",
        reply.body["spec"]
    );
    ensure!(
        reply.body["spec"]["replicas"] == 1,
        "defaults apply to YAML bodies too"
    );

    // YAML 1.1 scalars: numbers, booleans and quoted strings land as upstream converts them.
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typed\n  labels: {a: \"yes\"}\ndata:\n  n: \"010\"\nimmutable: yes\n";
    let reply = send(
        client,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/yaml; charset=utf-8",
        config_map.to_owned(),
    )
    .await?;
    ensure!(
        reply.status == 201,
        "configmap yaml: {} {}",
        reply.status,
        reply.body
    );
    ensure!(reply.body["immutable"] == true, "{}", reply.body);
    ensure!(reply.body["data"]["n"] == "010", "{}", reply.body);
    Ok(())
}

async fn malformed_bodies(client: &Client) -> Result<()> {
    let cases = [
        (
            "application/yaml",
            "metadata:\n  name: x\n   bad: [\n",
            "error converting YAML to JSON: yaml: line",
        ),
        ("application/json", "{\"metadata\": {", "json parse error"),
        (
            "application/yaml",
            "- just\n- a list\n",
            "Object 'Kind' is missing",
        ),
    ];
    for (content_type, body, want) in cases {
        let reply = send(client, "POST", DEPLOYMENTS, content_type, body.to_owned()).await?;
        ensure!(
            reply.status == 400,
            "{body:?}: {} {}",
            reply.status,
            reply.body
        );
        ensure!(
            reply.body["kind"] == "Status" && reply.body["reason"] == "BadRequest",
            "{}",
            reply.body
        );
        let message = reply.body["message"].as_str().unwrap_or_default();
        ensure!(message.contains(want), "{body:?}: {message}");
    }
    let reply = send(client, "POST", DEPLOYMENTS, "text/plain", "x".to_owned()).await?;
    ensure!(
        reply.status == 415,
        "text/plain: {} {}",
        reply.status,
        reply.body
    );
    ensure!(
        reply.body["reason"] == "UnsupportedMediaType",
        "{}",
        reply.body
    );
    Ok(())
}

#[tokio::test]
async fn bodies_decode_as_upstream() -> Result<()> {
    let server = ServerProcess::start(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let client = client(&server).await?;
    json_bodies(&client).await.context("JSON bodies")?;
    yaml_bodies(&client).await.context("YAML bodies")?;
    malformed_bodies(&client)
        .await
        .context("malformed bodies")?;
    Ok(())
}
