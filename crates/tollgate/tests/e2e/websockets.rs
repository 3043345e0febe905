//! WebSocket APIs through a real gateway and a real WebSocket backend on loopback: published
//! with `type: WS` and a `ws://` endpoint, served on WSO2's WebSocket port and as an upgrade on
//! the gateway's own; the token in `Authorization` or in WSO2's `access_token` query parameter
//! (which the backend never sees); frames relayed both ways; each frame admitted again, so a
//! revoked token or a blocked subscription closes the connection with WSO2's code 4001; the
//! open connections and frames in `/metrics`.

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tollgate_testkit::flow::{named_api, Flow};
use tollgate_testkit::ws_backend::WsBackend;
use tollgate_testkit::{Node, NodeOptions, OAuthClient};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Connects to `url` with `token` in `Authorization` (when given); the socket, or the status
/// the gateway refused the upgrade with.
async fn connect(url: &str, token: Option<&str>) -> Result<Socket, StatusCode> {
    let mut request = url.into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let authority = request.uri().authority().unwrap().to_string();
    let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    match tokio_tungstenite::client_async(request, tcp).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(StatusCode::from_u16(response.status().as_u16()).unwrap())
        }
        Err(err) => panic!("connect {url}: {err}"),
    }
}

/// Connects once the deployment has reached the gateway.
async fn connect_eventually(url: &str, token: &str) -> Socket {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match connect(url, Some(token)).await {
            Ok(socket) => return socket,
            Err(status) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{url} never served: {status}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The next text message, or the close frame's code.
async fn next(socket: &mut Socket) -> Result<String, u16> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s");
        match message {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map_or(1005, |f| u16::from(f.code)))
            }
            Some(Ok(_)) => continue,
            Some(Err(err)) => panic!("socket failed: {err}"),
            None => return Err(1006),
        }
    }
}

