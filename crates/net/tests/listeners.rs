//! The sharded (API traffic) listener over real sockets: HTTP/1.1 on plain connections, and over
//! TLS HTTP/1.1 or HTTP/2 as ALPN decides.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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
                || |_| hyper::service::service_fn(answer_version),
                tollgate_net::Limits::default(),
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

/// Short deadlines, so the tests take seconds.
fn short_limits(max_connections: usize) -> tollgate_net::Limits {
    tollgate_net::Limits {
        request_head_timeout: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(2),
        socket_timeout: Duration::from_secs(3),
        max_connections,
    }
}

/// Answers `/panic` by panicking, `/slow` after 10 s, `/hold` after 1 s, anything else at once.
async fn answer(
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match request.uri().path() {
        "/panic" => panic!("a handler bug"),
        "/slow" => tokio::time::sleep(Duration::from_secs(10)).await,
        "/hold" => tokio::time::sleep(Duration::from_secs(1)).await,
        _ => {}
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// A plain sharded listener (API traffic) and a management one on fresh ports; they stop when
/// the guard is dropped (also when a test fails: the serving threads must not outlive it).
async fn listeners(
    limits: tollgate_net::Limits,
) -> (SocketAddr, SocketAddr, tokio_util::sync::DropGuard) {
    let shutdown = CancellationToken::new();
    let sharded = free_addr();
    tokio::spawn(
        tollgate_net::serve_sharded(
            "test-gateway",
            sharded,
            None,
            2,
            || |_| hyper::service::service_fn(answer),
            limits,
            shutdown.clone(),
        )
        .expect("listener"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let management = listener.local_addr().expect("address");
    tokio::spawn(tollgate_net::serve(
        "test-management",
        listener,
        None,
        hyper::service::service_fn(answer),
        limits,
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    (sharded, management, shutdown.drop_guard())
}

/// Seconds until the server closes `stream` (reads until EOF or reset), sending `trickle` every
/// `every` meanwhile if given.
async fn held_for(mut stream: TcpStream, trickle: Option<(&[u8], Duration)>) -> f64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = std::time::Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        let read = match trickle {
            Some((bytes, every)) => {
                match tokio::time::timeout(every, stream.read(&mut buf)).await {
                    Ok(read) => read,
                    Err(_) => {
                        if stream.write_all(bytes).await.is_err() {
                            break;
                        }
                        continue;
                    }
                }
            }
            None => stream.read(&mut buf).await,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never let go");
    }
    started.elapsed().as_secs_f64()
}

#[tokio::test]
async fn silent_slow_and_idle_clients_are_let_go() {
    use tokio::io::AsyncWriteExt;
    let (sharded, management, _shutdown) = listeners(short_limits(100)).await;
    for addr in [sharded, management] {
        // Silent from the start: the head deadline (1 s).
        let silent = TcpStream::connect(addr).await.expect("connect");
        let held = held_for(silent, None).await;
        assert!((0.9..8.0).contains(&held), "silent held {held} s on {addr}");

        // Part of a head, then nothing.
        let mut partial = TcpStream::connect(addr).await.expect("connect");
        partial
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        let held = held_for(partial, None).await;
        assert!(
            (0.9..8.0).contains(&held),
            "partial held {held} s on {addr}"
        );

        // A header line every 300 ms: still cut at the head deadline, not kept alive by it.
        let mut trickle = TcpStream::connect(addr).await.expect("connect");
        trickle
            .write_all(b"GET / HTTP/1.1\r\n")
            .await
            .expect("write");
        let held = held_for(
            trickle,
            Some((b"X-Slow: 1\r\n", Duration::from_millis(300))),
        )
        .await;
        assert!(
            (0.9..8.0).contains(&held),
            "trickle held {held} s on {addr}"
        );

        // A complete request, answered, then idle: the keep-alive timeout (2 s).
        let mut idle = TcpStream::connect(addr).await.expect("connect");
        idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let held = held_for(idle, None).await;
        assert!((1.9..10.0).contains(&held), "idle held {held} s on {addr}");
    }
}

#[tokio::test]
async fn a_busy_connection_is_not_cut_by_the_head_deadline() {
    let (sharded, _, _shutdown) = listeners(short_limits(100)).await;
    // `/slow` answers after 10 s, past every deadline but the socket timeout (3 s of silence):
    // the request is cut by that, not by the 1 s head deadline.
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        reqwest_like_get(sharded, "/slow", &["Host: x"]),
    )
    .await
    .expect("ended");
    let held = started.elapsed().as_secs_f64();
    assert!(result.is_none(), "no answer expected");
    assert!((2.9..12.0).contains(&held), "busy connection held {held} s");
}

/// Sends one GET with `headers` (raw lines) and returns the status line, or `None` if the server
/// closed the connection first.
async fn reqwest_like_get(addr: SocketAddr, path: &str, headers: &[&str]) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("GET {path} HTTP/1.1\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                response.extend_from_slice(&buf[..n]);
                if response.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    text.lines()
        .next()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
}

#[tokio::test]
async fn host_headers_and_panics_are_answered() {
    let (sharded, management, _shutdown) = listeners(short_limits(100)).await;
    for addr in [sharded, management] {
        let two = reqwest_like_get(addr, "/", &["Host: a", "Host: b"]).await;
        assert_eq!(two.as_deref(), Some("HTTP/1.1 400 Bad Request"), "{addr}");
        let none = reqwest_like_get(addr, "/", &[]).await;
        assert_eq!(none.as_deref(), Some("HTTP/1.1 400 Bad Request"), "{addr}");
        let bad = reqwest_like_get(addr, "/", &["Host: user@evil"]).await;
        assert_eq!(bad.as_deref(), Some("HTTP/1.1 400 Bad Request"), "{addr}");
        let ok = reqwest_like_get(addr, "/", &["Host: localhost:8280"]).await;
        assert_eq!(ok.as_deref(), Some("HTTP/1.1 200 OK"), "{addr}");
        let panicked = reqwest_like_get(addr, "/panic", &["Host: x"]).await;
        assert_eq!(
            panicked.as_deref(),
            Some("HTTP/1.1 500 Internal Server Error"),
            "{addr}"
        );
        // The listener still serves.
        let ok = reqwest_like_get(addr, "/", &["Host: x"]).await;
        assert_eq!(ok.as_deref(), Some("HTTP/1.1 200 OK"), "{addr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_wait_for_a_free_place() {
    let (sharded, management, _shutdown) = listeners(short_limits(3)).await;
    for addr in [sharded, management] {
        // Six clients at once, each holding its connection for a 1 s request: with three
        // places, at most three are served at a time, so the last answer cannot come before 2 s
        // (without the limit, all six would be answered after 1 s).
        let started = std::time::Instant::now();
        let clients: Vec<_> = (0..6)
            .map(|_| tokio::spawn(reqwest_like_get(addr, "/hold", &["Host: x"])))
            .collect();
        for client in clients {
            let answer = client.await.expect("client");
            assert_eq!(answer.as_deref(), Some("HTTP/1.1 200 OK"), "{addr}");
        }
        let took = started.elapsed().as_secs_f64();
        assert!(
            took >= 1.9,
            "six 1 s requests through three places took {took} s on {addr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_limit_idle_connections_make_room() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = tollgate_net::Limits {
        keep_alive_timeout: Duration::from_secs(30),
        ..short_limits(3)
    };
    let (sharded, management, _shutdown) = listeners(limits).await;
    for addr in [sharded, management] {
        // Three clients each make a request and then keep their connection, idle.
        let mut idle = Vec::new();
        for _ in 0..3 {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("send");
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).await.expect("answer");
            assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
            idle.push(stream);
        }
        // A fourth client is served long before the 30 s keep-alive timeout: the idle ones
        // are retired to make room.
        let answer = tokio::time::timeout(
            Duration::from_secs(15),
            reqwest_like_get(addr, "/", &["Host: x"]),
        )
        .await
        .expect("the fourth client waited for the keep-alive timeout");
        assert_eq!(answer.as_deref(), Some("HTTP/1.1 200 OK"), "{addr}");
        drop(idle);
    }
}
