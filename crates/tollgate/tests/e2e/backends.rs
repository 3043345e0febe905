//! Endpoint lists through a real gateway and real backends on loopback: load balancing (round
//! robin, cookie affinity), failover, the retry rules (a request never sent goes on whatever
//! its method; a sent one only when idempotent and bodiless), timeouts (`actionDuration`,
//! `actionSelect`), suspension with recovery — and what the management listener's `/metrics`
//! says of it all, parsed as Prometheus would.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_testkit::dns::DnsServer;
use tollgate_testkit::flow::{named_api, Flow};
use tollgate_testkit::gateway::{Bearer, Gateway};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// An address nothing listens on (until a test starts something there).
fn closed_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A backend that reads each request whole and hangs up without answering: the request was
/// certainly sent.
async fn hang_up_after_reading() -> SocketAddr {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + length {
                            return;
                        }
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
            });
        }
    });
    addr
}

fn endpoint(url: &str, config: Option<Value>) -> Value {
    match config {
        Some(config) => json!({"url": url, "config": config}),
        None => json!({"url": url}),
    }
}

/// PizzaShack at `context` with `endpoint_config`.
fn api(name: &str, context: &str, endpoint_config: Value) -> Value {
    let mut body = named_api(name, context, "1.0.0", "http://unused.example");
    body["endpointConfig"] = endpoint_config;
    body
}

fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/pizzashack/v1")
}

