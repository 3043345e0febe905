//! What a hostile client tries, against real `tollgate` processes: traversal out of an unsecured
//! resource, slow and silent connections and a descriptor flood, password guessing (memory,
//! lockout, per-source limits), broken request bodies, control characters on both databases
//! (and never in the log), a body over the limit, duplicate `Host` headers, a flood of bad node
//! credentials, and the signing key at rest. (Refusals of the REST APIs alone — absurd tiers,
//! dot segments in contexts, paging parameters — are tested in process:
//! `operations/tests/rules/rest`.)

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, pizzashack, Flow};
use tollgate_testkit::gateway::{Anonymous, Gateway};
use tollgate_testkit::oauth::{self, OAuthClient};
use tollgate_testkit::{
    databases_config, memory_mb, raw_exchange, raw_status, MockBackend, Node, NodeOptions,
    PgDatabase,
};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

fn with_config(extra_config: &str) -> NodeOptions {
    NodeOptions {
        extra_config: extra_config.to_string(),
        ..NodeOptions::default()
    }
}

/// Two tests of `$scenario(extra_config)`: on SQLite, and on fresh PostgreSQL databases.
macro_rules! on_both_databases {
    ($scenario:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $scenario(String::new()).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let dbs = PgDatabase::pair().await;
            $scenario(databases_config(&dbs)).await;
        }
    };
}

/// A raw GET to a node's port, returning the status (0: the connection closed unanswered).
async fn raw_get(port: u16, path: &str, extra: &str) -> u16 {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
    let response = raw_exchange(
        &format!("127.0.0.1:{port}"),
        request.as_bytes(),
        Duration::from_secs(10),
    )
    .await;
    raw_status(&response).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_cannot_reach_a_secured_resource() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;

    let mut api = pizzashack(&backend.url());
    api["name"] = json!("Traversal");
    api["context"] = json!("/traversal");
    api["operations"] = json!([
        {"target": "/public/*", "verb": "GET", "authType": "None"},
        {"target": "/admin", "verb": "GET", "authType": "Application & Application User"}
    ]);
    flow.publish_api(api).await;
    Gateway::of(&node)
        .until("/traversal/1.0.0/public/menu", Anonymous, StatusCode::OK)
        .await;
    let gateway = node.port(8280);
    assert_eq!(raw_get(gateway, "/traversal/1.0.0/admin", "").await, 401);
    for attack in [
        "/traversal/1.0.0/public/../admin",
        "/traversal/1.0.0/public/%2e%2e/admin",
        "/traversal/1.0.0/public/%2E%2E/admin",
        "/traversal/1.0.0/public/.%2e/admin",
        "/traversal/1.0.0/public/x/../../admin",
        "/traversal/1.0.0/public/./../admin",
        "/traversal/1.0.0/public/..;/admin",
        "/traversal/1.0.0/public/..%2Fadmin",
        "/traversal/1.0.0/public/..%5Cadmin",
        "/traversal/1.0.0/public//../admin",
    ] {
        let status = raw_get(gateway, attack, "").await;
        assert!(
            status == 401 || status == 400,
            "{attack}: {status} without a token"
        );
    }
    let paths: Vec<String> = backend
        .requests()
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    assert!(!paths.is_empty());
    for path in &paths {
        assert_eq!(path, "/pizzashack/v1/public/menu", "the backend got {path}");
    }
    // Inside the public resource, dot segments resolve and the backend gets the normal path.
    assert_eq!(
        raw_get(gateway, "/traversal/1.0.0/public/x/%2E%2E/menu", "").await,
        200
    );
    assert_eq!(
        backend
            .requests()
            .last()
            .map(|r| r.path_and_query.clone())
            .as_deref(),
        Some("/pizzashack/v1/public/menu")
    );
}

