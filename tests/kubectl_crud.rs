//! Everyday resource management with stock kubectl against a real `ferrokube server`, over
//! the embedded store and over real etcd. Manifests go in as files, as users write them.

use std::io::Write as _;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::{EtcdServer, ServerProcess};
use serde_json::{json, Value};

fn start(extra_args: &[&str]) -> Result<ServerProcess> {
    Ok(ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")),
        extra_args,
    )?)
}

/// Writes a manifest to a temp file kubectl can read.
fn manifest(value: &Value) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".json").tempfile()?;
    file.write_all(&serde_json::to_vec_pretty(value)?)?;
    Ok(file)
}

fn path(file: &tempfile::NamedTempFile) -> Result<&str> {
    file.path().to_str().context("temp path is not UTF-8")
}

fn get_json(server: &ServerProcess, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    Ok(serde_json::from_str(&server.kubectl_ok(&all)?)?)
}

/// `kubectl replace` of an object a controller also writes: kubectl sends the
/// resourceVersion it just read, so a controller's write in between is a 409, and a user
/// tries again, as this does.
fn replace_racing_controllers(server: &ServerProcess, args: &[&str]) -> Result<String> {
    let mut all = vec!["replace"];
    all.extend(args);
    let mut attempts = 0;
    loop {
        match server.kubectl_ok(&all) {
            Err(error) if error.to_string().contains("(Conflict)") && attempts < 10 => {
                attempts += 1;
            }
            other => return Ok(other?),
        }
    }
}

fn namespace(server: &ServerProcess, name: &str) -> Result<()> {
    let file =
        manifest(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    Ok(())
}

fn discovery(server: &ServerProcess) -> Result<()> {
    let resources = server.kubectl_ok(&["api-resources", "--no-headers"])?;
    let deployments = resources
        .lines()
        .find(|line| line.starts_with("deployments "))
        .context("no deployments in api-resources")?;
    let columns: Vec<&str> = deployments.split_whitespace().collect();
    ensure!(
        columns == ["deployments", "deploy", "apps/v1", "true", "Deployment"],
        "{columns:?}"
    );
    ensure!(resources
        .lines()
        .any(|line| line.starts_with("pods ") && line.contains(" po ")));
    let groups = server.kubectl_ok(&["api-versions"])?;
    for group in [
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v2",
        "rbac.authorization.k8s.io/v1",
    ] {
        ensure!(
            groups.lines().any(|line| line == group),
            "{group} missing from {groups}"
        );
    }
    let namespaces = server.kubectl_ok(&["get", "ns", "-o", "name"])?;
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        ensure!(
            namespaces.contains(&format!("namespace/{name}\n")),
            "{namespaces}"
        );
    }
    Ok(())
}