/// Sends frames until the gateway closes the connection (the change that closes it reaches
/// the gateway as an event); the close code.
async fn close_code_of_next_frames(socket: &mut Socket) -> u16 {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(std::time::Instant::now() < deadline, "never closed");
        if socket.send(Message::text("still there?")).await.is_err() {
            return 1006;
        }
        match next(socket).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(code) => return code,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_apis_relay_frames_and_close_on_revocation() {
    let backend = WsBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(
        &node,
        "apim:api_view apim:api_create apim:api_publish apim:subscribe apim:subscription_block",
    )
    .await;

    // A WebSocket API: WSO2's fields, no topics given (a wildcard topic for each verb).
    let mut body = named_api("Chat", "/chat", "1.0.0", "ws://unused.example");
    body["type"] = json!("WS");
    body["operations"] = json!([]);
    body["endpointConfig"] = json!({"endpoint_type": "ws",
        "production_endpoints": {"url": backend.url()},
        "sandbox_endpoints": {"url": backend.url()}});
    let api_id = flow.publish_api(body).await;
    let definition = flow
        .call(
            reqwest::Method::GET,
            &flow.publisher(&format!("/apis/{api_id}/swagger")),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(definition["asyncapi"], "2.0.0", "{definition}");
    let (app_id, keys, token) = flow.application_with_keys("ChatApp", Some(&api_id)).await;

    // WSO2's WebSocket port, the token in Authorization: frames both ways.
    let mut socket = connect_eventually(&node.gateway_ws("/chat/1.0.0/rooms/greet"), &token).await;
    assert_eq!(next(&mut socket).await, Ok("welcome".to_string()));
    socket.send(Message::text("hello")).await.unwrap();
    assert_eq!(next(&mut socket).await, Ok("hello".to_string()));
    let upgrade = backend.upgrades().last().cloned().unwrap();
    assert_eq!(upgrade.path_and_query, "/chat/rooms/greet");
    assert!(upgrade.header("activityid").is_some());
    assert!(
        upgrade.header("authorization").is_none(),
        "the token stays at the gateway"
    );

    // A browser's way, on the gateway's own port: `?access_token=`, kept from the backend.
    let browser = node
        .gateway_http(&format!("/chat/1.0.0/lobby?room=1&access_token={token}"))
        .replacen("http://", "ws://", 1);
    let mut second = connect(&browser, None)
        .await
        .expect("the query token admits");
    second.send(Message::text("from a browser")).await.unwrap();
    assert_eq!(next(&mut second).await, Ok("from a browser".to_string()));
    assert_eq!(
        backend.upgrades().last().unwrap().path_and_query,
        "/chat/lobby?room=1"
    );

    // No token, a bad one: the upgrade is refused.
    assert_eq!(
        connect(&node.gateway_ws("/chat/1.0.0/rooms"), None)
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        connect(&node.gateway_ws("/chat/1.0.0/rooms"), Some("not-a-token"))
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );

    // Metrics: both connections open, frames counted.
    let metrics = flow.get(node.gateway_management("/metrics")).await;
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("tollgate_gateway_websocket_connections 2"),
        "{text}"
    );
    assert!(text.contains("tollgate_gateway_websocket_frames_total{direction=\"upstream\"}"));

    // The token revoked: the next frame closes the connection with WSO2's 4001.
    OAuthClient::of_keys(&node, &keys).revoke(&token).await;
    assert_eq!(close_code_of_next_frames(&mut socket).await, 4001);

    // A new token; the subscription blocked: closed with 4001 too.
    let fresh = flow.token_for(&app_id, &keys, 3600).await;
    let mut third = connect_eventually(&node.gateway_ws("/chat/1.0.0/rooms"), &fresh).await;
    third.send(Message::text("ping")).await.unwrap();
    assert_eq!(next(&mut third).await, Ok("ping".to_string()));
    let subscription = flow.subscription_id(&app_id, &api_id).await;
    flow.block_subscription(&subscription, "BLOCKED").await;
    assert_eq!(close_code_of_next_frames(&mut third).await, 4001);

    // A graceful stop closes the connection still open with 1001 (going away).
    let node = node;
    node.terminate();
    assert_eq!(next(&mut second).await, Err(1001));
}

/// Each frame counts as one request against the subscription's limit, both ways: beyond it a
/// frame is dropped and the client told with WSO2's text; the connection stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_frame_counts_against_the_limits() {
    let backend = WsBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow =
        Flow::login_with_scopes(&node, &format!("{} apim:admin", Flow::QUICK_START_SCOPES)).await;
    flow.create_tier(
        "subscription",
        json!({"policyName": "Chatty", "displayName": "Chatty", "description": "6 per minute",
            "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 6}}}),
    )
    .await;
    let mut body = named_api("Counted", "/counted", "1.0.0", "ws://unused.example");
    body["type"] = json!("WS");
    body["operations"] = json!([]);
    body["policies"] = json!(["Unlimited", "Chatty"]);
    body["endpointConfig"] = json!({"endpoint_type": "ws",
        "production_endpoints": {"url": backend.url()}});
    let api_id = flow.publish_api(body).await;
    let (app_id, _) = flow.application_with_token("CountedApp", None).await;
    flow.subscribe(&app_id, &api_id, "Chatty").await;
    let key = flow.production_key(&app_id).await;
    let token = flow.token_for(&app_id, &key, 3600).await;
    // Stay inside one clock-aligned minute.
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 45 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    // The upgrade counts as one request, each frame as one (an echo is two: up and down).
    let mut socket = connect_eventually(&node.gateway_ws("/counted/1.0.0/"), &token).await;
    let mut answers = Vec::new();
    for i in 0..6 {
        socket.send(Message::text(format!("m{i}"))).await.unwrap();
        answers.push(next(&mut socket).await.unwrap());
        // Unhurried: each decision has arrived before the next frame.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let throttled = "Error code: 4003 reason: Websocket frame throttled out";
    assert!(
        answers.starts_with(&["m0".to_string(), "m1".to_string()]),
        "{answers:?}"
    );
    assert_eq!(
        answers.last().map(String::as_str),
        Some(throttled),
        "{answers:?}"
    );
    // Still open: the client may go on once the minute is over.
    socket.send(Message::text("again")).await.unwrap();
    assert_eq!(next(&mut socket).await.as_deref(), Ok(throttled));
}

/// Upgraded connections leave their listener's count; the gateway bounds them by the same
/// `[transport] max_connections`: past it an upgrade is refused (503), and a closed one frees
/// its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_connections_are_bounded() {
    let backend = WsBackend::start().await;
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[transport]\nmax_connections = 2\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login(&node).await;
    let mut body = named_api("Bounded", "/bounded", "1.0.0", "ws://unused.example");
    body["type"] = json!("WS");
    body["operations"] = json!([]);
    body["endpointConfig"] = json!({"endpoint_type": "ws",
        "production_endpoints": {"url": backend.url()}});
    let api_id = flow.publish_api(body).await;
    let (_, token) = flow
        .application_with_token("BoundedApp", Some(&api_id))
        .await;
    let url = node.gateway_ws("/bounded/1.0.0/");
    let mut first = connect_eventually(&url, &token).await;
    let second = connect(&url, Some(&token)).await.expect("a second place");
    assert_eq!(
        connect(&url, Some(&token)).await.err(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    drop(second);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut third = loop {
        match connect(&url, Some(&token)).await {
            Ok(socket) => break socket,
            Err(status) => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                assert!(
                    std::time::Instant::now() < deadline,
                    "the place was never freed"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    for socket in [&mut first, &mut third] {
        socket.send(Message::text("hi")).await.unwrap();
        assert_eq!(next(socket).await, Ok("hi".to_string()));
    }
}