/// Seconds until the server closes a connection that sends `sent` and then nothing.
async fn held_open(port: u16, sent: &[u8]) -> f64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(sent).await.expect("send");
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a connection on port {port} was never let go"
    );
    started.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_let_go_and_a_descriptor_flood_is_survived() {
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[transport]\nrequest_head_timeout = 2\nkeep_alive_timeout = 3\nmax_connections = 5000\n".into(),
            // Few descriptors, and more connections allowed than descriptors: accepts fail.
            open_files_limit: Some(256),
            ..NodeOptions::default()
        },
    )
    .await;
    let (gateway, control_plane) = (node.port(8280), node.port(9763));
    for port in [gateway, control_plane] {
        let silent = held_open(port, b"").await;
        let partial = held_open(port, b"GET / HTTP/1.1\r\nHost: x\r\n").await;
        let idle = held_open(port, b"GET /_health/live HTTP/1.1\r\nHost: x\r\n\r\n").await;
        eprintln!("port {port}: silent held {silent:.2} s, partial head {partial:.2} s, idle keep-alive {idle:.2} s");
        assert!(
            silent >= 1.9 && partial >= 1.9,
            "let go before the head deadline"
        );
        assert!(idle >= 2.9, "let go before the keep-alive timeout");
    }

    // 400 silent sockets against 256 descriptors: accepts fail while they last.
    let flood_started = Instant::now();
    let mut flood = Vec::new();
    for _ in 0..400 {
        if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", gateway)).await {
            flood.push(stream);
        }
    }
    // The gateway comes back by itself once the head deadline cuts the silent ones.
    let http = tollgate_testkit::http_client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = http
            .get(node.gateway_http("/_health/ready"))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK);
        if ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway did not recover:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = flood_started.elapsed().as_secs_f64();
    drop(flood);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = node.log();
    let accept_failures = log.matches("accept failed").count();
    eprintln!("recovered after {recovered:.1} s; {accept_failures} accept-failure lines");
    assert!(
        accept_failures as f64 <= flood_started.elapsed().as_secs_f64() * 2.0 + 2.0,
        "accept failures are logged more than once a second:\n{log}"
    );
    assert!(log.contains("open_files=256"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessers_do_not_exhaust_memory() {
    let node = Node::start(
        Path::new(BIN),
        with_config("[identity_mgt.account_locking]\nenable_account_locking = false\n[identity_mgt.login_throttling]\nenable = false\n"),
    )
    .await;
    let url = node.control_plane_http("/api/am/publisher/v4/apis");
    let (baseline, _) = memory_mb(node.pid());
    let until = Instant::now() + Duration::from_secs(5);
    let client = |password: String| {
        let url = url.clone();
        tokio::spawn(async move {
            let http = tollgate_testkit::http_client();
            let mut statuses = Vec::new();
            while Instant::now() < until {
                let status = http
                    .get(&url)
                    .basic_auth("admin", Some(&password))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                statuses.push(status);
            }
            statuses
        })
    };
    let guessers: Vec<_> = (0..64).map(|i| client(format!("guess-{i}"))).collect();
    let honest: Vec<_> = (0..16)
        .map(|_| client("test-admin-pw".to_string()))
        .collect();
    let mut guesses = Vec::new();
    for guesser in guessers {
        guesses.extend(guesser.await.expect("guesser"));
    }
    let mut honest_statuses = Vec::new();
    let mut each_served = true;
    for client in honest {
        let statuses = client.await.expect("client");
        each_served &= statuses.contains(&200);
        honest_statuses.extend(statuses);
    }
    let (peak, now) = memory_mb(node.pid());
    // Once the guessing stops, the hashing memory goes back to the system.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, settled) = memory_mb(node.pid());
    eprintln!(
        "64 guessers + 16 honest Basic clients for 5 s: {} guesses, {} honest calls ({} ok); RSS {baseline:.0} MB before, peak {peak:.0} MB, {now:.0} MB at the end, {settled:.0} MB 4 s later",
        guesses.len(),
        honest_statuses.len(),
        honest_statuses.iter().filter(|s| **s == 200).count()
    );
    assert!(peak < 300.0, "peak RSS {peak} MB");
    assert!(
        settled + 15.0 < peak,
        "memory not returned: peak {peak} MB, then {settled} MB"
    );
    // Guesses are refused (or, when every hashing worker stays busy, deferred), never failed.
    assert!(
        guesses.iter().all(|s| *s == 401 || *s == 503),
        "{guesses:?}"
    );
    assert!(honest_statuses.iter().all(|s| *s == 200 || *s == 503));
    // Honest clients are not starved behind the guessers: checks queue fairly, and a verified
    // credential is remembered, so every honest client is served (on a quiet machine, thousands
    // of honest calls against hundreds of guesses; how many is not asserted: it depends on how
    // busy the machine is).
    assert!(
        each_served,
        "an honest client was never served: {honest_statuses:?}"
    );
}

async fn register_client(
    node: &Node,
    http: &reqwest::Client,
    user: &str,
    password: &str,
) -> reqwest::Response {
    http.post(node.control_plane_http("/client-registration/v0.17/register"))
        .basic_auth(user, Some(password))
        .json(&json!({"clientName": "locktest", "grantType": "password client_credentials"}))
        .send()
        .await
        .unwrap()
}

/// The password grant for the admin with `password`: the status and the body.
async fn password_grant(client: &OAuthClient, password: &str) -> (StatusCode, Value) {
    let answer = client
        .request_token(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", password),
        ])
        .await;
    let body = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer.status, body)
}

