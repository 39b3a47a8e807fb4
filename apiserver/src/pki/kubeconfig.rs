//! Kubeconfig YAML, written by hand: the shape is fixed and small, and every value is either a
//! base64 blob, a name we validated or a JSON-quoted string (JSON strings are valid YAML
//! double-quoted scalars), so no YAML library is needed.

use base64::Engine as _;

use super::PkiError;

/// Everything a single-cluster, single-user kubeconfig holds.
pub(crate) struct Kubeconfig<'a> {
    /// `https://host:port` of the API server.
    pub(crate) server_url: &'a str,
    /// The CA clients verify the server with.
    pub(crate) ca_pem: &'a str,
    /// Cluster and context name.
    pub(crate) cluster: &'a str,
    /// User entry name.
    pub(crate) user: &'a str,
    /// Client certificate (PEM).
    pub(crate) cert_pem: &'a str,
    /// Client key (PEM).
    pub(crate) key_pem: &'a str,
}

/// Renders the kubeconfig, after checking the URL is one kubectl can use with a client
/// certificate.
pub(crate) fn render(config: &Kubeconfig<'_>) -> Result<String, PkiError> {
    check_server_url(config.server_url)?;
    for (field, value) in [("cluster name", config.cluster), ("user name", config.user)] {
        if value.is_empty() || value.chars().any(char::is_control) {
            return Err(PkiError::InvalidInput {
                field,
                value: value.to_owned(),
                reason: "must be non-empty without control characters",
            });
        }
    }
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let server = quote(config.server_url);
    let cluster = quote(config.cluster);
    let user = quote(config.user);
    let ca_data = b64(config.ca_pem);
    let cert_data = b64(config.cert_pem);
    let key_data = b64(config.key_pem);
    Ok(format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {cluster}
  cluster:
    server: {server}
    certificate-authority-data: {ca_data}
users:
- name: {user}
  user:
    client-certificate-data: {cert_data}
    client-key-data: {key_data}
contexts:
- name: {cluster}
  context:
    cluster: {cluster}
    user: {user}
current-context: {cluster}
preferences: {{}}
"
    ))
}

/// A double-quoted YAML scalar (via JSON string escaping).
fn quote(value: &str) -> String {
    // Serializing a &str to JSON cannot fail; fall back to a safe literal all the same.
    serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Only `https://` URLs with a host: the kubeconfig carries a client certificate, which is
/// useless (and leaks nothing only by luck) over plain HTTP.
fn check_server_url(url: &str) -> Result<(), PkiError> {
    let reason = match url.strip_prefix("https://") {
        _ if url.chars().any(|c| c.is_control() || c.is_whitespace()) => {
            "must not contain whitespace or control characters"
        }
        None => "must start with https://",
        Some(rest) if rest.is_empty() || rest.starts_with('/') || rest.starts_with(':') => {
            "has no host"
        }
        Some(_) => return Ok(()),
    };
    Err(PkiError::InvalidInput {
        field: "server URL",
        value: url.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(server_url: &str) -> Result<String, PkiError> {
        render(&Kubeconfig {
            server_url,
            ca_pem: "ca",
            cluster: "ferrokube",
            user: "admin",
            cert_pem: "cert",
            key_pem: "key",
        })
    }

    #[test]
    fn server_urls_are_checked() {
        assert!(sample("https://127.0.0.1:6443").is_ok());
        assert!(sample("https://[::1]:6443").is_ok());
        assert!(sample("https://api.example.test").is_ok());
        for bad in [
            "http://127.0.0.1:6443",
            "https://",
            "https://:6443",
            "127.0.0.1:6443",
        ] {
            assert!(sample(bad).is_err(), "{bad} accepted");
        }
        assert!(sample("https://a\nb").is_err());
    }

    #[test]
    fn values_are_quoted_and_base64_encoded() {
        let yaml = sample("https://127.0.0.1:6443").expect("renders");
        assert!(yaml.contains("    server: \"https://127.0.0.1:6443\"\n"));
        assert!(yaml.contains("certificate-authority-data: Y2E=\n"));
        assert!(yaml.contains("client-certificate-data: Y2VydA==\n"));
        assert!(yaml.contains("client-key-data: a2V5\n"));
        assert!(yaml.contains("current-context: \"ferrokube\"\n"));
    }
}
