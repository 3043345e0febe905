//! Backend calls. Endpoints are parsed once, when a runtime state is built ([`Upstream`]); each
//! serving thread keeps its own pool of HTTP/1.1 connections ([`Backends`]), so a request, the
//! connection it borrows and that connection's driver task all live on one thread: checking a
//! connection out is a lookup in an uncontended map, with no pool-wide lock, no key to build and
//! no wake-up of another thread.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::combinators::MapErr;
use http_body_util::{BodyExt, Either, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use tollgate_model::TransportErrorCode;

use crate::dns::{Dns, ResolvedName};
use crate::HashMap;

/// How long a backend may take to accept a connection (and finish the TLS handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections older than this are closed rather than reused (backends commonly close
/// theirs after 60–75 s, and a request sent just as the backend closes would fail).
const IDLE_TIMEOUT: Duration = Duration::from_secs(55);
/// Idle connections kept per backend and serving thread.
const MAX_IDLE_PER_BACKEND: usize = 1024;

/// Why a backend could not be called: which endpoint, and what failed. What failed decides
/// WSO2's code ([`UpstreamErrorKind::code`]), whether the endpoint is suspended, and whether
/// the request may go to another endpoint ([`UpstreamErrorKind::request_sent`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("endpoint {endpoint}: {kind}")]
pub struct UpstreamError {
    /// The endpoint, as configured.
    pub endpoint: Arc<str>,
    #[source]
    pub kind: UpstreamErrorKind,
}

/// What failed on the way to a backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamErrorKind {
    /// The endpoint (found when the state is built, so every request to it fails alike).
    #[error("not a URL")]
    NotAUrl,
    #[error("the scheme must be http or https (ws or wss for a WebSocket API)")]
    Scheme,
    #[error("no host")]
    NoHost,
    #[error("invalid host")]
    InvalidHost,
    /// The endpoint's path with the resource path and query is no valid request target.
    #[error("{0}")]
    Target(Arc<http::uri::InvalidUri>),
    /// The host's name could not be resolved.
    #[error("DNS: {0}")]
    Resolve(crate::dns::ResolveError),
    /// No TCP connection.
    #[error("connect: {0}")]
    Connect(Arc<std::io::Error>),
    /// The host is no name TLS can check a certificate for.
    #[error("TLS server name: invalid DNS name")]
    TlsServerName,
    /// The endpoint certificates uploaded for the endpoint are unusable.
    #[error("endpoint certificates: {0}")]
    EndpointTrust(Arc<str>),
    /// The TLS handshake failed (an untrusted certificate, say).
    #[error("TLS: {0}")]
    Tls(Arc<std::io::Error>),
    #[error("no connection within {} s", CONNECT_TIMEOUT.as_secs())]
    ConnectTimeout,
    #[error("HTTP/1.1 handshake: {0}")]
    Handshake(Arc<hyper::Error>),
    /// The connection failed before the request was written (hyper gave it back).
    #[error("before the request was sent: {0}")]
    Unsent(Arc<hyper::Error>),
    /// The exchange failed once the request was (being) written: the backend closed the
    /// connection, or sent no valid response head.
    #[error("{0}")]
    Exchange(Arc<hyper::Error>),
    /// A WebSocket backend refused the upgrade (or answered no WebSocket).
    #[error("WebSocket handshake: {0}")]
    WebSocketHandshake(Arc<str>),
    /// No response head within the endpoint's timeout.
    #[error("no response within {} ms", .0.as_millis())]
    ResponseTimeout(Duration),
}

impl UpstreamErrorKind {
    /// Synapse's transport error code for this failure; `None` for a configuration fault,
    /// which no backend caused (and which suspends nothing).
    pub fn code(&self) -> Option<TransportErrorCode> {
        use UpstreamErrorKind::*;
        Some(match self {
            NotAUrl | Scheme | NoHost | InvalidHost | Target(_) => return None,
            Resolve(_)
            | Connect(_)
            | TlsServerName
            | EndpointTrust(_)
            | Tls(_)
            | Handshake(_)
            | WebSocketHandshake(_) => TransportErrorCode::ConnectionFailed,
            ConnectTimeout => TransportErrorCode::ConnectTimedOut,
            Unsent(_) => TransportErrorCode::SendingFailed,
            Exchange(e) if e.is_incomplete_message() => TransportErrorCode::ConnectionClosed,
            Exchange(e) if e.is_parse() => TransportErrorCode::ProtocolViolation,
            Exchange(_) => TransportErrorCode::SendingFailed,
            ResponseTimeout(_) => TransportErrorCode::ConnectionTimedOut,
        })
    }