fn configmap_lifecycle(server: &ServerProcess) -> Result<()> {
    namespace(server, "demo")?;
    let file = manifest(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "demo", "labels": {"app": "web"}},
        "data": {"mode": "fast"}
    }))?;
    let created = server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    ensure!(created.trim() == "configmap/settings created", "{created}");
    let object = get_json(server, &["get", "configmap", "settings", "-n", "demo"])?;
    ensure!(object["data"]["mode"] == "fast");
    ensure!(
        object["metadata"]["uid"]
            .as_str()
            .is_some_and(|uid| uid.len() == 36),
        "{object}"
    );
    ensure!(object["metadata"]["creationTimestamp"].is_string());
    let revision: i64 = object["metadata"]["resourceVersion"]
        .as_str()
        .context("resourceVersion")?
        .parse()?;
    ensure!(revision > 0);

    let jsonpath = server.kubectl_ok(&[
        "get",
        "cm",
        "settings",
        "-n",
        "demo",
        "-o",
        "jsonpath={.data.mode}",
    ])?;
    ensure!(jsonpath == "fast", "{jsonpath}");
    let selected =
        server.kubectl_ok(&["get", "cm", "-n", "demo", "-l", "app=web", "-o", "name"])?;
    ensure!(selected.trim() == "configmap/settings", "{selected}");
    let none = server.kubectl_ok(&[
        "get",
        "cm",
        "-n",
        "demo",
        "-l",
        // `notin` also matches objects without the label (such as the kube-root-ca.crt
        // ConfigMap the controller manager adds), so require the label too.
        "app,app notin (web)",
        "-o",
        "name",
    ])?;
    ensure!(none.trim().is_empty(), "{none}");
    let by_field = server.kubectl_ok(&[
        "get",
        "cm",
        "-A",
        "--field-selector",
        "metadata.name=settings",
        "-o",
        "name",
    ])?;
    ensure!(by_field.trim() == "configmap/settings", "{by_field}");

    // Again: AlreadyExists.
    let again = server.kubectl_err(&["create", "--validate=false", "-f", path(&file)?])?;
    ensure!(
        again.contains("AlreadyExists") && again.contains("\"settings\" already exists"),
        "{again}"
    );

    // Replace with the current resourceVersion works; with a stale one it conflicts.
    let mut updated = object.clone();
    updated["data"]["mode"] = json!("slow");
    let current = manifest(&updated)?;
    server.kubectl_ok(&["replace", "--validate=false", "-f", path(&current)?])?;
    let stale = server.kubectl_err(&["replace", "--validate=false", "-f", path(&current)?])?;
    ensure!(
        stale.contains("Conflict") && stale.contains("the object has been modified"),
        "{stale}"
    );
    let after = get_json(server, &["get", "cm", "settings", "-n", "demo"])?;
    ensure!(after["data"]["mode"] == "slow");
    ensure!(after["metadata"]["uid"] == object["metadata"]["uid"]);

    server.kubectl_ok(&["delete", "cm", "settings", "-n", "demo", "--wait"])?;
    let gone = server.kubectl_err(&["get", "cm", "settings", "-n", "demo"])?;
    ensure!(
        gone.contains("(NotFound)") && gone.contains("configmaps \"settings\" not found"),
        "{gone}"
    );
    Ok(())
}

