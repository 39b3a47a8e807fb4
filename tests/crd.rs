//! CustomResourceDefinitions against a real `ferrokube server` with stock kubectl: a CRD
//! becomes servable (discovery, short names, OpenAPI for `explain`), its schema defaults,
//! prunes and validates custom objects with upstream's messages, the status subresource
//! splits writes, several versions serve one storage, and deleting the CRD deletes its
//! objects.

use std::io::Write as _;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use serde_json::Value;

fn manifest(text: &str) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}

fn path(file: &tempfile::NamedTempFile) -> Result<&str> {
    file.path().to_str().context("temp path is not UTF-8")
}

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [image]
            properties:
              cronSpec: {type: string, pattern: '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$', description: The schedule.}
              image: {type: string}
              replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
          status:
            type: object
            properties:
              ok: {type: boolean}
              replicas: {type: integer}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

fn object(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {{name: {name}}}\nspec: {{cronSpec: '* * * * */5', image: my-image{extra}}}\n"
    )
}

fn get(server: &ServerProcess, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    Ok(serde_json::from_str(&server.kubectl_ok(&all)?)?)
}

fn served(server: &ServerProcess) -> Result<()> {
    let crd = manifest(CRD)?;
    server.kubectl_ok(&["apply", "-f", path(&crd)?])?;
    server.kubectl_ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=10s",
        "crd/crontabs.stable.example.com",
    ])?;
    let status = get(server, &["get", "crd", "crontabs.stable.example.com"])?;
    ensure!(
        status["status"]["acceptedNames"]["kind"] == "CronTab",
        "{}",
        status["status"]
    );
    ensure!(status["status"]["storedVersions"] == serde_json::json!(["v1"]));
    let resources = server.kubectl_ok(&["api-resources", "--api-group=stable.example.com"])?;
    ensure!(
        resources.contains("crontabs") && resources.contains("ct"),
        "{resources}"
    );
    let explain = server.kubectl_ok(&["explain", "crontab.spec.cronSpec"])?;
    ensure!(explain.contains("The schedule."), "{explain}");
    Ok(())
}

fn objects(server: &ServerProcess) -> Result<()> {
    let first = manifest(&object("first", ""))?;
    server.kubectl_ok(&["apply", "-f", path(&first)?])?;
    let live = get(server, &["get", "ct", "first"])?;
    ensure!(
        live["spec"]["replicas"] == 1,
        "default not applied: {}",
        live["spec"]
    );

    // Unknown fields: an error under kubectl's default strict validation, pruned otherwise.
    let extra = manifest(&object("second", ", bogus: 1"))?;
    let error = server.kubectl_err(&["apply", "-f", path(&extra)?])?;
    ensure!(
        error.contains("strict decoding error: unknown field \"spec.bogus\""),
        "{error}"
    );
    server.kubectl_ok(&["apply", "--validate=false", "-f", path(&extra)?])?;
    let live = get(server, &["get", "ct", "second"])?;
    ensure!(
        live["spec"].get("bogus").is_none(),
        "not pruned: {}",
        live["spec"]
    );

    // Schema validation, as upstream words it.
    let invalid = manifest(&object("third", ", replicas: 20"))?;
    let error = server.kubectl_err(&["apply", "-f", path(&invalid)?])?;
    ensure!(
        error.contains("spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10"),
        "{error}"
    );
    let bad_schedule = manifest(&object("fourth", "").replace("* * * * */5", "never"))?;
    let error = server.kubectl_err(&["apply", "-f", path(&bad_schedule)?])?;
    ensure!(
        error.contains("spec.cronSpec in body should match"),
        "{error}"
    );
    ensure!(server
        .kubectl_err(&["get", "ct", "third"])?
        .contains("NotFound"));

    // The status subresource: the main resource ignores status, and vice versa.
    server.kubectl_ok(&[
        "patch",
        "ct",
        "first",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"ok":true},"spec":{"image":"ignored"}}"#,
    ])?;
    server.kubectl_ok(&[
        "patch",
        "ct",
        "first",
        "--type=merge",
        "-p",
        r#"{"status":{"ok":false}}"#,
    ])?;
    let live = get(server, &["get", "ct", "first"])?;
    ensure!(
        live["status"]["ok"] == true && live["spec"]["image"] == "my-image",
        "{live}"
    );

    // Another served version reads the same objects.
    let beta = get(
        server,
        &["get", "crontabs.v1beta1.stable.example.com", "first"],
    )?;
    ensure!(beta["apiVersion"] == "stable.example.com/v1beta1", "{beta}");
    // Server-side apply works on custom resources too.
    let applied = manifest(&object("first", ", replicas: 3"))?;
    server.kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        path(&applied)?,
    ])?;
    ensure!(get(server, &["get", "ct", "first"])?["spec"]["replicas"] == 3);
    // The scale subresource at the CRD's paths, validated by the schema.
    server.kubectl_ok(&["scale", "ct", "first", "--replicas=4"])?;
    ensure!(get(server, &["get", "ct", "first"])?["spec"]["replicas"] == 4);
    let scale: Value = serde_json::from_str(&server.kubectl_ok(&[
        "get",
        "--raw",
        "/apis/stable.example.com/v1/namespaces/default/crontabs/first/scale",
    ])?)?;
    ensure!(
        scale["kind"] == "Scale" && scale["spec"]["replicas"] == 4,
        "{scale}"
    );
    let error = server.kubectl_err(&["scale", "ct", "first", "--replicas=40"])?;
    ensure!(
        error.contains("should be less than or equal to 10"),
        "{error}"
    );
    let all = server.kubectl_ok(&["get", "all", "-o", "name"])?;
    ensure!(all.contains("crontab.stable.example.com/first"), "{all}");
    Ok(())
}

fn deletion(server: &ServerProcess) -> Result<()> {
    server.kubectl_ok(&[
        "delete",
        "crd",
        "crontabs.stable.example.com",
        "--wait=true",
        "--timeout=20s",
    ])?;
    let crd = manifest(CRD)?;
    server.kubectl_ok(&["apply", "-f", path(&crd)?])?;
    server.kubectl_ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=10s",
        "crd/crontabs.stable.example.com",
    ])?;
    let left = server.kubectl_ok(&["get", "ct", "-o", "name"])?;
    ensure!(left.trim().is_empty(), "objects outlived their CRD: {left}");
    let bad = manifest(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: wrong.example.com}\nspec: {group: example.com, scope: Namespaced, names: {plural: things, kind: Thing}, versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]}\n",
    )?;
    let error = server.kubectl_err(&["apply", "-f", path(&bad)?])?;
    ensure!(
        error.contains("must be spec.names.plural+\".\"+spec.group"),
        "{error}"
    );
    Ok(())
}

#[test]
fn custom_resources_with_stock_kubectl() -> Result<()> {
    let server = ServerProcess::start(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    served(&server).context("CRD served")?;
    objects(&server).context("custom objects")?;
    deletion(&server).context("CRD deletion")?;
    Ok(())
}
