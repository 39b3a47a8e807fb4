//! `ferrokube`: every Kubernetes component in one binary, with a subcommand per component.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use ferrokube_apiserver::storage::{Compactor, Datastore};
use tracing_subscriber::EnvFilter;

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
        Command::Server(flags) | Command::Apiserver(flags) => {
            runtime.block_on(control_plane(flags))
        }
    }
}

async fn control_plane(flags: ControlPlane) -> Result<()> {
    std::fs::create_dir_all(&flags.data_dir)
        .with_context(|| format!("creating {}", flags.data_dir.display()))?;
    let datastore = Datastore::from_flags(&flags.data_dir, &flags.datastore_endpoint)?;
    let store = datastore.open().await.context("opening the datastore")?;
    let revision = store.current_revision().await?;
    tracing::info!(?datastore, revision, "datastore ready");
    let _compactor = Compactor::spawn(
        store,
        Duration::from_secs(flags.compaction_interval_seconds.max(1)),
    );
    tracing::warn!(
        bind_address = %flags.bind_address,
        secure_port = flags.secure_port,
        disable_agent = flags.disable_agent,
        "the Kubernetes API is not served yet: only the datastore runs"
    );
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    Ok(())
}