fn deployment_generation(server: &ServerProcess) -> Result<()> {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        },
        "status": {"replicas": 99}
    });
    let file = manifest(&deployment)?;
    // The server's answers are checked, not later reads: the deployment controller runs in
    // this server and writes the real status right after.
    let created: Value = serde_json::from_str(&server.kubectl_ok(&[
        "create",
        "--validate=false",
        "-o",
        "json",
        "-f",
        path(&file)?,
    ])?)?;
    ensure!(created["metadata"]["generation"] == 1, "{created}");
    ensure!(
        created["status"] == json!({}),
        "status must be reset on create: {created}"
    );
    ensure!(
        created["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%",
        "{created}"
    );
    ensure!(
        created["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst",
        "{created}"
    );
    // The same manifest again (no defaults in it) is no spec change.
    replace_racing_controllers(server, &["--validate=false", "-f", path(&file)?])?;
    let same = get_json(server, &["get", "deploy", "web", "-n", "demo"])?;
    ensure!(
        same["metadata"]["generation"] == 1,
        "defaults bumped the generation: {same}"
    );
    let created = same;

    let mut changed = created.clone();
    changed["spec"]["replicas"] = json!(3);
    changed["status"] = json!({"replicas": 5});
    // Unconditional (no resourceVersion): the controller writes status meanwhile.
    if let Some(meta) = changed["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    let file = manifest(&changed)?;
    let replaced: Value = serde_json::from_str(&replace_racing_controllers(
        server,
        &["--validate=false", "-o", "json", "-f", path(&file)?],
    )?)?;
    ensure!(replaced["metadata"]["generation"] == 2, "{replaced}");
    ensure!(replaced["spec"]["replicas"] == 3);
    ensure!(
        replaced["status"]["replicas"] != 5,
        "status must not change through the main resource: {replaced}"
    );

    // The status subresource changes status only.
    let mut status = replaced.clone();
    status["status"] = json!({"replicas": 3});
    status["spec"]["replicas"] = json!(7);
    if let Some(meta) = status["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    let file = manifest(&status)?;
    let after: Value = serde_json::from_str(&replace_racing_controllers(
        server,
        &[
            "--validate=false",
            "--subresource=status",
            "-o",
            "json",
            "-f",
            path(&file)?,
        ],
    )?)?;
    ensure!(after["status"]["replicas"] == 3, "{after}");
    ensure!(
        after["spec"]["replicas"] == 3,
        "spec must not change through status: {after}"
    );
    ensure!(after["metadata"]["generation"] == 2);

    // kubectl scale goes through the scale subresource.
    let scaled = server.kubectl_ok(&["scale", "deploy", "web", "-n", "demo", "--replicas=4"])?;
    ensure!(scaled.contains("scaled"), "{scaled}");
    let after = get_json(server, &["get", "deploy", "web", "-n", "demo"])?;
    ensure!(
        after["spec"]["replicas"] == 4 && after["metadata"]["generation"] == 3,
        "{after}"
    );
    let scale: Value = serde_json::from_str(&server.kubectl_ok(&[
        "get",
        "--raw",
        "/apis/apps/v1/namespaces/demo/deployments/web/scale",
    ])?)?;
    ensure!(
        scale["kind"] == "Scale" && scale["spec"]["replicas"] == 4,
        "{scale}"
    );
    ensure!(scale["status"]["selector"] == "app=web", "{scale}");
    Ok(())
}

fn foreground_deletion_is_recorded(server: &ServerProcess) -> Result<()> {
    let file = manifest(&json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "fg", "namespace": "demo"}}))?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    server.kubectl_ok(&[
        "delete",
        "cm",
        "fg",
        "-n",
        "demo",
        "--cascade=foreground",
        "--wait=false",
    ])?;
    // The API server records the policy as the foregroundDeletion finalizer; the garbage
    // collector (running in `ferrokube server`) then finishes it, this object having no
    // dependents: either state may be seen first.
    if let Ok(held) = get_json(server, &["get", "cm", "fg", "-n", "demo"]) {
        ensure!(
            held["metadata"]["finalizers"] == json!(["foregroundDeletion"]),
            "{held}"
        );
        ensure!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    }
    server.kubectl_ok(&[
        "wait",
        "--for=delete",
        "cm/fg",
        "-n",
        "demo",
        "--timeout=20s",
    ])?;
    Ok(())
}

fn finalizers_hold_deletion(server: &ServerProcess) -> Result<()> {
    let file = manifest(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "namespace": "demo", "finalizers": ["example.com/hold"]}
    }))?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    server.kubectl_ok(&["delete", "cm", "held", "-n", "demo", "--wait=false"])?;
    let held = get_json(server, &["get", "cm", "held", "-n", "demo"])?;
    ensure!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    let mut released = held.clone();
    released["metadata"]["finalizers"] = json!([]);
    let file = manifest(&released)?;
    server.kubectl_ok(&["replace", "--validate=false", "-f", path(&file)?])?;
    let gone = server.kubectl_err(&["get", "cm", "held", "-n", "demo"])?;
    ensure!(gone.contains("NotFound"), "{gone}");
    Ok(())
}

