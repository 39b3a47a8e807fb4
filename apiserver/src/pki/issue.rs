//! Making keys and certificates with rcgen.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, DnsName, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::store::Paths;
use super::{der, inspect, Authority, Leaf, PkiError, ServingNames};
use super::{CA_COMMON_NAME, SERVING_COMMON_NAME};

/// How long the CA lives (kubeadm and k3s: 10 years).
const CA_VALIDITY: Duration = Duration::days(3650);
/// How long leaf certificates live (kubeadm and k3s: one year).
const LEAF_VALIDITY: Duration = Duration::days(365);
/// How far `notBefore` is backdated, so a peer whose clock is a little behind still accepts.
const BACKDATE: Duration = Duration::hours(1);

/// DNS names every API server certificate carries: what clients on the node and in pods dial.
const DEFAULT_DNS: [&str; 5] = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];
/// IPs every API server certificate carries.
const DEFAULT_IPS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];

/// What a leaf certificate is for.
pub(crate) enum LeafSpec<'a> {
    /// The API server's serving certificate, for exactly these names.
    Serving {
        ips: &'a [IpAddr],
        dns: &'a [String],
    },
    /// A client certificate for a user in some groups.
    Client {
        user: &'a str,
        groups: &'a [&'a str],
    },
}

/// The full, normalized, de-duplicated SAN lists: defaults, then the hostname, then `extra`.
/// Invalid caller-supplied names are errors; an unusable hostname is only skipped.
pub(crate) fn serving_names(
    extra: &ServingNames,
    hostname: Option<&str>,
) -> Result<(Vec<IpAddr>, Vec<String>), PkiError> {
    let mut ips: Vec<IpAddr> = DEFAULT_IPS.to_vec();
    let mut dns: Vec<String> = DEFAULT_DNS.iter().map(|name| (*name).to_owned()).collect();
    if let Some(hostname) = hostname {
        match normalize_dns(hostname) {
            Ok(name) if !dns.contains(&name) => dns.push(name),
            Ok(_) => {}
            Err(_) => {
                tracing::warn!(
                    hostname,
                    "hostname is not a valid DNS name; left out of the serving certificate"
                );
            }
        }
    }
    for ip in &extra.ips {
        add_ip(&mut ips, *ip);
    }
    for name in &extra.dns {
        if let Ok(ip) = name.trim().parse::<IpAddr>() {
            add_ip(&mut ips, ip);
            continue;
        }
        let name = normalize_dns(name)?;
        if !dns.contains(&name) {
            dns.push(name);
        }
    }
    Ok((ips, dns))
}

/// Adds `ip` unless present or unspecified (0.0.0.0 and :: are bind-all, never dialled).
fn add_ip(ips: &mut Vec<IpAddr>, ip: IpAddr) {
    if ip.is_unspecified() {
        tracing::debug!(%ip, "not putting an unspecified address in the serving certificate");
    } else if !ips.contains(&ip) {
        ips.push(ip);
    }
}

/// Lower-cases, drops a trailing dot and checks the result is a DNS name a TLS client could
/// match.
fn normalize_dns(name: &str) -> Result<String, PkiError> {
    let normalized = name.trim().trim_end_matches('.').to_ascii_lowercase();
    match DnsName::try_from(normalized.as_str()) {
        Ok(_) if !normalized.is_empty() => Ok(normalized),
        _ => Err(PkiError::InvalidInput {
            field: "DNS name",
            value: name.to_owned(),
            reason: "not a valid DNS name",
        }),
    }
}

/// A distinguished name with only a common name.
fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

/// A new P-256 key: small, fast, and what kubeadm defaults to for new clusters' leaves.
fn new_key(what: &'static str) -> Result<KeyPair, PkiError> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|source| PkiError::Generate { what, source })
}

/// A new CA key.
pub(crate) fn new_ca_key() -> Result<KeyPair, PkiError> {
    new_key("CA key")
}

