//! The sharded (API traffic) listener over real sockets: HTTP/1.1 on plain connections, and over
//! TLS HTTP/1.1 or HTTP/2 as ALPN decides.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// Answers with the HTTP version the request came in.
async fn answer_version(
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let version = format!("{:?}", request.version());
    Ok(Response::new(Full::new(Bytes::from(version))))
}

async fn get_version<I>(io: I, http2: bool) -> String
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let request = || {
        Request::get("/")
            .header(http::header::HOST, "localhost")
            .body(Empty::<Bytes>::new())
            .expect("request")
    };
    let response = if http2 {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
                .await
                .expect("h2 handshake");
        tokio::spawn(connection);
        sender.send_request(request()).await.expect("h2 response")
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .expect("http/1.1 handshake");
        tokio::spawn(connection);
        sender.send_request(request()).await.expect("response")
    };
    let body = response.into_body().collect().await.expect("body");
    String::from_utf8_lossy(&body.to_bytes()).into_owned()
}

#[tokio::test]
async fn api_listeners_speak_http1_and_http2_by_alpn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let acceptor = tollgate_net::tls_acceptor(dir.path(), "localhost").expect("certificate");
    let shutdown = CancellationToken::new();
    let (plain, secure) = (free_addr(), free_addr());
    let mut serving = Vec::new();
    for (addr, tls) in [(plain, None), (secure, Some(acceptor))] {
        serving.push(tokio::spawn(
            tollgate_net::serve_sharded(
                "test",
                addr,
                tls,
                2,
                || hyper::service::service_fn(answer_version),
                shutdown.clone(),
            )
            .expect("listener"),
        ));
    }

    let tcp = TcpStream::connect(plain).await.expect("connect");
    assert_eq!(get_version(tcp, false).await, "HTTP/1.1");

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.path().join("tls/cert.pem")).expect("cert") {
        roots.add(cert.expect("cert")).expect("trusted");
    }
    for (alpn, expected) in [(&b"h2"[..], "HTTP/2.0"), (&b"http/1.1"[..], "HTTP/1.1")] {
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        let tcp = TcpStream::connect(secure).await.expect("connect");
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
            .expect("TLS handshake");
        assert_eq!(get_version(tls, alpn == b"h2").await, expected);
    }

    shutdown.cancel();
    for listener in serving {
        listener.await.expect("drained");
    }
}