fn chunked_list(server: &ServerProcess) -> Result<()> {
    namespace(server, "many")?;
    // The controller manager adds the kube-root-ca.crt ConfigMap to every namespace, as
    // kube-controller-manager does; wait for it so the counts below are exact.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while server
        .kubectl(&["get", "cm", "kube-root-ca.crt", "-n", "many"])?
        .status
        .code()
        != Some(0)
    {
        ensure!(
            std::time::Instant::now() < deadline,
            "no kube-root-ca.crt in namespace many"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let total = 1000;
    let items: Vec<Value> = (0..total)
        .map(|index| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": format!("cm-{index:04}"), "namespace": "many",
                                "labels": {"parity": if index % 2 == 0 { "even" } else { "odd" }}}})
        })
        .collect();
    let file = manifest(&json!({"apiVersion": "v1", "kind": "List", "items": items}))?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    let names = server.kubectl_ok(&["get", "cm", "-n", "many", "--chunk-size=70", "-o", "name"])?;
    let listed: Vec<&str> = names.lines().collect();
    ensure!(listed.len() == total + 1, "listed {}", listed.len());
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    ensure!(sorted.len() == total + 1, "duplicates across pages");
    let odd = server.kubectl_ok(&[
        "get",
        "cm",
        "-n",
        "many",
        "--chunk-size=33",
        "-l",
        "parity=odd",
        "-o",
        "name",
    ])?;
    ensure!(odd.lines().count() == total / 2);

    let page = server.kubectl_ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/many/configmaps?limit=10",
    ])?;
    let page: Value = serde_json::from_str(&page)?;
    ensure!(page["items"].as_array().map(Vec::len) == Some(10));
    ensure!(
        page["metadata"]["remainingItemCount"] == total + 1 - 10,
        "{}",
        page["metadata"]
    );
    ensure!(page["metadata"]["continue"].is_string());
    Ok(())
}

fn bad_input(server: &ServerProcess) -> Result<()> {
    let before = server.kubectl_ok(&["get", "cm", "-n", "demo", "-o", "name"])?;

    let invalid = manifest(
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name", "namespace": "demo"}}),
    )?;
    let error = server.kubectl_err(&["create", "--validate=false", "-f", path(&invalid)?])?;
    ensure!(
        error.contains("is invalid")
            && error.contains("metadata.name: Invalid value: \"Bad_Name\""),
        "{error}"
    );

    let missing_ns = manifest(
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "nowhere"}}),
    )?;
    let error = server.kubectl_err(&["create", "--validate=false", "-f", path(&missing_ns)?])?;
    ensure!(
        error.contains("namespaces \"nowhere\" not found"),
        "{error}"
    );

    let mut malformed = tempfile::NamedTempFile::new()?;
    malformed.write_all(b"{\"apiVersion\": \"v1\", \"kind\": ")?;
    let raw_path = "/api/v1/namespaces/demo/configmaps";
    let error = server.kubectl_err(&["create", "--raw", raw_path, "-f", path(&malformed)?])?;
    ensure!(
        error.contains("BadRequest") || error.contains("json parse error"),
        "{error}"
    );

    let wrong_kind =
        manifest(&json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}))?;
    let error = server.kubectl_err(&["create", "--raw", raw_path, "-f", path(&wrong_kind)?])?;
    ensure!(
        error.contains("does not match the expected kind"),
        "{error}"
    );

    let mut oversized = tempfile::NamedTempFile::new()?;
    let filler = "x".repeat(4 * 1024 * 1024);
    write!(
        oversized,
        "{}",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"x": filler}})
    )?;
    let error = server.kubectl_err(&["create", "--raw", raw_path, "-f", path(&oversized)?])?;
    ensure!(error.contains("Request entity too large"), "{error}");

    let status =
        server.kubectl_err(&["get", "--raw", "/api/v1/namespaces/demo/configmaps/nope"])?;
    ensure!(status.contains("NotFound"), "{status}");
    let unknown = server.kubectl_err(&["get", "--raw", "/apis/apps/v1/namespaces/demo/widgets"])?;
    ensure!(
        unknown.contains("the server could not find the requested resource"),
        "{unknown}"
    );

    let after = server.kubectl_ok(&["get", "cm", "-n", "demo", "-o", "name"])?;
    ensure!(
        before == after,
        "bad input changed the store: {before} -> {after}"
    );
    Ok(())
}

