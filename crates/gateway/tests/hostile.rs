//! The gateway's request path against hostile input, through real loopback listeners: paths that
//! try to climb out of an unsecured resource, tokens whose claims must be refused, and request
//! heads made up by a property test. Behind the gateway, a backend records every path it gets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use serde_json::json;
use tollgate_gateway::{Gateway, RuntimeState};
use tollgate_model::{DeployedApi, Endpoints, Event, Operation, RuntimeApi};

#[path = "../benches/fixture/mod.rs"]
mod fixture;

use fixture::ISSUER;

struct Setup {
    gateway: SocketAddr,
    /// Paths (and queries) the backend received.
    seen: Arc<Mutex<Vec<String>>>,
    encoding: EncodingKey,
    // Dropped in this order: the listeners stop, then their runtime (which waits for them).
    _shutdown: tokio_util::sync::DropGuard,
    _runtime: tokio::runtime::Runtime,
}

fn start_backend(runtime: &tokio::runtime::Runtime, seen: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: http::Request<_>| {
                    let seen = seen.clone();
                    async move {
                        let target = req
                            .uri()
                            .path_and_query()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        seen.lock().expect("seen").push(target);
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(
                            Bytes::from_static(b"{}"),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The benchmarks' fixture plus one API, `/shop/1.0.0` (`api-0`, to which its application is
/// subscribed): `GET /public/*` needs no token, `GET /admin` and `GET /items/{id}` need one.
fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let backend = start_backend(&runtime, seen.clone());
    let mut fixture = fixture::fixture(0, 0, "http://127.0.0.1:9/unused");
    let op = |target: &str, auth: &str| Operation {
        verb: tollgate_model::HttpVerb::Get,
        target: target.into(),
        auth_type: auth.parse().unwrap(),
        throttling_policy: None,
        scopes: vec![],
    };
    fixture.data.apply(&Event::ApiDeploy(DeployedApi {
        environment: "Default".into(),
        api: RuntimeApi {
            id: "api-0".into(),
            tenant: "carbon.super".into(),
            name: "Shop".into(),
            version: "1.0.0".into(),
            context: "/shop".into(),
            provider: "admin".into(),
            lifecycle_status: tollgate_model::LifecycleState::Published,
            revision_id: "r".into(),
            api_throttling_policy: None,
            operations: vec![
                op("/public/*", "None"),
                op("/admin", "Any"),
                op("/items/{id}", "Any"),
            ],
            endpoints: Endpoints {
                production: Some(format!("http://{backend}/base")),
                sandbox: None,
                ..Default::default()
            },
            is_default_version: false,
            audiences: vec![],
            authentication: Default::default(),
            vhost: None,
            api_type: Default::default(),
        },
    }));
    let gateway = Gateway::new();
    gateway.install(RuntimeState::build(&fixture.data));
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let serving = {
        let _entered = runtime.enter();
        fixture::serve("hostile-gateway", gateway, addr, shutdown.clone())
    };
    runtime.spawn(serving);
    Setup {
        gateway: addr,
        seen,
        encoding: fixture.encoding,
        _shutdown: shutdown.drop_guard(),
        _runtime: runtime,
    }
}

fn now() -> i64 {
    tollgate_model::now_millis() / 1000
}

impl Setup {
    fn token(&self, claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &self.encoding).expect("token")
    }

    fn good_token(&self) -> String {
        self.token(json!({"sub": "u", "azp": "ck", "iss": ISSUER, "exp": now() + 600, "nbf": now(), "jti": "j"}))
    }

    /// Sends raw request bytes and returns the response's status (0: no response). A request
    /// the gateway is still waiting on after 300 ms (an incomplete body) gets its write side
    /// closed, as a client that gives up would.
    fn exchange(&self, request: &[u8]) -> u16 {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(self.gateway).expect("connect");
        stream.write_all(request).expect("send");
        let mut response = Vec::new();
        let mut buf = [0u8; 4096];
        let mut half_closed = false;
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    response.extend_from_slice(&buf[..n]);
                    if response.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                Err(_) if !half_closed => {
                    half_closed = true;
                    let _ = stream.shutdown(std::net::Shutdown::Write);
                    stream
                        .set_read_timeout(Some(Duration::from_secs(5)))
                        .expect("timeout");
                }
                Err(_) => break,
            }
        }
        let text = String::from_utf8_lossy(&response);
        text.strip_prefix("HTTP/1.1 ")
            .and_then(|t| t.get(..3))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn get(&self, path: &str, token: Option<&str>) -> u16 {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        self.exchange(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("seen").clone()
    }
}

#[test]
fn no_spelling_of_dot_dot_reaches_the_secured_resource_without_a_token() {
    let setup = setup();
    assert_eq!(setup.get("/shop/1.0.0/public/menu", None), 200);
    assert_eq!(setup.get("/shop/1.0.0/admin", None), 401);
    for attack in [
        "/shop/1.0.0/public/../admin",
        "/shop/1.0.0/public/%2e%2e/admin",
        "/shop/1.0.0/public/%2E%2E/admin",
        "/shop/1.0.0/public/.%2e/admin",
        "/shop/1.0.0/public/x/../../admin",
        "/shop/1.0.0/public/./../admin",
        "/shop/1.0.0/public/..;/admin",
        "/shop/1.0.0/public/..%2fadmin",
        "/shop/1.0.0/public/..%5cadmin",
        "/shop/1.0.0/public/%252e%252e/admin",
        "/shop/1.0.0/public//../admin",
        "/shop/1.0.0//admin",
    ] {
        let status = setup.get(attack, None);
        assert!(
            status == 401 || status == 400,
            "{attack} answered {status} without a token"
        );
    }
    // Nothing but the public resource ever reached the backend, and only in normal form.
    for path in setup.seen() {
        assert_eq!(path, "/base/public/menu");
    }
    // A traversal that stays inside the public resource is served, at its normal path.
    assert_eq!(setup.get("/shop/1.0.0/public/x/%2e%2e/menu?a=1", None), 200);
    assert_eq!(
        setup.seen().last().map(String::as_str),
        Some("/base/public/menu?a=1")
    );
    // With a token, the normalised admin path is what the backend gets.
    let token = setup.good_token();
    assert_eq!(setup.get("/shop/1.0.0/public/../admin", Some(&token)), 200);
    assert_eq!(setup.seen().last().map(String::as_str), Some("/base/admin"));
}

#[test]
fn token_claims_are_enforced() {
    let setup = setup();
    let t = now();
    let good = setup.good_token();
    assert_eq!(setup.get("/shop/1.0.0/admin", Some(&good)), 200);
    for (what, claims) in [
        (
            "nbf an hour ahead",
            json!({"azp": "ck", "iss": ISSUER, "exp": t + 7200, "nbf": t + 3600}),
        ),
        ("no iss", json!({"azp": "ck", "exp": t + 600})),
        (
            "another iss",
            json!({"azp": "ck", "iss": "https://evil/", "exp": t + 600}),
        ),
        ("no exp", json!({"azp": "ck", "iss": ISSUER})),
        (
            "expired",
            json!({"azp": "ck", "iss": ISSUER, "exp": t - 3600}),
        ),
    ] {
        let token = setup.token(claims);
        assert_eq!(
            setup.get("/shop/1.0.0/admin", Some(&token)),
            401,
            "a token with {what} was accepted"
        );
    }
    // A clock a few seconds off is tolerated (leeway).
    let skewed = setup.token(json!({"azp": "ck", "iss": ISSUER, "exp": t + 600, "nbf": t + 5}));
    assert_eq!(setup.get("/shop/1.0.0/admin", Some(&skewed)), 200);
}

/// Pieces of request paths an attacker would combine.
fn path_piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "/", "/", "/", "public", "admin", "items", "7", "shop", "1.0.0", ".", "..", "%2e", "%2E",
        "%2f", "%5c", "%25", "%00", "%41", ";", "x", "%", "?q=1", "#f",
    ])
}

