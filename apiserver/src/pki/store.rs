//! The files under `DATA_DIR/tls/`: loading, deciding what to (re)create, writing atomically.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rcgen::KeyPair;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::issue::{self, LeafSpec};
use super::{inspect, Authority, Leaf, PkiError};

/// Mode of private keys and kubeconfigs: owner only.
pub(crate) const PRIVATE_MODE: u32 = 0o600;
/// Mode of certificates: public by nature.
const PUBLIC_MODE: u32 = 0o644;
/// Mode of directories we create: the tls directory holds keys.
const PRIVATE_DIR_MODE: u32 = 0o700;
/// A CA this close to expiry gets a warning on every start; replacing it is a manual step.
const CA_WARN_BEFORE: Duration = Duration::days(365);

/// Where each file lives, named as k3s names them.
pub(crate) struct Paths {
    pub(crate) dir: PathBuf,
    pub(crate) ca_cert: PathBuf,
    pub(crate) ca_key: PathBuf,
    pub(crate) serving_cert: PathBuf,
    pub(crate) serving_key: PathBuf,
    pub(crate) admin_cert: PathBuf,
    pub(crate) admin_key: PathBuf,
}

impl Paths {
    /// The layout under `data_dir`.
    pub(crate) fn new(data_dir: &Path) -> Self {
        let dir = data_dir.join("tls");
        Self {
            ca_cert: dir.join("server-ca.crt"),
            ca_key: dir.join("server-ca.key"),
            serving_cert: dir.join("serving-kube-apiserver.crt"),
            serving_key: dir.join("serving-kube-apiserver.key"),
            admin_cert: dir.join("client-admin.crt"),
            admin_key: dir.join("client-admin.key"),
            dir,
        }
    }
}

/// Creates `dir` (and parents) if missing; new directories are owner-only. Existing ones keep
/// the mode their owner gave them.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), PkiError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir).map_err(|source| PkiError::Io {
        action: "creating",
        path: dir.to_owned(),
        source,
    })
}

/// The machine's hostname, for the serving certificate. Read from procfs (no libc call, the
/// crate forbids unsafe code), falling back to `/etc/hostname`.
pub(crate) fn hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| text.trim().to_owned())
        .find(|name| !name.is_empty())
}

/// Reads a text file; `None` if it does not exist. Other failures (permissions, I/O) are
/// errors: overwriting a file we could not read would destroy it.
fn read_optional(path: &Path) -> Result<Option<String>, PkiError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| PkiError::InvalidFile {
                path: path.to_owned(),
                reason: "not UTF-8 PEM text".into(),
            }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PkiError::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        }),
    }
}

/// The first certificate in a PEM file.
fn parse_cert(path: &Path, pem: &str) -> Result<CertificateDer<'static>, PkiError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|error| PkiError::InvalidFile {
        path: path.to_owned(),
        reason: format!("no PEM certificate: {error}"),
    })
}

/// A PKCS#8 private key in a PEM file.
fn parse_key(path: &Path, pem: &str) -> Result<KeyPair, PkiError> {
    KeyPair::from_pem(pem).map_err(|error| PkiError::InvalidFile {
        path: path.to_owned(),
        reason: format!("no usable PKCS#8 private key: {error}"),
    })
}

