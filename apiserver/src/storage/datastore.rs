//! Choosing a backend from the command line's `--data-dir` and `--datastore-endpoint`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::embedded::EmbeddedStore;
use super::etcd::EtcdStore;
use super::{StorageError, Store};

/// Where the cluster's state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Datastore {
    /// The embedded store in this directory (the default: nothing to set up).
    Embedded(PathBuf),
    /// An etcd v3 cluster at these client URLs.
    Etcd(Vec<String>),
}

impl Datastore {
    /// Reads the flags as k3s does: an empty endpoint means the embedded store under
    /// `data_dir/db`; otherwise a comma-separated list of `http://` or `https://` etcd URLs.
    pub fn from_flags(data_dir: &Path, endpoint: &str) -> Result<Self, StorageError> {
        let endpoint = endpoint.trim();
        if endpoint.is_empty() {
            return Ok(Self::Embedded(data_dir.join("db")));
        }
        let urls: Vec<String> = endpoint
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
            .collect();
        for url in &urls {
            let Some((scheme, rest)) = url.split_once("://") else {
                return Err(StorageError::InvalidDatastore(format!(
                    "{url:?} has no scheme"
                )));
            };
            if scheme != "http" && scheme != "https" || rest.is_empty() {
                return Err(StorageError::InvalidDatastore(format!(
                    "{url:?}: only http:// and https:// etcd endpoints are supported"
                )));
            }
        }
        Ok(Self::Etcd(urls))
    }

    /// Opens the store.
    pub async fn open(&self) -> Result<Arc<dyn Store>, StorageError> {
        Ok(match self {
            Self::Embedded(dir) => Arc::new(EmbeddedStore::open(dir)?),
            Self::Etcd(endpoints) => Arc::new(EtcdStore::connect(endpoints).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Datastore;

    #[test]
    fn empty_endpoint_means_embedded_under_the_data_dir() {
        let datastore = Datastore::from_flags(Path::new("/var/lib/ferrokube"), " ");
        assert_eq!(
            datastore.ok(),
            Some(Datastore::Embedded("/var/lib/ferrokube/db".into()))
        );
    }

    #[test]
    fn endpoints_are_comma_separated_urls() {
        let datastore = Datastore::from_flags(
            Path::new("/d"),
            "http://127.0.0.1:2379, http://127.0.0.2:2379",
        );
        assert_eq!(
            datastore.ok(),
            Some(Datastore::Etcd(vec![
                "http://127.0.0.1:2379".into(),
                "http://127.0.0.2:2379".into()
            ]))
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(Datastore::from_flags(Path::new("/d"), "mysql://x").is_err());
        assert!(Datastore::from_flags(Path::new("/d"), "127.0.0.1:2379").is_err());
    }
}
