//! API keys and key types through a real process and its gateway: a key made in the developer
//! portal works in the `apikey` header and the `?apikey=` parameter (and reaches the backend
//! without them), is refused where the API takes tokens only, from an address or referer it does
//! not permit, and once revoked; a SANDBOX key (and a SANDBOX token) reaches the sandbox backend.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, ok_json, pizzashack, Flow};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// Polls until a request made by `send` gets `status` (changes reach the gateway by events).
async fn eventually_status<F, Fut>(send: F, status: StatusCode) -> reqwest::Response
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = send().await.unwrap();
        if response.status() == status || Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn api_key(flow: &Flow, app_id: &str, key_type: &str, body: Value) -> String {
    let key = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/api-keys/{key_type}/generate"
            )),
            body,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    key["apikey"].as_str().unwrap().to_string()
}

fn claims_of(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_work_where_permitted_until_revoked() {
    let production = MockBackend::start().await;
    let sandbox = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
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

    // No body: a key that never expires, with WSO2's claims.
    let key = ok_json(
        flow.post_raw(
            flow.devportal(&format!(
                "/applications/{app_id}/api-keys/PRODUCTION/generate"
            )),
            "",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(key["validityTime"], -1);
    let key = key["apikey"].as_str().unwrap().to_string();
    let claims = claims_of(&key);
    assert_eq!(claims["token_type"], "apiKey");
    assert_eq!(claims["keytype"], "PRODUCTION");
    assert_eq!(claims["application"]["uuid"], app_id.as_str());
    assert_eq!(claims["application"]["name"], "KeyApp");
    let subscribed: Vec<&str> = claims["subscribedAPIs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["context"].as_str().unwrap())
        .collect();
    assert!(subscribed.contains(&"/pizzashack/1.0.0"), "{claims}");
    assert!(claims["tierInfo"]["Unlimited"].is_object(), "{claims}");

    // In the header; the backend never sees it.
    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    let response = eventually_status(
        || flow.http.get(&menu).header("apikey", &key).send(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = production.requests().pop().unwrap();
    assert!(seen.header("apikey").is_none(), "{seen:?}");

    // As a query parameter: removed before forwarding, the other parameters kept.
    let response = flow
        .http
        .get(format!("{menu}?size=large&apikey={key}&crust=thin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = production.requests().pop().unwrap();
    assert!(
        seen.path_and_query.ends_with("/menu?size=large&crust=thin"),
        "{}",
        seen.path_and_query
    );

    // Basic credentials meant for the backend do not hide the key; a key in the query never
    // reaches the backend, whatever credential the request used.
    let response = flow
        .http
        .get(&menu)
        .basic_auth("backend-user", Some("backend-password"))
        .header("apikey", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let app_token = flow
        .token_for(&app_id, &flow.production_key(&app_id).await, 3600)
        .await;
    let response = flow
        .http
        .get(format!("{menu}?apikey=stray&size=small"))
        .bearer_auth(&app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = production.requests().pop().unwrap();
    assert!(
        seen.path_and_query.ends_with("/menu?size=small"),
        "{}",
        seen.path_and_query
    );

    // Not a bearer token, and a token is not an API key; an API that takes tokens only
    // refuses the key.
    let refused = flow.http.get(&menu).bearer_auth(&key).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let token = flow
        .token_for(&app_id, &flow.production_key(&app_id).await, 3600)
        .await;
    let refused = flow
        .http
        .get(&menu)
        .header("apikey", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused = flow
        .http
        .get(node.gateway_http("/tokensonly/1.0.0/menu"))
        .header("apikey", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "900902", "{body}");

    // Restricted to addresses and referers: the gateway sees this test at 127.0.0.1.
    let elsewhere = api_key(
        &flow,
        &app_id,
        "PRODUCTION",
        json!({"validityPeriod": 3600, "additionalProperties": {"permittedIP": "10.0.0.0/8, 192.168.1.1"}}),
    )
    .await;
    let refused = flow
        .http
        .get(&menu)
        .header("apikey", &elsewhere)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let here = api_key(
        &flow,
        &app_id,
        "PRODUCTION",
        json!({"validityPeriod": 3600, "additionalProperties": {"permittedIP": "10.0.0.0/8,127.0.0.1"}}),
    )
    .await;
    let response = flow
        .http
        .get(&menu)
        .header("apikey", &here)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let from_site = api_key(
        &flow,
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
        let mut request = flow.http.get(&menu).header("apikey", &from_site);
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            status,
            "{referer:?}"
        );
    }

    // A SANDBOX key reaches the sandbox endpoint; so does a SANDBOX token.
    let sandbox_key = api_key(&flow, &app_id, "SANDBOX", json!({"validityPeriod": 600})).await;
    let before = sandbox.requests().len();
    let response = flow
        .http
        .get(&menu)
        .header("apikey", &sandbox_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(sandbox.requests().len(), before + 1);
    let sandbox_keys = ok_json(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/generate-keys")),
            json!({"keyType": "SANDBOX", "keyManager": "Resident Key Manager", "grantTypesToBeSupported": ["client_credentials"], "callbackUrl": ""}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let sandbox_token = flow.token_for(&app_id, &sandbox_keys, 600).await;
    let response = eventually_status(
        || flow.http.get(&menu).bearer_auth(&sandbox_token).send(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(sandbox.requests().len(), before + 2);

    // Bad input names its field; another key type or another application's key is not
    // revoked through this one.
    for (body, field) in [
        (json!({"validityPeriod": "soon"}), "validityPeriod"),
        (json!({"validityPeriod": -5}), "validityPeriod"),
        (
            json!({"additionalProperties": {"permittedIP": "10.0.0.0/8,nowhere"}}),
            "additionalProperties.permittedIP",
        ),
    ] {
        let refused = error_body(
            flow.post(
                flow.devportal(&format!(
                    "/applications/{app_id}/api-keys/PRODUCTION/generate"
                )),
                body,
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(refused.to_string().contains(field), "{refused}");
    }
    error_body(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/api-keys/TESTING/generate")),
            json!({}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let revoke = flow.devportal(&format!(
        "/applications/{app_id}/api-keys/PRODUCTION/revoke"
    ));
    error_body(
        flow.post(revoke.clone(), json!({"apikey": sandbox_key}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let (other_app, _, _) = flow.application_with_keys("OtherApp", Some(&api_id)).await;
    let others = api_key(&flow, &other_app, "PRODUCTION", json!({})).await;
    error_body(
        flow.post(revoke.clone(), json!({"apikey": others})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    error_body(
        flow.post(revoke.clone(), json!({"apikey": "not-a-key"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Revoked: every gateway refuses it; the application's other keys still work.
    ok_json(
        flow.post(revoke, json!({"apikey": key})).await,
        StatusCode::OK,
    )
    .await;
    let refused = eventually_status(
        || flow.http.get(&menu).header("apikey", &key).send(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let response = flow
        .http
        .get(&menu)
        .header("apikey", &here)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Unsubscribed: the key names the API still, but the gateway goes by the subscription.
    let subscriptions = ok_json(
        flow.get(flow.devportal(&format!(
            "/subscriptions?applicationId={app_id}&apiId={api_id}"
        )))
        .await,
        StatusCode::OK,
    )
    .await;
    let subscription_id = subscriptions["list"][0]["subscriptionId"].as_str().unwrap();
    let deleted = flow
        .http
        .delete(flow.devportal(&format!("/subscriptions/{subscription_id}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let refused = eventually_status(
        || flow.http.get(&menu).header("apikey", &here).send(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Another consumer cannot make keys for this application: it does not exist for them.
    let other_key_type_refused = flow
        .http
        .post(flow.devportal("/applications/no-such-app/api-keys/PRODUCTION/generate"))
        .bearer_auth(&flow.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(other_key_type_refused.status(), StatusCode::NOT_FOUND);
}

/// WSO2's `authorizationHeader`: an API may take its tokens in another header; `Authorization`
/// then passes to the backend (its own credentials), and the token header does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_come_in_the_header_an_api_names() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let mut api = pizzashack(&backend.url());
    api["authorizationHeader"] = json!("X-Pizza-Auth");
    let api_id = flow.publish_api(api).await;
    let (app_id, token) = flow
        .application_with_token("HeaderApp", Some(&api_id))
        .await;

    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    let response = eventually_status(
        || {
            flow.http
                .get(&menu)
                .header("x-pizza-auth", format!("Bearer {token}"))
                .header("authorization", "Basic YmFja2VuZDpzZWNyZXQ=")
                .send()
        },
        StatusCode::OK,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = backend.requests().pop().unwrap();
    assert!(seen.header("x-pizza-auth").is_none(), "{seen:?}");
    assert_eq!(
        seen.header("authorization"),
        Some("Basic YmFja2VuZDpzZWNyZXQ="),
        "the backend's own credentials pass"
    );
    // In `Authorization`, the token is not looked at: no credentials for this API.
    let refused = flow
        .http
        .get(&menu)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    error_body(refused, StatusCode::UNAUTHORIZED).await;

    // The ready-made commands put the token in that header.
    let subscriptions = ok_json(
        flow.get(flow.devportal(&format!("/subscriptions?applicationId={app_id}")))
            .await,
        StatusCode::OK,
    )
    .await;
    let subscription_id = subscriptions["list"][0]["subscriptionId"].as_str().unwrap();
    let how = ok_json(
        flow.get(flow.devportal(&format!("/subscriptions/{subscription_id}/invocation")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        how.to_string()
            .to_ascii_lowercase()
            .contains("x-pizza-auth: bearer ${access_token}"),
        "{how}"
    );
}