fn patches(server: &ServerProcess) -> Result<()> {
    let file = manifest(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "patched", "namespace": "demo", "labels": {"keep": "yes", "drop": "me"}},
        "data": {"a": "1"}
    }))?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    server.kubectl_ok(&[
        "patch",
        "cm",
        "patched",
        "-n",
        "demo",
        "--type=merge",
        "-p",
        r#"{"data":{"b":"2"},"metadata":{"labels":{"drop":null}}}"#,
    ])?;
    server.kubectl_ok(&[
        "patch", "cm", "patched", "-n", "demo", "--type=json",
        "-p", r#"[{"op":"replace","path":"/data/a","value":"10"},{"op":"add","path":"/data/c","value":"3"}]"#,
    ])?;
    let object = get_json(server, &["get", "cm", "patched", "-n", "demo"])?;
    ensure!(
        object["data"] == json!({"a": "10", "b": "2", "c": "3"}),
        "{object}"
    );
    ensure!(
        object["metadata"]["labels"] == json!({"keep": "yes"}),
        "{object}"
    );

    let failed_test = server.kubectl_err(&[
        "patch",
        "cm",
        "patched",
        "-n",
        "demo",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/data/a","value":"nope"}]"#,
    ])?;
    ensure!(
        failed_test.contains("Invalid") || failed_test.contains("invalid"),
        "{failed_test}"
    );
    let stale = server.kubectl_err(&[
        "patch",
        "cm",
        "patched",
        "-n",
        "demo",
        "--type=merge",
        "-p",
        r#"{"metadata":{"resourceVersion":"1"},"data":{"x":"y"}}"#,
    ])?;
    ensure!(stale.contains("Conflict"), "{stale}");
    let missing = server.kubectl_err(&[
        "patch",
        "cm",
        "nope",
        "-n",
        "demo",
        "--type=merge",
        "-p",
        "{}",
    ])?;
    ensure!(missing.contains("NotFound"), "{missing}");
    let after = get_json(server, &["get", "cm", "patched", "-n", "demo"])?;
    ensure!(
        after["data"] == object["data"],
        "failed patches changed the object"
    );
    Ok(())
}

