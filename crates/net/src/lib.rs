//! Listeners for every HTTP-speaking component: plain and TLS accept loops over hyper (HTTP/1.1
//! and HTTP/2), graceful shutdown (stop accepting, let in-flight requests finish), and the
//! self-signed certificate a fresh installation serves HTTPS with.
//!
//! Every listener holds its clients to the same [`Limits`]: a deadline for each request head,
//! an idle keep-alive timeout, a limit on silence while a request is in flight, and a bound on
//! open connections (past it, new connections wait in the kernel's backlog). These are enforced
//! per connection by [`watch`], without a timer per request. Requests with a missing, repeated
//! or malformed `Host` header get 400, and a handler that panics gets its client a 500.

mod clock;
mod watch;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as AutoBuilder;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
pub use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::watch::{ListenerState, Watch, Watched, WatchedIo};
pub use crate::watch::{WatchedBody, WatchedFuture};

/// How long in-flight requests may take to finish after shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to finish a TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a listener allows its clients (`[transport]` in `deployment.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From the accept, or from the first byte of a request after an idle spell, until its head
    /// is complete.
    pub request_head_timeout: Duration,
    /// How long a connection may stay open with no request in flight.
    pub keep_alive_timeout: Duration,
    /// How long a connection with a request in flight may go with nothing read or written
    /// (WSO2's `http.socket.timeout`).
    pub socket_timeout: Duration,
    /// Open connections per listener (all its serving threads together).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_head_timeout: Duration::from_secs(20),
            keep_alive_timeout: Duration::from_secs(60),
            socket_timeout: Duration::from_secs(180),
            max_connections: 10_000,
        }
    }
}

/// Which of WSO2's error bodies a listener answers with when it refuses a request itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// The gateway's: `{"code":"400","message":…,"description":…}`.
    Gateway,
    /// The REST APIs': `{"code":400,"message":…,"description":…,"moreInfo":"","error":[]}`.
    Rest,
}

impl ErrorStyle {
    fn response(self, status: StatusCode, description: &str) -> Response<Full<Bytes>> {
        let message = status.canonical_reason().unwrap_or("Error");
        let body = match self {
            ErrorStyle::Gateway => serde_json::json!({
                "code": status.as_u16().to_string(), "message": message, "description": description,
            }),
            ErrorStyle::Rest => serde_json::json!({
                "code": status.as_u16(), "message": message, "description": description,
                "moreInfo": "", "error": [],
            }),
        };
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::BAD_REQUEST {
            // The connection's framing may be in doubt; do not reuse it.
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// Raises this process's soft limit on open files to its hard limit (a gateway holds two
/// descriptors per proxied request); returns the limit now in force.
pub fn raise_open_files_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(error = %err, "cannot raise the open-files limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS certificate {path}: {reason}")]
    Certificate { path: String, reason: String },
}

/// Binds a TCP listener, naming the address when it fails.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, NetError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| NetError::Bind { addr, source })
}

