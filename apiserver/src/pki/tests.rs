//! Tests against real files, real TLS handshakes and a real kubectl.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer as _;

use super::store::Paths;
use super::*;

/// The kubectl the brief asks us to check kubeconfigs with (installed by hack/install-deps.sh).
const KUBECTL: &str = "/usr/local/bin/kubectl-1.35";

fn service_ip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 96, 0, 1))
}

fn names() -> ServingNames {
    ServingNames {
        ips: vec![service_ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
        dns: vec!["API.Example.Test.".into()],
    }
}

fn create(dir: &Path) -> ClusterPki {
    ClusterPki::load_or_create(dir, &names()).expect("load_or_create")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("readable file")
}

fn cert_der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM certificate")
}

fn sans(pem: &str) -> (Vec<IpAddr>, Vec<String>) {
    let der = cert_der(pem);
    let (_, cert) = X509Certificate::from_der(&der).expect("X.509");
    let mut ips = Vec::new();
    let mut dns = Vec::new();
    let ext = cert
        .subject_alternative_name()
        .expect("SAN extension parses")
        .expect("SAN extension present");
    for name in &ext.value.general_names {
        match name {
            GeneralName::DNSName(name) => dns.push((*name).to_owned()),
            GeneralName::IPAddress(bytes) => {
                let ip = match bytes.len() {
                    4 => IpAddr::from(<[u8; 4]>::try_from(*bytes).expect("4 bytes")),
                    _ => IpAddr::from(<[u8; 16]>::try_from(*bytes).expect("16 bytes")),
                };
                ips.push(ip);
            }
            other => panic!("unexpected SAN {other:?}"),
        }
    }
    (ips, dns)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn cluster_pki_can_be_shared_between_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ClusterPki>();
}

#[test]
fn create_then_load_gives_the_same_ca_and_leaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = create(dir.path());
    let second = create(dir.path());
    assert_eq!(first.ca_pem(), second.ca_pem());
    assert_eq!(first.serving.cert_pem, second.serving.cert_pem);
    assert_eq!(first.admin.cert_pem, second.admin.cert_pem);
    assert_eq!(first.admin.key_pem, second.admin.key_pem);
    let paths = Paths::new(dir.path());
    assert_eq!(read(&paths.ca_cert), first.ca_pem());
    let (_, ca) = X509Certificate::from_der(&first.ca.cert_der).expect("CA parses");
    assert!(ca.is_ca());
    assert_eq!(
        ClusterPki::identity_from_der(&first.ca.cert_der)
            .expect("CA has a CN")
            .user,
        CA_COMMON_NAME
    );
    let lifetime = ca.validity().not_after.timestamp() - ca.validity().not_before.timestamp();
    assert!(lifetime >= 3650 * 86_400, "CA lives {lifetime}s");
}

#[test]
fn serving_cert_carries_default_and_requested_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let (ips, dns) = sans(&pki.serving.cert_pem);
    for ip in [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        "::1".parse().expect("ip"),
        service_ip(),
    ] {
        assert!(ips.contains(&ip), "{ip} missing from {ips:?}");
    }
    assert!(!ips.contains(&IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    for name in [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "api.example.test",
    ] {
        assert!(dns.iter().any(|d| d == name), "{name} missing from {dns:?}");
    }
    if let Some(host) = store::hostname() {
        let host = host.to_ascii_lowercase();
        if rustls::pki_types::DnsName::try_from(host.as_str()).is_ok() {
            assert!(dns.contains(&host), "hostname {host} missing from {dns:?}");
        }
    }
    let identity = ClusterPki::identity_from_der(&pki.serving.cert_der).expect("identity");
    assert_eq!(identity.user, SERVING_COMMON_NAME);
}

#[test]
fn a_new_san_reissues_only_the_serving_cert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = create(dir.path());
    let extra: IpAddr = "192.0.2.7".parse().expect("ip");
    let mut wider = names();
    wider.ips.push(extra);
    wider.dns.push("lb.example.test".into());
    let second = ClusterPki::load_or_create(dir.path(), &wider).expect("reload");
    assert_eq!(first.ca_pem(), second.ca_pem());
    assert_eq!(first.admin.cert_pem, second.admin.cert_pem);
    assert_ne!(first.serving.cert_pem, second.serving.cert_pem);
    let (ips, dns) = sans(&second.serving.cert_pem);
    assert!(ips.contains(&extra));
    assert!(dns.iter().any(|d| d == "lb.example.test"));
    // Asking for fewer names than the certificate has does not churn it.
    let third = create(dir.path());
    assert_eq!(second.serving.cert_pem, third.serving.cert_pem);
}

