//! Connecting to the API server from a kubeconfig, as `--kubeconfig` does for
//! kube-controller-manager, and the cluster CA it names (published in every namespace).

use std::path::Path;

use base64::Engine as _;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

/// Why the kubeconfig could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Unreadable or malformed.
    #[error("reading kubeconfig: {0}")]
    Kubeconfig(#[from] KubeconfigError),
    /// The client could not be built from it.
    #[error("building a client: {0}")]
    Client(#[from] kube::Error),
}

/// A client for the kubeconfig's current context, and its cluster's CA in PEM.
pub async fn connect(path: &Path) -> Result<(Client, Option<String>), ConnectError> {
    let kubeconfig = Kubeconfig::read_from(path)?;
    let root_ca = kubeconfig
        .clusters
        .first()
        .and_then(|named| named.cluster.as_ref())
        .and_then(|cluster| cluster.certificate_authority_data.as_deref())
        .and_then(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
        .and_then(|pem| String::from_utf8(pem).ok());
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok((Client::try_from(config)?, root_ca))
}
