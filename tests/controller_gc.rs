//! The garbage collector against a real API server, driven by stock kubectl: chains of
//! owners and dependents across ConfigMaps and custom resources, `kubectl delete
//! --cascade=background|foreground|orphan`, dangling owner references, dependents with
//! several owners, owners in another namespace, and custom resource types created while the
//! manager runs.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_controllers::ManagerOptions;
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DynamicObject, PostParams};
use kube::discovery::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.gc.example.com}
spec:
  group: gc.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

fn binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube"))
}

fn widgets() -> ApiResource {
    ApiResource {
        group: "gc.example.com".to_owned(),
        version: "v1".to_owned(),
        api_version: "gc.example.com/v1".to_owned(),
        kind: "Widget".to_owned(),
        plural: "widgets".to_owned(),
    }
}

/// Runs kubectl without stalling the runtime the manager runs on.
fn kubectl(server: &ServerProcess, args: &[&str]) -> Result<String> {
    Ok(tokio::task::block_in_place(|| server.kubectl_ok(args))?)
}

fn install_crd(server: &ServerProcess) -> Result<()> {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile()?;
    file.write_all(CRD.as_bytes())?;
    let path = file.path().to_str().context("temp path")?;
    kubectl(server, &["apply", "-f", path])?;
    kubectl(
        server,
        &[
            "wait",
            "--for",
            "condition=established",
            "--timeout=20s",
            "crd/widgets.gc.example.com",
        ],
    )?;
    Ok(())
}

/// The API server alone, the widgets CRD (unless `crd` is false), and the manager.
async fn cluster(crd: bool) -> Result<(ServerProcess, Client)> {
    // The collector's log, shown when a test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("ferrokube_controllers::gc=debug")
        .with_test_writer()
        .try_init();
    let server = ServerProcess::start_apiserver(binary(), &[])?;
    if crd {
        install_crd(&server)?;
    }
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let options = ManagerOptions {
        lease: None,
        identity: Some("gc-test".to_owned()),
        ..ManagerOptions::default()
    };
    tokio::spawn(ferrokube_controllers::run(client.clone(), options));
    Ok((server, client))
}

/// Polls `check` until it holds or `timeout` passes.
async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::new();
    loop {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => last = error.to_string(),
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what} {last}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        uid: uid.to_owned(),
        block_owner_deletion: block.then_some(true),
        controller: None,
    }
}

/// A reference to a ConfigMap.
fn map_owner(map: &ConfigMap, block: bool) -> OwnerReference {
    owner_ref(
        "v1",
        "ConfigMap",
        &map.name_any(),
        map.metadata.uid.as_deref().unwrap_or_default(),
        block,
    )
}

/// A reference to a Widget.
fn widget_owner(widget: &DynamicObject, block: bool) -> OwnerReference {
    owner_ref(
        "gc.example.com/v1",
        "Widget",
        &widget.name_any(),
        widget.metadata.uid.as_deref().unwrap_or_default(),
        block,
    )
}

async fn make_map(
    client: &Client,
    namespace: &str,
    name: &str,
    owners: Vec<OwnerReference>,
    finalizers: &[&str],
) -> Result<ConfigMap> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut map = ConfigMap::default();
    map.metadata.name = Some(name.to_owned());
    map.metadata.owner_references = Some(owners).filter(|o| !o.is_empty());
    map.metadata.finalizers = Some(finalizers.iter().map(|f| (*f).to_owned()).collect())
        .filter(|f: &Vec<String>| !f.is_empty());
    Ok(api.create(&PostParams::default(), &map).await?)
}

async fn make_widget(
    client: &Client,
    name: &str,
    owners: Vec<OwnerReference>,
) -> Result<DynamicObject> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &widgets());
    let mut widget = DynamicObject::new(name, &widgets()).data(json!({"spec": {"size": 1}}));
    widget.metadata.owner_references = Some(owners).filter(|o| !o.is_empty());
    Ok(api.create(&PostParams::default(), &widget).await?)
}

async fn map_exists(client: &Client, namespace: &str, name: &str) -> Result<bool> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    Ok(api.get_opt(name).await?.is_some())
}

async fn widget_exists(client: &Client, name: &str) -> Result<bool> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &widgets());
    Ok(api.get_opt(name).await?.is_some())
}

