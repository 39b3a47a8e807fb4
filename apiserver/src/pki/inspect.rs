//! Reading certificates back: is what is on disk still fit for use, and who does a client
//! certificate name.

use std::net::IpAddr;

use rcgen::KeyPair;
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::x509::AttributeTypeAndValue;

use super::issue::LeafSpec;
use super::{Authority, ClientIdentity, PkiError};

/// Leaf certificates closer than this to expiry are re-issued at start-up (k3s uses the same
/// window), so a cluster restarted now and then never serves an expired certificate.
pub(crate) const RENEW_BEFORE: Duration = Duration::days(90);

/// What loading the CA needs to know about its certificate.
pub(crate) struct CaFacts {
    /// SubjectPublicKeyInfo DER, to match against the key file.
    pub(crate) public_key_info: Vec<u8>,
    /// When the CA expires, which caps every leaf's lifetime.
    pub(crate) not_after: OffsetDateTime,
}

/// Parses exactly one DER certificate.
fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok((rest, _)) if !rest.is_empty() => Err("trailing bytes after the certificate".into()),
        Ok((_, cert)) => Ok(cert),
        Err(error) => Err(format!("not a valid X.509 certificate: {error}")),
    }
}

/// Checks a CA certificate can be one and extracts [`CaFacts`].
pub(crate) fn ca_facts(der: &[u8]) -> Result<CaFacts, String> {
    let cert = parse(der)?;
    if !cert.is_ca() {
        return Err("not a CA certificate (basicConstraints CA:FALSE or missing)".into());
    }
    let not_after = OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp())
        .map_err(|error| format!("notAfter out of range: {error}"))?;
    Ok(CaFacts {
        public_key_info: cert.public_key().raw.to_vec(),
        not_after,
    })
}

/// Why an existing leaf certificate must be re-issued, or `None` when it is fine as it is.
pub(crate) fn leaf_problem(
    der: &[u8],
    key: &KeyPair,
    ca: &Authority,
    spec: &LeafSpec<'_>,
    now: OffsetDateTime,
) -> Option<String> {
    let cert = match parse(der) {
        Ok(cert) => cert,
        Err(reason) => return Some(reason),
    };
    if cert.public_key().raw != rcgen::PublicKeyData::subject_public_key_info(key).as_slice() {
        return Some("key file does not match the certificate".into());
    }
    let ca_cert = match parse(&ca.cert_der) {
        Ok(ca_cert) => ca_cert,
        Err(reason) => return Some(format!("CA certificate: {reason}")),
    };
    if cert.verify_signature(Some(ca_cert.public_key())).is_err() {
        return Some("not signed by the current CA".into());
    }
    let not_after = cert.validity().not_after.timestamp();
    if not_after - now.unix_timestamp() < RENEW_BEFORE.whole_seconds() {
        return Some(format!(
            "expires within {} days (notAfter {})",
            RENEW_BEFORE.whole_days(),
            cert.validity().not_after
        ));
    }
    match spec {
        LeafSpec::Serving { ips, dns } => {
            let (have_ips, have_dns) = match subject_alt_names(&cert) {
                Ok(names) => names,
                Err(reason) => return Some(reason),
            };
            let missing_ips = ips.iter().filter(|ip| !have_ips.contains(ip));
            let missing_dns = dns.iter().filter(|name| !have_dns.contains(name));
            let missing: Vec<String> = missing_ips
                .map(ToString::to_string)
                .chain(missing_dns.cloned())
                .collect();
            if !missing.is_empty() {
                return Some(format!("lacks SANs {}", missing.join(", ")));
            }
        }
        LeafSpec::Client { user, groups } => {
            let mut wanted: Vec<&str> = Vec::new();
            for group in groups.iter() {
                if !wanted.contains(group) {
                    wanted.push(group);
                }
            }
            match identity_of(&cert) {
                Ok(identity) if identity.user == *user && identity.groups == wanted => {}
                Ok(identity) => {
                    return Some(format!(
                        "names {} in {:?}, wanted {user} in {wanted:?}",
                        identity.user, identity.groups
                    ))
                }
                Err(error) => return Some(error.to_string()),
            }
        }
    }
    None
}

/// The IP and (lower-cased) DNS SANs of a certificate.
fn subject_alt_names(cert: &X509Certificate<'_>) -> Result<(Vec<IpAddr>, Vec<String>), String> {
    let extension = cert
        .subject_alternative_name()
        .map_err(|error| format!("unreadable subjectAltName: {error}"))?;
    let mut ips = Vec::new();
    let mut dns = Vec::new();
    for name in extension.iter().flat_map(|ext| &ext.value.general_names) {
        match name {
            GeneralName::DNSName(name) => dns.push(name.to_ascii_lowercase()),
            GeneralName::IPAddress(bytes) => {
                if let Ok(octets) = <[u8; 4]>::try_from(*bytes) {
                    ips.push(IpAddr::from(octets));
                } else if let Ok(octets) = <[u8; 16]>::try_from(*bytes) {
                    ips.push(IpAddr::from(octets));
                }
            }
            _ => {}
        }
    }
    Ok((ips, dns))
}

/// The identity of a DER client certificate.
pub(crate) fn identity(der: &[u8]) -> Result<ClientIdentity, PkiError> {
    let cert = parse(der).map_err(|reason| PkiError::InvalidCertificate { reason })?;
    identity_of(&cert)
}

/// CN → user (the last CN, as Go keeps it), every O → a group, in order.
fn identity_of(cert: &X509Certificate<'_>) -> Result<ClientIdentity, PkiError> {
    let text = |attribute: &AttributeTypeAndValue<'_>, what: &str| {
        attribute
            .as_str()
            .map(str::to_owned)
            .map_err(|error| PkiError::InvalidCertificate {
                reason: format!("subject {what} is not a string: {error}"),
            })
    };
    let subject = cert.subject();
    let mut user = None;
    for attribute in subject.iter_common_name() {
        user = Some(text(attribute, "CN")?);
    }
    let user =
        user.filter(|user| !user.is_empty())
            .ok_or_else(|| PkiError::InvalidCertificate {
                reason: "subject has no common name".into(),
            })?;
    let groups = subject
        .iter_organization()
        .map(|attribute| text(attribute, "O"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ClientIdentity { user, groups })
}
