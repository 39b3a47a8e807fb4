//! The cluster's certificates, as k3s and kubeadm lay them out: one CA that every component
//! trusts, the API server's serving certificate, client certificates that carry a user and
//! its groups, and the admin kubeconfig that lets `kubectl` in on first start.
//!
//! Everything lives under `DATA_DIR/tls/` (private keys mode 0600) and is created on first
//! start. Later starts reuse the CA, so kubeconfigs and client certificates issued earlier keep
//! working; leaf certificates that are missing, broken, about to expire, issued by another CA or
//! (for the serving certificate) missing a requested name are re-issued.

mod der;
mod inspect;
mod issue;
mod kubeconfig;
mod store;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use time::OffsetDateTime;

use self::issue::LeafSpec;
use self::store::Paths;

/// Common name of the cluster CA: what `openssl x509 -issuer` shows on every cluster cert.
pub const CA_COMMON_NAME: &str = "ferrokube-ca";
/// Common name of the serving certificate, as kubeadm names the API server's.
pub const SERVING_COMMON_NAME: &str = "kube-apiserver";
/// The user the admin kubeconfig authenticates as (the k3s/kubeadm superuser name).
pub const ADMIN_USER: &str = "system:admin";
/// The group RBAC's bootstrap `cluster-admin` binding grants everything to.
pub const ADMIN_GROUP: &str = "system:masters";
/// Cluster and context name in the kubeconfigs we write, so users can tell our entries apart
/// after merging kubeconfigs.
pub const KUBECONFIG_CLUSTER: &str = "ferrokube";
/// The user entry name in the admin kubeconfig.
pub const KUBECONFIG_ADMIN_USER: &str = "admin";
/// File name of the admin kubeconfig inside the data directory.
pub const ADMIN_KUBECONFIG: &str = "admin.kubeconfig";

/// Names the serving certificate must carry besides the built-in ones (`localhost`, the
/// `kubernetes.default.svc…` names, the hostname, 127.0.0.1 and ::1): clients verify the
/// server against the address they dialled, so every address they may use belongs here (the
/// bind address, the `kubernetes` Service ClusterIP, a load balancer name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServingNames {
    /// Extra IP SANs. Unspecified addresses (0.0.0.0, ::) are skipped: nobody dials them.
    pub ips: Vec<IpAddr>,
    /// Extra DNS SANs; case and a trailing dot are ignored, and IP literals are treated as IPs.
    pub dns: Vec<String>,
}

/// Who a client certificate says its holder is, the way Kubernetes' x509 authenticator reads
/// it, so authentication and RBAC can work from a verified TLS peer certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The subject's common name (the last one, as Go's `pkix.Name` keeps it).
    pub user: String,
    /// The subject's organization attributes, in order.
    pub groups: Vec<String>,
}

/// Why certificates or the kubeconfig could not be produced; the API server cannot serve
/// without them, so every variant says which file or input to look at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// Reading, writing or creating a file or directory failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("reading", "writing", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A certificate or key file exists but cannot be used.
    #[error("{}: {reason}", path.display())]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA certificate exists without its key: nothing new can be signed, and silently making
    /// a new CA would lock out every kubeconfig and client certificate issued so far.
    #[error(
        "{} exists but its key {} is missing; restore the key, or delete the whole tls \
         directory to start a new CA (which invalidates every issued credential)",
        cert.display(),
        key.display()
    )]
    MissingCaKey {
        /// The CA certificate found.
        cert: PathBuf,
        /// The missing key.
        key: PathBuf,
    },
    /// The CA key on disk is not the key of the CA certificate on disk.
    #[error("CA key {} does not belong to CA certificate {}", key.display(), cert.display())]
    CaKeyMismatch {
        /// The CA certificate.
        cert: PathBuf,
        /// The CA key.
        key: PathBuf,
    },
    /// rcgen could not generate a key or certificate.
    #[error("generating the {what}: {source}")]
    Generate {
        /// What was being generated.
        what: &'static str,
        /// The cause.
        source: rcgen::Error,
    },
    /// A caller-supplied name, URL or group cannot go into a certificate or kubeconfig.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidInput {
        /// Which argument.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// A presented certificate cannot be read as a client identity.
    #[error("client certificate: {reason}")]
    InvalidCertificate {
        /// What is wrong with it.
        reason: String,
    },
    /// rustls rejected our certificate, key or CA.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// rustls could not build the client certificate verifier from our CA.
    #[error("client certificate verifier: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
    /// A certificate we generated ourselves could not be re-encoded (a bug, not bad input).
    #[error("re-encoding a generated certificate: {reason}")]
    MalformedDer {
        /// Where the walk failed.
        reason: &'static str,
    },
}

/// The CA as loaded: its certificate to hand out and an issuer to sign with.
struct Authority {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    not_after: OffsetDateTime,
}

/// A leaf certificate with its key, in the forms rustls and kubeconfigs need.
struct Leaf {
    cert_pem: String,
    key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

/// The cluster's certificate material, loaded once at start-up and shared by the server (TLS,
/// authentication) and whoever writes kubeconfigs or issues component credentials.
pub struct ClusterPki {
    tls_dir: PathBuf,
    ca: Authority,
    serving: Leaf,
    admin: Leaf,
}

impl std::fmt::Debug for ClusterPki {
    /// Shows where the material lives, never key bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPki")
            .field("tls_dir", &self.tls_dir)
            .field("ca_not_after", &self.ca.not_after)
            .finish_non_exhaustive()
    }
}