async fn gone(client: &Client, maps: &[&str], widget_names: &[&str]) -> Result<bool> {
    for map in maps {
        if map_exists(client, "default", map).await? {
            return Ok(false);
        }
    }
    for widget in widget_names {
        if widget_exists(client, widget).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn get_json(server: &ServerProcess, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    Ok(serde_json::from_str(&kubectl(server, &all)?)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn background_cascade_deletes_chains_of_maps_and_custom_resources() -> Result<()> {
    let (server, client) = cluster(true).await?;
    // root (ConfigMap) <- middle (Widget) <- leaf (ConfigMap) <- tail (Widget)
    let root = make_map(&client, "default", "root", vec![], &[]).await?;
    let middle = make_widget(&client, "middle", vec![map_owner(&root, false)]).await?;
    let leaf = make_map(
        &client,
        "default",
        "leaf",
        vec![widget_owner(&middle, false)],
        &[],
    )
    .await?;
    make_widget(&client, "tail", vec![map_owner(&leaf, false)]).await?;
    let unrelated = make_map(&client, "default", "unrelated", vec![], &[]).await?;

    let out = kubectl(
        &server,
        &["delete", "configmap", "root", "--cascade=background"],
    )?;
    if !out.contains("deleted") {
        bail!("{out}");
    }
    eventually(Duration::from_secs(30), "the whole chain to go", || {
        let client = client.clone();
        async move { gone(&client, &["root", "leaf"], &["middle", "tail"]).await }
    })
    .await?;
    // Objects without owners are left alone.
    if !map_exists(&client, "default", &unrelated.name_any()).await? {
        bail!("an object without owners was collected");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn foreground_cascade_waits_for_blocking_dependents() -> Result<()> {
    let (server, client) = cluster(true).await?;
    let root = make_map(&client, "default", "root", vec![], &[]).await?;
    // A blocking dependent held by its own finalizer keeps the owner waiting.
    make_map(
        &client,
        "default",
        "blocker",
        vec![map_owner(&root, true)],
        &["example.com/hold"],
    )
    .await?;
    make_map(
        &client,
        "default",
        "free",
        vec![map_owner(&root, false)],
        &[],
    )
    .await?;

    kubectl(
        &server,
        &[
            "delete",
            "configmap",
            "root",
            "--cascade=foreground",
            "--wait=false",
        ],
    )?;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    eventually(Duration::from_secs(30), "dependents deleted first", || {
        let maps = maps.clone();
        async move {
            let blocker = maps.get_opt("blocker").await?;
            Ok(maps.get_opt("free").await?.is_none()
                && blocker.is_some_and(|b| b.metadata.deletion_timestamp.is_some()))
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = maps.get("root").await?;
    let finalizers = waiting.metadata.finalizers.clone().unwrap_or_default();
    if waiting.metadata.deletion_timestamp.is_none()
        || !finalizers.contains(&"foregroundDeletion".to_owned())
    {
        bail!(
            "the owner should wait in the foreground: {:?}",
            waiting.metadata
        );
    }

    kubectl(
        &server,
        &[
            "patch",
            "configmap",
            "blocker",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
    )?;
    eventually(Duration::from_secs(30), "the owner to follow", || {
        let client = client.clone();
        async move { gone(&client, &["root", "blocker"], &[]).await }
    })
    .await?;

    // With kubectl waiting (the default), the delete returns once the owner is gone, and by
    // then its blocking dependents are gone too.
    let owner = make_widget(&client, "owner", vec![]).await?;
    make_map(
        &client,
        "default",
        "part-a",
        vec![widget_owner(&owner, true)],
        &[],
    )
    .await?;
    let part_b = make_widget(&client, "part-b", vec![widget_owner(&owner, true)]).await?;
    // A dependent with dependents of its own is deleted in the foreground in turn.
    make_map(
        &client,
        "default",
        "sub-part",
        vec![widget_owner(&part_b, true)],
        &[],
    )
    .await?;
    let out = kubectl(
        &server,
        &[
            "delete",
            "widgets.gc.example.com",
            "owner",
            "--cascade=foreground",
            "--timeout=60s",
        ],
    )?;
    if !out.contains("deleted") {
        bail!("{out}");
    }
    if !gone(&client, &["part-a", "sub-part"], &["owner", "part-b"]).await? {
        bail!("foreground delete returned before the blocking dependents were gone");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orphan_cascade_strips_owner_references() -> Result<()> {
    let (server, client) = cluster(true).await?;
    let root = make_map(&client, "default", "root", vec![], &[]).await?;
    let other = make_map(&client, "default", "other", vec![], &[]).await?;
    make_map(
        &client,
        "default",
        "child",
        vec![map_owner(&root, true)],
        &[],
    )
    .await?;
    make_widget(
        &client,
        "gadget",
        vec![map_owner(&root, false), map_owner(&other, false)],
    )
    .await?;

    let out = kubectl(
        &server,
        &[
            "delete",
            "configmap",
            "root",
            "--cascade=orphan",
            "--timeout=60s",
        ],
    )?;
    if !out.contains("deleted") {
        bail!("{out}");
    }
    if map_exists(&client, "default", "root").await? {
        bail!("the owner is still there after kubectl returned");
    }
    let child = get_json(&server, &["get", "configmap", "child"])?;
    if child["metadata"].get("ownerReferences").is_some() {
        bail!("child still owned: {}", child["metadata"]);
    }
    let gadget = get_json(&server, &["get", "widgets.gc.example.com", "gadget"])?;
    let owners = &gadget["metadata"]["ownerReferences"];
    if owners.as_array().map(Vec::len) != Some(1) || owners[0]["name"] != "other" {
        bail!("gadget should keep only its other owner: {owners}");
    }
    // Orphans stay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    if gone(&client, &["child"], &["gadget"]).await? || !widget_exists(&client, "gadget").await? {
        bail!("orphaned dependents were deleted");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dangling_references_and_several_owners() -> Result<()> {
    let (server, client) = cluster(false).await?;
    // An owner that never existed, and one whose name now belongs to another object.
    make_map(
        &client,
        "default",
        "never-owned",
        vec![owner_ref(
            "v1",
            "ConfigMap",
            "ghost",
            "4b0d6a2e-0000-4000-8000-000000000000",
            false,
        )],
        &[],
    )
    .await?;
    make_map(&client, "default", "impostor", vec![], &[]).await?;
    make_map(
        &client,
        "default",
        "misled",
        vec![owner_ref(
            "v1",
            "ConfigMap",
            "impostor",
            "4b0d6a2e-0000-4000-8000-000000000001",
            false,
        )],
        &[],
    )
    .await?;
    eventually(
        Duration::from_secs(30),
        "dependents of absent owners to go",
        || {
            let client = client.clone();
            async move { gone(&client, &["never-owned", "misled"], &[]).await }
        },
    )
    .await?;
    if !map_exists(&client, "default", "impostor").await? {
        bail!("the object holding the name was deleted");
    }

    let first = make_map(&client, "default", "first", vec![], &[]).await?;
    let second = make_map(&client, "default", "second", vec![], &[]).await?;
    make_map(
        &client,
        "default",
        "shared",
        vec![map_owner(&first, false), map_owner(&second, false)],
        &[],
    )
    .await?;
    kubectl(&server, &["delete", "configmap", "first"])?;
    // The remaining owner keeps it; the reference to the gone one is dropped.
    eventually(
        Duration::from_secs(30),
        "the dangling reference to go",
        || {
            let server = &server;
            async move {
                let shared = get_json(server, &["get", "configmap", "shared"])?;
                let owners = shared["metadata"]["ownerReferences"].clone();
                Ok(owners.as_array().map(Vec::len) == Some(1) && owners[0]["name"] == "second")
            }
        },
    )
    .await?;
    kubectl(&server, &["delete", "configmap", "second"])?;
    eventually(
        Duration::from_secs(30),
        "the last owner's dependent to go",
        || {
            let client = client.clone();
            async move { gone(&client, &["shared"], &[]).await }
        },
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn owners_in_another_namespace_are_reported_and_treated_as_absent() -> Result<()> {
    let (server, client) = cluster(false).await?;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let mut elsewhere = k8s_openapi::api::core::v1::Namespace::default();
    elsewhere.metadata.name = Some("elsewhere".to_owned());
    namespaces
        .create(&PostParams::default(), &elsewhere)
        .await?;
    let owner = make_map(&client, "default", "owner", vec![], &[]).await?;
    make_map(
        &client,
        "elsewhere",
        "stray",
        vec![map_owner(&owner, false)],
        &[],
    )
    .await?;
    eventually(Duration::from_secs(30), "the stray dependent to go", || {
        let client = client.clone();
        async move { Ok(!map_exists(&client, "elsewhere", "stray").await?) }
    })
    .await?;
    eventually(Duration::from_secs(15), "the OwnerRefInvalidNamespace event", || {
        let server = &server;
        async move {
            let events = get_json(server, &["get", "events", "-n", "elsewhere"])?;
            let found = events["items"].as_array().is_some_and(|items| {
                items.iter().any(|event| {
                    event["reason"] == "OwnerRefInvalidNamespace"
                        && event["type"] == "Warning"
                        && event["involvedObject"]["name"] == "stray"
                        && event["message"].as_str().is_some_and(|m| {
                            m.starts_with("ownerRef [v1/ConfigMap, namespace: elsewhere, name: owner, uid: ")
                                && m.ends_with("] does not exist in namespace \"elsewhere\"")
                        })
                })
            });
            Ok(found)
        }
    })
    .await?;
    if !map_exists(&client, "default", "owner").await? {
        bail!("the owner was touched");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn custom_resource_types_created_at_run_time_are_collected() -> Result<()> {
    let (server, client) = cluster(false).await?;
    // Let the collector finish its first discovery without the CRD.
    tokio::time::sleep(Duration::from_secs(2)).await;
    install_crd(&server)?;
    let owner = make_widget(&client, "late-owner", vec![]).await?;
    make_map(
        &client,
        "default",
        "late-child",
        vec![widget_owner(&owner, false)],
        &[],
    )
    .await?;
    let map_owner_obj = make_map(&client, "default", "map-owner", vec![], &[]).await?;
    make_widget(
        &client,
        "late-widget",
        vec![map_owner(&map_owner_obj, false)],
    )
    .await?;

    kubectl(&server, &["delete", "widgets.gc.example.com", "late-owner"])?;
    kubectl(&server, &["delete", "configmap", "map-owner"])?;
    eventually(
        Duration::from_secs(60),
        "dependents across the new type to go",
        || {
            let client = client.clone();
            async move { gone(&client, &["late-child"], &["late-widget"]).await }
        },
    )
    .await?;
    Ok(())
}