/// Calls until the gateway serves `path` (the deployment reached it), counting nothing.
async fn until_served(gateway: &Gateway, path: &str, token: &str) {
    let answer = gateway
        .eventually(path, Bearer(token), StatusCode::OK)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancing_affinity_failover_and_the_retry_rules() {
    let one = MockBackend::start().await;
    let two = MockBackend::start().await;
    let closed = closed_address();
    let hang_up = hang_up_after_reading().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);

    let balanced = flow
        .publish_api(api(
            "Balanced",
            "/balanced",
            json!({"endpoint_type": "load_balance",
                   "algoClassName": "org.apache.synapse.endpoints.algorithms.RoundRobin",
                   "production_endpoints": [endpoint(&one.url(), None), endpoint(&two.url(), None)]}),
        ))
        .await;
    let sticky = flow
        .publish_api(api(
            "Sticky",
            "/sticky",
            json!({"endpoint_type": "load_balance", "sessionManagement": "transport",
                   "sessionTimeOut": "60000",
                   "production_endpoints": [endpoint(&one.url(), None), endpoint(&two.url(), None)]}),
        ))
        .await;
    let failover = flow
        .publish_api(api(
            "Failover",
            "/failover",
            json!({"endpoint_type": "failover",
                   "production_endpoints": endpoint(&url_of(closed), None),
                   "production_failovers": [endpoint(&one.url(), None)]}),
        ))
        .await;
    // The hanging endpoint is never suspended, so it keeps its turn.
    let never_suspended = json!({"suspendDuration": "0", "suspendMaxDuration": "0"});
    let retry = flow
        .publish_api(api(
            "Retry",
            "/retry",
            json!({"endpoint_type": "load_balance",
                   "production_endpoints": [endpoint(&url_of(hang_up), Some(never_suspended)),
                                            endpoint(&two.url(), None)]}),
        ))
        .await;
    let (app, token) = flow
        .application_with_token("EndpointListsApp", Some(&balanced))
        .await;
    for api_id in [&sticky, &failover, &retry] {
        flow.subscribe(&app, api_id, "Unlimited").await;
    }

    // Round robin: the requests alternate.
    until_served(&gateway, "/balanced/1.0.0/menu", &token).await;
    let before = (one.requests().len(), two.requests().len());
    for _ in 0..10 {
        // A client's own forwarded headers are replaced: it is no trusted proxy.
        let menu = gateway
            .call_with(
                Method::GET,
                "/balanced/1.0.0/menu",
                Bearer(&token),
                None,
                &[
                    ("x-forwarded-for", "198.51.100.1"),
                    ("x-forwarded-host", "evil.example"),
                ],
            )
            .await;
        assert_eq!(menu.status, StatusCode::OK, "{}", menu.body);
    }
    let seen = one.requests().pop().unwrap();
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    let host = gateway.url("").trim_start_matches("http://").to_string();
    assert_eq!(seen.header("x-forwarded-host"), Some(host.as_str()));
    let after = (one.requests().len(), two.requests().len());
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (5, 5),
        "round robin over two endpoints"
    );

    // The access log has one JSON line per request, the answer's `activityid` its key.
    let logged = gateway.get("/balanced/1.0.0/menu", Bearer(&token)).await;
    let activity_id = logged.header("activityid").unwrap().to_string();
    let access_log = node.data_dir.path().join("data/logs/gateway-access.log");
    let line = {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&access_log).unwrap_or_default();
            let found = text
                .lines()
                .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
                .find(|line| line["activityId"] == activity_id.as_str());
            if let Some(line) = found {
                break line;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no line for {activity_id}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(line["api"], "Balanced");
    assert_eq!(line["apiVersion"], "1.0.0");
    assert_eq!(line["application"], app.as_str());
    assert_eq!(line["keyType"], "PRODUCTION");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/balanced/1.0.0/menu");
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes"], logged.body.len());
    assert_eq!(line["client"], "127.0.0.1");
    assert!(line["upstream"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(line["durationMs"].as_f64().unwrap() >= line["backendMs"].as_f64().unwrap());
    assert!(line["errorCode"].is_null());

    // Affinity: the first answer sets the cookie; with it, every request goes to one endpoint.
    until_served(&gateway, "/sticky/1.0.0/menu", &token).await;
    let first = gateway.get("/sticky/1.0.0/menu", Bearer(&token)).await;
    let cookie = first
        .header("set-cookie")
        .expect("an affinity cookie")
        .to_string();
    assert!(cookie.starts_with("tollgate_lb="), "{cookie}");
    assert!(
        cookie.contains("Path=/sticky/1.0.0") && cookie.contains("Max-Age=60"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let before = (one.requests().len(), two.requests().len());
    for _ in 0..6 {
        let menu = gateway
            .call_with(
                Method::GET,
                "/sticky/1.0.0/menu",
                Bearer(&token),
                None,
                &[("cookie", &pair)],
            )
            .await;
        assert_eq!(menu.status, StatusCode::OK);
        assert!(menu.header("set-cookie").is_none(), "already set");
    }
    let after = (one.requests().len(), two.requests().len());
    let moved = (after.0 - before.0, after.1 - before.1);
    assert!(moved == (6, 0) || moved == (0, 6), "{moved:?}");

    // Failover: the primary refuses connections; every request, a POST with its body too (it
    // was never sent), is served by the failover endpoint.
    until_served(&gateway, "/failover/1.0.0/menu", &token).await;
    let order = json!({"pizza": "BBQ Chicken Bacon", "quantity": 2});
    let created = gateway
        .call(
            Method::POST,
            "/failover/1.0.0/order",
            Bearer(&token),
            Some(&order),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json(), order);
    let posted = one
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posted, 1);

    // Retry rules: a GET that the hanging endpoint swallowed goes on to the next endpoint; a
    // POST it swallowed does not (it was sent, and is not idempotent).
    until_served(&gateway, "/retry/1.0.0/menu", &token).await;
    for _ in 0..4 {
        let menu = gateway.get("/retry/1.0.0/menu", Bearer(&token)).await;
        assert_eq!(menu.status, StatusCode::OK, "{}", menu.body);
    }
    let posts_before = two.requests().iter().filter(|r| r.method == "POST").count();
    let mut statuses = Vec::new();
    let mut refused_post = None;
    for _ in 0..2 {
        let answer = gateway
            .call(
                Method::POST,
                "/retry/1.0.0/order",
                Bearer(&token),
                Some(&order),
            )
            .await;
        if answer.status != StatusCode::CREATED {
            assert_eq!(
                answer.refused(StatusCode::SERVICE_UNAVAILABLE)["code"],
                "101503"
            );
            refused_post = answer.header("activityid").map(str::to_string);
        }
        statuses.push(answer.status.as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [201, 503],
        "one POST met the hanging endpoint first"
    );
    let posts_after = two.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts_after - posts_before, 1, "never sent twice");
    // The refusal's line names its code.
    let refused_post = refused_post.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&access_log).unwrap();
    let line: Value = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["activityId"] == refused_post.as_str())
        .expect("the refused POST is logged");
    assert_eq!(line["errorCode"], "101503");
    assert_eq!(line["status"], 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_suspension_and_recovery() {
    let backend = MockBackend::start().await;
    let returning = closed_address();
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);

    let timed = |action: &str| {
        json!({"endpoint_type": "http",
               "production_endpoints": endpoint(&backend.url(),
                   Some(json!({"actionDuration": "300", "actionSelect": action})))})
    };
    let fault = flow
        .publish_api(api("TimedFault", "/timed", timed("fault")))
        .await;
    let discard = flow
        .publish_api(api("TimedDiscard", "/discarding", timed("discard")))
        .await;
    let suspending = flow
        .publish_api(api(
            "Suspending",
            "/suspending",
            json!({"endpoint_type": "http",
                   "production_endpoints": endpoint(&url_of(returning),
                       Some(json!({"suspendDuration": "1000", "suspendMaxDuration": "1000",
                                   "suspendErrorCode": ["101503"]})))}),
        ))
        .await;
    let (app, token) = flow
        .application_with_token("ResilienceApp", Some(&fault))
        .await;
    for api_id in [&discard, &suspending] {
        flow.subscribe(&app, api_id, "Unlimited").await;
    }

    // The backend takes a second; the endpoint allows 300 ms.
    until_served(&gateway, "/timed/1.0.0/menu", &token).await;
    let slow = gateway.get("/timed/1.0.0/slow", Bearer(&token)).await;
    assert_eq!(slow.refused(StatusCode::GATEWAY_TIMEOUT)["code"], "101504");
    until_served(&gateway, "/discarding/1.0.0/menu", &token).await;
    let discarded = gateway.get("/discarding/1.0.0/slow", Bearer(&token)).await;
    assert_eq!(discarded.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(discarded.body, "", "discard answers without a body");

    // Nothing listens: the first call fails (101503) and suspends the endpoint; while it is
    // suspended the answer is 303001 without a backend call.
    let down = gateway
        .eventually(
            "/suspending/1.0.0/menu",
            Bearer(&token),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    assert_eq!(
        down.refused(StatusCode::SERVICE_UNAVAILABLE)["code"],
        "101503"
    );
    let suspended = gateway.get("/suspending/1.0.0/menu", Bearer(&token)).await;
    assert_eq!(
        suspended.refused(StatusCode::SERVICE_UNAVAILABLE)["code"],
        "303001"
    );
    // The backend comes back: after the suspension, the endpoint is tried again and serves.
    let back = MockBackend::start_at(returning).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    until_served(&gateway, "/suspending/1.0.0/menu", &token).await;
    assert!(!back.requests().is_empty());

    // The management listener's metrics, parsed as Prometheus parses them.
    let scrape = gateway
        .http
        .get(node.gateway_management("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), StatusCode::OK);
    assert!(scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = scrape.text().await.unwrap();
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let sample = |name: &str, labels: &[(&str, &str)]| -> f64 {
        parsed
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                _ => 0.0,
            })
            .sum()
    };
    let suspending = [("api", "Suspending"), ("version", "1.0.0")];
    assert!(
        sample(
            "tollgate_gateway_requests_total",
            &[suspending[0], ("status_class", "2xx")]
        ) >= 1.0
    );
    assert!(
        sample(
            "tollgate_gateway_requests_total",
            &[suspending[0], ("status_class", "5xx")]
        ) >= 2.0
    );
    assert!(sample("tollgate_gateway_endpoint_suspensions_total", &suspending) >= 1.0);
    assert!(sample("tollgate_gateway_refused_total", &[("code", "303001")]) >= 1.0);
    assert!(sample("tollgate_gateway_refused_total", &[("code", "101504")]) >= 1.0);
    assert!(
        sample(
            "tollgate_gateway_upstream_errors_total",
            &[("kind", "timeout")]
        ) >= 2.0
    );
    assert!(
        sample(
            "tollgate_gateway_upstream_errors_total",
            &[("kind", "connect")]
        ) >= 1.0
    );
    assert!(
        sample(
            "tollgate_gateway_request_duration_seconds",
            &[("api", "TimedFault")]
        ) >= 1.0
    );
    assert!(sample("tollgate_gateway_backend_duration_seconds", &suspending) >= 1.0);
    assert!(sample("tollgate_gateway_state_sequence", &[]) >= 1.0);
    assert!(sample("tollgate_gateway_open_connections", &[]) >= 1.0);
    // A path that names no API adds no label.
    gateway
        .get("/no-such-api/1.0.0/x", Bearer(&token))
        .await
        .refused(StatusCode::NOT_FOUND);
    let again = gateway
        .http
        .get(node.gateway_management("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains("no-such-api"));
    let ready = gateway
        .http
        .get(node.gateway_management("/_health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// An API deployed on an environment's second virtual host answers for that host only; one on
/// the default (first) vhost answers for any host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_hosts_route_by_host() {
    let backend = MockBackend::start().await;
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[[apim.gateway.environment]]\nname = \"Default\"\nvhosts = [\"localhost\", \"api.example.com\"]\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let hosted = flow
        .create_api(named_api("Hosted", "/hosted", "1.0.0", &backend.url()))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deployed = flow
        .deploy_to(
            &hosted,
            json!([{"name": "Default", "vhost": "api.example.com", "displayOnDevportal": true}]),
        )
        .await;
    assert!(!deployed.is_empty());
    flow.change_lifecycle(&hosted, "Publish").await;
    let anywhere = flow
        .publish_api(named_api("Anywhere", "/anywhere", "1.0.0", &backend.url()))
        .await;
    let (app, token) = flow.application_with_token("VhostApp", Some(&hosted)).await;
    flow.subscribe(&app, &anywhere, "Unlimited").await;
    let deployments = flow.deployments(&hosted).await;
    assert_eq!(
        deployments["list"][0]["vhost"], "api.example.com",
        "{deployments}"
    );

    let on = |host: &'static str| {
        let (gateway, token) = (&gateway, token.clone());
        async move {
            gateway
                .call_with(
                    Method::GET,
                    "/hosted/1.0.0/menu",
                    Bearer(&token),
                    None,
                    &[("host", host)],
                )
                .await
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while on("api.example.com:8280").await.status != StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "never served on its vhost"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(on("API.Example.com").await.status, StatusCode::OK);
    on("other.example.com").await.refused(StatusCode::NOT_FOUND);
    gateway
        .get("/hosted/1.0.0/menu", Bearer(&token))
        .await
        .refused(StatusCode::NOT_FOUND);
    // The default vhost's API answers whatever the host.
    gateway
        .until("/anywhere/1.0.0/menu", Bearer(&token), StatusCode::OK)
        .await;
    let elsewhere = gateway
        .call_with(
            Method::GET,
            "/anywhere/1.0.0/menu",
            Bearer(&token),
            None,
            &[("host", "other.example.com")],
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK);

    // A graceful stop right after a request: its access log line is written before the exit
    // (the serving threads hand their buffers over, the writer drains them).
    let last = elsewhere.header("activityid").unwrap().to_string();
    let mut node = node;
    node.terminate();
    assert!(
        node.wait_exit(Duration::from_secs(20)).await.is_some(),
        "stopped"
    );
    let log =
        std::fs::read_to_string(node.data_dir.path().join("data/logs/gateway-access.log")).unwrap();
    assert!(
        log.contains(&last),
        "the last request is logged at shutdown"
    );
}

/// A backend named in DNS: answers are kept with their TTL (new connections ask no name
/// server), and when the name moves to another address, the gateway follows it without a
/// restart — pooled connections to the old address are not reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_name_that_moves_is_followed() {
    let dns = DnsServer::start().await;
    let first = MockBackend::start().await;
    let port = first.addr.port();
    let second = MockBackend::start_at(SocketAddr::from(([127, 0, 0, 2], port))).await;
    dns.set("pizza.backend.test", std::net::Ipv4Addr::new(127, 0, 0, 1));
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: format!("[apim.gateway.dns]\nname_servers = [\"{}\"]\n", dns.addr),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let url = format!("http://pizza.backend.test:{port}/pizzashack/v1");
    let mut body = named_api("Named", "/named", "1.0.0", &url);
    body["operations"].as_array_mut().unwrap().push(
        json!({"target": "/close", "verb": "GET", "authType": "Application & Application User",
                     "throttlingPolicy": "Unlimited", "scopes": []}),
    );
    let api_id = flow.publish_api(body).await;
    let (_, token) = flow.application_with_token("DnsApp", Some(&api_id)).await;
    until_served(&gateway, "/named/1.0.0/menu", &token).await;

    // Each call below costs the gateway a new backend connection (the backend closes it);
    // none of them asks the name server: only the refresher does, once per TTL.
    let before = dns.a_queries();
    const NEW_CONNECTIONS: usize = 40;
    for _ in 0..NEW_CONNECTIONS {
        let answer = gateway.get("/named/1.0.0/close", Bearer(&token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let asked = dns.a_queries() - before;
    assert!(
        asked < NEW_CONNECTIONS / 2,
        "{asked} DNS queries for {NEW_CONNECTIONS} new connections"
    );
    assert!(second.requests().is_empty());

    // The name moves: within about a TTL, requests (on pooled, kept-alive connections too) go
    // to the new address, and none to the old one after that.
    dns.set("pizza.backend.test", std::net::Ipv4Addr::new(127, 0, 0, 2));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while second.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway never followed the name to its new address"
        );
        let answer = gateway.get("/named/1.0.0/menu", Bearer(&token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let on_first = first.requests().len();
    for _ in 0..10 {
        let answer = gateway.get("/named/1.0.0/menu", Bearer(&token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    assert_eq!(
        first.requests().len(),
        on_first,
        "a request went to the old address"
    );
    assert!(second.requests().len() >= 11);
}

/// Uploads a certificate as the Publisher's `/endpoint-certificates` takes it: a form with
/// `alias`, `endpoint` and the `certificate` file.
async fn upload_certificate(
    flow: &Flow,
    alias: &str,
    endpoint: &str,
    pem: Vec<u8>,
) -> tollgate_testkit::Answer {
    let form = reqwest::multipart::Form::new()
        .text("alias", alias.to_string())
        .text("endpoint", endpoint.to_string())
        .part(
            "certificate",
            reqwest::multipart::Part::bytes(pem).file_name("backend.crt"),
        );
    let response = flow
        .http
        .post(flow.publisher("/endpoint-certificates"))
        .bearer_auth(&flow.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    tollgate_testkit::Answer::read(response).await
}

/// A backend with a self-signed certificate: refused until its certificate is uploaded for its
/// endpoint, served once gateways trust it, refused again once it is deleted. The Publisher's
/// operations answer in WSO2's shapes and refuse bad uploads naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_endpoint_certificate_is_trusted_for_its_endpoint() {
    let folder = tempfile::tempdir().unwrap();
    let certificate = folder.path().join("backend.pem");
    let backend = MockBackend::start_tls(&certificate).await;
    let pem = std::fs::read(&certificate).unwrap();
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    // Never suspended: each call below tries the backend again.
    let never_suspended = json!({"suspendDuration": "0", "suspendMaxDuration": "0"});
    let api_id = flow
        .publish_api(api(
            "SelfSigned",
            "/selfsigned",
            json!({"endpoint_type": "http",
                   "production_endpoints": endpoint(&backend.url(), Some(never_suspended.clone())),
                   "sandbox_endpoints": endpoint(&backend.url(), Some(never_suspended))}),
        ))
        .await;
    let (_, token) = flow.application_with_token("TlsApp", Some(&api_id)).await;
    let untrusted = gateway
        .eventually(
            "/selfsigned/1.0.0/menu",
            Bearer(&token),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    assert_eq!(
        untrusted.refused(StatusCode::SERVICE_UNAVAILABLE)["code"],
        "101503"
    );
    assert!(backend.requests().is_empty());

    // Bad uploads: each names its field; nothing is stored.
    let origin = format!("https://localhost:{}", backend.addr.port());
    let refused = upload_certificate(&flow, "", &origin, pem.clone()).await;
    assert!(refused.refused(StatusCode::BAD_REQUEST)["description"]
        .as_str()
        .unwrap()
        .contains("alias"));
    let plain = format!("http://localhost:{}", backend.addr.port());
    let refused = upload_certificate(&flow, "backend", &plain, pem.clone()).await;
    assert!(refused.refused(StatusCode::BAD_REQUEST)["description"]
        .as_str()
        .unwrap()
        .contains("endpoint"));
    let refused =
        upload_certificate(&flow, "backend", &origin, b"not a certificate".to_vec()).await;
    assert!(refused.refused(StatusCode::BAD_REQUEST)["description"]
        .as_str()
        .unwrap()
        .contains("certificate"));
    let long_alias = "a".repeat(31);
    upload_certificate(&flow, &long_alias, &origin, pem.clone())
        .await
        .refused(StatusCode::BAD_REQUEST);

    // Uploaded for the endpoint (any path on its origin): gateways trust it.
    let endpoint_url = format!("{origin}/pizzashack");
    let added = upload_certificate(&flow, "backend", &endpoint_url, pem.clone()).await;
    let added = added.expect(StatusCode::OK);
    assert_eq!(added, json!({"alias": "backend", "endpoint": endpoint_url}));
    upload_certificate(&flow, "backend", &endpoint_url, pem.clone())
        .await
        .refused(StatusCode::CONFLICT);
    until_served(&gateway, "/selfsigned/1.0.0/menu", &token).await;
    assert!(!backend.requests().is_empty());

    let listed = flow
        .call(
            Method::GET,
            &flow.publisher(&format!("/endpoint-certificates?endpoint={endpoint_url}")),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["certificates"][0]["alias"], "backend");
    let info = flow
        .call(
            Method::GET,
            &flow.publisher("/endpoint-certificates/backend"),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(info["status"], "Active", "{info}");
    assert_eq!(info["version"], "V3");
    assert!(info["subject"].as_str().unwrap().contains("CN="), "{info}");
    assert!(info["validity"]["to"].as_str().is_some());
    let content = flow
        .get(flow.publisher("/endpoint-certificates/backend/content"))
        .await;
    assert_eq!(content.status(), StatusCode::OK);
    assert_eq!(
        content.text().await.unwrap().trim(),
        String::from_utf8(pem.clone()).unwrap().trim()
    );
    let usage = flow
        .call(
            Method::GET,
            &flow.publisher("/endpoint-certificates/backend/usage"),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(usage["count"], 1, "{usage}");
    assert_eq!(usage["list"][0]["id"], api_id.as_str());
    flow.call(
        Method::GET,
        &flow.publisher("/endpoint-certificates/nothing"),
        None,
    )
    .await
    .refused(StatusCode::NOT_FOUND);

    // Deleted: new connections are made without it (pooled ones are not reused) and refused.
    flow.call(
        Method::DELETE,
        &flow.publisher("/endpoint-certificates/backend"),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let distrusted = gateway
        .eventually(
            "/selfsigned/1.0.0/menu",
            Bearer(&token),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    assert_eq!(
        distrusted.refused(StatusCode::SERVICE_UNAVAILABLE)["code"],
        "101503"
    );
}
