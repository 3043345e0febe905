//! The Developer Portal API through a real process, as consumers use it: subscriptions — one or
//! many at once (all or none), a change of tier, lists by application or API, the rules that
//! refuse a subscription — and the isolation of one consumer's things from another's.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, ok_json, pizzashack, Flow};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

async fn application(flow: &Flow, name: &str) -> String {
    ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": name, "throttlingPolicy": "Unlimited", "tokenType": "JWT"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["applicationId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn lifecycle(flow: &Flow, api_id: &str, action: &str) {
    ok_json(
        flow.http
            .post(flow.publisher(&format!(
                "/apis/change-lifecycle?apiId={api_id}&action={action}"
            )))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_follow_wso2s_rules() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let mut api = pizzashack(&backend.url());
    api["policies"] = json!(["Gold", "Bronze"]);
    let api_id = flow.publish_api(api).await;
    let (first, second, third) = (
        application(&flow, "First").await,
        application(&flow, "Second").await,
        application(&flow, "Third").await,
    );

    // Two at once.
    let created = ok_json(
        flow.post(
            flow.devportal("/subscriptions/multiple"),
            json!([
                {"applicationId": first, "apiId": api_id, "throttlingPolicy": "Gold"},
                {"applicationId": second, "apiId": api_id, "throttlingPolicy": "Bronze"}
            ]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(created.as_array().unwrap().len(), 2);
    let first_sub = created[0]["subscriptionId"].as_str().unwrap().to_string();

    // Twice to the same API: 409.
    error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": first, "apiId": api_id, "throttlingPolicy": "Bronze"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // All or none: one bad entry stops the good one, and is named by its position.
    let refused = error_body(
        flow.post(
            flow.devportal("/subscriptions/multiple"),
            json!([
                {"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"},
                {"applicationId": third, "apiId": api_id, "throttlingPolicy": "Platinum"}
            ]),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("[1].apiId"), "{refused}");
    let refused = error_body(
        flow.post(
            flow.devportal("/subscriptions/multiple"),
            json!([
                {"applicationId": third, "apiId": "no-such-api", "throttlingPolicy": "Gold"},
                {"applicationId": second, "apiId": api_id, "throttlingPolicy": "Unlimited"}
            ]),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let text = refused.to_string();
    assert!(
        text.contains("[0].apiId") && text.contains("[1].throttlingPolicy"),
        "{text}"
    );
    let none = ok_json(
        flow.get(flow.devportal(&format!("/subscriptions?applicationId={third}")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none["count"], 0);

    // A change of tier; the application and API stay.
    let put = |body: Value| {
        flow.http
            .put(flow.devportal(&format!("/subscriptions/{first_sub}")))
            .bearer_auth(&flow.token)
            .json(&body)
            .send()
    };
    let changed = ok_json(
        put(json!({"applicationId": first, "apiId": api_id, "throttlingPolicy": "Bronze"}))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["throttlingPolicy"], "Bronze");
    let refused = error_body(
        put(json!({"applicationId": first, "apiId": api_id, "throttlingPolicy": "Platinum"}))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("throttlingPolicy"));
    error_body(
        put(json!({"applicationId": second, "apiId": api_id, "throttlingPolicy": "Gold"}))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;

    // By API: the caller's subscriptions to it.
    let by_api = ok_json(
        flow.get(flow.devportal(&format!("/subscriptions?apiId={api_id}")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_api["count"], 2);
    assert_eq!(by_api["pagination"]["total"], 2);

    // Another consumer sees none of it: 404 for the subscription, their own lists are empty,
    // and subscribing someone else's application names the field.
    ok_json(
        flow.http
            .post(node.control_plane_http("/api/identity/user/v1.0/me"))
            .json(&json!({"userName": "zed", "password": "zed-secret-1"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let zed = flow.http.clone();
    let as_zed = |request: reqwest::RequestBuilder| request.basic_auth("zed", Some("zed-secret-1"));
    error_body(
        as_zed(zed.get(flow.devportal(&format!("/subscriptions/{first_sub}"))))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let theirs = ok_json(
        as_zed(zed.get(flow.devportal(&format!("/subscriptions?apiId={api_id}"))))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["count"], 0);
    error_body(
        as_zed(zed.post(flow.devportal("/subscriptions")))
            .json(&json!({"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"}))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let refused = error_body(
        as_zed(zed.post(flow.devportal("/subscriptions/multiple")))
            .json(&json!([{"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"}]))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        refused.to_string().contains("[0].applicationId"),
        "{refused}"
    );
    error_body(
        as_zed(zed.delete(flow.devportal(&format!("/subscriptions/{first_sub}"))))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // A deprecated API keeps its subscribers but takes no new ones; nor does a blocked one.
    lifecycle(&flow, &api_id, "Deprecate").await;
    let refused = error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": third, "apiId": api_id, "throttlingPolicy": "Gold"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("Deprecated"), "{refused}");
    let kept = ok_json(
        flow.get(flow.devportal(&format!("/subscriptions/{first_sub}")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["status"], "UNBLOCKED");
    let mut other = pizzashack(&backend.url());
    other["name"] = json!("Blocked");
    other["context"] = json!("/blocked");
    let blocked_id = flow.publish_api(other).await;
    lifecycle(&flow, &blocked_id, "Block").await;
    // (A blocked API is not shown to consumers at all.)
    error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": third, "apiId": blocked_id, "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Deleting: gone, and a second delete is 404.
    let delete = || {
        flow.http
            .delete(flow.devportal(&format!("/subscriptions/{first_sub}")))
            .bearer_auth(&flow.token)
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), StatusCode::OK);
    error_body(delete().await.unwrap(), StatusCode::NOT_FOUND).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_are_the_owners_and_their_deletion_reaches_the_gateway() {
    use tollgate_testkit::flow::eventually;
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;

    // Every bad field named at once; a name is unique per owner.
    let refused = error_body(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "", "throttlingPolicy": "NoSuchTier", "tokenType": "SAML",
                   "attributes": {"team": 42}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let text = refused.to_string();
    for field in ["name", "throttlingPolicy", "tokenType", "attributes.team"] {
        assert!(text.contains(field), "{field} not named: {text}");
    }
    let created = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "Mobile", "throttlingPolicy": "10PerMin", "tokenType": "OAUTH",
                   "description": "the phone app", "attributes": {"team": "mobile"}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["tokenType"], "OAUTH");
    assert_eq!(created["attributes"]["team"], "mobile");
    error_body(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "Mobile", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Another owner may use the same name; neither sees the other's.
    ok_json(
        flow.http
            .post(node.control_plane_http("/api/identity/user/v1.0/me"))
            .json(&json!({"userName": "yara", "password": "yara-secret-1"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let yaras = ok_json(
        flow.http
            .post(flow.devportal("/applications"))
            .basic_auth("yara", Some("yara-secret-1"))
            .json(&json!({"name": "Mobile", "throttlingPolicy": "Unlimited"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    error_body(
        flow.get(flow.devportal(&format!(
            "/applications/{}",
            yaras["applicationId"].as_str().unwrap()
        )))
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let mine = ok_json(
        flow.get(flow.devportal("/applications")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["count"], 1);

    // Deleted: its token is refused at the gateway.
    let (app_id, token) = flow.application_with_token("Doomed", Some(&api_id)).await;
    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    let served = eventually(&flow.http, &menu, Some(&token), StatusCode::OK).await;
    assert_eq!(served.status(), StatusCode::OK);
    let deleted = flow
        .http
        .delete(flow.devportal(&format!("/applications/{app_id}")))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    let refused = eventually(&flow.http, &menu, Some(&token), StatusCode::UNAUTHORIZED).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    eprintln!(
        "a deleted application's token was refused {:?} after the deletion",
        started.elapsed()
    );
    error_body(
        flow.get(flow.devportal(&format!("/applications/{app_id}")))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_token_can_revoke_the_previous_one() {
    use tollgate_testkit::flow::eventually;
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    let (app_id, keys, first) = flow.application_with_keys("Rotating", Some(&api_id)).await;
    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    let served = eventually(&flow.http, &menu, Some(&first), StatusCode::OK).await;
    assert_eq!(served.status(), StatusCode::OK);

    // WSO2's older path lists the same keys.
    let listed = ok_json(
        flow.get(flow.devportal(&format!("/applications/{app_id}/keys")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["list"][0]["consumerKey"], keys["consumerKey"]);

    let mapping = keys["keyMappingId"].as_str().unwrap();
    let second = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/generate-token"
            )),
            json!({"validityPeriod": 3600, "scopes": [], "revokeToken": first, "grantType": "CLIENT_CREDENTIALS"}),
        )
        .await,
        StatusCode::OK,
    )
    .await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = eventually(&flow.http, &menu, Some(&first), StatusCode::UNAUTHORIZED).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let served = flow
        .http
        .get(&menu)
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
}

/// Runs a ready-made command in a shell with `vars` set; its standard output.
async fn run_command(curl: &str, vars: Vec<(&'static str, String)>) -> String {
    let curl = curl.to_string();
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{curl} --silent --show-error --max-time 10"))
            .envs(vars)
            .output()
            .expect("sh");
        assert!(
            output.status.success(),
            "{curl}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_made_curl_commands_call_the_api() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let mut api = pizzashack(&backend.url());
    api["securityScheme"] = json!(["oauth2", "api_key"]);
    let api_id = flow.publish_api(api).await;
    let (app_id, keys, _) = flow.application_with_keys("CurlApp", Some(&api_id)).await;
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
    assert_eq!(how["throttlingPolicy"], "Unlimited");
    assert_eq!(how["keys"][0]["consumerKey"], keys["consumerKey"]);
    let https = how["endpointURLs"][0]["URLs"]["https"].as_str().unwrap();
    assert!(https.ends_with("/pizzashack/1.0.0"), "{how}");
    let commands = how["commands"].as_array().unwrap();
    let find = |name: &str, needle: &str| {
        commands
            .iter()
            .find(|c| c["name"] == name && c["curl"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no {name} command with {needle}: {how}"))["curl"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // The token command, with the secret the application was given, gets a token…
    let token: Value = serde_json::from_str(
        &run_command(
            &find("token", "grant_type=client_credentials"),
            vec![(
                "CONSUMER_SECRET",
                keys["consumerSecret"].as_str().unwrap().to_string(),
            )],
        )
        .await,
    )
    .unwrap();
    let access_token = token["access_token"].as_str().unwrap().to_string();
    // …which the operation commands use, as they are.
    let menu = run_command(
        &find("GET /menu", "Authorization"),
        vec![("ACCESS_TOKEN", access_token.clone())],
    )
    .await;
    assert!(menu.contains("BBQ Chicken Bacon"), "{menu}");
    let order = find("GET /order/{orderId}", "Authorization");
    assert!(order.contains("/order/${orderId}"), "{order}");
    run_command(
        &order,
        vec![("ACCESS_TOKEN", access_token), ("orderId", "42".into())],
    )
    .await;
    assert!(backend
        .requests()
        .iter()
        .any(|r| r.path_and_query.ends_with("/order/42")));
    // The API takes API keys too: the same call with one.
    let api_key = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/api-keys/PRODUCTION/generate"
            )),
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await["apikey"]
        .as_str()
        .unwrap()
        .to_string();
    let menu = run_command(&find("GET /menu", "apikey"), vec![("API_KEY", api_key)]).await;
    assert!(menu.contains("BBQ Chicken Bacon"), "{menu}");
    // Another user's subscription does not exist for this one.
    error_body(
        flow.get(flow.devportal("/subscriptions/no-such/invocation"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_by_type_are_the_same_keys() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    let (app_id, keys, _) = flow.application_with_keys("TypedApp", Some(&api_id)).await;
    let typed = |path: &str| flow.devportal(&format!("/applications/{app_id}/keys/{path}"));
    let production = ok_json(flow.get(typed("PRODUCTION")).await, StatusCode::OK).await;
    assert_eq!(production["consumerKey"], keys["consumerKey"]);
    assert_eq!(production["keyType"], "PRODUCTION");
    error_body(flow.get(typed("SANDBOX")).await, StatusCode::NOT_FOUND).await;
    let refused = error_body(flow.get(typed("TESTING")).await, StatusCode::BAD_REQUEST).await;
    assert!(refused.to_string().contains("keyType"), "{refused}");
    let token = ok_json(
        flow.post(
            typed("PRODUCTION/generate-token"),
            json!({"consumerSecret": keys["consumerSecret"], "validityPeriod": 600, "scopes": []}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let access_token = token["accessToken"].as_str().unwrap();
    let menu = tollgate_testkit::flow::eventually(
        &flow.http,
        &node.gateway_http("/pizzashack/1.0.0/menu"),
        Some(access_token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(menu.status(), StatusCode::OK);
    let renewed = ok_json(
        flow.post(typed("PRODUCTION/regenerate-secret"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(renewed["consumerSecret"], keys["consumerSecret"]);
    // Another consumer's application (here: none) is not found.
    error_body(
        flow.get(flow.devportal("/applications/no-such-app/keys/PRODUCTION"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_attributes_follow_the_configuration() {
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[[apim.devportal.application_attributes]]\nname = \"External Reference Id\"\ndescription = \"Your order system's id\"\nrequired = true\n\n[[apim.devportal.application_attributes]]\nname = \"Region\"\ndefault = \"eu\"\nhidden = true\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login(&node).await;
    let declared = ok_json(
        flow.get(flow.devportal("/settings/application-attributes"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(declared["count"], 2);
    assert_eq!(declared["list"][0]["attribute"], "External Reference Id");
    assert_eq!(declared["list"][0]["required"], "true");
    assert_eq!(declared["list"][1]["hidden"], "true");
    let refused = error_body(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "NoRef", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        refused
            .to_string()
            .contains("attributes.External Reference Id"),
        "{refused}"
    );
    let app = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "WithRef", "throttlingPolicy": "Unlimited", "attributes": {"External Reference Id": "PO-7"}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(app["attributes"]["External Reference Id"], "PO-7");
    assert_eq!(app["attributes"]["Region"], "eu");
    // What a portal reads to set itself up; the tiers, open to visitors.
    let settings = ok_json(
        http_get(&node, "/api/am/devportal/v3/settings").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(settings["IsAnonymousModeEnabled"], true);
    assert!(settings["grantTypes"]
        .as_array()
        .unwrap()
        .contains(&json!("client_credentials")));
    let tiers = ok_json(
        http_get(
            &node,
            "/api/am/devportal/v3/throttling-policies/application",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(tiers["list"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "Unlimited"));
    error_body(
        http_get(&node, "/api/am/devportal/v3/throttling-policies/api").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

async fn http_get(node: &Node, path: &str) -> reqwest::Response {
    tollgate_testkit::http_client()
        .get(node.control_plane_http(path))
        .send()
        .await
        .unwrap()
}
