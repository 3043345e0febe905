//! How Tollgate nodes reach each other: the node credential every node presents (configured as
//! `[apim.event_hub] username/password`, never the admin's), the TLS trust for `wss://` and
//! `https://` between nodes, and a WebSocket client that speaks the hub's [`wire`] protocol.
//!
//! [`wire`]: tollgate_model::wire

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use http::HeaderMap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tollgate_model::wire::{Frame, FrameError};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("invalid hub URL '{0}': use ws://HOST:PORT or wss://HOST:PORT")]
    BadUrl(String),
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("connection closed")]
    Closed,
    #[error("send failed: {0}")]
    Send(String),
}

/// Why the TLS trust of `[truststore] file_name` could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file cannot be read, or is not PEM.
    #[error("trusted certificates {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// A certificate in it is not one rustls can trust.
    #[error("trusted certificates {}: {source}", path.display())]
    Certificate {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    /// rustls refused the client settings themselves.
    #[error("TLS client settings: {0}")]
    Settings(#[source] rustls::Error),
}

/// The credential nodes present to each other (HTTP Basic).
#[derive(Clone)]
pub struct NodeCredential {
    pub username: String,
    password: String,
}

impl std::fmt::Debug for NodeCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCredential")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl NodeCredential {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        NodeCredential {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header value to send.
    pub fn authorization(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// Checks a request's `Authorization` header; the error says why, for the log.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or("no node credential presented")?
            .to_str()
            .map_err(|_| "unreadable Authorization header")?;
        if tollgate_guard::constant_time_eq(value.as_bytes(), self.authorization().as_bytes()) {
            Ok(())
        } else {
            Err("wrong node credential")
        }
    }
}

/// The door every node-only endpoint shares (the hub's WebSockets, the internal data API): the
/// node credential, checked under the per-source failure limits, and refusals logged at most
/// once a second so a flood of bad connections cannot fill the disk.
pub struct NodeGate {
    credential: NodeCredential,
    sources: Arc<tollgate_guard::FailureGuard<tollgate_guard::SourceKey>>,
    warnings: tollgate_guard::Every,
}

/// Why a node was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRefusal {
    pub status: http::StatusCode,
    pub reason: &'static str,
    pub retry_after_secs: Option<u64>,
}

impl NodeGate {
    pub fn new(
        credential: NodeCredential,
        sources: Arc<tollgate_guard::FailureGuard<tollgate_guard::SourceKey>>,
    ) -> NodeGate {
        NodeGate {
            credential,
            sources,
            warnings: tollgate_guard::Every::new(Duration::from_secs(1)),
        }
    }

    /// Lets a node in, or says why not. `endpoint` names the door in the log.
    pub async fn admit(
        &self,
        headers: &HeaderMap,
        client: Option<tollgate_guard::ClientAddr>,
        endpoint: &'static str,
    ) -> Result<(), NodeRefusal> {
        let source = client.map(|c| tollgate_guard::SourceKey::from(c.0.ip()));
        if let Some(source) = &source {
            if let Err(left) = self.sources.wait_turn(source).await {
                return Err(self.refuse(
                    http::StatusCode::TOO_MANY_REQUESTS,
                    "too many failed attempts from this address",
                    Some(left.as_secs().max(1)),
                    client,
                    endpoint,
                ));
            }
        }
        match self.credential.check(headers) {
            Ok(()) => Ok(()),
            Err(reason) => {
                if let Some(source) = source {
                    self.sources.failed(source);
                }
                Err(self.refuse(
                    http::StatusCode::UNAUTHORIZED,
                    reason,
                    None,
                    client,
                    endpoint,
                ))
            }
        }
    }

    fn refuse(
        &self,
        status: http::StatusCode,
        reason: &'static str,
        retry_after_secs: Option<u64>,
        client: Option<tollgate_guard::ClientAddr>,
        endpoint: &'static str,
    ) -> NodeRefusal {
        if let Some(held_back) = self.warnings.ready() {
            let peer = client.map(|c| c.0.to_string()).unwrap_or_default();
            tracing::warn!(endpoint, reason, %peer, held_back, "refused a node connection");
        }
        NodeRefusal {
            status,
            reason,
            retry_after_secs,
        }
    }
}

/// TLS client settings (rustls with ring, its safe protocol versions) that trust `roots` plus
/// the PEM certificates in `trusted` (`[truststore] file_name`): the one reader of the trust
/// store, for links between nodes (no other roots) and for a gateway's backends (the public
/// web's roots too).
pub fn client_tls(
    roots: rustls::RootCertStore,
    trusted: Option<&Path>,
) -> Result<rustls::ClientConfig, TrustError> {
    client_tls_with_roots(trust_roots(roots, trusted)?)
}

/// `roots` with the PEM certificates of `trusted` (if any) added.
pub fn trust_roots(
    mut roots: rustls::RootCertStore,
    trusted: Option<&Path>,
) -> Result<rustls::RootCertStore, TrustError> {
    if let Some(path) = trusted {
        let read = |source| TrustError::Read {
            path: path.to_path_buf(),
            source,
        };
        for cert in CertificateDer::pem_file_iter(path).map_err(read)? {
            roots
                .add(cert.map_err(read)?)
                .map_err(|source| TrustError::Certificate {
                    path: path.to_path_buf(),
                    source,
                })?;
        }
    }
    Ok(roots)
}