async fn failed_logins_lock_the_account_until_it_is_unlocked(extra: String) {
    let node = Node::start(
        Path::new(BIN),
        with_config(&format!(
            "{extra}\n[identity_mgt.account_locking]\nallowed_failed_attempts = 3\nauto_unlock_after = 0\n[identity_mgt.login_throttling]\nslow_after = 50\nrefuse_after = 100\n"
        )),
    )
    .await;
    let http = tollgate_testkit::http_client();
    let client = oauth::register_client(&node, "locktest", "password client_credentials").await;
    for _ in 0..3 {
        let (status, body) = password_grant(&client, "wrong").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
    }
    // Locked: the right password is refused too, by every way in.
    let (status, body) = password_grant(&client, &node.admin_password).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("locked"),
        "{body}"
    );
    let basic = error_body(
        http.get(node.control_plane_http("/api/am/publisher/v4/apis"))
            .basic_auth("admin", Some(&node.admin_password))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        basic["description"]
            .as_str()
            .unwrap_or("")
            .contains("locked"),
        "{basic}"
    );

    // An administrator unlocks it from the command line.
    let unlocked = std::process::Command::new(BIN)
        .args(["users", "unlock", "admin", "--config"])
        .arg(node.config_path())
        .output()
        .expect("tollgate users unlock");
    assert!(
        unlocked.status.success(),
        "{}",
        String::from_utf8_lossy(&unlocked.stderr)
    );
    let (status, body) = password_grant(&client, &node.admin_password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(node
        .log()
        .contains("account locked after too many failed logins"));
}

