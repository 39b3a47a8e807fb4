//! A real single-member etcd (Debian's `etcd-server`) on loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// Why etcd could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// The binary is missing or would not run.
    #[error("cannot run {binary:?} (install it with hack/install-deps.sh): {source}")]
    Spawn {
        /// The binary tried.
        binary: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// It did not answer its health endpoint in time.
    #[error("etcd did not become healthy within {0:?}; its log: {1}")]
    NotReady(Duration, String),
    /// Temporary directory or port trouble.
    #[error("etcd setup: {0}")]
    Io(#[from] std::io::Error),
}

/// A running etcd member; killed and its data removed when dropped.
pub struct EtcdServer {
    child: Child,
    client_port: u16,
    dir: tempfile::TempDir,
}

impl EtcdServer {
    /// Starts etcd from `$FERROKUBE_ETCD_BIN` or `etcd` on the PATH, and waits until healthy.
    pub fn start() -> Result<Self, EtcdError> {
        let binary =
            PathBuf::from(std::env::var_os("FERROKUBE_ETCD_BIN").unwrap_or_else(|| "etcd".into()));
        let dir = tempfile::Builder::new()
            .prefix("ferrokube-etcd")
            .tempdir()?;
        let client_port = free_port()?;
        let peer_port = free_port()?;
        let client_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let log = std::fs::File::create(dir.path().join("etcd.log"))?;
        let child = Command::new(&binary)
            .arg("--name=ferrokube-test")
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=ferrokube-test={peer_url}"))
            .arg("--initial-cluster-state=new")
            .arg("--log-level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|source| EtcdError::Spawn {
                binary: binary.clone(),
                source,
            })?;
        let mut server = Self {
            child,
            client_port,
            dir,
        };
        server.wait_healthy(Duration::from_secs(30))?;
        Ok(server)
    }

    /// The client URL, e.g. `http://127.0.0.1:23790`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    fn wait_healthy(&mut self, timeout: Duration) -> Result<(), EtcdError> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            if self.health_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default();
        Err(EtcdError::NotReady(timeout, log))
    }

    fn health_ok(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.client_port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut body = String::new();
        let _ = stream.read_to_string(&mut body);
        body.contains("\"health\":\"true\"")
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
