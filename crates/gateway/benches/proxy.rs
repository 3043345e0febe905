//! One request at a time through real loopback listeners: a hello backend, and the gateway's
//! full chain (JWT, subscription, throttle check and hit) proxying to it on one serving thread.
//! `direct` is the same request straight to the backend, so `full_chain - direct` is what the
//! gateway adds to a request's latency.
//!
//! Wall time here is noisy on a shared machine; for steady numbers count instructions instead:
//!
//! ```text
//! valgrind --tool=callgrind --separate-threads=yes target/release/deps/proxy-… --bench full_chain
//! ```
//!
//! and divide the `bench-gateway-0` thread's total by the request count printed at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

mod fixture;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::runtime::Runtime;
use tollgate_gateway::{Gateway, RuntimeState};

static BACKEND_REQUESTS: AtomicU64 = AtomicU64::new(0);

fn main() {
    divan::main();
    eprintln!(
        "backend requests: {}",
        BACKEND_REQUESTS.load(Ordering::Relaxed)
    );
}

struct Setup {
    runtime: Runtime,
    backend: SocketAddr,
    gateway: SocketAddr,
    headers: HeaderMap,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn start_backend() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind backend");
    let addr = listener.local_addr().expect("backend address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("backend runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("backend listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        BACKEND_REQUESTS.fetch_add(1, Ordering::Relaxed);
                        let mut response =
                            Response::new(Full::new(Bytes::from_static(b"{\"hello\":\"world\"}")));
                        response.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, std::convert::Infallible>(response)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

fn setup() -> Setup {
    let backend = start_backend();
    let fixture = fixture::fixture(1, 0, &format!("http://{backend}"));
    let gateway = Gateway::new();
    gateway.install(RuntimeState::build(&fixture.data));
    // The reporter's work, minus the network: take the hits every flush interval.
    let hits = gateway.hits();
    std::thread::spawn(move || loop {
        std::thread::sleep(tollgate_gateway::hits::FLUSH_INTERVAL);
        drop(hits.take());
    });
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("gateway address");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    // Binding registers the listening sockets with a runtime before the serving threads take them.
    let entered = runtime.enter();
    let serving = fixture::serve(
        "bench-gateway",
        gateway,
        addr,
        tokio_util::sync::CancellationToken::new(),
    );
    drop((serving, entered));
    std::thread::sleep(Duration::from_millis(50));
    Setup {
        runtime,
        backend,
        gateway: addr,
        headers: fixture.headers,
    }
}

thread_local!(static SETUP: Setup = setup());

async fn connect(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

/// Sends GET `path` on one kept-alive connection per call of `bench`, returning the body length.
fn bench_requests(bencher: divan::Bencher, to_gateway: bool) {
    SETUP.with(|setup| {
        let addr = if to_gateway {
            setup.gateway
        } else {
            setup.backend
        };
        let mut sender = setup.runtime.block_on(connect(addr));
        bencher.bench_local(|| {
            setup.runtime.block_on(async {
                let mut request = Request::get("/shop0/1.0.0/items")
                    .header(http::header::HOST, "localhost")
                    .body(Empty::<Bytes>::new())
                    .expect("request");
                if to_gateway {
                    request.headers_mut().extend(setup.headers.clone());
                }
                sender.ready().await.expect("ready");
                let response = sender.send_request(request).await.expect("response");
                assert!(response.status().is_success(), "{}", response.status());
                let body = response.into_body().collect().await.expect("body");
                body.to_bytes().len()
            })
        });
    });
}

#[divan::bench(sample_count = 200, sample_size = 50)]
fn direct(bencher: divan::Bencher) {
    bench_requests(bencher, false);
}

#[divan::bench(sample_count = 200, sample_size = 50)]
fn full_chain(bencher: divan::Bencher) {
    bench_requests(bencher, true);
}