on_both_databases!(
    failed_logins_lock_the_account_until_it_is_unlocked,
    failed_logins_lock_the_account_until_it_is_unlocked_sqlite,
    failed_logins_lock_the_account_until_it_is_unlocked_postgres
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_from_one_address_is_slowed_then_refused() {
    let node = Node::start(
        Path::new(BIN),
        with_config(
            "[identity_mgt.login_throttling]\nslow_after = 2\nrefuse_after = 5\nrefuse_for = 60\n",
        ),
    )
    .await;
    let http = tollgate_testkit::http_client();
    let client = oauth::register_client(&node, "locktest", "password client_credentials").await;
    // Unknown users (no account to lock): five failures from this address...
    for i in 0..5 {
        let status = register_client(&node, &http, &format!("nobody{i}"), "guess")
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // ...and then this address is refused, whatever it sends, with Retry-After.
    let refused = register_client(&node, &http, "admin", &node.admin_password).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (status, body) = password_grant(&client, &node.admin_password).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let basic = http
        .get(node.control_plane_http("/api/am/publisher/v4/apis"))
        .basic_auth("admin", Some(&node.admin_password))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_broken_body_is_its_own_fault() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let mut api = pizzashack(&backend.url());
    api["name"] = json!("Uploads");
    api["context"] = json!("/uploads");
    api["operations"] = json!([{"target": "/order", "verb": "POST", "authType": "None"}]);
    flow.publish_api(api).await;
    let gateway = format!("127.0.0.1:{}", node.port(8280));
    let head = "POST /uploads/1.0.0/order HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    // A good chunked body goes through (once the gateway has the API: events are asynchronous).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let good = raw_exchange(
            &gateway,
            format!("{head}5\r\nhello\r\n0\r\n\r\n").as_bytes(),
            Duration::from_secs(3),
        )
        .await;
        if raw_status(&good) == Some(201) {
            break;
        }
        assert!(Instant::now() < deadline, "{good}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (what, body) in [
        ("a chunk size that is not hex", "zz\r\nhello\r\n0\r\n\r\n"),
        (
            "a chunk size that overflows",
            "fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        ),
        ("a chunk longer than its size", "3\r\nhello\r\n0\r\n\r\n"),
        ("bare LF line endings", "5\nhello\n0\n\n"),
    ] {
        let response = raw_exchange(
            &gateway,
            format!("{head}{body}").as_bytes(),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(raw_status(&response), Some(400), "{what}: {response}");
        assert!(response.contains("\"code\":\"400\""), "{what}: {response}");
    }
    let log = node.log();
    assert!(
        !log.contains("backend call failed"),
        "a client's fault was logged as the backend's:\n{log}"
    );
}

async fn control_characters_get_400_naming_the_field(extra: String) {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), with_config(&extra)).await;
    let flow = Flow::login(&node).await;
    let described = |v: &Value| v["description"].as_str().unwrap_or("").to_string();

    let mut api = pizzashack(&backend.url());
    api["name"] = json!("Nul\u{0}Api");
    let refused = error_body(
        flow.post(flow.publisher("/apis"), api).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(described(&refused).contains("'name'"), "{refused}");
    let mut api = pizzashack(&backend.url());
    api["description"] = json!("line one\nline two \u{0} hidden");
    let refused = error_body(
        flow.post(flow.publisher("/apis"), api).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(described(&refused).contains("'description'"), "{refused}");
    // Line breaks in free text are fine.
    let mut api = pizzashack(&backend.url());
    api["description"] = json!("line one\nline two");
    flow.create_api(api).await;

    let refused = error_body(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "App\u{0}", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(described(&refused).contains("'name'"), "{refused}");

    let http = tollgate_testkit::http_client();
    let dcr = http
        .post(node.control_plane_http("/client-registration/v0.17/register"))
        .basic_auth("admin", Some(&node.admin_password))
        .json(&json!({"clientName": "evil\u{0}client"}))
        .send()
        .await
        .unwrap();
    let dcr = error_body(dcr, StatusCode::BAD_REQUEST).await;
    assert!(described(&dcr).contains("clientName"), "{dcr}");

    let client = oauth::register_client(&node, "locktest", "password client_credentials").await;
    let token = client
        .request_token(&[
            ("grant_type", "password"),
            ("username", "ad\u{0}min"),
            ("password", "x"),
        ])
        .await;
    assert_eq!(token.status, StatusCode::BAD_REQUEST);
    let basic = http
        .get(node.control_plane_http("/api/am/publisher/v4/apis"))
        .basic_auth("ad\u{0}min", Some("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    for url in [
        flow.publisher("/apis/abc%00def"),
        flow.publisher("/apis?query=name:%00"),
        flow.devportal("/subscriptions?applicationId=%0a"),
    ] {
        let refused = flow
            .call(Method::GET, &url, None)
            .await
            .refused(StatusCode::BAD_REQUEST);
        assert!(
            described(&refused).contains("control character"),
            "{url}: {refused}"
        );
    }
    let log = node.log();
    assert!(!log.contains('\u{0}'), "a NUL reached the log");
    assert!(!log.contains("invalid byte sequence"), "{log}");
}

on_both_databases!(
    control_characters_get_400_naming_the_field,
    control_characters_get_400_naming_the_field_sqlite,
    control_characters_get_400_naming_the_field_postgres
);

/// A body over the limit is refused in WSO2's body, and the connection it came on is not
/// offered for reuse (its body was not read to the end). (Paging parameters and the web
/// framework's other refusals in WSO2's body: `operations/tests/rules/rest/apis.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_too_large_is_refused_and_its_connection_closed() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let huge = "x".repeat(3 * 1024 * 1024);
    // A raw request: the body's size is the point.
    let too_large = flow
        .http
        .post(flow.publisher("/apis"))
        .bearer_auth(&flow.token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.headers()["connection"], "close");
    error_body(too_large, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_host_headers_are_refused_everywhere() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    for port in [node.port(8280), node.port(9763)] {
        assert_eq!(
            raw_get(port, "/_health/live", "Host: evil\r\n").await,
            400,
            "port {port}"
        );
        let response = raw_exchange(
            &format!("127.0.0.1:{port}"),
            b"GET /_health/live HTTP/1.1\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(raw_status(&response), Some(400), "no Host on port {port}");
        assert!(response.contains("\"description\""), "{response}");
        assert_eq!(raw_get(port, "/_health/live", "").await, 200, "port {port}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_node_credentials_is_refused_quietly() {
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            profile: "control-plane".into(),
            extra_config: "[apim.event_hub]\nusername = \"node\"\npassword = \"node-secret-for-tests\"\n[identity_mgt.login_throttling]\nslow_after = 3\nrefuse_after = 8\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let hub = format!("127.0.0.1:{}", node.port(9611));
    let started = Instant::now();
    let mut statuses = Vec::new();
    for i in 0..200 {
        let credential = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("node:guess-{i}"),
        );
        let request = format!(
            "GET /hub/v1/subscribe HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Basic {credential}\r\n\r\n"
        );
        let response = raw_exchange(&hub, request.as_bytes(), Duration::from_secs(10)).await;
        statuses.push(raw_status(&response).unwrap_or(0));
        if statuses.last() == Some(&429) && statuses.len() > 20 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Guessing is slowed, then cut off (here after 8 failures; 20 by default).
    assert!(statuses[..8].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let refusals = node.log().matches("refused a node connection").count();
    eprintln!(
        "{} attempts in {elapsed:.1} s: {refusals} log lines",
        statuses.len()
    );
    assert!(
        refusals as f64 <= elapsed + 2.0,
        "{refusals} refusal lines in {elapsed} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signing_key_is_encrypted_at_rest_and_its_password_can_change() {
    let mut node = Node::start(
        Path::new(BIN),
        with_config("[keystore.primary]\npassword = \"first-keystore-password\"\n"),
    )
    .await;
    let flow = Flow::login(&node).await;
    let database = node.data_dir.path().join("data/apim.db");
    let stored = || {
        let url = format!("sqlite://{}", database.display());
        async move {
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .expect("open apim.db");
            let row: (String,) = sqlx::query_as("SELECT private_key_pem FROM am_signing_key")
                .fetch_one(&mut conn)
                .await
                .expect("signing key row");
            row.0
        }
    };
    let first = stored().await;
    assert!(first.starts_with("tollgate-enc-v1$"), "{first}");
    assert!(!first.contains("PRIVATE KEY"));

    // A new password, with the old one as previous: the key is re-encrypted, tokens still valid.
    node.set_extra_config("[keystore.primary]\npassword = \"second-keystore-password\"\nprevious_password = \"first-keystore-password\"\n");
    node.restart().await;
    let second = stored().await;
    assert_ne!(first, second);
    let apis = flow.call(Method::GET, &flow.publisher("/apis"), None).await;
    assert_eq!(
        apis.status,
        StatusCode::OK,
        "a token signed before the change"
    );
    assert!(node.log().contains("re-encrypted"));

    // The wrong password: the node refuses to start, and says why.
    node.set_extra_config("[keystore.primary]\npassword = \"third-keystore-password\"\n");
    let log = node.restart_expecting_failure().await;
    assert!(
        log.contains("encrypted with another keystore password"),
        "{log}"
    );
}
