//! Watches through kube-rs (the client operators use) and stock kubectl, against a real
//! `ferrokube server`: event order, resume from a resourceVersion, 410 Gone for a
//! resourceVersion older than the watch cache, selector transitions, and an informer-style
//! `kube_runtime::watcher`.

use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use ferrokube_testkit::ServerProcess;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};

/// The API server alone: these tests count every event, and the controller manager would
/// add objects of its own (kube-root-ca.crt) to the namespaces they watch.
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

fn configmap(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut map = ConfigMap::default();
    map.metadata.name = Some(name.to_owned());
    if !labels.is_empty() {
        map.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
    }
    map.data = Some([("k".to_owned(), "v".to_owned())].into());
    map
}

async fn next<S, T>(stream: &mut S) -> Result<T>
where
    S: futures::Stream<Item = Result<T, kube::Error>> + Unpin,
{
    match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
        Ok(Some(item)) => Ok(item?),
        Ok(None) => bail!("stream ended"),
        Err(_) => bail!("no event within 10s"),
    }
}

fn describe(event: &WatchEvent<ConfigMap>) -> String {
    match event {
        WatchEvent::Added(o) => format!("ADDED {}", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => {
            format!("MODIFIED {}", o.metadata.name.clone().unwrap_or_default())
        }
        WatchEvent::Deleted(o) => {
            format!("DELETED {}", o.metadata.name.clone().unwrap_or_default())
        }
        WatchEvent::Bookmark(b) => format!("BOOKMARK {}", b.metadata.resource_version),
        WatchEvent::Error(e) => format!("ERROR {} {}", e.code, e.reason),
    }
}

fn revision_of(event: &WatchEvent<ConfigMap>) -> Option<String> {
    match event {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
            o.metadata.resource_version.clone()
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_watch_orders_and_resumes() -> Result<()> {
    let server = start()?;
    let client = client(&server).await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let list = api.list(&ListParams::default()).await?;
    let start = list
        .metadata
        .resource_version
        .context("list resourceVersion")?;

    let mut stream = api.watch(&WatchParams::default(), &start).await?.boxed();
    api.create(&PostParams::default(), &configmap("a", &[]))
        .await?;
    let mut b = api
        .create(&PostParams::default(), &configmap("b", &[]))
        .await?;
    b.data = Some([("k".to_owned(), "changed".to_owned())].into());
    api.replace("b", &PostParams::default(), &b).await?;
    api.delete("a", &DeleteParams::default()).await?;
    let mut seen = Vec::new();
    let mut revisions = Vec::new();
    for _ in 0..4 {
        let event = next(&mut stream).await?;
        revisions.push(revision_of(&event).context("event without resourceVersion")?);
        seen.push(describe(&event));
    }
    ensure!(
        seen == ["ADDED a", "ADDED b", "MODIFIED b", "DELETED a"],
        "{seen:?}"
    );
    drop(stream);

    // Resume after the second event: exactly the last two again.
    let mut resumed = api
        .watch(&WatchParams::default(), &revisions[1])
        .await?
        .boxed();
    let again: Vec<String> = vec![
        describe(&next(&mut resumed).await?),
        describe(&next(&mut resumed).await?),
    ];
    ensure!(again == ["MODIFIED b", "DELETED a"], "{again:?}");

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_version_from_before_a_restart_is_gone() -> Result<()> {
    let mut server = start()?;
    let secrets: Api<Secret> = Api::namespaced(client(&server).await?, "default");
    let mut first = Secret::default();
    first.metadata.name = Some("s1".to_owned());
    let created = secrets.create(&PostParams::default(), &first).await?;
    let old: i64 = created
        .metadata
        .resource_version
        .context("resourceVersion")?
        .parse()?;
    // After a restart the watch cache starts at the current revision, so older
    // resourceVersions answer 410 Expired, as kube-apiserver's do.
    server.restart()?;
    let secrets: Api<Secret> = Api::namespaced(client(&server).await?, "default");
    let mut old_watch = secrets
        .watch(&WatchParams::default(), &(old - 1).to_string())
        .await?
        .boxed();
    match next(&mut old_watch).await? {
        WatchEvent::Error(error) => {
            ensure!(error.code == 410 && error.reason == "Expired", "{error:?}");
        }
        other => bail!("expected 410, got {other:?}"),
    }
    // From the current revision the watch works.
    let mut current = secrets
        .watch(&WatchParams::default(), &old.to_string())
        .await?
        .boxed();
    secrets.delete("s1", &DeleteParams::default()).await?;
    match next(&mut current).await? {
        WatchEvent::Deleted(secret) => ensure!(secret.metadata.name.as_deref() == Some("s1")),
        other => bail!("expected the deletion, got {other:?}"),
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_selector_watch_sees_transitions() -> Result<()> {
    let server = start()?;
    let client = client(&server).await?;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let start = api
        .list(&ListParams::default())
        .await?
        .metadata
        .resource_version
        .context("resourceVersion")?;
    let params = WatchParams::default().labels("tier=web");
    let mut stream = api.watch(&params, &start).await?.boxed();
    api.create(
        &PostParams::default(),
        &configmap("other", &[("tier", "db")]),
    )
    .await?;
    let mut moving = api
        .create(
            &PostParams::default(),
            &configmap("moving", &[("tier", "db")]),
        )
        .await?;
    moving.metadata.labels = Some([("tier".to_owned(), "web".to_owned())].into());
    let mut moving = api
        .replace("moving", &PostParams::default(), &moving)
        .await?;
    moving.metadata.labels = Some([("tier".to_owned(), "cache".to_owned())].into());
    api.replace("moving", &PostParams::default(), &moving)
        .await?;
    let seen = vec![
        describe(&next(&mut stream).await?),
        describe(&next(&mut stream).await?),
    ];
    ensure!(seen == ["ADDED moving", "DELETED moving"], "{seen:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_runtime_watcher_follows_changes() -> Result<()> {
    let server = start()?;
    let client = client(&server).await?;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &configmap("before", &[]))
        .await?;
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut initial = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await {
            Ok(Ok(Some(watcher::Event::InitApply(object)))) => {
                initial.push(object.metadata.name.unwrap_or_default())
            }
            Ok(Ok(Some(watcher::Event::InitDone))) => break,
            Ok(Ok(Some(_))) => {}
            other => bail!("watcher failed during init: {other:?}"),
        }
    }
    ensure!(initial == ["before"], "{initial:?}");
    api.create(&PostParams::default(), &configmap("after", &[]))
        .await?;
    api.delete("before", &DeleteParams::default()).await?;
    let mut changes = Vec::new();
    while changes.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await {
            Ok(Ok(Some(watcher::Event::Apply(object)))) => changes.push(format!(
                "apply {}",
                object.metadata.name.unwrap_or_default()
            )),
            Ok(Ok(Some(watcher::Event::Delete(object)))) => changes.push(format!(
                "delete {}",
                object.metadata.name.unwrap_or_default()
            )),
            Ok(Ok(Some(_))) => {}
            other => bail!("watcher failed: {other:?}"),
        }
    }
    ensure!(changes == ["apply after", "delete before"], "{changes:?}");
    Ok(())
}

#[test]
fn kubectl_get_watch_prints_changes() -> Result<()> {
    let server = start()?;
    let mut child = std::process::Command::new(ferrokube_testkit::kubectl_binary())
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .args([
            "get",
            "namespaces",
            "-w",
            "-o",
            "name",
            "--request-timeout=0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(500));
    let manifest = tempfile::Builder::new().suffix(".json").tempfile()?;
    std::fs::write(
        manifest.path(),
        br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"watched"}}"#,
    )?;
    let path = manifest.path().to_str().context("path")?;
    server.kubectl_ok(&["create", "--validate=false", "-f", path])?;
    std::thread::sleep(Duration::from_millis(700));
    child.kill()?;
    let output = child.wait_with_output()?;
    let printed = String::from_utf8(output.stdout)?;
    ensure!(printed.contains("namespace/default\n"), "{printed}");
    ensure!(printed.contains("namespace/watched\n"), "{printed}");
    Ok(())
}
