//! `ferrokube-loadgen --kubeconfig FILE`: measures an API server with the scenarios of
//! `ferrokube_loadgen::scenario` and prints one line of figures per scenario, then the
//! issue's targets with what this run measured.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, ValueEnum};
use ferrokube_loadgen::report::Report;
use ferrokube_loadgen::scenario::{self, create, etcd, get, list, namespace, watch};
use ferrokube_loadgen::{rss, Credentials, Endpoint, PodTemplate, Pool, Protocol};
use tracing_subscriber::EnvFilter;

/// Load generator for the Ferrokube API server.
#[derive(Parser)]
#[command(name = "ferrokube-loadgen", version)]
struct Cli {
    /// Kubeconfig with the server URL, its CA and a client certificate.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// HTTP version.
    #[arg(long, value_enum, default_value_t = Protocol::Http2)]
    protocol: Protocol,
    /// Shared HTTP/2 connections the writers and readers spread over.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Scenarios to run (get and list need the pods create makes, so they imply it).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Scenario::all())]
    scenarios: Vec<Scenario>,
    /// Pods to create (and to list).
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// Concurrent writers for creates (and raw etcd puts).
    #[arg(long, default_value_t = 32)]
    writers: usize,
    /// Concurrent readers for gets.
    #[arg(long, default_value_t = 32)]
    readers: usize,
    /// Seconds of gets.
    #[arg(long, default_value_t = 5.0)]
    get_seconds: f64,
    /// Runs of each list kind (full, paged).
    #[arg(long, default_value_t = 5)]
    list_runs: usize,
    /// Page size of the paged lists.
    #[arg(long, default_value_t = 500)]
    page_size: usize,
    /// Watchers in the fan-out scenario.
    #[arg(long, default_value_t = 100)]
    watchers: usize,
    /// Writes per second while they watch.
    #[arg(long, default_value_t = 200.0)]
    watch_rate: f64,
    /// Seconds of writes while they watch.
    #[arg(long, default_value_t = 10.0)]
    watch_seconds: f64,
    /// Concurrent writers sharing the watch scenario's write schedule.
    #[arg(long, default_value_t = 8)]
    watch_writers: usize,
    /// Put watchers on the shared connections instead of one connection each.
    #[arg(long)]
    watch_shared_connections: bool,
    /// Seconds watchers may take to catch up after the last write.
    #[arg(long, default_value_t = 10.0)]
    watch_drain_seconds: f64,
    /// The etcd the server stores in (http://127.0.0.1:2379): measures raw puts (as many as
    /// pods, at least 1,000, values the size of a stored pod) as the reference, and checks
    /// the etcd targets instead of the embedded ones.
    #[arg(long)]
    etcd_endpoint: Option<String>,
    /// The server's process id, to report its idle and final memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout_seconds: f64,
    /// Prefix of the namespaces the run creates.
    #[arg(long, default_value = "loadgen")]
    namespace_prefix: String,
    /// Keep the run's namespaces (and pods) instead of deleting them.
    #[arg(long)]
    keep: bool,
    /// Also write every figure as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The scenarios, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Create,
    Etcd,
    Get,
    List,
    Watch,
}

impl Scenario {
    fn all() -> Vec<Self> {
        vec![Self::Create, Self::Etcd, Self::Get, Self::List, Self::Watch]
    }
}

fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(&cli))?;
    let targets = report.targets();
    for target in &targets {
        say(format_args!(
            "target: {:<48} {:<28} {}",
            target.name,
            target.measured,
            if target.met { "met" } else { "NOT MET" }
        ));
    }
    if let Some(path) = &cli.json {
        let json = serde_json::json!({ "report": report, "targets": targets });
        std::fs::write(path, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

async fn run(cli: &Cli) -> Result<Report> {
    let credentials = Credentials::load(&cli.kubeconfig)?;
    let timeout = Duration::from_secs_f64(cli.timeout_seconds.max(0.1));
    let endpoint = Endpoint::new(&credentials, cli.protocol, timeout)?;
    let pool = Pool::open(endpoint, cli.connections).await?;
    let wants = |scenario| cli.scenarios.contains(&scenario);
    let mut report = Report {
        server: credentials.server.clone(),
        backend: if cli.etcd_endpoint.is_some() {
            "etcd"
        } else {
            "embedded"
        }
        .to_owned(),
        protocol: cli.protocol,
        connections: cli.connections,
        idle_memory: cli.server_pid.and_then(rss::read),
        final_memory: None,
        create: None,
        get: None,
        list: None,
        watch: None,
        etcd: None,
    };
    say(format_args!(
        "ferrokube-loadgen: {} ({} store), {}",
        report.server,
        report.backend,
        match report.protocol {
            Protocol::Http2 => format!("HTTP/2 on {} shared connections", report.connections),
            Protocol::Http1 => "HTTP/1.1, a connection per worker".to_owned(),
        }
    ));
    if let Some(memory) = report.idle_memory {
        say(format_args!(
            "server memory, idle: RSS {:.1} MB",
            memory.rss_kib as f64 / 1024.0
        ));
    }

    let run_id = format!(
        "{}-{:06x}",
        cli.namespace_prefix,
        fastrand::u32(..0xff_ffff)
    );
    let bulk = run_id.clone();
    let watched = format!("{run_id}-watch");
    let mut control = pool.client(0).await?;
    namespace::create(&mut control, &bulk).await?;
    namespace::create(&mut control, &watched).await?;

    let outcome = scenarios(cli, &pool, &bulk, &watched, &run_id, &mut report, &wants).await;

    if !cli.keep {
        for name in [&bulk, &watched] {
            if let Err(error) = namespace::delete(&mut control, name).await {
                tracing::warn!(namespace = %name, %error, "could not delete the run's namespace");
            }
        }
    }
    outcome?;
    report.final_memory = cli.server_pid.and_then(rss::read);
    if let Some(memory) = report.final_memory {
        say(format_args!(
            "server memory, after the load: RSS {:.1} MB, peak {:.1} MB",
            memory.rss_kib as f64 / 1024.0,
            memory.peak_kib as f64 / 1024.0
        ));
    }
    Ok(report)
}

async fn scenarios(
    cli: &Cli,
    pool: &Pool,
    bulk: &str,
    watched: &str,
    run_id: &str,
    report: &mut Report,
    wants: &dyn Fn(Scenario) -> bool,
) -> Result<()> {
    let creates = wants(Scenario::Create) || wants(Scenario::Get) || wants(Scenario::List);
    if creates {
        let template = Arc::new(PodTemplate::new(bulk));
        let figures = create::run(pool, template, bulk, cli.pods, cli.writers).await?;
        say(&figures);
        report.create = Some(figures);
    }
    if let (true, Some(endpoint)) = (wants(Scenario::Etcd), &cli.etcd_endpoint) {
        // Values the size of a stored pod: what the server returns for one.
        let value_bytes = if creates && cli.pods > 0 {
            let mut client = pool.client(0).await?;
            let path = format!("{}/{}", scenario::pods_path(bulk), scenario::pod_name(0));
            client
                .call(
                    "get pod",
                    http::Method::GET,
                    &path,
                    None,
                    &[http::StatusCode::OK],
                )
                .await?
                .len()
        } else {
            PodTemplate::new(bulk).len()
        };
        let count = cli.pods.max(1000);
        let figures = etcd::run(endpoint, run_id, count, cli.writers, value_bytes).await?;
        say(&figures);
        if let Some(create) = &report.create {
            say(format_args!(
                "etcd ratio: server creates/s ÷ raw etcd puts/s = {:.2}",
                create.rate / figures.rate.max(f64::MIN_POSITIVE)
            ));
        }
        report.etcd = Some(figures);
    }
    if wants(Scenario::Get) {
        let duration = Duration::from_secs_f64(cli.get_seconds.max(0.1));
        let figures = get::run(pool, bulk, cli.pods, cli.readers, duration).await?;
        say(&figures);
        report.get = Some(figures);
    }
    if wants(Scenario::List) {
        let mut client = pool.client(0).await?;
        let figures = list::run(&mut client, bulk, cli.pods, cli.list_runs, cli.page_size).await?;
        say(&figures);
        report.list = Some(figures);
    }
    if wants(Scenario::Watch) {
        let options = watch::WatchOptions {
            watchers: cli.watchers,
            rate: cli.watch_rate,
            duration: Duration::from_secs_f64(cli.watch_seconds.max(0.1)),
            writers: cli.watch_writers,
            dedicated_connections: !cli.watch_shared_connections,
            drain: Duration::from_secs_f64(cli.watch_drain_seconds.max(0.1)),
        };
        let template = Arc::new(PodTemplate::new(watched));
        let figures = watch::run(pool, template, watched, &options).await?;
        say(&figures);
        report.watch = Some(figures);
    }
    Ok(())
}
