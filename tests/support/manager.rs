//! A real API server with the controller manager running in the test process: the harness
//! of the controller tests. `FERROKUBE_TEST_LOG=ferrokube_controllers=debug` shows what the
//! loops do.
#![allow(dead_code)]

use std::time::Duration;

use anyhow::{bail, Result};
use ferrokube_controllers::ManagerOptions;
use ferrokube_testkit::ServerProcess;
use kube::Client;

/// The server, a client of it, and the manager (stopped when this is dropped).
pub struct Cluster {
    /// The `ferrokube apiserver` process.
    pub server: ServerProcess,
    /// An admin client.
    pub client: Client,
    manager: tokio::task::JoinHandle<()>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.manager.abort();
    }
}

impl Cluster {
    /// Starts a server and runs the manager against it with `options` (no leader election).
    pub async fn start(options: ManagerOptions) -> Result<Self> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env(
                "FERROKUBE_TEST_LOG",
            ))
            .with_writer(std::io::stderr)
            .try_init();
        let server = ServerProcess::start_apiserver(
            std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")),
            &[],
        )?;
        let (client, _) = ferrokube_controllers::connect(&server.kubeconfig()).await?;
        let manager = tokio::spawn(ferrokube_controllers::run(
            client.clone(),
            ManagerOptions {
                lease: None,
                ..options
            },
        ));
        Ok(Self {
            server,
            client,
            manager,
        })
    }

    /// Stock kubectl against the server; its output, or an error with its stderr.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        Ok(self.server.kubectl_ok(args)?)
    }
}

/// Polls `check` until it gives a value or `seconds` pass.
pub async fn eventually<T, F, Fut>(what: &str, seconds: u64, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(error) => last_error = Some(error),
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what} (last error: {last_error:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