/// Loads `tls/cert.pem` and `tls/key.pem` from the data folder, generating a self-signed pair
/// for `hostname` (and localhost) on first start.
pub fn tls_acceptor(data_dir: &Path, hostname: &str) -> Result<TlsAcceptor, NetError> {
    let dir = data_dir.join("tls");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    let err = |path: &Path, reason: String| NetError::Certificate {
        path: path.display().to_string(),
        reason,
    };
    if !cert_path.exists() || !key_path.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| err(&dir, e.to_string()))?;
        let mut names = vec![
            hostname.to_string(),
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ];
        names.dedup();
        let generated = rcgen::generate_simple_self_signed(names)
            .map_err(|e| err(&cert_path, e.to_string()))?;
        write_private(&key_path, generated.key_pair.serialize_pem().as_bytes())
            .map_err(|e| err(&key_path, e.to_string()))?;
        std::fs::write(&cert_path, generated.cert.pem())
            .map_err(|e| err(&cert_path, e.to_string()))?;
        tracing::info!(path = %cert_path.display(), "generated a self-signed TLS certificate");
    }
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| err(&cert_path, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| err(&key_path, e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| err(&cert_path, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| err(&cert_path, e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(contents)
}

/// How a listener speaks HTTP.
#[derive(Clone)]
enum Http {
    /// HTTP/1.1 with upgrades (WebSocket), or HTTP/2 detected from the first bytes: for the
    /// management, key manager and hub listeners.
    Auto(AutoBuilder<TokioExecutor>),
    /// HTTP/1.1, or HTTP/2 when TLS negotiates it by ALPN — no connection pays for sniffing its
    /// first bytes, and none is upgraded: for API traffic (as WSO2's gateway, HTTP/1.1 on the
    /// plain port).
    Direct {
        http1: hyper::server::conn::http1::Builder,
        http2: hyper::server::conn::http2::Builder<TokioExecutor>,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a listener serves: a hyper service it can clone per connection and move across tasks.
pub trait HttpService:
    Service<
        Request<Incoming>,
        Response = Response<Self::Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
    type Body: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static;
}

impl<S, B> HttpService for S
where
    S: Service<
            Request<Incoming>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static,
    B: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static,
{
    type Body = B;
}

/// How one connection ended, for the debug log.
enum Ended {
    Closed(Result<(), BoxError>),
    Cut(&'static str),
}

impl Http {
    /// Serves one connection until it closes, or its watchdog cuts it (a retired connection,
    /// idle or at shutdown, finishes its requests first).
    async fn serve_io<I, S>(&self, io: I, watch: Arc<Watch>, h2: bool, service: Watched<S>) -> Ended
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        S: HttpService,
    {
        let io = TokioIo::new(io);
        match self {
            Http::Auto(builder) => {
                let conn = pin!(builder.serve_connection_with_upgrades(io, service));
                drive(conn, &watch, |c| c.graceful_shutdown()).await
            }
            Http::Direct { http2, .. } if h2 => {
                let conn = pin!(http2.serve_connection(io, service));
                drive(conn, &watch, |c| c.graceful_shutdown()).await
            }
            Http::Direct { http1, .. } => {
                // Upgrades: a gateway relays WebSocket APIs' connections.
                let conn = pin!(http1.serve_connection(io, service).with_upgrades());
                drive(conn, &watch, |c| c.graceful_shutdown()).await
            }
        }
    }
}

/// Runs a hyper connection under its watchdog's orders: retired gracefully when told (idle too
/// long, or the server shuts down), cut when told (a request head overdue, a busy connection
/// silent too long). Per wake-up this costs one atomic load beside the connection's own poll.
async fn drive<C, E>(
    mut conn: std::pin::Pin<&mut C>,
    watch: &Watch,
    retire: impl Fn(std::pin::Pin<&mut C>),
) -> Ended
where
    C: std::future::Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    let mut retiring = false;
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(result) = conn.as_mut().poll(cx) {
            return std::task::Poll::Ready(Ended::Closed(result.map_err(Into::into)));
        }
        match watch.poll_order(cx) {
            watch::ORDER_NONE => std::task::Poll::Pending,
            watch::ORDER_RETIRE => {
                if !retiring {
                    retiring = true;
                    retire(conn.as_mut());
                    // Let the connection act on it (an idle HTTP/1.1 connection closes at once).
                    cx.waker().wake_by_ref();
                }
                std::task::Poll::Pending
            }
            cut => std::task::Poll::Ready(Ended::Cut(Watch::cut_reason(cut))),
        }
    })
    .await
}

/// One listening socket's settings, shared by its connections.
#[derive(Clone)]
struct Listener {
    name: &'static str,
    tls: Option<TlsAcceptor>,
    http: Http,
    limits: Limits,
    style: ErrorStyle,
    /// Whether requests carry the client's address ([`tollgate_guard::ClientAddr`]): the
    /// management listeners' do, for failure limits; API traffic gets it from its
    /// per-connection service instead (see [`serve_sharded`]).
    tell_client_addr: bool,
    /// Permits for open connections, shared by all serving threads of the listener.
    connections: Arc<Semaphore>,
    /// What its connections share (the shutdown flag).
    state: Arc<ListenerState>,
}

/// Serves `service` on `listener` (over TLS when `tls` is given) until `shutdown` fires, then
/// stops accepting and waits up to [`DRAIN_TIMEOUT`] for open connections to finish. For the
/// management, key manager and event hub ports: HTTP/1.1 with upgrades, or HTTP/2.
pub async fn serve<S>(
    name: &'static str,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    service: S,
    limits: Limits,
    shutdown: CancellationToken,
) where
    S: HttpService,
{
    let settings = Listener {
        name,
        tls,
        http: Http::Auto(AutoBuilder::new(TokioExecutor::new())),
        limits,
        style: ErrorStyle::Rest,
        tell_client_addr: true,
        connections: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        state: Default::default(),
    };
    settings
        .run(listener, move |_| service.clone(), shutdown)
        .await
}

impl Listener {
    /// Accepts connections until `shutdown`; each is served by `service_for(peer)`.
    async fn run<S, M>(self, listener: TcpListener, service_for: M, shutdown: CancellationToken)
    where
        S: HttpService,
        M: Fn(SocketAddr) -> S,
    {
        let name = self.name;
        let tracker = TaskTracker::new();
        let accept_failures = tollgate_guard::Every::new(Duration::from_secs(1));
        let mut backoff = Duration::from_millis(10);
        'accepting: loop {
            let (stream, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => {
                        backoff = Duration::from_millis(10);
                        pair
                    }
                    Err(err) => {
                        // Out of file descriptors and the like: back off instead of spinning,
                        // and say so at most once a second.
                        if let Some(held_back) = accept_failures.ready() {
                            tracing::warn!(listener = name, error = %err, held_back, "accept failed");
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                        continue;
                    }
                },
            };
            // At the connection limit the newcomer is held (the next ones wait in the backlog)
            // while idle keep-alive connections are retired to make room, every 100 ms until
            // a place frees.
            let permit = match self.connections.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => loop {
                    watch::retire_idle(&self.state);
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'accepting,
                        permit = self.connections.clone().acquire_owned() => match permit {
                            Ok(permit) => break permit,
                            Err(_) => break 'accepting,
                        },
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let (settings, service) = (self.clone(), service_for(peer));
            tracker.spawn(async move {
                let ended = settings.connection(stream, peer, service).await;
                drop(permit);
                match ended {
                    Some(Ended::Closed(Err(err))) => {
                        tracing::debug!(listener = name, %peer, error = %err, "connection ended with an error")
                    }
                    Some(Ended::Cut(why)) => {
                        tracing::debug!(listener = name, %peer, why, "connection cut")
                    }
                    _ => {}
                }
            });
        }
        drop(listener);
        tracker.close();
        watch::retire_all(&self.state);
        tracing::info!(listener = name, "stopped accepting; draining connections");
        if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                listener = name,
                "connections still open after the drain timeout"
            );
        }
    }

    /// One connection, from its TLS handshake (if any) to its end; `None` if the handshake
    /// failed or took too long.
    async fn connection<S>(&self, stream: TcpStream, peer: SocketAddr, service: S) -> Option<Ended>
    where
        S: HttpService,
    {
        let client = self
            .tell_client_addr
            .then_some(tollgate_guard::ClientAddr(peer));
        // The deadlines watch the bytes on the socket (under TLS, if any), from the accept on.
        let (watch, _registration) = Watch::register(&self.state, self.limits);
        let io = WatchedIo::new(stream, watch.clone());
        let service = Watched::new(
            service,
            watch.clone(),
            client,
            self.tls.is_some(),
            self.style,
        );
        match &self.tls {
            Some(acceptor) => {
                let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io));
                let stream = match handshake.await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => {
                        tracing::debug!(listener = self.name, %peer, error = %err, "TLS handshake failed");
                        return None;
                    }
                    Err(_) => return None,
                };
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                if h2 {
                    watch.without_head_rule();
                }
                Some(self.http.serve_io(stream, watch, h2, service).await)
            }
            None => Some(self.http.serve_io(io, watch, false, service).await),
        }
    }
}