#[test]
fn invalid_dns_names_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bad in ["", "bad name", "-.example", "ünïcode.example"] {
        let sans = ServingNames {
            ips: Vec::new(),
            dns: vec![bad.into()],
        };
        let result = ClusterPki::load_or_create(dir.path(), &sans);
        assert!(
            matches!(result, Err(PkiError::InvalidInput { .. })),
            "{bad:?}: {result:?}"
        );
    }
    // An IP literal in the DNS list is taken as an IP.
    let sans = ServingNames {
        ips: Vec::new(),
        dns: vec!["198.51.100.1".into()],
    };
    let pki = ClusterPki::load_or_create(dir.path(), &sans).expect("IP literal accepted");
    let (ips, _) = sans_of(&pki);
    assert!(ips.contains(&"198.51.100.1".parse().expect("ip")));
}

fn sans_of(pki: &ClusterPki) -> (Vec<IpAddr>, Vec<String>) {
    sans(&pki.serving.cert_pem)
}

#[cfg(unix)]
#[test]
fn private_keys_and_kubeconfig_are_owner_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let paths = Paths::new(dir.path());
    for key in [&paths.ca_key, &paths.serving_key, &paths.admin_key] {
        assert_eq!(mode(key), 0o600, "{}", key.display());
    }
    assert_eq!(mode(&paths.dir), 0o700);
    let kubeconfig = pki
        .write_admin_kubeconfig(dir.path(), "https://127.0.0.1:6443")
        .expect("kubeconfig");
    assert_eq!(kubeconfig, dir.path().join("admin.kubeconfig"));
    assert_eq!(mode(&kubeconfig), 0o600);
    // A loosened key is tightened again on load.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&paths.ca_key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    create(dir.path());
    assert_eq!(mode(&paths.ca_key), 0o600);
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&paths.dir)
        .expect("read_dir")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn ca_certificate_without_its_key_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    create(dir.path());
    let paths = Paths::new(dir.path());
    std::fs::remove_file(&paths.ca_key).expect("remove key");
    let result = ClusterPki::load_or_create(dir.path(), &names());
    assert!(
        matches!(result, Err(PkiError::MissingCaKey { .. })),
        "{result:?}"
    );
}

#[test]
fn mismatched_ca_key_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    create(dir.path());
    create(other.path());
    std::fs::copy(
        Paths::new(other.path()).ca_key,
        Paths::new(dir.path()).ca_key,
    )
    .expect("copy key");
    let result = ClusterPki::load_or_create(dir.path(), &names());
    assert!(
        matches!(result, Err(PkiError::CaKeyMismatch { .. })),
        "{result:?}"
    );
}

#[test]
fn lost_ca_certificate_is_recreated_and_old_credentials_still_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = create(dir.path());
    let paths = Paths::new(dir.path());
    std::fs::remove_file(&paths.ca_cert).expect("remove cert");
    let second = create(dir.path());
    // Same key and name: the admin and serving certificates still chain to it.
    assert_eq!(first.admin.cert_pem, second.admin.cert_pem);
    assert_eq!(first.serving.cert_pem, second.serving.cert_pem);
    assert!(paths.ca_cert.exists());
}

#[test]
fn broken_or_foreign_leaves_are_reissued() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = create(dir.path());
    let paths = Paths::new(dir.path());
    std::fs::write(&paths.serving_cert, "garbage").expect("write");
    // An admin certificate from another cluster's CA must not be kept.
    let other = tempfile::tempdir().expect("tempdir");
    create(other.path());
    let foreign = Paths::new(other.path());
    std::fs::copy(&foreign.admin_cert, &paths.admin_cert).expect("copy");
    std::fs::copy(&foreign.admin_key, &paths.admin_key).expect("copy");
    let second = create(dir.path());
    assert_eq!(first.ca_pem(), second.ca_pem());
    assert_ne!(first.serving.cert_pem, second.serving.cert_pem);
    assert_ne!(read(&foreign.admin_cert), second.admin.cert_pem);
    assert_eq!(read(&paths.admin_cert), second.admin.cert_pem);
}

