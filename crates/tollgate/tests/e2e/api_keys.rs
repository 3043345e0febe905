//! API keys and key types through a real process and its gateway: a key made in the developer
//! portal works in the `apikey` header and the `?apikey=` parameter (and reaches the backend
//! without them), is refused where the API takes tokens only, from an address or referer it does
//! not permit, and once revoked; a SANDBOX key (and a SANDBOX token) reaches the sandbox backend.
//! (What a key says and which requests for keys are refused is tested in process:
//! `operations/tests/rules/rest/api_keys.rs`.)

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_testkit::flow::{pizzashack, Flow};
use tollgate_testkit::gateway::{Anonymous, ApiKey, Bearer, Gateway};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const MENU: &str = "/pizzashack/1.0.0/menu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_work_where_permitted_until_revoked() {
    let production = MockBackend::start().await;
    let sandbox = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let mut api = pizzashack(&production.url());
    api["securityScheme"] = json!(["oauth2", "api_key"]);
    api["endpointConfig"]["sandbox_endpoints"]["url"] = json!(sandbox.url());
    let api_id = flow.publish_api(api).await;
    let mut tokens_only = pizzashack(&production.url());
    tokens_only["context"] = json!("/tokensonly");
    tokens_only["name"] = json!("TokensOnly");
    let tokens_only_id = flow.publish_api(tokens_only).await;

    let (app_id, _, _) = flow.application_with_keys("KeyApp", Some(&api_id)).await;
    flow.subscribe(&app_id, &tokens_only_id, "Unlimited").await;
    let key = flow
        .generate_api_key(&app_id, "PRODUCTION", json!({}))
        .await;

    // In the header; the backend never sees it.
    gateway.until(MENU, ApiKey(&key), StatusCode::OK).await;
    let seen = production.requests().pop().unwrap();
    assert!(seen.header("apikey").is_none(), "{seen:?}");

    // As a query parameter: removed before forwarding, the other parameters kept.
    let answer = gateway
        .get(
            &format!("{MENU}?size=large&apikey={key}&crust=thin"),
            Anonymous,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let seen = production.requests().pop().unwrap();
    assert!(
        seen.path_and_query.ends_with("/menu?size=large&crust=thin"),
        "{}",
        seen.path_and_query
    );

    // Basic credentials meant for the backend do not hide the key; a key in the query never
    // reaches the backend, whatever credential the request used.
    let answer = gateway
        .call_with(
            Method::GET,
            MENU,
            ApiKey(&key),
            None,
            &[(
                "authorization",
                "Basic YmFja2VuZC11c2VyOmJhY2tlbmQtcGFzc3dvcmQ=",
            )],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let app_token = flow
        .token_for(&app_id, &flow.production_key(&app_id).await, 3600)
        .await;
    let answer = gateway
        .get(
            &format!("{MENU}?apikey=stray&size=small"),
            Bearer(&app_token),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let seen = production.requests().pop().unwrap();
    assert!(
        seen.path_and_query.ends_with("/menu?size=small"),
        "{}",
        seen.path_and_query
    );

    // Not a bearer token, and a token is not an API key; an API that takes tokens only
    // refuses the key.
    assert_eq!(
        gateway.get(MENU, Bearer(&key)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        gateway.get(MENU, ApiKey(&app_token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = gateway.get("/tokensonly/1.0.0/menu", ApiKey(&key)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["code"], "900902", "{}", refused.body);

    // Restricted to addresses and referers: the gateway sees this test at 127.0.0.1.
    let elsewhere = flow
        .generate_api_key(
            &app_id,
            "PRODUCTION",
            json!({"validityPeriod": 3600, "additionalProperties": {"permittedIP": "10.0.0.0/8, 192.168.1.1"}}),
        )
        .await;
    assert_eq!(
        gateway.get(MENU, ApiKey(&elsewhere)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let here = flow
        .generate_api_key(
            &app_id,
            "PRODUCTION",
            json!({"validityPeriod": 3600, "additionalProperties": {"permittedIP": "10.0.0.0/8,127.0.0.1"}}),
        )
        .await;
    assert_eq!(
        gateway.get(MENU, ApiKey(&here)).await.status,
        StatusCode::OK
    );
    let from_site = flow
        .generate_api_key(
            &app_id,
            "PRODUCTION",
            json!({"additionalProperties": {"permittedReferer": "app.example.com/*"}}),
        )
        .await;
    for (referer, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some("https://evil.example.org/"), StatusCode::UNAUTHORIZED),
        (Some("https://app.example.com/shop"), StatusCode::OK),
    ] {
        let headers: Vec<(&str, &str)> = referer.map(|r| ("referer", r)).into_iter().collect();
        let answer = gateway
            .call_with(Method::GET, MENU, ApiKey(&from_site), None, &headers)
            .await;
        assert_eq!(answer.status, status, "{referer:?}");
    }

    // A SANDBOX key reaches the sandbox endpoint; so does a SANDBOX token.
    let sandbox_key = flow
        .generate_api_key(&app_id, "SANDBOX", json!({"validityPeriod": 600}))
        .await;
    let before = sandbox.requests().len();
    assert_eq!(
        gateway.get(MENU, ApiKey(&sandbox_key)).await.status,
        StatusCode::OK
    );
    assert_eq!(sandbox.requests().len(), before + 1);
    let sandbox_keys = flow.generate_keys(&app_id, "SANDBOX").await;
    let sandbox_token = flow.token_for(&app_id, &sandbox_keys, 600).await;
    gateway
        .until(MENU, Bearer(&sandbox_token), StatusCode::OK)
        .await;
    assert_eq!(sandbox.requests().len(), before + 2);

    // Revoked: every gateway refuses it; the application's other keys still work.
    flow.revoke_api_key(&app_id, "PRODUCTION", &key).await;
    gateway
        .until(MENU, ApiKey(&key), StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(
        gateway.get(MENU, ApiKey(&here)).await.status,
        StatusCode::OK
    );

    // Unsubscribed: the key names the API still, but the gateway goes by the subscription.
    let subscription_id = flow.subscription_id(&app_id, &api_id).await;
    flow.unsubscribe(&subscription_id).await;
    gateway
        .until(MENU, ApiKey(&here), StatusCode::FORBIDDEN)
        .await;
}

/// WSO2's `authorizationHeader`: an API may take its tokens in another header; `Authorization`
/// then passes to the backend (its own credentials), and the token header does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_come_in_the_header_an_api_names() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let mut api = pizzashack(&backend.url());
    api["authorizationHeader"] = json!("X-Pizza-Auth");
    let api_id = flow.publish_api(api).await;
    let (_, token) = flow
        .application_with_token("HeaderApp", Some(&api_id))
        .await;

    let bearer = format!("Bearer {token}");
    let headers = [
        ("x-pizza-auth", bearer.as_str()),
        ("authorization", "Basic YmFja2VuZDpzZWNyZXQ="),
    ];
    // Polled: the API reaches the gateway by an event.
    let served = gateway
        .eventually_call_with(Method::GET, MENU, Anonymous, &headers, StatusCode::OK)
        .await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.body);
    let seen = backend.requests().pop().unwrap();
    assert!(seen.header("x-pizza-auth").is_none(), "{seen:?}");
    assert_eq!(
        seen.header("authorization"),
        Some("Basic YmFja2VuZDpzZWNyZXQ="),
        "the backend's own credentials pass"
    );
    // In `Authorization`, the token is not looked at: no credentials for this API.
    gateway
        .get(MENU, Bearer(&token))
        .await
        .refused(StatusCode::UNAUTHORIZED);
}
