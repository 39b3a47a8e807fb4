//! HTTPS connections to the API server as real clients make them: TLS with the kubeconfig's
//! client certificate, then either HTTP/2 (client-go's default: a few connections, many
//! streams on each) or HTTP/1.1 (one request at a time per connection, a connection per
//! worker).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::{Credentials, LoadError};

/// The HTTP version the load generator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Protocol {
    /// HTTP/2 over a few shared connections (what client-go and kubectl do).
    Http2,
    /// HTTP/1.1 with a connection per worker (what clients without h2 do).
    Http1,
}

/// Where and how to connect; shared by every connection of a run.
pub struct Endpoint {
    tls: TlsConnector,
    server_name: ServerName<'static>,
    host: String,
    port: u16,
    authority: String,
    protocol: Protocol,
    timeout: Duration,
}

impl Endpoint {
    /// Prepares TLS (our CA, our client certificate, ALPN for `protocol`) for `credentials`.
    pub fn new(
        credentials: &Credentials,
        protocol: Protocol,
        timeout: Duration,
    ) -> Result<Arc<Self>, LoadError> {
        let uri: http::Uri = credentials.server.parse().map_err(|error| {
            LoadError::Tls(format!("server URL {:?}: {error}", credentials.server))
        })?;
        if uri.scheme_str() != Some("https") {
            return Err(LoadError::Tls(format!(
                "server URL {:?} is not https",
                credentials.server
            )));
        }
        let host = uri
            .host()
            .ok_or_else(|| {
                LoadError::Tls(format!("server URL {:?} has no host", credentials.server))
            })?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let server_name = ServerName::try_from(host.clone())
            .map_err(|error| LoadError::Tls(format!("server name {host:?}: {error}")))?;
        let authority = uri
            .authority()
            .map(|authority| authority.as_str().to_owned())
            .unwrap_or_else(|| format!("{host}:{port}"));
        let tls = tls_config(credentials, protocol)?;
        Ok(Arc::new(Self {
            tls: TlsConnector::from(tls),
            server_name,
            host,
            port,
            authority,
            protocol,
            timeout,
        }))
    }

    /// The protocol every connection of this endpoint speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Opens one TLS connection and runs its HTTP driver as a task.
    pub async fn connect(&self) -> Result<Connection, LoadError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        let tls = self
            .tls
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|error| LoadError::Tls(format!("handshake: {error}")))?;
        let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let io = TokioIo::new(tls);
        match self.protocol {
            Protocol::Http2 => {
                if negotiated.as_deref() != Some(b"h2") {
                    return Err(LoadError::Tls("server did not negotiate h2".into()));
                }
                let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                    .adaptive_window(true)
                    .handshake(io)
                    .await?;
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "HTTP/2 connection ended");
                    }
                });
                Ok(Connection::H2(sender))
            }
            Protocol::Http1 => {
                let (sender, connection) = http1::handshake(io).await?;
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "HTTP/1.1 connection ended");
                    }
                });
                Ok(Connection::H1(sender))
            }
        }
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, LoadError> {
        let uri = match self.protocol {
            Protocol::Http2 => format!("https://{}{path}", self.authority),
            Protocol::Http1 => path.to_owned(),
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::ACCEPT, "application/json")
            .header(
                header::USER_AGENT,
                concat!("ferrokube-loadgen/", env!("CARGO_PKG_VERSION")),
            );
        if self.protocol == Protocol::Http1 {
            builder = builder.header(header::HOST, &self.authority);
        }
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        Ok(builder.body(Full::new(body.unwrap_or_default()))?)
    }
}

