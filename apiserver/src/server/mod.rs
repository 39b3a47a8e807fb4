//! The API server process: datastore, certificates, kubeconfig, routes, HTTPS.

mod bootstrap;
mod listener;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{any, get};
use axum::Router;
use tokio::net::TcpListener;

pub use listener::serve_tls;

use crate::handlers::rest::{self, ApiContext};
use crate::handlers::{health::Health, version};
use crate::pki::{ClusterPki, PkiError, ServingNames};
use crate::registry::{Registry, RegistryHandle};
use crate::status::ApiError;
use crate::storage::{Compactor, Datastore, StorageError};
use crate::strategy::{ServiceCidr, Strategies};

/// What `ferrokube server` / `ferrokube apiserver` were asked to do.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Certificates, kubeconfigs and the embedded store live here.
    pub data_dir: PathBuf,
    /// Where to listen.
    pub bind_address: IpAddr,
    /// The HTTPS port.
    pub secure_port: u16,
    /// Empty for the embedded store, else etcd URLs.
    pub datastore_endpoint: String,
    /// How often history is compacted.
    pub compaction_interval: Duration,
    /// Where Service ClusterIPs come from.
    pub service_cidr: ServiceCidr,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The datastore could not be opened.
    #[error("datastore: {0}")]
    Storage(#[from] StorageError),
    /// A start-up object could not be written.
    #[error("bootstrap: {0}")]
    Bootstrap(#[from] ApiError),
    /// Certificates could not be loaded or created.
    #[error("certificates: {0}")]
    Pki(#[from] PkiError),
    /// The port could not be bound or the data directory written.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Runs the API server until `shutdown` completes.
pub async fn run(
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    std::fs::create_dir_all(&options.data_dir).map_err(|source| ServerError::Io {
        context: format!("creating {}", options.data_dir.display()),
        source,
    })?;
    let datastore = Datastore::from_flags(&options.data_dir, &options.datastore_endpoint)?;
    let store = datastore.open().await?;
    tracing::info!(
        ?datastore,
        revision = store.current_revision().await?,
        "datastore ready"
    );
    let _compactor = Compactor::spawn(Arc::clone(&store), options.compaction_interval);

    let names = ServingNames {
        ips: vec![
            options.bind_address,
            IpAddr::V4(options.service_cidr.first()),
        ],
        dns: Vec::new(),
    };
    let pki = ClusterPki::load_or_create(&options.data_dir, &names)?;
    let address = SocketAddr::new(options.bind_address, options.secure_port);
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| ServerError::Io {
            context: format!("listening on {address}"),
            source,
        })?;
    let kubeconfig = pki.write_admin_kubeconfig(&options.data_dir, &server_url(address))?;
    tracing::info!(%address, kubeconfig = %kubeconfig.display(), "serving the Kubernetes API");
    tracing::info!(
        "point kubectl at it with: export KUBECONFIG={}",
        kubeconfig.display()
    );

    let registry = Arc::new(RegistryHandle::new(Registry::builtin()));
    let strategies = Strategies::new(options.service_cidr);
    bootstrap::ensure_system_namespaces(store.as_ref()).await?;
    bootstrap::ensure_system_priority_classes(store.as_ref()).await?;
    let advertise = match options.bind_address {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    bootstrap::ensure_kubernetes_service(
        store.as_ref(),
        strategies.services(),
        advertise,
        options.secure_port,
    )
    .await?;
    let shutting_down = Arc::new(AtomicBool::new(false));
    let context = Arc::new(ApiContext {
        registry,
        store: Arc::clone(&store),
        server_address: address.to_string(),
        watch_caches: crate::watch::WatchCaches::new(Arc::clone(&store)),
        metrics: Arc::default(),
        strategies,
    });
    let prefixes: Vec<String> = context
        .registry
        .current()
        .all()
        .map(|resource| crate::registry::storage_prefix(resource))
        .collect();
    context
        .watch_caches
        .start_all(prefixes.iter().map(String::as_str));
    tokio::spawn(crate::crd::run_controller(Arc::clone(&context)));
    let app = routes(context, Arc::clone(&shutting_down));
    let flag = Arc::clone(&shutting_down);
    let stop = async move {
        shutdown.await;
        flag.store(true, Ordering::Release);
        tracing::info!("shutting down");
    };
    serve_tls(listener, pki.server_config()?, app, stop).await;
    Ok(())
}

/// Every route the server answers.
fn routes(context: Arc<ApiContext>, shutting_down: Arc<AtomicBool>) -> Router {
    let api = Router::new()
        .route("/api", any(rest::serve))
        .route("/api/{*path}", any(rest::serve))
        .route("/apis", any(rest::serve))
        .route("/apis/{*path}", any(rest::serve))
        .with_state(Arc::clone(&context));
    let metrics = Arc::clone(&context.metrics);
    Health::new(Arc::clone(&context.store), shutting_down)
        .routes()
        .merge(api)
        .merge(crate::openapi::routes(Arc::clone(&context.registry)))
        .route(
            "/metrics",
            get(move || async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }),
        )
        .route("/version", get(version::get))
        .fallback(|| async { ApiError::path_not_found() })
}

/// The URL clients on this machine use: loopback when listening on every address.
fn server_url(address: SocketAddr) -> String {
    let host = match address.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(host, address.port()))
}

#[cfg(test)]
mod tests {
    use super::server_url;

    #[test]
    fn unspecified_addresses_are_reached_on_loopback() {
        use std::net::{Ipv6Addr, SocketAddr};
        assert_eq!(
            server_url(SocketAddr::from(([0, 0, 0, 0], 6443))),
            "https://127.0.0.1:6443"
        );
        assert_eq!(
            server_url(SocketAddr::from((Ipv6Addr::LOCALHOST, 6443))),
            "https://[::1]:6443"
        );
    }
}