/// Serves on `shards` threads, each with a single-threaded runtime, its own listening socket on
/// `addr` (`SO_REUSEPORT`: the kernel spreads connections over them) and its own service
/// factory from `make_service`, which makes each connection's service knowing the client's
/// address (so no request carries it as an extension: API traffic allocates nothing for it). A connection and everything it does then stay on one thread, as in nginx's
/// worker model. Connections speak HTTP/1.1, or HTTP/2 when TLS negotiates it, and are never
/// upgraded (this serves API traffic). The shards share one connection limit. Binding happens
/// before this returns; the future completes once every shard has drained after `shutdown`.
pub fn serve_sharded<S, F, M>(
    name: &'static str,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    shards: usize,
    make_service: F,
    limits: Limits,
    shutdown: CancellationToken,
) -> Result<impl std::future::Future<Output = ()>, NetError>
where
    F: Fn() -> M + Send + Sync + 'static,
    M: Fn(SocketAddr) -> S + 'static,
    S: HttpService,
{
    let bind_err = |source: std::io::Error| NetError::Bind { addr, source };
    let mut listeners = Vec::with_capacity(shards);
    for _ in 0..shards.max(1) {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .map_err(bind_err)?;
        socket.set_reuseaddr(true).map_err(bind_err)?;
        socket.set_reuseport(true).map_err(bind_err)?;
        socket.bind(addr).map_err(bind_err)?;
        listeners.push(
            socket
                .listen(4096)
                .and_then(|l| l.into_std())
                .map_err(bind_err)?,
        );
    }
    let settings = Listener {
        name,
        tls,
        http: Http::Direct {
            http1: hyper::server::conn::http1::Builder::new(),
            http2: hyper::server::conn::http2::Builder::new(TokioExecutor::new()),
        },
        limits,
        style: ErrorStyle::Gateway,
        tell_client_addr: false,
        connections: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        state: Default::default(),
    };
    let make_service = Arc::new(make_service);
    let mut threads = Vec::with_capacity(listeners.len());
    for (i, listener) in listeners.into_iter().enumerate() {
        let (settings, make_service, shutdown) =
            (settings.clone(), make_service.clone(), shutdown.clone());
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{i}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(err) => {
                        tracing::error!(listener = name, error = %err, "cannot start a serving thread");
                        return;
                    }
                };
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => settings.run(listener, make_service(), shutdown).await,
                        Err(err) => tracing::error!(listener = name, error = %err, "cannot register the listener"),
                    }
                });
            })
            .map_err(bind_err)?;
        threads.push(thread);
    }
    Ok(async move {
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    })
}