#[test]
fn identity_from_der_reads_cn_and_every_o() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let admin = ClusterPki::identity_from_der(&pki.admin.cert_der).expect("admin identity");
    assert_eq!(
        admin,
        ClientIdentity {
            user: "system:admin".into(),
            groups: vec!["system:masters".into()],
        }
    );
    let (cert, key) = pki
        .issue_client_cert(
            "system:kube-scheduler",
            &["system:authenticated", "team:é", "system:authenticated"],
        )
        .expect("issue");
    assert!(key.contains("PRIVATE KEY"));
    let identity = ClusterPki::identity_from_der(&cert_der(&cert)).expect("identity");
    assert_eq!(identity.user, "system:kube-scheduler");
    assert_eq!(identity.groups, ["system:authenticated", "team:é"]);
    let (cert, _) = pki.issue_client_cert("node:x", &[]).expect("issue");
    let identity = ClusterPki::identity_from_der(&cert_der(&cert)).expect("identity");
    assert!(identity.groups.is_empty());

    assert!(matches!(
        pki.issue_client_cert("", &[]),
        Err(PkiError::InvalidInput { .. })
    ));
    assert!(matches!(
        pki.issue_client_cert("u", &["a\nb"]),
        Err(PkiError::InvalidInput { .. })
    ));
    assert!(matches!(
        ClusterPki::identity_from_der(b"not a certificate"),
        Err(PkiError::InvalidCertificate { .. })
    ));
    let mut trailing = pki.admin.cert_der.to_vec();
    trailing.push(0);
    assert!(ClusterPki::identity_from_der(&trailing).is_err());
}

#[test]
fn issued_client_certs_are_signed_by_the_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let (_, ca) = X509Certificate::from_der(&pki.ca.cert_der).expect("CA");
    let (cert, _) = pki
        .issue_client_cert("u", &["g1", "g2", "g3"])
        .expect("issue");
    let der = cert_der(&cert);
    let (_, leaf) = X509Certificate::from_der(&der).expect("leaf");
    leaf.verify_signature(Some(ca.public_key()))
        .expect("signature verifies");
    assert_eq!(leaf.issuer(), ca.subject());
    let eku = leaf
        .extended_key_usage()
        .expect("EKU parses")
        .expect("EKU present");
    assert!(eku.value.client_auth && !eku.value.server_auth);
}

// ---------------------------------------------------------------------------------------------
// TLS

/// What the server side of a test handshake saw.
#[derive(Debug)]
struct Seen {
    identity: Option<ClientIdentity>,
    alpn: Option<Vec<u8>>,
}

fn client_config(ca_pem: &str, client_cert: Option<(&str, &str)>) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der(ca_pem)).expect("CA into root store");
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots);
    let mut config = match client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![cert_der(cert)],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("PEM key"),
            )
            .expect("client cert"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// One handshake over loopback; returns what the server saw and the client's result (which
/// includes reading the server's reply, so a rejected client certificate shows up as an error).
async fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    server_name: &str,
) -> (
    Result<Seen, std::io::Error>,
    Result<Vec<u8>, std::io::Error>,
) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let address = listener.local_addr().expect("local addr");
    let acceptor = tokio_rustls::TlsAcceptor::from(server);
    let server_task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(tcp).await?;
        let connection = tls.get_ref().1;
        let identity = connection
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|cert| ClusterPki::identity_from_der(cert).expect("verified cert has identity"));
        let seen = Seen {
            identity,
            alpn: connection.alpn_protocol().map(<[u8]>::to_vec),
        };
        tls.write_all(b"hello").await?;
        tls.shutdown().await?;
        Ok(seen)
    });
    let connector = tokio_rustls::TlsConnector::from(client);
    let name = ServerName::try_from(server_name.to_owned()).expect("server name");
    let client_result = async {
        let tcp = TcpStream::connect(address).await?;
        let mut tls = connector.connect(name, tcp).await?;
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await?;
        Ok(reply)
    }
    .await;
    let server_result = server_task.await.expect("server task");
    (server_result, client_result)
}

