//! Listeners for every HTTP-speaking component: plain and TLS accept loops over hyper (HTTP/1.1
//! and HTTP/2), graceful shutdown (stop accepting, let in-flight requests finish), and the
//! self-signed certificate a fresh installation serves HTTPS with.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as AutoBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
pub use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a client may take to send its first bytes, and (management listeners) a request's
/// headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How long in-flight requests may take to finish after shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

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
    type Body: Body<Data: Send, Error: Into<BoxError>> + Send + 'static;
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
    B: Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
{
    type Body = B;
}

impl Http {
    async fn serve_io<I, S>(
        &self,
        io: TokioIo<I>,
        h2: bool,
        service: S,
        watcher: hyper_util::server::graceful::Watcher,
    ) -> Result<(), BoxError>
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        S: HttpService,
    {
        match self {
            Http::Auto(builder) => {
                let conn = builder.serve_connection_with_upgrades(io, service);
                watcher.watch(conn.into_owned()).await
            }
            Http::Direct { http2, .. } if h2 => watcher
                .watch(http2.serve_connection(io, service))
                .await
                .map_err(Into::into),
            Http::Direct { http1, .. } => watcher
                .watch(http1.serve_connection(io, service))
                .await
                .map_err(Into::into),
        }
    }
}

/// Serves `service` on `listener` (over TLS when `tls` is given) until `shutdown` fires, then
/// stops accepting and waits up to [`DRAIN_TIMEOUT`] for open connections to finish.
pub async fn serve<S>(
    name: &'static str,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    service: S,
    shutdown: CancellationToken,
) where
    S: HttpService,
{
    let mut builder = AutoBuilder::new(TokioExecutor::new());
    // A client that opens a connection and sends its headers slowly (or never) is cut off, as by
    // nginx's client_header_timeout. (Not on the gateway's listeners: hyper arms this timer on
    // every request, +9% instructions per proxied request.)
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let http = Http::Auto(builder);
    serve_with(name, listener, tls, http, service, shutdown).await
}

async fn serve_with<S>(
    name: &'static str,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    http: Http,
    service: S,
    shutdown: CancellationToken,
) where
    S: HttpService,
{
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(listener = name, error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let http = http.clone();
        let service = service.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let result = match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(stream)) => {
                            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                            http.serve_io(TokioIo::new(stream), h2, service, watcher)
                                .await
                        }
                        Ok(Err(err)) => {
                            tracing::debug!(listener = name, %peer, error = %err, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    }
                }
                None => {
                    // A client that connects and sends nothing is let go (over TLS the
                    // handshake's timeout does this).
                    if tokio::time::timeout(HEADER_READ_TIMEOUT, stream.readable())
                        .await
                        .is_err()
                    {
                        return;
                    }
                    http.serve_io(TokioIo::new(stream), false, service, watcher)
                        .await
                }
            };
            if let Err(err) = result {
                tracing::debug!(listener = name, %peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(listener = name, "stopped accepting; draining connections");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            listener = name,
            "connections still open after the drain timeout"
        );
    }
}

/// Serves on `shards` threads, each with a single-threaded runtime, its own listening socket on
/// `addr` (`SO_REUSEPORT`: the kernel spreads connections over them) and its own service from
/// `make_service`. A connection and everything it does then stay on one thread, as in nginx's
/// worker model. Connections speak HTTP/1.1, or HTTP/2 when TLS negotiates it, and are never
/// upgraded (this serves API traffic). Binding happens before this returns; the future completes
/// once every shard has drained after `shutdown`.
pub fn serve_sharded<S, F>(
    name: &'static str,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    shards: usize,
    make_service: F,
    shutdown: CancellationToken,
) -> Result<impl std::future::Future<Output = ()>, NetError>
where
    F: Fn() -> S + Send + Sync + 'static,
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
    let make_service = Arc::new(make_service);
    let mut threads = Vec::with_capacity(listeners.len());
    for (i, listener) in listeners.into_iter().enumerate() {
        let (tls, make_service, shutdown) = (tls.clone(), make_service.clone(), shutdown.clone());
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
                        Ok(listener) => {
                            let http = Http::Direct {
                                http1: hyper::server::conn::http1::Builder::new(),
                                http2: hyper::server::conn::http2::Builder::new(TokioExecutor::new()),
                            };
                            serve_with(name, listener, tls, http, make_service(), shutdown).await
                        }
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
