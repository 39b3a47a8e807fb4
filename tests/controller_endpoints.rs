//! Endpoints, EndpointSlices and EndpointSlice mirroring from Services and pods, against a
//! real API server with the controller manager running in the test; the test plays the
//! kubelet by setting pod IPs and readiness through `pods/status`.

use std::time::Duration;

use anyhow::{bail, Result};
use ferrokube_controllers::ManagerOptions;
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Value};

async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if check().await.unwrap_or(false) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn create<K>(api: &Api<K>, value: Value) -> Result<K>
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Ok(api
        .create(&PostParams::default(), &serde_json::from_value(value)?)
        .await?)
}

fn pod(name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "ports": [{"name": "http", "containerPort": 8080}]}]},
    })
}

/// What a kubelet reports: an IP and the Ready condition.
async fn report(pods: &Api<Pod>, name: &str, ip: &str, ready: bool) -> Result<()> {
    let status = json!({"status": {
        "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
    }});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

fn addresses(endpoints: &Endpoints) -> (Vec<String>, Vec<String>) {
    let mut ready = Vec::new();
    let mut not_ready = Vec::new();
    for subset in endpoints.subsets.iter().flatten() {
        ready.extend(subset.addresses.iter().flatten().map(|a| a.ip.clone()));
        not_ready.extend(
            subset
                .not_ready_addresses
                .iter()
                .flatten()
                .map(|a| a.ip.clone()),
        );
    }
    (ready, not_ready)
}

async fn slice_of(client: &Client, service: &str) -> Result<Vec<EndpointSlice>> {
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    Ok(slices
        .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={service}")))
        .await?
        .items)
}

#[tokio::test]
async fn endpoints_follow_ready_pods() -> Result<()> {
    let server =
        ServerProcess::start_apiserver(std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let manager = tokio::spawn(ferrokube_controllers::run(
        client.clone(),
        ManagerOptions {
            lease: None,
            ..ManagerOptions::default()
        },
    ));
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    create(
        &services,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "labels": {"team": "a"}},
            "spec": {"selector": {"app": "web"}, "ports": [
                {"name": "http", "port": 80, "targetPort": "http"},
                {"name": "metrics", "port": 9090},
            ]},
        }),
    )
    .await?;
    create(&pods, pod("a", "web")).await?;
    create(&pods, pod("b", "web")).await?;
    create(&pods, pod("other", "db")).await?;
    report(&pods, "a", "10.244.0.11", true).await?;
    report(&pods, "b", "10.244.0.12", false).await?;
    report(&pods, "other", "10.244.0.13", true).await?;

    eventually("ready and not-ready addresses", || {
        let endpoints = endpoints.clone();
        async move {
            let current = endpoints.get("web").await?;
            Ok(addresses(&current)
                == (
                    vec!["10.244.0.11".to_owned()],
                    vec!["10.244.0.12".to_owned()],
                ))
        }
    })
    .await?;
    let current = endpoints.get("web").await?;
    let ports: Vec<(Option<String>, i32)> = current
        .subsets
        .iter()
        .flatten()
        .flat_map(|s| s.ports.iter().flatten().map(|p| (p.name.clone(), p.port)))
        .collect();
    if ports
        != [
            (Some("http".to_owned()), 8080),
            (Some("metrics".to_owned()), 9090),
        ]
    {
        bail!("named target ports not resolved: {ports:?}");
    }
    if current
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("team"))
        .map(String::as_str)
        != Some("a")
    {
        bail!("service labels not copied: {:?}", current.metadata.labels);
    }
    eventually("an EndpointSlice with conditions", || {
        let client = client.clone();
        async move {
            let slices = slice_of(&client, "web").await?;
            let Some(slice) = slices.first() else {
                return Ok(false);
            };
            let ready: Vec<(String, Option<bool>)> = slice
                .endpoints
                .iter()
                .map(|e| {
                    (
                        e.addresses[0].clone(),
                        e.conditions.as_ref().and_then(|c| c.ready),
                    )
                })
                .collect();
            Ok(slices.len() == 1
                && slice
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("endpointslice.kubernetes.io/managed-by"))
                    .map(String::as_str)
                    == Some("endpointslice-controller.k8s.io")
                && ready
                    == [
                        ("10.244.0.11".to_owned(), Some(true)),
                        ("10.244.0.12".to_owned(), Some(false)),
                    ])
        }
    })
    .await?;

    // Readiness changes, a pod leaves by relabelling, another by deletion.
    report(&pods, "b", "10.244.0.12", true).await?;
    pods.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(&json!({"metadata": {"labels": {"app": "moved"}}})),
    )
    .await?;
    eventually("b ready, a gone", || {
        let endpoints = endpoints.clone();
        async move {
            Ok(addresses(&endpoints.get("web").await?) == (vec!["10.244.0.12".to_owned()], vec![]))
        }
    })
    .await?;
    pods.delete("b", &DeleteParams::default()).await?;
    eventually("no addresses", || {
        let endpoints = endpoints.clone();
        async move { Ok(endpoints.get("web").await?.subsets.is_none()) }
    })
    .await?;

    // Selector-less Service: hand-written Endpoints are mirrored into a slice.
    create(
        &services,
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}}),
    )
    .await?;
    create(
        &endpoints,
        json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "external"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]}),
    )
    .await?;
    eventually("a mirrored slice", || {
        let client = client.clone();
        async move {
            let slices = slice_of(&client, "external").await?;
            Ok(slices.len() == 1
                && slices[0].endpoints.first().map(|e| e.addresses.clone())
                    == Some(vec!["192.0.2.10".to_owned()])
                && slices[0]
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("endpointslice.kubernetes.io/managed-by"))
                    .map(String::as_str)
                    == Some("endpointslicemirroring-controller.k8s.io"))
        }
    })
    .await?;
    // The API server's own Endpoints are not mirrored twice.
    let own = slice_of(&client, "kubernetes").await?;
    if own.len() != 1 {
        bail!("kubernetes service has {} slices", own.len());
    }

    // A deleted Service's Endpoints go with it.
    services.delete("web", &DeleteParams::default()).await?;
    eventually("web endpoints deleted", || {
        let endpoints = endpoints.clone();
        async move { Ok(endpoints.get_opt("web").await?.is_none()) }
    })
    .await?;
    let listed = server.kubectl_ok(&["get", "endpoints", "-o", "name"])?;
    if !listed.contains("endpoints/external") {
        bail!("{listed}");
    }
    manager.abort();
    Ok(())
}
