//! A real `ferrokube server` process on a free loopback port, driven by stock kubectl.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// Why the server could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The binary would not run.
    #[error("cannot run {binary:?}: {source}")]
    Spawn {
        /// The binary tried.
        binary: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// It did not become ready in time.
    #[error("server not ready within {timeout:?}: {reason}; its log:\n{log}")]
    NotReady {
        /// How long we waited.
        timeout: Duration,
        /// The last thing that failed.
        reason: String,
        /// What the server printed.
        log: String,
    },
    /// Temporary directory, port or kubectl trouble.
    #[error("server setup: {0}")]
    Io(#[from] std::io::Error),
}

/// A kubectl run that did not go as the test expected.
#[derive(Debug, thiserror::Error)]
pub enum KubectlError {
    /// kubectl failed.
    #[error("kubectl {args:?} failed: {stderr}")]
    Failed {
        /// Its arguments.
        args: Vec<String>,
        /// What it printed on stderr.
        stderr: String,
    },
    /// kubectl succeeded where failure was expected.
    #[error("kubectl {args:?} succeeded unexpectedly: {stdout}")]
    Succeeded {
        /// Its arguments.
        args: Vec<String>,
        /// What it printed.
        stdout: String,
    },
    /// kubectl could not be run.
    #[error("cannot run kubectl: {0}")]
    Io(#[from] std::io::Error),
}

/// A running server with its own data directory; killed when dropped.
pub struct ServerProcess {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    binary: PathBuf,
    subcommand: &'static str,
    args: Vec<String>,
}

/// Starts `binary <subcommand>` on `dir/data` and `port`, logging to `dir/server.log`.
fn spawn(
    binary: &Path,
    subcommand: &str,
    dir: &Path,
    port: u16,
    args: &[String],
) -> Result<Child, ServerError> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))?;
    Command::new(binary)
        .arg(subcommand)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--secure-port")
        .arg(port.to_string())
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .map_err(|source| ServerError::Spawn {
            binary: binary.to_path_buf(),
            source,
        })
}

impl ServerProcess {
    /// Starts `binary server --data-dir TMP --secure-port FREE` plus `extra_args`, and waits
    /// until `kubectl get --raw /readyz` answers `ok`.
    pub fn start(binary: &Path, extra_args: &[&str]) -> Result<Self, ServerError> {
        Self::start_as(binary, "server", extra_args)
    }

    /// Starts `binary apiserver` (the API server without the other control-plane
    /// components), for tests that run a component themselves.
    pub fn start_apiserver(binary: &Path, extra_args: &[&str]) -> Result<Self, ServerError> {
        Self::start_as(binary, "apiserver", extra_args)
    }

    fn start_as(
        binary: &Path,
        subcommand: &'static str,
        extra_args: &[&str],
    ) -> Result<Self, ServerError> {
        let dir = tempfile::Builder::new()
            .prefix("ferrokube-server")
            .tempdir()?;
        let port = free_port()?;
        let args: Vec<String> = extra_args.iter().map(|arg| (*arg).to_owned()).collect();
        let child = spawn(binary, subcommand, dir.path(), port, &args)?;
        let mut server = Self {
            child,
            port,
            dir,
            binary: binary.to_path_buf(),
            subcommand,
            args,
        };
        server.wait_ready(Duration::from_secs(60))?;
        Ok(server)
    }

    /// Stops the server (SIGTERM) and starts it again on the same data directory and port,
    /// as an upgrade or a reboot would.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.terminate()?;
        self.child = spawn(
            &self.binary,
            self.subcommand,
            self.dir.path(),
            self.port,
            &self.args,
        )?;
        self.wait_ready(Duration::from_secs(60))
    }

    /// The HTTPS port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory given to the server.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `DATA_DIR/admin.kubeconfig`, written by the server.
    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir().join("admin.kubeconfig")
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Runs stock kubectl against this server.
    pub fn kubectl(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new(kubectl_binary())
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--request-timeout=20s")
            .args(args)
            .stdin(Stdio::null())
            .output()
    }

    /// Runs kubectl and returns its stdout, failing with its stderr when it fails.
    pub fn kubectl_ok(&self, args: &[&str]) -> Result<String, KubectlError> {
        let output = self.kubectl(args)?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        Err(KubectlError::Failed {
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs kubectl expecting it to fail, and returns its stderr.
    pub fn kubectl_err(&self, args: &[&str]) -> Result<String, KubectlError> {
        let output = self.kubectl(args)?;
        if output.status.success() {
            return Err(KubectlError::Succeeded {
                args: args.iter().map(|arg| (*arg).to_owned()).collect(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stderr).into_owned())
    }

    /// Asks the server to stop (SIGTERM, as an init system would) and waits for it to exit.
    pub fn terminate(&mut self) -> std::io::Result<std::process::ExitStatus> {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()?;
        self.child.wait()
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), ServerError> {
        let deadline = Instant::now() + timeout;
        let mut reason = String::from("not started");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                reason = format!("exited with {status}");
                break;
            }
            if self.kubeconfig().exists() {
                let output = self.kubectl(&["get", "--raw", "/readyz"])?;
                if output.status.success() && output.stdout == b"ok" {
                    return Ok(());
                }
                reason = String::from_utf8_lossy(&output.stderr).into_owned();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(ServerError::NotReady {
            timeout,
            reason,
            log: self.log(),
        })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stock kubectl: `$FERROKUBE_KUBECTL`, else the 1.35 build hack/install-deps.sh installs.
pub fn kubectl_binary() -> PathBuf {
    std::env::var_os("FERROKUBE_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/local/bin/kubectl-1.35"))
}
