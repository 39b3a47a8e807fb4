//! What a client-certificate login needs from a kubeconfig: the server URL, the CA to trust
//! and the client certificate and key, from the current context (inline data or files).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use kube::config::Kubeconfig;
use secrecy::ExposeSecret as _;

use crate::LoadError;

/// The server and the identity to reach it with.
#[derive(Clone)]
pub struct Credentials {
    /// `https://host:port` of the API server.
    pub server: String,
    /// PEM CA bundle that signs the serving certificate.
    pub ca_pem: Vec<u8>,
    /// PEM client certificate.
    pub cert_pem: Vec<u8>,
    /// PEM client key.
    pub key_pem: Vec<u8>,
}

impl Credentials {
    /// Reads the current context of the kubeconfig at `path`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError::Kubeconfig {
            path: path.to_path_buf(),
            reason,
        };
        let config = Kubeconfig::read_from(path).map_err(|error| fail(error.to_string()))?;
        let context_name = config
            .current_context
            .clone()
            .or_else(|| config.contexts.first().map(|named| named.name.clone()))
            .ok_or_else(|| fail("no context".into()))?;
        let context = config
            .contexts
            .iter()
            .find(|named| named.name == context_name)
            .and_then(|named| named.context.as_ref())
            .ok_or_else(|| fail(format!("context {context_name:?} not found")))?;
        let cluster = config
            .clusters
            .iter()
            .find(|named| named.name == context.cluster)
            .and_then(|named| named.cluster.as_ref())
            .ok_or_else(|| fail(format!("cluster {:?} not found", context.cluster)))?;
        let user_name = context.user.clone().unwrap_or_default();
        let user = config
            .auth_infos
            .iter()
            .find(|named| named.name == user_name)
            .and_then(|named| named.auth_info.as_ref())
            .ok_or_else(|| fail(format!("user {user_name:?} not found")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let server = cluster
            .server
            .clone()
            .ok_or_else(|| fail("cluster has no server".into()))?;
        let ca_pem = data_or_file(
            cluster.certificate_authority_data.as_deref(),
            cluster.certificate_authority.as_deref(),
            base,
        )
        .map_err(|reason| fail(format!("certificate-authority: {reason}")))?;
        let cert_pem = data_or_file(
            user.client_certificate_data.as_deref(),
            user.client_certificate.as_deref(),
            base,
        )
        .map_err(|reason| fail(format!("client-certificate: {reason}")))?;
        let key_data = user
            .client_key_data
            .as_ref()
            .map(|secret| secret.expose_secret().to_owned());
        let key_pem = data_or_file(key_data.as_deref(), user.client_key.as_deref(), base)
            .map_err(|reason| fail(format!("client-key: {reason}")))?;
        Ok(Self {
            server,
            ca_pem,
            cert_pem,
            key_pem,
        })
    }
}

/// Inline base64 data wins over a file path (relative to the kubeconfig), as in client-go.
fn data_or_file(data: Option<&str>, file: Option<&str>, base: &Path) -> Result<Vec<u8>, String> {
    if let Some(data) = data {
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|error| format!("bad base64: {error}"));
    }
    let Some(file) = file else {
        return Err("missing (neither data nor file)".into());
    };
    let path = PathBuf::from(file);
    let path = if path.is_absolute() {
        path
    } else {
        base.join(path)
    };
    std::fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))
}
