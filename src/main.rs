//! `ferrokube`: every Kubernetes component in one binary, with a subcommand per component.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use ferrokube_apiserver::server::{self, ServerOptions};
use ferrokube_apiserver::strategy::ServiceCidr;
use tracing_subscriber::EnvFilter;

/// jemalloc, for the API server's many short-lived JSON allocations (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A Kubernetes cluster that stock tools cannot tell from the real one.
#[derive(Parser)]
#[command(name = "ferrokube", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the control plane (and, later, a node agent) in one process.
    Server(ControlPlane),
    /// Runs the API server alone.
    Apiserver(ControlPlane),
    /// Runs the controller manager alone, against the API server a kubeconfig names.
    ControllerManager(Component),
    /// Runs the scheduler alone, against the API server a kubeconfig names.
    Scheduler(SchedulerFlags),
}

/// The scheduler's flags: a component's, and kube-scheduler's `--config`.
#[derive(Args)]
struct SchedulerFlags {
    #[command(flatten)]
    component: Component,
    /// A `KubeSchedulerConfiguration` file (kubescheduler.config.k8s.io/v1, YAML or JSON).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Flags of a component that is a client of the API server.
#[derive(Args)]
struct Component {
    /// The kubeconfig to reach the API server with.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// Run without leader election (a single instance).
    #[arg(long)]
    no_leader_elect: bool,
}

/// Flags shared by `server` and `apiserver` (the k3s-style contract other tools rely on).
#[derive(Args)]
struct ControlPlane {
    /// Directory for certificates, kubeconfigs and the embedded store.
    #[arg(long, default_value = "/var/lib/ferrokube")]
    data_dir: PathBuf,
    /// HTTPS port of the API server.
    #[arg(long, default_value_t = 6443)]
    secure_port: u16,
    /// Address the API server listens on.
    #[arg(long, default_value = "127.0.0.1")]
    bind_address: IpAddr,
    /// Empty for the embedded store, or comma-separated etcd URLs (http://host:2379).
    #[arg(long, default_value = "")]
    datastore_endpoint: String,
    /// Do not run a node agent in this process.
    #[arg(long)]
    disable_agent: bool,
    /// Seconds between history compactions (kube-apiserver's default is 300).
    #[arg(long, default_value_t = 300)]
    compaction_interval_seconds: u64,
    /// The IPv4 range Service ClusterIPs come from.
    #[arg(long, default_value = "10.96.0.0/12", value_parser = parse_cidr)]
    service_cidr: ServiceCidr,
}

fn parse_cidr(text: &str) -> Result<ServiceCidr, String> {
    ServiceCidr::parse(text)
        .ok_or_else(|| format!("{text:?} is not an IPv4 CIDR like 10.96.0.0/12"))
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::ControllerManager(flags) => {
            runtime.block_on(async {
                tokio::select! {
                    result = controller_manager(flags.kubeconfig, !flags.no_leader_elect) => result,
                    () = termination() => Ok(()),
                }
            })?;
        }
        Command::Scheduler(flags) => {
            let config = flags
                .config
                .as_deref()
                .map(ferrokube_scheduler::config::load)
                .transpose()?;
            let component = flags.component;
            runtime.block_on(async {
                tokio::select! {
                    result = scheduler(component.kubeconfig, !component.no_leader_elect, config) => result,
                    () = termination() => Ok(()),
                }
            })?;
        }
        Command::Server(flags) => runtime.block_on(control_plane(flags, true))?,
        Command::Apiserver(flags) => runtime.block_on(control_plane(flags, false))?,
    }
    Ok(())
}

/// The API server, and with `components` the other control-plane components as tasks of
/// this process (each an API client, as they would be as processes of their own).
async fn control_plane(flags: ControlPlane, components: bool) -> Result<()> {
    if components && !flags.disable_agent {
        tracing::info!("no node agent yet: the kubelet comes with a later release");
    }
    let kubeconfig = flags.data_dir.join("admin.kubeconfig");
    let options = ServerOptions {
        data_dir: flags.data_dir,
        bind_address: flags.bind_address,
        secure_port: flags.secure_port,
        datastore_endpoint: flags.datastore_endpoint,
        compaction_interval: Duration::from_secs(flags.compaction_interval_seconds.max(1)),
        service_cidr: flags.service_cidr,
    };
    if components {
        let scheduler_kubeconfig = kubeconfig.clone();
        tokio::spawn(async move {
            if let Err(error) = controller_manager(kubeconfig, true).await {
                tracing::error!(%error, "controller manager stopped");
            }
        });
        tokio::spawn(async move {
            if let Err(error) = scheduler(scheduler_kubeconfig, true, None).await {
                tracing::error!(%error, "scheduler stopped");
            }
        });
    }
    server::run(options, termination()).await?;
    Ok(())
}

/// Runs the controller manager against the API server `kubeconfig` names, waiting for it
/// to serve, and standing again as a candidate whenever leadership is lost.
async fn controller_manager(kubeconfig: PathBuf, leader_elect: bool) -> Result<()> {
    let (client, root_ca) = loop {
        if kubeconfig.exists() {
            match ferrokube_controllers::connect(&kubeconfig).await {
                Ok((client, root_ca)) if client.apiserver_version().await.is_ok() => {
                    break (client, root_ca)
                }
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "waiting for the API server"),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut options = ferrokube_controllers::ManagerOptions {
        root_ca,
        ..Default::default()
    };
    if !leader_elect {
        options.lease = None;
    }
    loop {
        ferrokube_controllers::run(client.clone(), options.clone()).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Runs the scheduler against the API server `kubeconfig` names (with `config`'s profiles
/// when given), waiting for it to serve, and standing again as a candidate whenever
/// leadership is lost.
async fn scheduler(
    kubeconfig: PathBuf,
    leader_elect: bool,
    config: Option<ferrokube_scheduler::config::SchedulerConfig>,
) -> Result<()> {
    let client = loop {
        if kubeconfig.exists() {
            match ferrokube_controllers::connect(&kubeconfig).await {
                Ok((client, _)) if client.apiserver_version().await.is_ok() => break client,
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "waiting for the API server"),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut options = ferrokube_scheduler::SchedulerOptions {
        config,
        ..Default::default()
    };
    if !leader_elect {
        options.lease = None;
    }
    loop {
        if let Err(error) = ferrokube_scheduler::run(client.clone(), options.clone()).await {
            tracing::warn!(%error, "scheduler stopped; standing again");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Completes on SIGTERM or Ctrl-C, so init systems and terminals stop the server cleanly.
async fn termination() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