    /// What failed, as a metric label.
    pub fn name(&self) -> &'static str {
        use UpstreamErrorKind::*;
        match self {
            NotAUrl | Scheme | NoHost | InvalidHost | Target(_) => "endpoint",
            Resolve(_) => "dns",
            Connect(_) => "connect",
            TlsServerName | EndpointTrust(_) | Tls(_) => "tls",
            ConnectTimeout => "connect_timeout",
            Handshake(_) | WebSocketHandshake(_) => "handshake",
            Unsent(_) => "unsent",
            Exchange(_) => "exchange",
            ResponseTimeout(_) => "timeout",
        }
    }

    /// Whether the backend may have received (part of) the request: if not, sending it to
    /// another endpoint is safe whatever its method.
    pub fn request_sent(&self) -> bool {
        matches!(
            self,
            UpstreamErrorKind::Exchange(_) | UpstreamErrorKind::ResponseTimeout(_)
        )
    }
}

/// A request a backend did not take: why, and the request itself when it was never sent (so
/// it can go to another endpoint, body and all).
pub enum SendFailure {
    Upstream {
        error: UpstreamError,
        unsent: Option<Box<Request<UpstreamBody>>>,
    },
    /// The client's request body broke off or was malformed while it was being forwarded.
    ClientBody(String),
}

/// A backend endpoint, prepared for the request path.
#[derive(Debug)]
pub struct Upstream {
    /// As configured, for error messages.
    pub url: Arc<str>,
    tls: bool,
    /// Host to connect to (an IPv6 address without brackets) and to name in TLS.
    host: String,
    /// The host, when it is an address: no DNS.
    address: Option<std::net::IpAddr>,
    port: u16,
    /// The `Host` header the backend gets.
    authority: HeaderValue,
    /// The endpoint's path, without a trailing slash; resource paths are appended to it.
    base_path: String,
    /// The pool's key: scheme, host and port (and the endpoint certificates trusted, if any:
    /// connections made under other trust are never reused).
    key: Arc<str>,
    /// Certificates uploaded for this endpoint's origin, trusted besides the common roots.
    trust: Option<Arc<EndpointTrust>>,
}

impl Upstream {
    /// Parses an endpoint URL (`http://host:port/base` or `https://…`).
    pub fn parse(url: &str) -> Result<Upstream, UpstreamError> {
        let invalid = |kind| UpstreamError {
            endpoint: url.into(),
            kind,
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| invalid(UpstreamErrorKind::NotAUrl))?;
        // `ws://` and `wss://`: a WebSocket API's endpoints.
        let tls = match uri.scheme_str() {
            Some("http" | "ws") => false,
            Some("https" | "wss") => true,
            _ => return Err(invalid(UpstreamErrorKind::Scheme)),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid(UpstreamErrorKind::NoHost))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let host_header = authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_, host)| host);
        Ok(Upstream {
            url: url.into(),
            tls,
            authority: HeaderValue::from_str(host_header)
                .map_err(|_| invalid(UpstreamErrorKind::InvalidHost))?,
            base_path: uri.path().trim_end_matches('/').to_string(),
            key: format!("{}://{host}:{port}", if tls { "https" } else { "http" }).into(),
            address: host.parse().ok(),
            host,
            port,
            trust: None,
        })
    }

    /// The same endpoint, trusting `trust`'s certificates too (an `https://` one only).
    pub fn trusting(mut self, trust: Option<Arc<EndpointTrust>>) -> Upstream {
        if let Some(trust) = trust.filter(|_| self.tls) {
            self.key = format!("{}#{:016x}", self.key, trust.id).into();
            self.trust = Some(trust);
        }
        self
    }

    /// The origin-form target (`/base/resource?query`) of a request to this endpoint.
    pub fn request_target(
        &self,
        resource_path: &str,
        query: Option<&str>,
    ) -> Result<Uri, UpstreamError> {
        let mut target = String::with_capacity(
            self.base_path.len() + resource_path.len() + query.map_or(1, |q| q.len() + 2),
        );
        target.push_str(&self.base_path);
        target.push_str(resource_path);
        if target.is_empty() {
            target.push('/');
        }
        if let Some(query) = query {
            target.push('?');
            target.push_str(query);
        }
        Uri::try_from(target).map_err(|e| self.failed(UpstreamErrorKind::Target(Arc::new(e))))
    }

    /// The error of a call to this endpoint.
    pub fn failed(&self, kind: UpstreamErrorKind) -> UpstreamError {
        UpstreamError {
            endpoint: self.url.clone(),
            kind,
        }
    }

    /// The `Host` header value for this endpoint.
    pub fn authority(&self) -> &HeaderValue {
        &self.authority
    }
}

