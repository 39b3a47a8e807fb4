//! The controller manager against a real API server: leader election on its Lease (two
//! managers, one acts, the other takes over when the first stops), the per-namespace
//! defaults loop, and `ferrokube server` running the manager in-process.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_controllers::{LeaseConfig, ManagerOptions};
use ferrokube_testkit::ServerProcess;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use kube::Client;

fn binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube"))
}

/// Polls `check` until it holds or `timeout` passes.
async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
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

fn options(identity: &str) -> ManagerOptions {
    ManagerOptions {
        lease: Some(LeaseConfig {
            lease_duration: Duration::from_secs(3),
            retry_period: Duration::from_millis(300),
            ..LeaseConfig::controller_manager()
        }),
        root_ca: Some("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n".to_owned()),
        identity: Some(identity.to_owned()),
        ..ManagerOptions::default()
    }
}

async fn holder(client: &Client) -> Result<Option<String>> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    Ok(leases
        .get_opt("kube-controller-manager")
        .await?
        .and_then(|lease| lease.spec)
        .and_then(|spec| spec.holder_identity))
}

#[tokio::test]
async fn leader_election_and_namespace_defaults() -> Result<()> {
    let server = ServerProcess::start_apiserver(binary(), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let first = tokio::spawn(ferrokube_controllers::run(client.clone(), options("first")));
    eventually(Duration::from_secs(10), "first to lead", || {
        let client = client.clone();
        async move { Ok(holder(&client).await?.as_deref() == Some("first")) }
    })
    .await?;
    let second = tokio::spawn(ferrokube_controllers::run(
        client.clone(),
        options("second"),
    ));

    // The defaults loop (run by the leader only) fills every namespace.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut team = Namespace::default();
    team.metadata.name = Some("team".to_owned());
    namespaces.create(&PostParams::default(), &team).await?;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "team");
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    eventually(
        Duration::from_secs(10),
        "default ServiceAccount and root CA",
        || {
            let (accounts, maps) = (accounts.clone(), maps.clone());
            async move {
                let map = maps.get_opt("kube-root-ca.crt").await?;
                Ok(accounts.get_opt("default").await?.is_some()
                    && map.and_then(|m| m.data).is_some_and(|data| {
                        data.get("ca.crt").is_some_and(|ca| ca.contains("test"))
                    }))
            }
        },
    )
    .await?;
    accounts.delete("default", &DeleteParams::default()).await?;
    eventually(
        Duration::from_secs(10),
        "the deleted ServiceAccount back",
        || {
            let accounts = accounts.clone();
            async move { Ok(accounts.get_opt("default").await?.is_some()) }
        },
    )
    .await?;
    if holder(&client).await?.as_deref() != Some("first") {
        bail!("the second manager took a Lease that was being renewed");
    }

    // The leader stops: the other takes over once the Lease expires.
    first.abort();
    eventually(Duration::from_secs(15), "second to take over", || {
        let client = client.clone();
        async move { Ok(holder(&client).await?.as_deref() == Some("second")) }
    })
    .await?;
    second.abort();
    Ok(())
}

#[tokio::test]
async fn server_runs_the_controller_manager() -> Result<()> {
    let server = ServerProcess::start(binary(), &[])?;
    let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "kube-system");
    eventually(
        Duration::from_secs(15),
        "kube-system/default ServiceAccount",
        || {
            let accounts = accounts.clone();
            async move { Ok(accounts.get_opt("default").await?.is_some()) }
        },
    )
    .await
    .context(server.log())?;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    eventually(Duration::from_secs(15), "default/kube-root-ca.crt", || {
        let maps = maps.clone();
        async move { Ok(maps.get_opt("kube-root-ca.crt").await?.is_some()) }
    })
    .await?;
    let ca = maps
        .get("kube-root-ca.crt")
        .await?
        .data
        .and_then(|data| data.get("ca.crt").cloned())
        .unwrap_or_default();
    if !ca.contains("BEGIN CERTIFICATE") {
        bail!("kube-root-ca.crt does not hold the cluster CA: {ca:?}");
    }
    Ok(())
}