#[tokio::test]
async fn admin_certificate_handshake_identifies_the_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let server = pki.server_config().expect("server config");
    for name in [
        "localhost",
        "127.0.0.1",
        "kubernetes.default.svc",
        "api.example.test",
    ] {
        let client = client_config(
            pki.ca_pem(),
            Some((&pki.admin.cert_pem, &pki.admin.key_pem)),
        );
        let (seen, reply) = handshake(server.clone(), client, name).await;
        assert_eq!(reply.expect("client succeeds"), b"hello", "{name}");
        let seen = seen.expect("server succeeds");
        assert_eq!(
            seen.identity,
            Some(ClientIdentity {
                user: "system:admin".into(),
                groups: vec!["system:masters".into()],
            })
        );
        assert_eq!(seen.alpn.as_deref(), Some(&b"h2"[..]));
    }
}

#[tokio::test]
async fn issued_multi_group_certificate_passes_webpki() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let (cert, key) = pki
        .issue_client_cert("system:node:n1", &["system:nodes", "extra"])
        .expect("issue");
    let client = client_config(pki.ca_pem(), Some((&cert, &key)));
    let (seen, reply) = handshake(pki.server_config().expect("config"), client, "localhost").await;
    assert!(reply.is_ok(), "{reply:?}");
    let identity = seen.expect("server").identity.expect("client cert seen");
    assert_eq!(identity.user, "system:node:n1");
    assert_eq!(identity.groups, ["system:nodes", "extra"]);
}

#[tokio::test]
async fn a_client_without_a_certificate_still_connects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let (seen, reply) = handshake(
        pki.server_config().expect("config"),
        client_config(pki.ca_pem(), None),
        "localhost",
    )
    .await;
    assert_eq!(reply.expect("client succeeds"), b"hello");
    assert_eq!(seen.expect("server succeeds").identity, None);
}

#[tokio::test]
async fn a_client_trusting_another_ca_rejects_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let stranger = create(other.path());
    let (seen, reply) = handshake(
        pki.server_config().expect("config"),
        client_config(stranger.ca_pem(), None),
        "localhost",
    )
    .await;
    let error = reply.expect_err("client must reject the server");
    // Both CAs are named `ferrokube-ca`, so webpki finds a candidate issuer by name and then
    // fails its signature check (BadSignature) rather than reporting UnknownIssuer.
    assert!(
        error.to_string().contains("invalid peer certificate"),
        "unexpected error {error}"
    );
    assert!(seen.is_err());
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let stranger = create(other.path());
    let client = client_config(
        pki.ca_pem(),
        Some((&stranger.admin.cert_pem, &stranger.admin.key_pem)),
    );
    let (seen, reply) = handshake(pki.server_config().expect("config"), client, "localhost").await;
    assert!(seen.is_err(), "server accepted a foreign client cert");
    assert!(reply.is_err());
}

#[tokio::test]
async fn a_name_outside_the_sans_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let (_, reply) = handshake(
        pki.server_config().expect("config"),
        client_config(pki.ca_pem(), None),
        "not-in-the-cert.example",
    )
    .await;
    assert!(reply.is_err());
}

// ---------------------------------------------------------------------------------------------
// kubectl

/// kubectl, or `None` (with a note) where it is not installed.
fn kubectl() -> Option<&'static str> {
    if Path::new(KUBECTL).exists() {
        Some(KUBECTL)
    } else {
        eprintln!("{KUBECTL} not found (run hack/install-deps.sh); skipping the kubectl check");
        None
    }
}

/// Runs kubectl with a throwaway HOME so it neither reads nor writes the user's files.
async fn run_kubectl(kubectl: &str, home: &Path, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(kubectl)
        .args(args)
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .kill_on_drop(true)
        .output()
        .await
        .expect("kubectl runs")
}

