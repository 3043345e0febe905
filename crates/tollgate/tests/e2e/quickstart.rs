//! WSO2's quick-start, end to end against a real all-in-one process: register a client, get a
//! token, create PizzaShackAPI, revise, deploy, publish, create an application, subscribe, get
//! keys and a token, and invoke the API through the gateway — plus what must be refused.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, eventually, ok_json, pizzashack, Flow};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_start_publish_subscribe_invoke() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;

    let api_id = {
        let created = ok_json(
            flow.post(flow.publisher("/apis"), pizzashack(&backend.url()))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(created["lifeCycleStatus"], "CREATED");
        assert_eq!(created["provider"], "admin");
        assert_eq!(
            created["x-some-vendor-extension"]["kept"], true,
            "unknown fields are kept"
        );
        created["id"].as_str().unwrap().to_string()
    };
    let fetched = ok_json(
        flow.http
            .get(flow.publisher(&format!("/apis/{api_id}")))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(fetched["name"], "PizzaShackAPI");
    let listed = ok_json(
        flow.http
            .get(flow.publisher("/apis"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["list"][0]["id"], api_id.as_str());

    // Revise and deploy, but do not publish yet: the gateway must not serve it.
    let revision = ok_json(
        flow.post(
            flow.publisher(&format!("/apis/{api_id}/revisions")),
            json!({"description": "r1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(revision["displayName"], "Revision 1");
    let revision_id = revision["id"].as_str().unwrap();
    let deployed = ok_json(
        flow.post(
            flow.publisher(&format!(
                "/apis/{api_id}/deploy-revision?revisionId={revision_id}"
            )),
            json!([{"name": "Default", "vhost": "localhost", "displayOnDevportal": true}]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deployed[0]["name"], "Default");
    let (app_id, generated_keys, app_token) =
        flow.application_with_keys("DefaultApplication", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    error_body(
        flow.http
            .get(node.gateway_http("/pizzashack/1.0.0/menu"))
            .bearer_auth(&app_token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Publish: now it answers, but the application is not subscribed yet.
    ok_json(
        flow.http
            .post(flow.publisher(&format!(
                "/apis/change-lifecycle?apiId={api_id}&action=Publish"
            )))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let refused = eventually(
        &flow.http,
        &node.gateway_http("/pizzashack/1.0.0/menu"),
        Some(&app_token),
        StatusCode::FORBIDDEN,
    )
    .await;
    let body = error_body(refused, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "900908");

    // Subscribe: the same token now gets through, and the backend's body comes back.
    let sub = ok_json(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(sub["apiId"], api_id.as_str());
    let menu = eventually(
        &flow.http,
        &node.gateway_http("/pizzashack/1.0.0/menu"),
        Some(&app_token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(menu.status(), StatusCode::OK);
    assert_eq!(menu.headers()["x-backend"], "pizzashack-mock");
    assert_eq!(menu.text().await.unwrap(), tollgate_testkit::MENU);
    let seen = backend.requests().into_iter().last().unwrap();
    assert_eq!(seen.path_and_query, "/pizzashack/v1/menu");
    assert!(
        seen.header("authorization").is_none(),
        "the token must not reach the backend"
    );

    // The token endpoint's client-credentials grant with the application's own keys works as well,
    // and the JWKS publishes the key that signed it. The secret is shown only when generated.
    let key = generated_keys;
    assert!(flow.production_key(&app_id).await["consumerSecret"].is_null());
    let (consumer_key, consumer_secret) = (
        key["consumerKey"].as_str().unwrap(),
        key["consumerSecret"].as_str().unwrap(),
    );
    let granted = ok_json(
        flow.http
            .post(node.control_plane_http("/oauth2/token"))
            .basic_auth(consumer_key, Some(consumer_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(granted["scope"], "default");
    let cc_token = granted["access_token"].as_str().unwrap();
    let via_cc = flow
        .http
        .get(node.gateway_http("/pizzashack/1.0.0/menu"))
        .bearer_auth(cc_token)
        .send()
        .await
        .unwrap();
    assert_eq!(via_cc.status(), StatusCode::OK);
    let jwks = ok_json(
        flow.http
            .get(node.control_plane_http("/oauth2/jwks"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let header: Value = {
        use base64::Engine;
        let part = cc_token.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["alg"], "RS256");
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    let wrong_secret = flow
        .http
        .post(node.control_plane_http("/oauth2/token"))
        .basic_auth(consumer_key, Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_secret.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    // Bodies stream both ways; path parameters and queries pass through; HTTPS works too.
    let order = json!({"customerName": "Ann", "pizzaType": "Pepperoni", "quantity": 2});
    let created = flow
        .http
        .post(node.gateway_https("/pizzashack/1.0.0/order"))
        .bearer_auth(&app_token)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Value>().await.unwrap(), order);
    let one = flow
        .http
        .delete(node.gateway_http("/pizzashack/1.0.0/order/42?reason=late"))
        .bearer_auth(&app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        one.json::<Value>().await.unwrap(),
        json!({"orderId": "42", "method": "DELETE"})
    );
    assert_eq!(
        backend.requests().last().unwrap().path_and_query,
        "/pizzashack/v1/order/42?reason=late"
    );

    // The developer portal lists the published API.
    let portal = ok_json(
        flow.http.get(flow.devportal("/apis")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(portal["list"][0]["name"], "PizzaShackAPI");

    // Gateway refusals, with WSO2's codes.
    let gw = |path: &str| node.gateway_http(path);
    let missing = error_body(
        flow.http
            .get(gw("/pizzashack/1.0.0/menu"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(missing["code"], "900902");
    let bad = error_body(
        flow.http
            .get(gw("/pizzashack/1.0.0/menu"))
            .bearer_auth("not-a-jwt")
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(bad["code"], "900901");
    let mut tampered = app_token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    let forged = error_body(
        flow.http
            .get(gw("/pizzashack/1.0.0/menu"))
            .bearer_auth(&tampered)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(forged["code"], "900901");
    // A token for the REST APIs (not an application's) is not an API key.
    let rest_token = error_body(
        flow.http
            .get(gw("/pizzashack/1.0.0/menu"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(rest_token["code"], "900901");
    let (_, other_token) = flow.application_with_token("NotSubscribed", None).await;
    let forbidden = eventually(
        &flow.http,
        &gw("/pizzashack/1.0.0/menu"),
        Some(&other_token),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        error_body(forbidden, StatusCode::FORBIDDEN).await["code"],
        "900908"
    );
    error_body(
        flow.http
            .get(gw("/nosuchapi/1.0.0/menu"))
            .bearer_auth(&app_token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    error_body(
        flow.http
            .get(gw("/pizzashack/2.0.0/menu"))
            .bearer_auth(&app_token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let no_resource = error_body(
        flow.http
            .get(gw("/pizzashack/1.0.0/drinks"))
            .bearer_auth(&app_token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(no_resource["code"], "900906");

    // REST API access control: no credentials → 401; a token without the scope → 403.
    error_body(
        flow.http.get(flow.publisher("/apis")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    error_body(
        flow.http
            .get(flow.publisher("/apis"))
            .basic_auth("admin", Some("wrong"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let ok_basic = flow
        .http
        .get(flow.publisher("/apis"))
        .basic_auth("admin", Some(&node.admin_password))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_basic.status(), StatusCode::OK);
    error_body(
        flow.http
            .post(flow.publisher("/apis"))
            .bearer_auth(&app_token)
            .json(&pizzashack(&backend.url()))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_cleanly_and_nothing_is_half_written() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;

    let description = |v: &Value| v["description"].as_str().unwrap_or("").to_string();
    // Malformed JSON, missing fields, wrong types, bad values.
    let malformed = error_body(
        flow.post_raw(flow.publisher("/apis"), "{\"name\": ").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        description(&malformed).contains("Malformed JSON"),
        "{malformed}"
    );
    let missing = error_body(
        flow.post(
            flow.publisher("/apis"),
            json!({"name": "A", "context": "/a"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description(&missing).contains("version"), "{missing}");
    let wrong_type = error_body(
        flow.post(
            flow.publisher("/apis"),
            json!({"name": "A", "context": "/a", "version": 1}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description(&wrong_type).contains("version"), "{wrong_type}");
    let bad_verb = error_body(
        flow.post(flow.publisher("/apis"), json!({"name": "A", "context": "/a", "version": "1", "operations": [{"target": "/x", "verb": "FETCH"}]})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        description(&bad_verb).contains("operations[0].verb"),
        "{bad_verb}"
    );
    let bad_endpoint = error_body(
        flow.post(flow.publisher("/apis"), json!({"name": "A", "context": "/a", "version": "1", "endpointConfig": {"production_endpoints": {"url": "ftp://x"}}})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        description(&bad_endpoint).contains("endpointConfig.production_endpoints.url"),
        "{bad_endpoint}"
    );
    let bad_tier = error_body(
        flow.post(
            flow.publisher("/apis"),
            json!({"name": "A", "context": "/a", "version": "1", "policies": ["Platinum"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description(&bad_tier).contains("Platinum"), "{bad_tier}");
    error_body(
        flow.post_raw(flow.publisher("/apis"), "[1,2]").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    error_body(
        flow.post_raw(flow.publisher("/apis"), "").await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Duplicates: same context and version, or same name and version.
    let duplicate = pizzashack(&backend.url());
    error_body(
        flow.post(flow.publisher("/apis"), duplicate).await,
        StatusCode::CONFLICT,
    )
    .await;
    let mut same_context = pizzashack(&backend.url());
    same_context["name"] = json!("OtherName");
    error_body(
        flow.post(flow.publisher("/apis"), same_context).await,
        StatusCode::CONFLICT,
    )
    .await;

    // Unknown ids and actions.
    error_body(
        flow.http
            .get(flow.publisher("/apis/no-such-id"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    error_body(
        flow.post(flow.publisher("/apis/no-such-id/revisions"), json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    error_body(
        flow.post(
            flow.publisher(&format!(
                "/apis/{api_id}/deploy-revision?revisionId=no-such-revision"
            )),
            json!([{"name": "Default"}]),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let revision = ok_json(
        flow.post(
            flow.publisher(&format!("/apis/{api_id}/revisions")),
            json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let unknown_env = error_body(
        flow.post(
            flow.publisher(&format!(
                "/apis/{api_id}/deploy-revision?revisionId={}",
                revision["id"].as_str().unwrap()
            )),
            json!([{"name": "Mars"}]),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description(&unknown_env).contains("Mars"), "{unknown_env}");
    let bad_action = error_body(
        flow.http
            .post(flow.publisher(&format!(
                "/apis/change-lifecycle?apiId={api_id}&action=Explode"
            )))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description(&bad_action).contains("Explode"), "{bad_action}");
    error_body(
        flow.http
            .post(flow.publisher("/apis/change-lifecycle?apiId=no-such-id&action=Publish"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Developer portal: unknown application, unknown tier, duplicate application and subscription.
    error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": "nope", "apiId": api_id, "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let app = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "App1", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let app_id = app["applicationId"].as_str().unwrap();
    error_body(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "App1", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    error_body(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "App2", "throttlingPolicy": "NoSuchTier"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    error_body(
        flow.post(flow.devportal("/applications"), json!({"name": "App2"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let gold = error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Gold"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description(&gold).contains("Gold"), "{gold}");
    error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app_id, "apiId": "nope", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    ok_json(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    error_body(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/generate-keys")),
            json!({"keyType": "STAGING", "grantTypesToBeSupported": ["client_credentials"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    error_body(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/oauth-keys/nope/generate-token"
            )),
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Nothing was written by the refused requests.
    let apis = ok_json(
        flow.http
            .get(flow.publisher("/apis"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(apis["count"], 1, "{apis}");
    let apps = ok_json(
        flow.http
            .get(flow.devportal("/applications"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(apps["count"], 1, "{apps}");
    let subs = ok_json(
        flow.http
            .get(flow.devportal(&format!("/subscriptions?applicationId={app_id}")))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(subs["count"], 1, "{subs}");
    assert!(
        !node.log().contains("panicked"),
        "the server panicked:\n{}",
        node.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    let backend = MockBackend::start().await;
    let mut node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    let (_, app_token) = flow.application_with_token("SlowApp", Some(&api_id)).await;
    eventually(
        &flow.http,
        &node.gateway_http("/pizzashack/1.0.0/menu"),
        Some(&app_token),
        StatusCode::OK,
    )
    .await;

    let slow = {
        let http = flow.http.clone();
        let url = node.gateway_http("/pizzashack/1.0.0/slow");
        let token = app_token.clone();
        tokio::spawn(async move { http.get(url).bearer_auth(token).send().await })
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
    let response = slow
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "{\"slow\":true}");
    let status = node
        .wait_exit(Duration::from_secs(20))
        .await
        .expect("the node exits");
    assert!(status.success(), "exit status {status}:\n{}", node.log());
    assert!(node.log().contains("stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tier_created_in_the_admin_api_is_enforced() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let admin =
        |request: reqwest::RequestBuilder| request.basic_auth("admin", Some(&node.admin_password));
    let tiers = node.control_plane_http("/api/am/admin/v4/throttling/policies/subscription");

    let bad = admin(flow.http.post(&tiers))
        .json(&json!({"policyName": "Tiny", "defaultLimit": {"type": "BANDWIDTHLIMIT"}}))
        .send()
        .await
        .unwrap();
    assert!(
        error_body(bad, StatusCode::BAD_REQUEST).await["description"]
            .as_str()
            .unwrap()
            .contains("defaultLimit.type")
    );
    let tiny = ok_json(
        admin(flow.http.post(&tiers))
            .json(&json!({"policyName": "Tiny", "displayName": "Tiny", "description": "5 per minute",
                "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 5}}}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let tiny_id = tiny["policyId"].as_str().unwrap().to_string();
    error_body(
        admin(flow.http.post(&tiers))
            .json(&json!({"policyName": "Tiny", "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 5}}}))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
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
    eventually(
        &flow.http,
        &node.gateway_http("/pizzashack/1.0.0/menu"),
        Some(&token),
        StatusCode::OK,
    )
    .await;
    // Unhurried requests: each decision has arrived before the next request.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = flow
            .http
            .get(node.gateway_http("/pizzashack/1.0.0/menu"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    // The warm-up request above counted too.
    assert_eq!(admitted, 4, "{statuses:?}");
    assert!(statuses[4..].iter().all(|s| *s == 429), "{statuses:?}");

    // A tier in use cannot be deleted; an unused one can.
    let in_use = admin(flow.http.delete(format!("{tiers}/{tiny_id}")))
        .send()
        .await
        .unwrap();
    error_body(in_use, StatusCode::CONFLICT).await;
    let spare = ok_json(
        admin(flow.http.post(&tiers))
            .json(&json!({"policyName": "Spare", "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "hour", "unitTime": 1, "requestCount": 10}}}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let deleted = admin(
        flow.http
            .delete(format!("{tiers}/{}", spare["policyId"].as_str().unwrap())),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
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
    let menu = eventually(
        &flow.http,
        &node.gateway_http("/pizzashack/1.0.0/menu"),
        Some(&token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(menu.status(), StatusCode::OK);
    assert_eq!(menu.text().await.unwrap(), tollgate_testkit::MENU);
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
    let url = node.gateway_http("/pizzashack/1.0.0/menu");
    eventually(&flow.http, &url, Some(&token), StatusCode::OK).await;
    let before = connections.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..20 {
        let menu = flow
            .http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(menu.status(), StatusCode::OK);
        assert_eq!(menu.text().await.unwrap(), tollgate_testkit::MENU);
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

    for path in ["/pizzashack/1.0.0/menu", "/hangup/1.0.0/menu"] {
        let response = eventually(
            &flow.http,
            &node.gateway_http(path),
            Some(&token),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
        let body = error_body(response, StatusCode::SERVICE_UNAVAILABLE).await;
        assert_eq!(body["code"], "101503", "{path}: {body}");
    }
}