/// A client's request body on its way to a backend. Its errors are marked as the client's, so a
/// broken upload (bad chunk framing, a client that hangs up) is told apart from a backend
/// failure.
pub type ClientBody = MapErr<Incoming, fn(hyper::Error) -> ClientBodyError>;

/// No body: a bodiless request sent again to another endpoint.
pub type NoBody = MapErr<Empty<Bytes>, fn(Infallible) -> ClientBodyError>;

/// What a backend receives: the client's body, streamed, or none.
pub type UpstreamBody = Either<ClientBody, NoBody>;

/// TLS for `https://` backends: the settings every endpoint uses, and the roots they trust
/// (the public web's and `[truststore]`'s), which endpoint certificates are added to.
pub struct BackendTls {
    pub config: Arc<rustls::ClientConfig>,
    roots: Arc<rustls::RootCertStore>,
}

impl BackendTls {
    pub fn new(
        roots: rustls::RootCertStore,
    ) -> Result<Arc<BackendTls>, tollgate_hublink::TrustError> {
        let mut config = tollgate_hublink::client_tls_with_roots(roots.clone())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(BackendTls {
            config: Arc::new(config),
            roots: Arc::new(roots),
        }))
    }
}

/// The endpoint certificates of one origin (`/endpoint-certificates`), prepared when the state
/// is built; the TLS settings trusting them besides the common roots are made on the first
/// connection that needs them and shared by every serving thread.
pub struct EndpointTrust {
    certificates: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Tells trust sets apart in the pool's keys.
    id: u64,
    connector: std::sync::OnceLock<Result<TlsConnector, Arc<str>>>,
}

impl std::fmt::Debug for EndpointTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointTrust")
            .field("certificates", &self.certificates.len())
            .field("id", &self.id)
            .finish()
    }
}

impl EndpointTrust {
    /// The trust of `pems` (each one PEM certificate; the Publisher checked them on upload).
    pub fn new<'a>(pems: impl IntoIterator<Item = &'a str>) -> EndpointTrust {
        use rustls::pki_types::pem::PemObject;
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let mut certificates = Vec::new();
        for pem in pems {
            pem.hash(&mut hasher);
            match rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()) {
                Ok(certificate) => certificates.push(certificate.into_owned()),
                Err(err) => tracing::warn!(error = %err, "an endpoint certificate is unreadable"),
            }
        }
        EndpointTrust {
            certificates,
            id: hasher.finish(),
            connector: std::sync::OnceLock::new(),
        }
    }

    fn connector(&self, tls: &BackendTls) -> Result<TlsConnector, UpstreamErrorKind> {
        self.connector
            .get_or_init(|| {
                let mut roots = (*tls.roots).clone();
                for certificate in &self.certificates {
                    roots
                        .add(certificate.clone())
                        .map_err(|e| Arc::<str>::from(e.to_string()))?;
                }
                let mut config = tollgate_hublink::client_tls_with_roots(roots)
                    .map_err(|e| Arc::<str>::from(e.to_string()))?;
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Ok(TlsConnector::from(Arc::new(config)))
            })
            .clone()
            .map_err(UpstreamErrorKind::EndpointTrust)
    }
}

/// The client's request body failed while it was being forwarded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientBodyError(hyper::Error);

/// Wraps a client's request body for [`Backends::send`].
pub fn client_body(body: Incoming) -> UpstreamBody {
    Either::Left(body.map_err(ClientBodyError as fn(hyper::Error) -> ClientBodyError))
}

/// An empty body for [`Backends::send`].
pub fn no_body() -> UpstreamBody {
    fn never(never: Infallible) -> ClientBodyError {
        match never {}
    }
    Either::Right(Empty::new().map_err(never as fn(Infallible) -> ClientBodyError))
}

/// Whether `err` (from sending a request to a backend) came from the client's request body.
fn client_body_failure(err: &hyper::Error) -> Option<&ClientBodyError> {
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(found) = inner.downcast_ref::<ClientBodyError>() {
            return Some(found);
        }
        source = inner.source();
    }
    None
}

/// One serving thread's backend connections.
pub struct Backends {
    tls: Arc<BackendTls>,
    connector: TlsConnector,
    dns: Arc<Dns>,
    idle: Mutex<HashMap<Arc<str>, Pool>>,
}

/// The idle connections to one backend (scheme, host and port).
#[derive(Default)]
struct Pool {
    /// The host's DNS entry, when it is a name: connections made for an older generation of
    /// its answer are not reused.
    name: Option<Arc<ResolvedName>>,
    connections: Vec<IdleConnection>,
}