/// Writes `contents` to `path` atomically (temporary file, fsync, rename) with `mode`, so a
/// crash never leaves a truncated key or certificate behind, and a key is never readable by
/// others even for a moment.
pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    let io_error = |source| PkiError::Io {
        action: "writing",
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(
        ".{name}.{}.{:016x}.tmp",
        std::process::id(),
        fastrand::u64(..)
    ));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        let mut file = options.open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(source) = written {
        // Best effort: the write already failed, and this only tidies up.
        let _ = std::fs::remove_file(&temporary);
        return Err(io_error(source));
    }
    // Make the rename itself durable; failing here loses nothing already on disk.
    if let Err(error) = std::fs::File::open(dir).and_then(|dir| dir.sync_all()) {
        tracing::debug!(dir = %dir.display(), %error, "could not fsync directory");
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

/// Brings an existing private key back to owner-only if someone loosened it.
fn tighten_key_mode(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let Ok(metadata) = std::fs::metadata(path) else {
            return;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let fixed =
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_MODE));
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                fixed = fixed.is_ok(),
                "private key was readable by others; restricting it to mode 600"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Loads the CA, or creates it on first start. A CA certificate without its key is an error
/// (see [`PkiError::MissingCaKey`]); a key without its certificate (a crash between the two
/// writes, or a deleted file) gets a new self-signed certificate for the same key and name,
/// under which everything signed earlier still verifies.
pub(crate) fn load_or_create_ca(paths: &Paths) -> Result<Authority, PkiError> {
    let cert_pem = read_optional(&paths.ca_cert)?;
    let key_pem = read_optional(&paths.ca_key)?;
    let ca = match (cert_pem, key_pem) {
        (Some(cert_pem), Some(key_pem)) => {
            tighten_key_mode(&paths.ca_key);
            let key = parse_key(&paths.ca_key, &key_pem)?;
            let cert = parse_cert(&paths.ca_cert, &cert_pem)?;
            let ca = issue::authority(cert, key, paths)?;
            tracing::info!(cert = %paths.ca_cert.display(), not_after = %ca.not_after, "loaded cluster CA");
            ca
        }
        (Some(_), None) => {
            return Err(PkiError::MissingCaKey {
                cert: paths.ca_cert.clone(),
                key: paths.ca_key.clone(),
            })
        }
        (None, Some(key_pem)) => {
            tighten_key_mode(&paths.ca_key);
            let key = parse_key(&paths.ca_key, &key_pem)?;
            let cert = issue::ca_certificate(&key)?;
            let ca = issue::authority(cert, key, paths)?;
            write_file(&paths.ca_cert, ca.cert_pem.as_bytes(), PUBLIC_MODE)?;
            tracing::warn!(
                cert = %paths.ca_cert.display(),
                key = %paths.ca_key.display(),
                "CA certificate was missing; re-created it for the existing CA key"
            );
            ca
        }
        (None, None) => {
            let key = issue::new_ca_key()?;
            let cert = issue::ca_certificate(&key)?;
            // Key first: a crash between the two writes leaves the recoverable case above.
            write_file(&paths.ca_key, key.serialize_pem().as_bytes(), PRIVATE_MODE)?;
            let ca = issue::authority(cert, key, paths)?;
            write_file(&paths.ca_cert, ca.cert_pem.as_bytes(), PUBLIC_MODE)?;
            tracing::info!(cert = %paths.ca_cert.display(), not_after = %ca.not_after, "created cluster CA");
            ca
        }
    };
    let now = OffsetDateTime::now_utc();
    if ca.not_after <= now {
        // Nothing it signs would verify; replacing a CA is a deliberate, manual step.
        return Err(PkiError::InvalidFile {
            path: paths.ca_cert.clone(),
            reason: format!("the cluster CA expired at {}", ca.not_after),
        });
    }
    if ca.not_after - now < CA_WARN_BEFORE {
        tracing::warn!(
            cert = %paths.ca_cert.display(),
            not_after = %ca.not_after,
            "cluster CA expires within a year; leaf certificates cannot outlive it"
        );
    }
    Ok(ca)
}

/// Loads a leaf certificate and key, or issues and writes new ones when they are missing or
/// unfit (see [`inspect::leaf_problem`]). A broken leaf is replaced rather than reported: the
/// CA can always make another.
pub(crate) fn ensure_leaf(
    ca: &Authority,
    cert_path: &Path,
    key_path: &Path,
    spec: &LeafSpec<'_>,
) -> Result<Leaf, PkiError> {
    let cert_pem = read_optional(cert_path)?;
    let key_pem = read_optional(key_path)?;
    let reason = match (cert_pem, key_pem) {
        (Some(cert_pem), Some(key_pem)) => {
            tighten_key_mode(key_path);
            match (
                parse_cert(cert_path, &cert_pem),
                parse_key(key_path, &key_pem),
            ) {
                (Ok(cert), Ok(key)) => {
                    match inspect::leaf_problem(&cert, &key, ca, spec, OffsetDateTime::now_utc()) {
                        None => {
                            tracing::info!(cert = %cert_path.display(), "loaded certificate");
                            return Ok(issue::leaf_material(cert, &key));
                        }
                        Some(reason) => reason,
                    }
                }
                (Err(error), _) | (_, Err(error)) => error.to_string(),
            }
        }
        (None, _) => "certificate missing".to_owned(),
        (_, None) => "key missing".to_owned(),
    };
    let leaf = issue::leaf(ca, spec)?;
    write_file(key_path, leaf.key_pem.as_bytes(), PRIVATE_MODE)?;
    write_file(cert_path, leaf.cert_pem.as_bytes(), PUBLIC_MODE)?;
    tracing::info!(cert = %cert_path.display(), %reason, "issued certificate");
    Ok(leaf)
}