impl ClusterPki {
    /// Gives the API server its certificates on every start: loads `DATA_DIR/tls/*` and creates
    /// what is missing. The CA (CN `ferrokube-ca`, ECDSA P-256, 10 years) is made once and then
    /// only ever loaded, so existing kubeconfigs keep working across restarts. The serving
    /// certificate (CN `kube-apiserver`) and the admin client certificate (`system:admin` in
    /// `system:masters`) are re-issued, CA untouched, when missing, unreadable, not signed by
    /// the CA, within 90 days of expiry or, for serving, lacking one of the names in `sans`.
    pub fn load_or_create(data_dir: &Path, sans: &ServingNames) -> Result<Self, PkiError> {
        let (ips, dns) = issue::serving_names(sans, store::hostname().as_deref())?;
        let paths = Paths::new(data_dir);
        store::create_private_dir(&paths.dir)?;
        let ca = store::load_or_create_ca(&paths)?;
        let serving = store::ensure_leaf(
            &ca,
            &paths.serving_cert,
            &paths.serving_key,
            &LeafSpec::Serving {
                ips: &ips,
                dns: &dns,
            },
        )?;
        let admin = store::ensure_leaf(
            &ca,
            &paths.admin_cert,
            &paths.admin_key,
            &LeafSpec::Client {
                user: ADMIN_USER,
                groups: &[ADMIN_GROUP],
            },
        )?;
        tracing::info!(
            tls_dir = %paths.dir.display(),
            ca_not_after = %ca.not_after,
            ips = ?ips,
            dns = ?dns,
            "cluster certificates ready"
        );
        Ok(Self {
            tls_dir: paths.dir,
            ca,
            serving,
            admin,
        })
    }

    /// The TLS configuration the API server listens with: our serving certificate; client
    /// certificates optional (anonymous and token clients must still connect) but, when
    /// presented, verified against our CA so the handler can trust the peer certificate as an
    /// identity; ALPN `h2` then `http/1.1`. Uses the ring provider explicitly so nothing has to
    /// install a process-wide default.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, PkiError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.cert_der.clone())?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![self.serving.cert_der.clone()],
                PrivateKeyDer::Pkcs8(self.serving.key_der.clone_key()),
            )?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The CA certificate (PEM) clients must trust to talk to this server, and that verifies
    /// every client certificate we issue: for kubeconfigs and in-cluster CA bundles.
    pub fn ca_pem(&self) -> &str {
        &self.ca.cert_pem
    }

    /// Writes `DATA_DIR/admin.kubeconfig` (mode 0600) so `kubectl --kubeconfig` works as
    /// cluster admin right after start: cluster `ferrokube` at `server_url` trusting our CA,
    /// user `admin` with the admin client certificate, context `ferrokube` as current. Call it
    /// on every start: the admin certificate may have been re-issued.
    pub fn write_admin_kubeconfig(
        &self,
        data_dir: &Path,
        server_url: &str,
    ) -> Result<PathBuf, PkiError> {
        let yaml = self.render_kubeconfig(
            server_url,
            KUBECONFIG_ADMIN_USER,
            &self.admin.cert_pem,
            &self.admin.key_pem,
        )?;
        store::create_private_dir(data_dir)?;
        let path = data_dir.join(ADMIN_KUBECONFIG);
        store::write_file(&path, yaml.as_bytes(), store::PRIVATE_MODE)?;
        tracing::info!(path = %path.display(), server_url, "wrote admin kubeconfig");
        Ok(path)
    }

    /// Renders a kubeconfig (YAML) for any client credential, e.g. one from
    /// [`issue_client_cert`](Self::issue_client_cert), so components and tests get the same
    /// layout as the admin kubeconfig: cluster and context `ferrokube`, user `user_entry`.
    pub fn render_kubeconfig(
        &self,
        server_url: &str,
        user_entry: &str,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<String, PkiError> {
        kubeconfig::render(&kubeconfig::Kubeconfig {
            server_url,
            ca_pem: &self.ca.cert_pem,
            cluster: KUBECONFIG_CLUSTER,
            user: user_entry,
            cert_pem,
            key_pem,
        })
    }

    /// Issues a client certificate (CN `user`, one O per group, client-auth only, one year,
    /// fresh P-256 key) signed by the cluster CA, for components that authenticate to the API
    /// server with x509 (scheduler, controllers, kubelets). Nothing is written to disk.
    /// Returns `(cert_pem, key_pem)`.
    pub fn issue_client_cert(
        &self,
        user: &str,
        groups: &[&str],
    ) -> Result<(String, String), PkiError> {
        let leaf = issue::leaf(&self.ca, &LeafSpec::Client { user, groups })?;
        tracing::info!(user, groups = ?groups, "issued client certificate");
        Ok((leaf.cert_pem, leaf.key_pem))
    }

    /// Reads the identity out of a client certificate the TLS layer has already verified
    /// against our CA (rustls' `peer_certificates()[0]`): CN is the user, each O a group, as in
    /// Kubernetes' x509 authenticator. It does not verify anything itself.
    pub fn identity_from_der(cert_der: &[u8]) -> Result<ClientIdentity, PkiError> {
        inspect::identity(cert_der)
    }
}
