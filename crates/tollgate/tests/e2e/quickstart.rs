//! WSO2's quick-start, end to end against a real all-in-one process: register a client, get a
//! token, create PizzaShackAPI, revise, deploy, publish, create an application, subscribe, get
//! keys and a token, and invoke the API through the gateway — plus what the gateway refuses,
//! a tier it enforces, backends over TLS, backends that close or fail, and a graceful shutdown.
//! (What the REST APIs refuse is tested in process: `operations/tests/rules/rest`.)

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_testkit::flow::{get_public_json, pizzashack, Flow};
use tollgate_testkit::gateway::{Anonymous, Bearer, Gateway};
use tollgate_testkit::jwt::header_of;
use tollgate_testkit::oauth::OAuthClient;
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const MENU: &str = "/pizzashack/1.0.0/menu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_start_publish_subscribe_invoke() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);

    let created = flow.create_api(pizzashack(&backend.url())).await;
    assert_eq!(created["lifeCycleStatus"], "CREATED");
    assert_eq!(created["provider"], "admin");
    assert_eq!(
        created["x-some-vendor-extension"]["kept"], true,
        "unknown fields are kept"
    );
    let api_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(flow.get_api(&api_id).await["name"], "PizzaShackAPI");
    let listed = flow.list_apis("").await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["list"][0]["id"], api_id.as_str());

    // Revise and deploy, but do not publish yet: the gateway must not serve it.
    let revision = flow.create_revision(&api_id, "r1").await;
    assert_eq!(revision["displayName"], "Revision 1");
    let deployed = flow
        .deploy_revision(
            &api_id,
            revision["id"].as_str().unwrap(),
            json!([{"name": "Default", "vhost": "localhost", "displayOnDevportal": true}]),
        )
        .await;
    assert_eq!(deployed[0]["name"], "Default");
    let (app_id, generated_keys, app_token) =
        flow.application_with_keys("DefaultApplication", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    gateway
        .get(MENU, Bearer(&app_token))
        .await
        .refused(StatusCode::NOT_FOUND);

    // Publish: now it answers, but the application is not subscribed yet.
    flow.change_lifecycle(&api_id, "Publish").await;
    let refused = gateway
        .eventually(MENU, Bearer(&app_token), StatusCode::FORBIDDEN)
        .await;
    assert_eq!(refused.refused_with(StatusCode::FORBIDDEN), "900908");

    // Subscribe: the same token now gets through, and the backend's body comes back.
    let sub = flow.subscribe(&app_id, &api_id, "Unlimited").await;
    assert_eq!(sub["apiId"], api_id.as_str());
    let menu = gateway
        .until(MENU, Bearer(&app_token), StatusCode::OK)
        .await;
    assert_eq!(menu.header("x-backend"), Some("pizzashack-mock"));
    assert_eq!(menu.body, tollgate_testkit::MENU);
    let seen = backend.requests().into_iter().last().unwrap();
    assert_eq!(seen.path_and_query, "/pizzashack/v1/menu");
    assert!(
        seen.header("authorization").is_none(),
        "the token must not reach the backend"
    );
    // Every request has an activityid, returned to the client and sent to the backend with a
    // W3C traceparent; a client's well-formed ids pass through.
    let activity_id = menu.header("activityid").expect("activityid returned");
    assert_eq!(seen.header("activityid"), Some(activity_id));
    let traceparent = seen.header("traceparent").expect("traceparent sent");
    assert_eq!(traceparent[3..35], activity_id.replace('-', ""));
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let traced = gateway
        .call_with(
            Method::GET,
            MENU,
            Bearer(&app_token),
            None,
            &[("activityid", "client-42"), ("traceparent", parent)],
        )
        .await;
    assert_eq!(traced.header("activityid"), Some("client-42"));
    let seen = backend.requests().into_iter().last().unwrap();
    assert_eq!(seen.header("activityid"), Some("client-42"));
    assert_eq!(seen.header("traceparent"), Some(parent));

    // The token endpoint's client-credentials grant with the application's own keys works as well,
    // and the JWKS publishes the key that signed it. The secret is shown only when generated.
    assert!(flow.production_key(&app_id).await["consumerSecret"].is_null());
    let client = OAuthClient::of_keys(&node, &generated_keys);
    let granted = client.token(&[("grant_type", "client_credentials")]).await;
    assert_eq!(granted["scope"], "default");
    let cc_token = granted["access_token"].as_str().unwrap();
    assert_eq!(
        gateway.get(MENU, Bearer(cc_token)).await.status,
        StatusCode::OK
    );
    let jwks = get_public_json(&node.control_plane_http("/oauth2/jwks")).await;
    let header = header_of(cc_token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);

    // Bodies stream both ways; path parameters and queries pass through; HTTPS works too.
    let order = json!({"customerName": "Ann", "pizzaType": "Pepperoni", "quantity": 2});
    let created = Gateway::https(&node)
        .call(
            Method::POST,
            "/pizzashack/1.0.0/order",
            Bearer(&app_token),
            Some(&order),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.json(), order);
    let one = gateway
        .call(
            Method::DELETE,
            "/pizzashack/1.0.0/order/42?reason=late",
            Bearer(&app_token),
            None,
        )
        .await;
    assert_eq!(one.json(), json!({"orderId": "42", "method": "DELETE"}));
    assert_eq!(
        backend.requests().last().unwrap().path_and_query,
        "/pizzashack/v1/order/42?reason=late"
    );

    // The developer portal lists the published API; the gateway URL its definition names
    // reaches the API.
    let portal = get_public_json(&flow.devportal("/apis")).await;
    assert_eq!(portal["list"][0]["name"], "PizzaShackAPI");
    let swagger = get_public_json(&flow.devportal(&format!("/apis/{api_id}/swagger"))).await;
    let http_server = swagger["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap())
        .find(|s| s.starts_with("http://"))
        .unwrap_or_else(|| panic!("no http server: {swagger}"));
    assert_eq!(
        Gateway::at(http_server)
            .get("/menu", Bearer(&app_token))
            .await
            .status,
        StatusCode::OK
    );

    // Gateway refusals, with WSO2's codes.
    let unauthorized =
        |answer: tollgate_testkit::Answer| answer.refused_with(StatusCode::UNAUTHORIZED);
    assert_eq!(unauthorized(gateway.get(MENU, Anonymous).await), "900902");
    assert_eq!(
        unauthorized(gateway.get(MENU, Bearer("not-a-jwt")).await),
        "900901"
    );
    let mut tampered = app_token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert_eq!(
        unauthorized(gateway.get(MENU, Bearer(&tampered)).await),
        "900901"
    );
    // A token for the REST APIs (not an application's) is not an API key.
    assert_eq!(
        unauthorized(gateway.get(MENU, Bearer(&flow.token)).await),
        "900901"
    );
    let (_, other_token) = flow.application_with_token("NotSubscribed", None).await;
    let forbidden = gateway
        .eventually(MENU, Bearer(&other_token), StatusCode::FORBIDDEN)
        .await;
    assert_eq!(forbidden.refused_with(StatusCode::FORBIDDEN), "900908");
    gateway
        .get("/nosuchapi/1.0.0/menu", Bearer(&app_token))
        .await
        .refused(StatusCode::NOT_FOUND);
    gateway
        .get("/pizzashack/2.0.0/menu", Bearer(&app_token))
        .await
        .refused(StatusCode::NOT_FOUND);
    let no_resource = gateway
        .get("/pizzashack/1.0.0/drinks", Bearer(&app_token))
        .await
        .refused_with(StatusCode::NOT_FOUND);
    assert_eq!(no_resource, "900906");
    // Refusals carry an activityid too.
    let refused = gateway
        .get("/pizzashack/1.0.0/drinks", Bearer(&app_token))
        .await;
    assert_eq!(refused.header("activityid").map(str::len), Some(36));
    // A resource that exists, called with a method it lacks, says which methods it has.
    let wrong_method = gateway
        .call(Method::POST, MENU, Bearer(&app_token), Some(&json!({})))
        .await;
    assert_eq!(
        wrong_method.refused_with(StatusCode::METHOD_NOT_ALLOWED),
        "405"
    );
    assert_eq!(wrong_method.header("allow"), Some("GET"));
    let wrong_method = gateway
        .call(
            Method::PATCH,
            "/pizzashack/1.0.0/order/7",
            Bearer(&app_token),
            None,
        )
        .await;
    assert_eq!(wrong_method.header("allow"), Some("DELETE, GET, PUT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    let backend = MockBackend::start().await;
    let mut node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    let (_, app_token) = flow.application_with_token("SlowApp", Some(&api_id)).await;
    gateway
        .until(MENU, Bearer(&app_token), StatusCode::OK)
        .await;

    let slow = {
        let (gateway, token) = (gateway.clone(), app_token.clone());
        tokio::spawn(async move { gateway.get("/pizzashack/1.0.0/slow", Bearer(&token)).await })
    };
    // Let the request reach the backend, then ask the node to stop.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !backend
        .requests()
        .iter()
        .any(|r| r.path_and_query.ends_with("/slow"))
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node.terminate();
    let response = slow.await.expect("the in-flight request completes");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "{\"slow\":true}");
    let status = node
        .wait_exit(Duration::from_secs(20))
        .await
        .expect("the node exits");
    assert!(status.success(), "exit status {status}:\n{}", node.log());
    assert!(node.log().contains("stopped"));
}

/// A tier made in the Admin API is enforced at the gateway. (Its validation, uniqueness and
/// deletion: `operations/tests/rules/rest/tiers.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tier_created_in_the_admin_api_is_enforced() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow =
        Flow::login_with_scopes(&node, &format!("{} apim:admin", Flow::QUICK_START_SCOPES)).await;
    let gateway = Gateway::of(&node);
    flow.create_tier(
        "subscription",
        json!({"policyName": "Tiny", "displayName": "Tiny", "description": "5 per minute",
            "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 5}}}),
    )
    .await;

    let mut api = pizzashack(&backend.url());
    api["policies"] = json!(["Unlimited", "Tiny"]);
    let api_id = flow.publish_api(api).await;
    let (app_id, _) = flow.application_with_token("TinyApp", None).await;
    flow.subscribe(&app_id, &api_id, "Tiny").await;
    let key = flow.production_key(&app_id).await;
    let token = flow.token_for(&app_id, &key, 3600).await;
    // Stay inside one clock-aligned minute (the warm-up request counts too).
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 45 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    gateway.until(MENU, Bearer(&token), StatusCode::OK).await;
    // Unhurried requests: each decision has arrived before the next request.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(gateway.get(MENU, Bearer(&token)).await.status.as_u16());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    // The warm-up request above counted too.
    assert_eq!(admitted, 4, "{statuses:?}");
    assert!(statuses[4..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_backends_are_proxied_when_trusted() {
    let work = tempfile::tempdir().unwrap();
    let certificate = work.path().join("backend.pem");
    let backend = MockBackend::start_tls(&certificate).await;
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: format!("[truststore]\nfile_name = \"{}\"\n", certificate.display()),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login(&node).await;
    assert!(backend.url().starts_with("https://"));
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    let (_, token) = flow
        .application_with_token("TlsBackendApp", Some(&api_id))
        .await;
    let menu = Gateway::of(&node)
        .until(MENU, Bearer(&token), StatusCode::OK)
        .await;
    assert_eq!(menu.body, tollgate_testkit::MENU);
}

/// A backend that closes its connection after every response, as some do: the gateway must not
/// reuse those connections, and each request still gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_that_close_connections_are_not_reused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let accepted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = tollgate_testkit::MENU;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });

    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow
        .publish_api(pizzashack(&format!("http://{addr}/pizzashack/v1")))
        .await;
    let (_, token) = flow
        .application_with_token("ClosingBackendApp", Some(&api_id))
        .await;
    let gateway = Gateway::of(&node);
    gateway.until(MENU, Bearer(&token), StatusCode::OK).await;
    let before = connections.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..20 {
        let menu = gateway.get(MENU, Bearer(&token)).await;
        assert_eq!(menu.status, StatusCode::OK);
        assert_eq!(menu.body, tollgate_testkit::MENU);
    }
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst) - before,
        20,
        "one backend connection per request"
    );
}

/// A backend that cannot be reached, or that hangs up without answering, gets the caller WSO2's
/// error body with code 101503 — never a hang or an empty reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_failures_get_wso2s_error_body() {
    // Nothing listens on this port once the listener is dropped.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // This one accepts and hangs up at once.
    let hang_up = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang_up_addr = hang_up.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = hang_up.accept().await {
            drop(stream);
        }
    });

    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let unreachable = flow
        .publish_api(pizzashack(&format!(
            "http://127.0.0.1:{closed_port}/pizzashack/v1"
        )))
        .await;
    let mut hanging = pizzashack(&format!("http://{hang_up_addr}/pizzashack/v1"));
    hanging["name"] = json!("HangUpAPI");
    hanging["context"] = json!("/hangup");
    let hanging = flow.publish_api(hanging).await;
    let (application, token) = flow
        .application_with_token("BackendFailureApp", Some(&unreachable))
        .await;
    flow.subscribe(&application, &hanging, "Unlimited").await;

    let gateway = Gateway::of(&node);
    for path in [MENU, "/hangup/1.0.0/menu"] {
        let answer = gateway
            .eventually(path, Bearer(&token), StatusCode::SERVICE_UNAVAILABLE)
            .await;
        let body = answer.refused(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "101503", "{path}: {body}");
    }
}