fn services(server: &ServerProcess) -> Result<()> {
    let kubernetes = get_json(server, &["get", "svc", "kubernetes", "-n", "default"])?;
    ensure!(
        kubernetes["spec"]["clusterIP"] == "10.96.0.1",
        "{kubernetes}"
    );
    ensure!(kubernetes["spec"]["ports"][0]["port"] == 443);
    let slice = get_json(
        server,
        &["get", "endpointslices", "kubernetes", "-n", "default"],
    )?;
    ensure!(slice["ports"][0]["port"] == server.port(), "{slice}");

    let file = manifest(&json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "demo"},
        "spec": {"type": "NodePort", "selector": {"app": "web"},
                 "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443, "targetPort": 8443}]}
    }))?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    let web = get_json(server, &["get", "svc", "web", "-n", "demo"])?;
    let ip = web["spec"]["clusterIP"]
        .as_str()
        .context("no clusterIP")?
        .to_owned();
    let octets: Vec<u8> = ip.split('.').map(str::parse).collect::<Result<_, _>>()?;
    ensure!(
        octets[0] == 10 && (96..112).contains(&octets[1]) && ip != "10.96.0.1",
        "{ip}"
    );
    ensure!(web["spec"]["clusterIPs"] == json!([ip]));
    ensure!(
        web["spec"]["ports"][0]["targetPort"] == 80 && web["spec"]["ports"][0]["protocol"] == "TCP",
        "{web}"
    );
    for index in 0..2 {
        let node_port = web["spec"]["ports"][index]["nodePort"]
            .as_u64()
            .context("nodePort")?;
        ensure!((30000..=32767).contains(&node_port), "{node_port}");
    }
    let record = get_json(server, &["get", "ipaddresses.networking.k8s.io", &ip])?;
    ensure!(record["spec"]["parentRef"]["name"] == "web", "{record}");

    // The same IP again is refused with upstream's field error.
    let taken = manifest(&json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "copy", "namespace": "demo"},
        "spec": {"clusterIP": ip, "ports": [{"port": 80}]}
    }))?;
    let error = server.kubectl_err(&["create", "--validate=false", "-f", path(&taken)?])?;
    ensure!(
        error.contains("provided IP is already allocated"),
        "{error}"
    );
    let no_ports = manifest(&json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "empty", "namespace": "demo"}, "spec": {}
    }))?;
    let error = server.kubectl_err(&["create", "--validate=false", "-f", path(&no_ports)?])?;
    ensure!(error.contains("spec.ports: Required value"), "{error}");

    // clusterIP is immutable.
    let mut changed = web.clone();
    changed["spec"]["clusterIP"] = json!("10.96.0.99");
    changed["spec"]["clusterIPs"] = json!(["10.96.0.99"]);
    let file = manifest(&changed)?;
    let error = server.kubectl_err(&["replace", "--validate=false", "-f", path(&file)?])?;
    ensure!(error.contains("may not change once set"), "{error}");

    // A server-side dry run validates and shows the ClusterIP a Service would get, but
    // keeps neither the Service nor the IP.
    let trial = manifest(&json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "trial", "namespace": "demo"},
        "spec": {"ports": [{"port": 80}]}
    }))?;
    let shown: Value = serde_json::from_str(&server.kubectl_ok(&[
        "create",
        "--validate=false",
        "--dry-run=server",
        "-o",
        "json",
        "-f",
        path(&trial)?,
    ])?)?;
    let trial_ip = shown["spec"]["clusterIP"]
        .as_str()
        .context("dry run shows no clusterIP")?;
    let kept = server.kubectl_err(&["get", "ipaddresses.networking.k8s.io", trial_ip])?;
    ensure!(kept.contains("NotFound"), "dry run kept its IP: {kept}");
    ensure!(server
        .kubectl_err(&["get", "svc", "trial", "-n", "demo"])?
        .contains("NotFound"));
    let error = server.kubectl_err(&[
        "create",
        "--validate=false",
        "--dry-run=server",
        "-f",
        path(&no_ports)?,
    ])?;
    ensure!(
        error.contains("spec.ports: Required value"),
        "dry run skipped validation: {error}"
    );

    // Node ports a dry-run update takes are given back; those an update drops are freed.
    let old_ports: Vec<u64> = (0..2)
        .filter_map(|index| web["spec"]["ports"][index]["nodePort"].as_u64())
        .collect();
    server.kubectl_ok(&[
        "patch",
        "svc",
        "web",
        "-n",
        "demo",
        "--type=merge",
        "--dry-run=server",
        "-p",
        r#"{"spec":{"ports":[{"name":"http","port":80,"nodePort":30555}]}}"#,
    ])?;
    server.kubectl_ok(&[
        "patch",
        "svc",
        "web",
        "-n",
        "demo",
        "--type=merge",
        "-p",
        r#"{"spec":{"type":"ClusterIP","ports":[{"name":"http","port":80}]}}"#,
    ])?;
    for (name, node_port) in [
        ("reuse-a", 30555),
        ("reuse-b", old_ports[0]),
        ("reuse-c", old_ports[1]),
    ] {
        let file = manifest(&json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "demo"},
            "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": node_port}]}
        }))?;
        server
            .kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])
            .with_context(|| format!("nodePort {node_port} was not given back"))?;
    }

    // Deleting the Service frees its IP.
    server.kubectl_ok(&["delete", "svc", "web", "-n", "demo"])?;
    let freed = server.kubectl_err(&["get", "ipaddresses.networking.k8s.io", &ip])?;
    ensure!(freed.contains("NotFound"), "{freed}");
    Ok(())
}

