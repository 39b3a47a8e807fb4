//! `ferrokube`: every Kubernetes component in one binary, with a subcommand per component.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use ferrokube_apiserver::server::{self, ServerOptions};
use ferrokube_apiserver::strategy::ServiceCidr;
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
        Command::Server(flags) | Command::Apiserver(flags) => {
            if !flags.disable_agent {
                tracing::info!("no node agent yet: the kubelet comes with a later release");
            }
            let options = ServerOptions {
                data_dir: flags.data_dir,
                bind_address: flags.bind_address,
                secure_port: flags.secure_port,
                datastore_endpoint: flags.datastore_endpoint,
                compaction_interval: Duration::from_secs(flags.compaction_interval_seconds.max(1)),
                service_cidr: flags.service_cidr,
            };
            runtime.block_on(server::run(options, termination()))?;
        }
    }
    Ok(())
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
