//! The load generator's one error type: every failure names what it was doing.

use std::path::PathBuf;

/// Why a scenario (or the connection it needs) failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The kubeconfig could not be read or lacks what a client certificate login needs.
    #[error("kubeconfig {path:?}: {reason}")]
    Kubeconfig {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// TLS set-up or handshake trouble.
    #[error("TLS: {0}")]
    Tls(String),
    /// A socket or file operation failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP layer failed (connection reset, protocol error).
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// A request could not be built (bad path or header).
    #[error("request: {0}")]
    Request(#[from] http::Error),
    /// The server answered with a status the scenario cannot continue after.
    #[error("{what}: HTTP {status}: {body}")]
    Status {
        /// The request that failed.
        what: String,
        /// The HTTP status.
        status: http::StatusCode,
        /// The start of the response body.
        body: String,
    },
    /// A response body was not the JSON the scenario expected.
    #[error("{what}: bad JSON: {source}")]
    Json {
        /// The request whose answer it was.
        what: String,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// A request took longer than the request timeout.
    #[error("{0}: timed out")]
    Timeout(String),
    /// The raw etcd reference failed.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// A spawned task panicked or was cancelled.
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// A scenario's result contradicts itself (e.g. a list shorter than what was created).
    #[error("{0}")]
    Check(String),
}