/// TLS client settings trusting exactly `roots`.
pub fn client_tls_with_roots(
    roots: rustls::RootCertStore,
) -> Result<rustls::ClientConfig, TrustError> {
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(TrustError::Settings)?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

/// TLS client settings for links between nodes, trusting only the PEM certificates in `trusted`
/// (nodes commonly have self-signed certificates), or none when no file is configured (then
/// `wss://` cannot be used).
pub fn tls_client_config(
    trusted: Option<&Path>,
) -> Result<Option<Arc<rustls::ClientConfig>>, TrustError> {
    let Some(path) = trusted else { return Ok(None) };
    let config = client_tls(rustls::RootCertStore::empty(), Some(path))?;
    Ok(Some(Arc::new(config)))
}

/// One open WebSocket to a hub, sending and receiving [`Frame`]s.
pub struct Link {
    stream: Box<dyn LinkIo>,
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

trait LinkIo: Send {
    fn send_text(&mut self, text: String) -> BoxFuture<'_, Result<(), LinkError>>;
    fn next_text(&mut self) -> BoxFuture<'_, Option<Result<String, LinkError>>>;
}

impl<S> LinkIo for tokio_tungstenite::WebSocketStream<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    fn send_text(&mut self, text: String) -> BoxFuture<'_, Result<(), LinkError>> {
        Box::pin(async move {
            self.send(Message::text(text))
                .await
                .map_err(|e| LinkError::Send(e.to_string()))
        })
    }

    fn next_text(&mut self) -> BoxFuture<'_, Option<Result<String, LinkError>>> {
        Box::pin(async move {
            loop {
                match self.next().await? {
                    Ok(Message::Text(text)) => return Some(Ok(text.to_string())),
                    Ok(Message::Close(_)) => return None,
                    Ok(_) => continue,
                    Err(e) => return Some(Err(LinkError::Send(e.to_string()))),
                }
            }
        })
    }
}

impl Link {
    /// Opens `path` on the hub at `url` (`ws://host:port` or `wss://host:port`), presenting `credential`.
    pub async fn connect(
        url: &str,
        path: &str,
        credential: &NodeCredential,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> Result<Link, LinkError> {
        let (secure, rest) = if let Some(rest) = url.strip_prefix("wss://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("ws://") {
            (false, rest)
        } else {
            return Err(LinkError::BadUrl(url.to_string()));
        };
        let authority = rest.trim_end_matches('/').split('/').next().unwrap_or("");
        let host = authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
            .trim_matches(['[', ']']);
        let port_default = if secure { 443 } else { 80 };
        let addr = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:{port_default}")
        };
        let full = format!("{}://{authority}{path}", if secure { "wss" } else { "ws" });
        let connect_err = |reason: String| LinkError::Connect {
            url: url.to_string(),
            reason,
        };
        let mut request = full
            .as_str()
            .into_client_request()
            .map_err(|e| connect_err(e.to_string()))?;
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            credential
                .authorization()
                .parse()
                .map_err(|_| connect_err("bad credential".into()))?,
        );
        let tcp = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&addr))
            .await
            .map_err(|_| connect_err("timed out".into()))?
            .map_err(|e| connect_err(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn LinkIo> = if secure {
            let config = tls.ok_or_else(|| {
                connect_err("wss:// needs trusted certificates ([truststore] file_name)".into())
            })?;
            let name =
                ServerName::try_from(host.to_string()).map_err(|e| connect_err(e.to_string()))?;
            let tls_stream = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| connect_err(e.to_string()))?;
            let (ws, _) = tokio_tungstenite::client_async(request, tls_stream)
                .await
                .map_err(|e| connect_err(e.to_string()))?;
            Box::new(ws)
        } else {
            let (ws, _) = tokio_tungstenite::client_async(request, tcp)
                .await
                .map_err(|e| connect_err(e.to_string()))?;
            Box::new(ws)
        };
        Ok(Link { stream })
    }

    pub async fn send(&mut self, frame: &Frame) -> Result<(), LinkError> {
        let text = serde_json::to_string(frame).map_err(|e| LinkError::Send(e.to_string()))?;
        self.stream.send_text(text).await
    }

    /// The next frame; `None` when the connection closed. Frames that do not parse are logged and skipped.
    pub async fn recv(&mut self) -> Option<Result<Frame, LinkError>> {
        loop {
            match self.stream.next_text().await? {
                Ok(text) => match Frame::decode(&text) {
                    Ok(frame) => return Some(Ok(frame)),
                    Err(FrameError::UnknownVersion(version)) => {
                        tracing::warn!(version, "hub frame of an unknown protocol version ignored")
                    }
                    Err(FrameError::Malformed(err)) => {
                        tracing::warn!(error = %err, "malformed hub frame ignored")
                    }
                },
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

/// Exponential backoff between reconnection attempts: 100 ms doubling to 5 s.
pub struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Duration::from_millis(100))
    }
}

impl Backoff {
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        delay
    }

    pub fn reset(&mut self) {
        self.0 = Duration::from_millis(100);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_store_is_read_once_with_one_error() {
        // No file: the roots given, nothing else.
        assert!(client_tls(rustls::RootCertStore::empty(), None).is_ok());
        assert!(tls_client_config(None).unwrap().is_none());
        let missing =
            std::env::temp_dir().join(format!("tollgate-no-such-{}.pem", std::process::id()));
        let err = tls_client_config(Some(&missing)).unwrap_err();
        assert!(matches!(err, TrustError::Read { .. }), "{err}");
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
        // A PEM block that is no certificate.
        let bad = std::env::temp_dir().join(format!("tollgate-bad-{}.pem", std::process::id()));
        std::fs::write(
            &bad,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = client_tls(rustls::RootCertStore::empty(), Some(&bad)).unwrap_err();
        let _ = std::fs::remove_file(&bad);
        assert!(matches!(err, TrustError::Certificate { .. }), "{err}");
    }
}