/// A self-signed CA certificate for `key`. Used for a new CA and to recreate a lost CA
/// certificate from a surviving key (same key and name, so earlier signatures still verify).
pub(crate) fn ca_certificate(key: &KeyPair) -> Result<CertificateDer<'static>, PkiError> {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(CA_COMMON_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - BACKDATE;
    params.not_after = now + CA_VALIDITY;
    let cert = params
        .self_signed(key)
        .map_err(|source| PkiError::Generate {
            what: "CA certificate",
            source,
        })?;
    Ok(cert.der().clone())
}

/// Builds the in-memory CA from its certificate and key, after checking they belong together.
pub(crate) fn authority(
    cert_der: CertificateDer<'static>,
    key: KeyPair,
    paths: &Paths,
) -> Result<Authority, PkiError> {
    let invalid = |reason: String| PkiError::InvalidFile {
        path: paths.ca_cert.clone(),
        reason,
    };
    let facts = inspect::ca_facts(&cert_der).map_err(invalid)?;
    if facts.public_key_info != rcgen::PublicKeyData::subject_public_key_info(&key) {
        return Err(PkiError::CaKeyMismatch {
            cert: paths.ca_cert.clone(),
            key: paths.ca_key.clone(),
        });
    }
    let issuer = Issuer::from_ca_cert_der(&cert_der, key)
        .map_err(|error| invalid(format!("unusable as an issuer: {error}")))?;
    Ok(Authority {
        cert_pem: pem("CERTIFICATE", &cert_der),
        cert_der,
        issuer,
        not_after: facts.not_after,
    })
}

/// Issues a leaf certificate with a fresh key, signed by `ca`, valid for a year but never
/// past the CA's own expiry.
pub(crate) fn leaf(ca: &Authority, spec: &LeafSpec<'_>) -> Result<Leaf, PkiError> {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params.not_before = now - BACKDATE;
    params.not_after = (now + LEAF_VALIDITY).min(ca.not_after);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    let (what, subject) = match spec {
        LeafSpec::Serving { ips, dns } => {
            params.distinguished_name = common_name(SERVING_COMMON_NAME);
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            for name in dns.iter() {
                let name = name
                    .as_str()
                    .try_into()
                    .map_err(|_| PkiError::InvalidInput {
                        field: "DNS name",
                        value: name.clone(),
                        reason: "not ASCII",
                    })?;
                params.subject_alt_names.push(SanType::DnsName(name));
            }
            params
                .subject_alt_names
                .extend(ips.iter().copied().map(SanType::IpAddress));
            ("serving certificate", None)
        }
        LeafSpec::Client { user, groups } => {
            validate_name("user", user)?;
            let mut unique: Vec<&str> = Vec::with_capacity(groups.len());
            for group in groups.iter() {
                validate_name("group", group)?;
                if !unique.contains(group) {
                    unique.push(group);
                }
            }
            params.distinguished_name = common_name(user);
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            ("client certificate", Some(der::subject(user, &unique)))
        }
    };
    let key = new_key(what)?;
    let cert = params
        .signed_by(&key, &ca.issuer)
        .map_err(|source| PkiError::Generate { what, source })?;
    let cert_der = match subject {
        None => cert.der().clone(),
        Some(subject) => {
            CertificateDer::from(der::replace_subject(cert.der(), &subject, ca.issuer.key())?)
        }
    };
    Ok(leaf_material(cert_der, &key))
}

/// Rejects names that cannot be a Kubernetes user or group: empty, or with control characters
/// (which would only ever be an injection attempt in logs and audit records).
fn validate_name(field: &'static str, value: &str) -> Result<(), PkiError> {
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(PkiError::InvalidInput {
        field,
        value: value.to_owned(),
        reason,
    })
}

/// The leaf's in-memory forms: canonical PEM for kubeconfigs, DER for rustls.
pub(crate) fn leaf_material(cert_der: CertificateDer<'static>, key: &KeyPair) -> Leaf {
    Leaf {
        cert_pem: pem("CERTIFICATE", &cert_der),
        key_pem: key.serialize_pem(),
        cert_der,
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// PEM-encodes DER (RFC 7468: base64 in 64-column lines), so what we hand out is canonical
/// whatever formatting the file on disk had.
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