/// Header lines beside `Host`, well-formed and not.
fn header_line() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "Accept: */*",
            "X-Forwarded-For: 10.0.0.1",
            "Connection: close, Authorization",
            "Authorization: Bearer not-a-token",
            "Authorization: Basic YWRtaW46YWRtaW4=",
            "Content-Length: 0",
        ]),
        1 => prop::sample::select(vec![
            "Host: other",
            "Content-Length: -1",
            "Content-Length: 5",
            "X-Bad\u{1}: v",
            "NoColon",
            " folded: line",
        ]),
    ]
}

fn request_head() -> impl Strategy<Value = (String, bool)> {
    let method = prop_oneof![
        8 => Just("GET"),
        2 => Just("POST"),
        1 => prop::sample::select(vec!["HEAD", "DELETE", "G\u{0}T", "CONNECT", "get"]),
    ];
    let version = prop_oneof![
        8 => Just("HTTP/1.1"),
        1 => prop::sample::select(vec!["HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x", "HTTP/9"]),
    ];
    let host = prop_oneof![
        8 => Just("Host: localhost\r\n"),
        1 => prop::sample::select(vec!["", "Host: a\r\nHost: b\r\n", "Host: user@evil\r\n"]),
    ];
    let body = prop_oneof![
        6 => Just(""),
        1 => prop::sample::select(vec![
            "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
            "Content-Length: 5\r\n\r\nhello",
        ]),
    ];
    // Half the paths are near the API's resources (so they reach routing and the policy phases),
    // half any mix of pieces.
    let path = prop_oneof![
        1 => prop::sample::select(vec![
            "public/menu", "public/x/../menu", "public/%2e%2e/admin", "admin", "items/7",
            "public/..;/admin", "public/./menu", "items/%37", "public//menu", "admin/",
        ]).prop_map(str::to_string),
        1 => prop::collection::vec(path_piece(), 0..10).prop_map(|pieces| pieces.concat()),
    ];
    (
        method,
        path,
        version,
        host,
        prop::collection::vec(header_line(), 0..3),
        body,
        any::<bool>(),
    )
        .prop_map(|(method, path, version, host, headers, body, with_token)| {
            let mut request = format!("{method} /shop/1.0.0/{path} {version}\r\n{host}");
            for header in headers {
                request.push_str(header);
                request.push_str("\r\n");
            }
            if with_token {
                request.push_str("Authorization: Bearer {token}\r\n");
            }
            if body.is_empty() {
                request.push_str("\r\n");
            } else {
                request.push_str(body);
            }
            (request, with_token)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever request head arrives, the gateway answers it (or closes the connection), never
    /// with a 5xx of its own making, and everything that reaches the backend is in normal form
    /// and — unless it is under the public resource — came with a valid token.
    #[test]
    fn any_request_head_is_answered_and_only_normal_authorised_paths_pass(
        (request, with_token) in request_head(),
    ) {
        thread_local!(static SETUP: Setup = setup());
        SETUP.with(|setup| {
            let before = setup.seen().len();
            let request = request.replace("{token}", &setup.good_token());
            let status = setup.exchange(request.as_bytes());
            prop_assert!(status == 0 || (100..600).contains(&status), "{status}");
            prop_assert!(
                !(500..600).contains(&status) || status == 503 || status == 502,
                "{status} for {request:?}"
            );
            for seen in &setup.seen()[before..] {
                let seen_path = seen.split('?').next().unwrap_or_default();
                prop_assert!(seen_path.starts_with("/base/"), "{seen}");
                let relative = &seen_path["/base".len()..];
                prop_assert_eq!(
                    tollgate_gateway::path::normalise(relative).map(|p| p.into_owned()),
                    Ok(relative.to_string()),
                    "the backend got a path not in normal form"
                );
                prop_assert!(
                    relative == "/public" || relative.starts_with("/public/") || with_token,
                    "{} reached the backend without a token", seen
                );
            }
            Ok(())
        })?;
    }
}

/// The property above is only as good as the requests it tries: most must reach the policy
/// phases and some the backend, not all bounce off the HTTP parser.
#[test]
fn the_request_generator_reaches_every_phase() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let setup = setup();
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..200 {
        let (request, _) = request_head()
            .new_tree(&mut runner)
            .expect("case")
            .current();
        let request = request.replace("{token}", &setup.good_token());
        *counts
            .entry(setup.exchange(request.as_bytes()))
            .or_insert(0u32) += 1;
    }
    eprintln!("statuses: {counts:?}");
    for status in [200, 400, 401, 404] {
        assert!(
            counts.get(&status).copied().unwrap_or(0) >= 5,
            "{status}: {counts:?}"
        );
    }
}