fn pods(server: &ServerProcess) -> Result<()> {
    let pod = |name: &str, node: Option<&str>| {
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "demo"},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36",
                                     "resources": {"requests": {"cpu": "100m"}}}]}
        });
        if let Some(node) = node {
            pod["spec"]["nodeName"] = json!(node);
        }
        manifest(&pod)
    };
    let file = pod("unbound", None)?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    let created = get_json(server, &["get", "pod", "unbound", "-n", "demo"])?;
    ensure!(created["spec"]["restartPolicy"] == "Always", "{created}");
    ensure!(created["spec"]["dnsPolicy"] == "ClusterFirst");
    ensure!(created["spec"]["terminationGracePeriodSeconds"] == 30);
    ensure!(created["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent");
    ensure!(
        created["status"]["phase"] == "Pending" && created["status"]["qosClass"] == "Burstable",
        "{created}"
    );

    let empty = manifest(&json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "empty", "namespace": "demo"}, "spec": {"containers": []}}))?;
    let error = server.kubectl_err(&["create", "--validate=false", "-f", path(&empty)?])?;
    ensure!(error.contains("spec.containers: Required value"), "{error}");

    // An unbound pod has no kubelet to stop it: it goes at once.
    server.kubectl_ok(&["delete", "pod", "unbound", "-n", "demo", "--wait=false"])?;
    ensure!(server
        .kubectl_err(&["get", "pod", "unbound", "-n", "demo"])?
        .contains("NotFound"));

    // A bound pod is marked and left to its kubelet, for its grace period.
    let file = pod("bound", Some("node-1"))?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path(&file)?])?;
    server.kubectl_ok(&["delete", "pod", "bound", "-n", "demo", "--wait=false"])?;
    let marked = get_json(server, &["get", "pod", "bound", "-n", "demo"])?;
    ensure!(
        marked["metadata"]["deletionGracePeriodSeconds"] == 30,
        "{marked}"
    );
    ensure!(marked["metadata"]["deletionTimestamp"].is_string());
    let on_node = server.kubectl_ok(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        "spec.nodeName=node-1",
        "-o",
        "name",
    ])?;
    ensure!(on_node.trim() == "pod/bound", "{on_node}");
    let running = server.kubectl_ok(&[
        "get",
        "pods",
        "-n",
        "demo",
        "--field-selector",
        "status.phase=Running",
        "-o",
        "name",
    ])?;
    ensure!(running.trim().is_empty(), "{running}");
    let unsupported = server.kubectl_err(&[
        "get",
        "pods",
        "-n",
        "demo",
        "--field-selector",
        "spec.containers=x",
    ])?;
    ensure!(
        unsupported.contains("field label not supported"),
        "{unsupported}"
    );
    server.kubectl_ok(&[
        "delete",
        "pod",
        "bound",
        "-n",
        "demo",
        "--grace-period=0",
        "--force",
    ])?;
    ensure!(server
        .kubectl_err(&["get", "pod", "bound", "-n", "demo"])?
        .contains("NotFound"));
    Ok(())
}

fn scenarios(server: &ServerProcess) -> Result<()> {
    discovery(server).context("discovery")?;
    configmap_lifecycle(server).context("configmap lifecycle")?;
    deployment_generation(server).context("deployment generation")?;
    finalizers_hold_deletion(server).context("finalizers")?;
    foreground_deletion_is_recorded(server).context("foreground deletion")?;
    patches(server).context("patches")?;
    services(server).context("services")?;
    pods(server).context("pods")?;
    chunked_list(server).context("chunked list")?;
    bad_input(server).context("bad input")?;
    Ok(())
}

#[test]
fn kubectl_manages_resources_on_the_embedded_store() -> Result<()> {
    let server = start(&[])?;
    scenarios(&server).with_context(|| server.log())
}

#[test]
fn kubectl_manages_resources_on_etcd() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let server = start(&["--datastore-endpoint", &etcd.endpoint()])?;
    scenarios(&server).with_context(|| server.log())
}