struct IdleConnection {
    sender: SendRequest<UpstreamBody>,
    since: Instant,
    generation: u64,
}

/// A connection ready for a request, and the DNS generation it was made for.
struct Connected {
    sender: SendRequest<UpstreamBody>,
    generation: u64,
    name: Option<Arc<ResolvedName>>,
}

impl Backends {
    /// Connections for one serving thread; `tls` is used for `https://` endpoints and `dns`
    /// for backend host names.
    pub fn new(tls: &Arc<BackendTls>, dns: &Arc<Dns>) -> Arc<Backends> {
        Arc::new(Backends {
            tls: tls.clone(),
            connector: TlsConnector::from(tls.config.clone()),
            dns: dns.clone(),
            idle: Mutex::new(HashMap::default()),
        })
    }

    /// Sends `request` (origin-form target, `Host` set) to `upstream` on a pooled connection, or
    /// a new one. A request a pooled connection could not take because the backend had just
    /// closed it is sent again on another: it never reached the backend.
    pub async fn send(
        &self,
        upstream: &Upstream,
        mut request: Request<UpstreamBody>,
    ) -> Result<Response<Incoming>, SendFailure> {
        loop {
            let (mut connected, reused) = match self.checkout(&upstream.key) {
                Some(connected) => (connected, true),
                // Boxed: connecting (TCP, TLS, handshake) is a large future, and this one is
                // moved with every request; only the first request of a connection pays for it.
                None => match Box::pin(self.connect(upstream)).await {
                    Ok(connected) => (connected, false),
                    Err(kind) => {
                        return Err(SendFailure::Upstream {
                            error: upstream.failed(kind),
                            unsent: Some(Box::new(request)),
                        })
                    }
                },
            };
            match connected.sender.try_send_request(request).await {
                Ok(response) => {
                    self.checkin(&upstream.key, connected);
                    return Ok(response);
                }
                Err(mut err) => match err.take_message() {
                    Some(unsent) if reused => request = unsent,
                    Some(unsent) => {
                        let kind = UpstreamErrorKind::Unsent(Arc::new(err.into_error()));
                        return Err(SendFailure::Upstream {
                            error: upstream.failed(kind),
                            unsent: Some(Box::new(unsent)),
                        });
                    }
                    None => {
                        let err = err.into_error();
                        return Err(match client_body_failure(&err) {
                            Some(client) => SendFailure::ClientBody(client.to_string()),
                            None => SendFailure::Upstream {
                                error: upstream.failed(UpstreamErrorKind::Exchange(Arc::new(err))),
                                unsent: None,
                            },
                        });
                    }
                },
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Pool>> {
        // Only this serving thread uses the map; a panic while it was held left it consistent.
        tollgate_guard::lock(&self.idle)
    }

    /// The most recently used ready connection to `key`; closed and stale ones, and those made
    /// for an old DNS answer, are dropped.
    fn checkout(&self, key: &Arc<str>) -> Option<Connected> {
        let mut idle = self.lock();
        let pool = idle.get_mut(key)?;
        let generation = pool.name.as_ref().map_or(0, |name| name.generation());
        let now = Instant::now();
        while let Some(i) = pool
            .connections
            .iter()
            .rposition(|c| c.sender.is_ready() || c.sender.is_closed())
        {
            let connection = pool.connections.swap_remove(i);
            if connection.sender.is_closed() || connection.generation != generation {
                continue;
            }
            if now.duration_since(connection.since) < IDLE_TIMEOUT {
                return Some(Connected {
                    sender: connection.sender,
                    generation,
                    name: None,
                });
            }
        }
        None
    }

    /// Returns a connection once its response has started; it becomes ready for the next request
    /// when that response's body has been read.
    fn checkin(&self, key: &Arc<str>, connected: Connected) {
        if connected.sender.is_closed() {
            return;
        }
        let mut idle = self.lock();
        let pool = idle.entry(key.clone()).or_default();
        if pool.name.is_none() {
            pool.name = connected.name;
        }
        if pool.connections.len() >= MAX_IDLE_PER_BACKEND {
            pool.connections.remove(0);
        }
        pool.connections.push(IdleConnection {
            sender: connected.sender,
            since: Instant::now(),
            generation: connected.generation,
        });
    }

    async fn connect(&self, upstream: &Upstream) -> Result<Connected, UpstreamErrorKind> {
        let connecting = async {
            let (transport, generation, name) = self.open(upstream).await?;
            let sender = match transport {
                Transport::Tls(stream) => handshake(TokioIo::new(*stream)).await?,
                Transport::Plain(tcp) => handshake(TokioIo::new(tcp)).await?,
            };
            Ok(Connected {
                sender,
                generation,
                name,
            })
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| UpstreamErrorKind::ConnectTimeout)?
    }

    /// A connection to `upstream` (its DNS answer's generation, and its DNS entry): TCP, then
    /// TLS for `https://` and `wss://` endpoints. No bound on the time it takes: callers set one.
    async fn open(
        &self,
        upstream: &Upstream,
    ) -> Result<(Transport, u64, Option<Arc<ResolvedName>>), UpstreamErrorKind> {
        let (addresses, generation, name) = match upstream.address {
            Some(address) => (vec![SocketAddr::new(address, upstream.port)], 0, None),
            None => {
                let name = self.dns.name(&upstream.host);
                let (addresses, generation) = self
                    .dns
                    .addresses(&name)
                    .await
                    .map_err(UpstreamErrorKind::Resolve)?;
                let addresses = addresses
                    .iter()
                    .map(|address| SocketAddr::new(*address, upstream.port))
                    .collect();
                (addresses, generation, Some(name))
            }
        };
        let tcp = TcpStream::connect(&addresses[..])
            .await
            .map_err(|e| UpstreamErrorKind::Connect(Arc::new(e)))?;
        let _ = tcp.set_nodelay(true);
        if !upstream.tls {
            return Ok((Transport::Plain(tcp), generation, name));
        }
        let server_name = ServerName::try_from(upstream.host.clone())
            .map_err(|_| UpstreamErrorKind::TlsServerName)?;
        let connector = match &upstream.trust {
            Some(trust) => trust.connector(&self.tls)?,
            None => self.connector.clone(),
        };
        let stream = connector
            .connect(server_name, tcp)
            .await
            .map_err(|e| UpstreamErrorKind::Tls(Arc::new(e)))?;
        Ok((Transport::Tls(Box::new(stream)), generation, name))
    }

    /// A new connection to `upstream` for a WebSocket (never pooled), within the connect
    /// timeout.
    pub async fn open_websocket(&self, upstream: &Upstream) -> Result<Transport, UpstreamError> {
        match tokio::time::timeout(CONNECT_TIMEOUT, self.open(upstream)).await {
            Ok(Ok((transport, _, _))) => Ok(transport),
            Ok(Err(kind)) => Err(upstream.failed(kind)),
            Err(_) => Err(upstream.failed(UpstreamErrorKind::ConnectTimeout)),
        }
    }
}

/// A connection to a backend: plain TCP, or TLS over it.
pub enum Transport {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl tokio::io::AsyncRead for Transport {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => std::pin::Pin::new(tcp).poll_read(cx, buf),
            Transport::Tls(tls) => std::pin::Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Transport {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(tcp) => std::pin::Pin::new(tcp).poll_write(cx, buf),
            Transport::Tls(tls) => std::pin::Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => std::pin::Pin::new(tcp).poll_flush(cx),
            Transport::Tls(tls) => std::pin::Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => std::pin::Pin::new(tcp).poll_shutdown(cx),
            Transport::Tls(tls) => std::pin::Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Starts HTTP/1.1 on a connected stream; its driver runs as a task on this thread.
async fn handshake<T>(io: TokioIo<T>) -> Result<SendRequest<UpstreamBody>, UpstreamErrorKind>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| UpstreamErrorKind::Handshake(Arc::new(e)))?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "backend connection ended with an error");
        }
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed_once() {
        let up = Upstream::parse("https://backend.example:8443/api/v1/").unwrap();
        assert!(up.tls);
        assert_eq!((up.host.as_str(), up.port), ("backend.example", 8443));
        assert_eq!(up.authority(), "backend.example:8443");
        assert_eq!(
            up.request_target("/menu", Some("a=1")).unwrap(),
            "/api/v1/menu?a=1"
        );
        let root = Upstream::parse("http://[::1]").unwrap();
        assert_eq!((root.host.as_str(), root.port), ("::1", 80));
        assert_eq!(root.request_target("", None).unwrap(), "/");
        let refused = |url| Upstream::parse(url).unwrap_err().kind;
        assert!(matches!(refused("ftp://x/"), UpstreamErrorKind::Scheme));
        assert!(matches!(refused("not a url"), UpstreamErrorKind::NotAUrl));
        assert_eq!(
            Upstream::parse("ftp://x/").unwrap_err().to_string(),
            "endpoint ftp://x/: the scheme must be http or https (ws or wss for a WebSocket API)"
        );
    }
}
