//! `ferrokube-bench-scheduler --kubeconfig FILE`: upstream scheduler_perf's SchedulingBasic
//! shape end to end through the API server: creates fake Nodes, then pods, and measures how
//! fast the running scheduler binds them (pods/s from the first pod created to the last
//! bound), optionally with pod anti-affinity or topology spread.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clap::Parser;
use ferrokube_loadgen::rss;
use ferrokube_loadgen::workload::scheduling::{self, BoundCounter, PodShape};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use tracing_subscriber::EnvFilter;

/// Scheduler benchmark.
#[derive(Parser)]
#[command(name = "ferrokube-bench-scheduler", version)]
struct Cli {
    /// Kubeconfig of the API server the scheduler serves.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// Fake nodes to create.
    #[arg(long, default_value_t = 5_000)]
    nodes: usize,
    /// Pods to create and have bound.
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// What the pods ask for.
    #[arg(long, value_enum, default_value_t = PodShape::Basic)]
    shape: PodShape,
    /// Concurrent creates.
    #[arg(long, default_value_t = 32)]
    writers: usize,
    /// Namespace of the pods.
    #[arg(long, default_value = "bench-scheduler")]
    namespace: String,
    /// Process ids to report the memory of (`name=pid`), e.g. the server's.
    #[arg(long, value_parser = parse_process)]
    process: Vec<(String, u32)>,
}

fn parse_process(text: &str) -> Result<(String, u32), String> {
    let (name, pid) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not name=pid"))?;
    let pid = pid.parse().map_err(|_| format!("{pid:?} is not a pid"))?;
    Ok((name.to_owned(), pid))
}

fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
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

    let start = Instant::now();
    scheduling::create_nodes(&client, cli.nodes, cli.writers).await?;
    say(format_args!(
        "{} nodes created in {:.2} s",
        cli.nodes,
        start.elapsed().as_secs_f64()
    ));
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": cli.namespace}}))?;
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;
    let counter = BoundCounter::start(client.clone(), &cli.namespace);
    // Let the scheduler see the nodes before the clock starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let start = Instant::now();
    let creating =
        scheduling::create_pods(&client, &cli.namespace, cli.pods, cli.shape, cli.writers);
    creating.await?;
    let created = start.elapsed();
    let mut last_report = Instant::now();
    while counter.bound() < cli.pods {
        if start.elapsed() > Duration::from_secs(900) {
            anyhow::bail!("only {} of {} pods bound", counter.bound(), cli.pods);
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            say(format_args!(
                "  {} bound after {:.1} s",
                counter.bound(),
                start.elapsed().as_secs_f64()
            ));
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let bound = start.elapsed();
    say(format_args!(
        "{:?}: {} pods on {} nodes: created in {:.2} s ({:.0}/s), all bound in {:.2} s: {:.0} pods/s end to end",
        cli.shape,
        cli.pods,
        cli.nodes,
        created.as_secs_f64(),
        cli.pods as f64 / created.as_secs_f64(),
        bound.as_secs_f64(),
        cli.pods as f64 / bound.as_secs_f64()
    ));
    for (name, pid) in &cli.process {
        if let Some(memory) = rss::read(*pid) {
            say(format_args!(
                "{name}: rss {:.1} MB, peak {:.1} MB",
                memory.rss_kib as f64 / 1024.0,
                memory.peak_kib as f64 / 1024.0
            ));
        }
    }
    Ok(())
}