#[tokio::test]
async fn kubectl_parses_the_admin_kubeconfig() {
    let Some(kubectl) = kubectl() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let url = "https://127.0.0.1:16443";
    let path = pki
        .write_admin_kubeconfig(dir.path(), url)
        .expect("kubeconfig");
    let file = path.to_str().expect("UTF-8 path");
    let decode = |b64: &[u8]| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64");
        String::from_utf8(bytes).expect("UTF-8")
    };
    let checks: [(&str, String); 7] = [
        ("{.clusters[0].name}", "ferrokube".into()),
        ("{.clusters[0].cluster.server}", url.into()),
        ("{.users[0].name}", "admin".into()),
        ("{.contexts[0].context.cluster}", "ferrokube".into()),
        ("{.contexts[0].context.user}", "admin".into()),
        ("{.current-context}", "ferrokube".into()),
        ("{.kind}", "Config".into()),
    ];
    for (path, want) in checks {
        let out = run_kubectl(
            kubectl,
            dir.path(),
            &[
                "--kubeconfig",
                file,
                "config",
                "view",
                "--raw",
                "-o",
                &format!("jsonpath={path}"),
            ],
        )
        .await;
        assert!(out.status.success(), "{path}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{path}");
    }
    let data = [
        (
            "{.clusters[0].cluster.certificate-authority-data}",
            pki.ca_pem(),
        ),
        (
            "{.users[0].user.client-certificate-data}",
            &pki.admin.cert_pem,
        ),
        ("{.users[0].user.client-key-data}", &pki.admin.key_pem),
    ];
    for (path, want) in data {
        let out = run_kubectl(
            kubectl,
            dir.path(),
            &[
                "--kubeconfig",
                file,
                "config",
                "view",
                "--raw",
                "-o",
                &format!("jsonpath={path}"),
            ],
        )
        .await;
        assert!(out.status.success(), "{path}: {out:?}");
        assert_eq!(decode(&out.stdout), want, "{path}");
    }
}

/// Serves `GET anything` over our TLS config (HTTP/1.1 or h2, whichever ALPN picks) with the
/// caller's identity as the body.
async fn whoami_server(
    config: Arc<rustls::ServerConfig>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let address = listener.local_addr().expect("local addr");
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let body = match tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                {
                    Some(cert) => match ClusterPki::identity_from_der(cert) {
                        Ok(identity) => format!("{} {}", identity.user, identity.groups.join(",")),
                        Err(error) => format!("error {error}"),
                    },
                    None => "anonymous".to_owned(),
                };
                let service = hyper::service::service_fn(move |_request| {
                    let body = body.clone();
                    async move { Ok::<_, std::convert::Infallible>(hyper::Response::new(body)) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (address, task)
}

#[tokio::test]
async fn kubectl_authenticates_with_the_admin_kubeconfig() {
    let Some(kubectl) = kubectl() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = create(dir.path());
    let (address, server) = whoami_server(pki.server_config().expect("config")).await;

    let admin = pki
        .write_admin_kubeconfig(dir.path(), &format!("https://{address}"))
        .expect("kubeconfig");
    let out = run_kubectl(
        kubectl,
        dir.path(),
        &[
            "--kubeconfig",
            admin.to_str().expect("UTF-8"),
            "get",
            "--raw",
            "/whoami",
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "system:admin system:masters"
    );

    // A certificate with several groups (our re-encoded subject) satisfies Go's TLS stack too,
    // reached through the `kubernetes.default.svc`-style names rather than the IP.
    let (cert, key) = pki
        .issue_client_cert("system:node:n1", &["system:nodes", "system:authenticated"])
        .expect("issue");
    let yaml = pki
        .render_kubeconfig(
            &format!("https://localhost:{}", address.port()),
            "node",
            &cert,
            &key,
        )
        .expect("render");
    let node = dir.path().join("node.kubeconfig");
    std::fs::write(&node, yaml).expect("write");
    let out = run_kubectl(
        kubectl,
        dir.path(),
        &[
            "--kubeconfig",
            node.to_str().expect("UTF-8"),
            "get",
            "--raw",
            "/whoami",
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "system:node:n1 system:nodes,system:authenticated"
    );
    server.abort();
}