/// Our CA as the only root, the kubeconfig's client certificate, ALPN for the protocol.
fn tls_config(
    credentials: &Credentials,
    protocol: Protocol,
) -> Result<Arc<rustls::ClientConfig>, LoadError> {
    let tls =
        |what: &str, error: &dyn std::fmt::Display| LoadError::Tls(format!("{what}: {error}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&credentials.ca_pem) {
        let cert = cert.map_err(|error| tls("CA PEM", &error))?;
        roots
            .add(cert)
            .map_err(|error| tls("CA certificate", &error))?;
    }
    let chain = CertificateDer::pem_slice_iter(&credentials.cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| tls("client certificate PEM", &error))?;
    let key = PrivateKeyDer::from_pem_slice(&credentials.key_pem)
        .map_err(|error| tls("client key PEM", &error))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| tls("protocol versions", &error))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|error| tls("client certificate", &error))?;
    config.alpn_protocols = match protocol {
        Protocol::Http2 => vec![b"h2".to_vec()],
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
    };
    Ok(Arc::new(config))
}

/// One open connection: HTTP/2 ones are shared (cloned) across workers, HTTP/1.1 ones not.
pub enum Connection {
    /// Streams on a shared HTTP/2 connection.
    H2(http2::SendRequest<Full<Bytes>>),
    /// An HTTP/1.1 connection used by one worker.
    H1(http1::SendRequest<Full<Bytes>>),
}

/// The connections of a run: HTTP/2 ones opened up front and handed out round-robin,
/// HTTP/1.1 ones opened per worker on demand.
pub struct Pool {
    endpoint: Arc<Endpoint>,
    shared: Vec<http2::SendRequest<Full<Bytes>>>,
}

impl Pool {
    /// Opens `connections` HTTP/2 connections (none for HTTP/1.1).
    pub async fn open(endpoint: Arc<Endpoint>, connections: usize) -> Result<Self, LoadError> {
        let mut shared = Vec::new();
        if endpoint.protocol == Protocol::Http2 {
            for _ in 0..connections.max(1) {
                if let Connection::H2(sender) = endpoint.connect().await? {
                    shared.push(sender);
                }
            }
        }
        Ok(Self { endpoint, shared })
    }

    /// A client for worker `index`: a stream handle on shared connection `index % n`, or a
    /// fresh HTTP/1.1 connection of its own.
    pub async fn client(&self, index: usize) -> Result<Client, LoadError> {
        let connection = match self.shared.get(index % self.shared.len().max(1)) {
            Some(sender) => Connection::H2(sender.clone()),
            None => self.endpoint.connect().await?,
        };
        Ok(Client {
            endpoint: Arc::clone(&self.endpoint),
            connection,
        })
    }

    /// A client on a connection of its own (what a separate process, e.g. a kubelet, has).
    pub async fn dedicated(&self) -> Result<Client, LoadError> {
        Ok(Client {
            endpoint: Arc::clone(&self.endpoint),
            connection: self.endpoint.connect().await?,
        })
    }
}

/// One worker's way to the server.
pub struct Client {
    endpoint: Arc<Endpoint>,
    connection: Connection,
}

impl Client {
    /// Sends a request and returns the response head with its body still streaming.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Response<Incoming>, LoadError> {
        let request = self.endpoint.request(method, path, body)?;
        match &mut self.connection {
            Connection::H2(sender) => Ok(sender.send_request(request).await?),
            Connection::H1(sender) => {
                if sender.ready().await.is_err() {
                    // The server closed the idle connection: open another, as a pool would.
                    self.connection = self.endpoint.connect().await?;
                }
                match &mut self.connection {
                    Connection::H1(sender) => Ok(sender.send_request(request).await?),
                    Connection::H2(sender) => Ok(sender.send_request(request).await?),
                }
            }
        }
    }

    /// Sends a request, reads the whole body, and fails on a status not in `expected`.
    /// `what` names the request in errors.
    pub async fn call(
        &mut self,
        what: &str,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        expected: &[StatusCode],
    ) -> Result<Bytes, LoadError> {
        let timeout = self.endpoint.timeout;
        let exchange = async {
            let response = self.send(method, path, body).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, LoadError>((status, body))
        };
        let (status, body) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| LoadError::Timeout(what.to_owned()))??;
        if !expected.contains(&status) {
            return Err(LoadError::Status {
                what: what.to_owned(),
                status,
                body: String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned(),
            });
        }
        Ok(body)
    }
}
