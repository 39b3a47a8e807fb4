//! `ferrokube-bench-controllers --kubeconfig FILE --manager-pid PID`: times a 1,000-replica
//! Deployment from creation to every pod existing and to all available, then a rollout of
//! it to a new image, with a stand-in kubelet making pods Ready at once; then scales it to
//! 10,000 pods and reads the controller manager's memory.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clap::Parser;
use ferrokube_loadgen::rss;
use ferrokube_loadgen::workload::{Deployments, InstantKubelet};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use tracing_subscriber::EnvFilter;

/// Controller-manager benchmark.
#[derive(Parser)]
#[command(name = "ferrokube-bench-controllers", version)]
struct Cli {
    /// Kubeconfig of the API server the controller manager serves.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The controller manager's process id, for its memory.
    #[arg(long)]
    manager_pid: Option<u32>,
    /// The API server's process id, for its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Replicas of the Deployment created and rolled out.
    #[arg(long, default_value_t = 1_000)]
    replicas: i32,
    /// Pods the Deployment is then scaled to for the memory figure (0: skip).
    #[arg(long, default_value_t = 10_000)]
    memory_pods: i32,
    /// Status writes the stand-in kubelet keeps in flight.
    #[arg(long, default_value_t = 32)]
    kubelet_concurrency: usize,
    /// Namespace the run creates (and deletes).
    #[arg(long, default_value = "bench-controllers")]
    namespace: String,
}

fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn memory(label: &str, pid: Option<u32>) {
    if let Some(memory) = pid.and_then(rss::read) {
        say(format_args!(
            "{label}: rss {:.1} MB, peak {:.1} MB",
            memory.rss_kib as f64 / 1024.0,
            memory.peak_kib as f64 / 1024.0
        ));
    }
}

async fn wait_seen(kubelet: &InstantKubelet, pods: usize, since: Instant) -> Result<Duration> {
    while kubelet.counts().seen.load(Ordering::Relaxed) < pods {
        if since.elapsed() > Duration::from_secs(600) {
            anyhow::bail!(
                "only {} pods appeared",
                kubelet.counts().seen.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(since.elapsed())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let kubeconfig = Kubeconfig::read_from(&cli.kubeconfig).context("reading the kubeconfig")?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    config.read_timeout = Some(Duration::from_secs(120));
    let client = kube::Client::try_from(config)?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": cli.namespace}}))?;
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;
    memory("controller manager idle", cli.manager_pid);

    let kubelet = InstantKubelet::start(client.clone(), &cli.namespace, cli.kubelet_concurrency);
    let deployments = Deployments::new(client.clone(), &cli.namespace, "bench");
    let replicas = cli.replicas;
    let count = usize::try_from(replicas).unwrap_or_default();

    let start = Instant::now();
    deployments.create(replicas, "registry.local/app:1").await?;
    let created = wait_seen(&kubelet, count, start).await?;
    let available = deployments
        .complete(replicas, "become available", start)
        .await?;
    say(format_args!(
        "deployment of {replicas}: all pods created in {:.2} s ({:.0} pods/s), all available in {:.2} s",
        created.as_secs_f64(),
        count as f64 / created.as_secs_f64(),
        available.as_secs_f64()
    ));

    let start = Instant::now();
    deployments.set_image("registry.local/app:2").await?;
    let rolled = deployments.complete(replicas, "roll out", start).await?;
    say(format_args!(
        "rollout of {replicas} (maxSurge 25%, maxUnavailable 25%): complete in {:.2} s",
        rolled.as_secs_f64()
    ));
    memory("controller manager after the rollout", cli.manager_pid);

    if cli.memory_pods > 0 {
        let start = Instant::now();
        deployments.scale(cli.memory_pods).await?;
        let scaled = deployments
            .complete(cli.memory_pods, "scale", start)
            .await?;
        say(format_args!(
            "scaled to {} pods: available in {:.2} s",
            cli.memory_pods,
            scaled.as_secs_f64()
        ));
        // Let the loops settle (events flushed, queues drained) before reading memory.
        tokio::time::sleep(Duration::from_secs(5)).await;
        memory(
            &format!("controller manager with {} pods", cli.memory_pods),
            cli.manager_pid,
        );
        memory(
            &format!("API server with {} pods", cli.memory_pods),
            cli.server_pid,
        );
    }
    say(format_args!(
        "stand-in kubelet: {} pods seen, {} made Ready",
        kubelet.counts().seen.load(Ordering::Relaxed),
        kubelet.counts().readied.load(Ordering::Relaxed)
    ));
    drop(kubelet);
    namespaces
        .delete(&cli.namespace, &DeleteParams::default())
        .await?;
    Ok(())
}
