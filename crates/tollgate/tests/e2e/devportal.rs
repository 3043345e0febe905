//! The developer portal's changes at the gateway: a deleted application's token, a token
//! revoked by the next one, a token from the keys-by-type path, and the ready-made commands
//! run as they are against a real gateway. (The Developer Portal API's rules — subscriptions,
//! applications, keys — are tested in process: `operations/tests/rules/rest`.)

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{ok_json, pizzashack, Flow};
use tollgate_testkit::gateway::{Bearer, Gateway};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const MENU: &str = "/pizzashack/1.0.0/menu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_applications_token_is_refused_at_the_gateway() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;

    let (app_id, token) = flow.application_with_token("Doomed", Some(&api_id)).await;
    gateway.until(MENU, Bearer(&token), StatusCode::OK).await;
    flow.delete_application(&app_id).await;
    let started = std::time::Instant::now();
    gateway
        .until(MENU, Bearer(&token), StatusCode::UNAUTHORIZED)
        .await;
    eprintln!(
        "a deleted application's token was refused {:?} after the deletion",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_token_can_revoke_the_previous_one() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    let (app_id, keys, first) = flow.application_with_keys("Rotating", Some(&api_id)).await;
    gateway.until(MENU, Bearer(&first), StatusCode::OK).await;

    // A token from WSO2's keys-by-type path is as good as any.
    let typed = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/keys/PRODUCTION/generate-token"
            )),
            json!({"consumerSecret": keys["consumerSecret"], "validityPeriod": 600, "scopes": []}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let typed = typed["accessToken"].as_str().unwrap();
    assert_eq!(
        gateway.get(MENU, Bearer(typed)).await.status,
        StatusCode::OK
    );

    let second = flow
        .generate_token(
            &app_id,
            &keys,
            json!({"validityPeriod": 3600, "scopes": [], "revokeToken": first, "grantType": "CLIENT_CREDENTIALS"}),
        )
        .await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    gateway
        .until(MENU, Bearer(&first), StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(
        gateway.get(MENU, Bearer(&second)).await.status,
        StatusCode::OK
    );
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
    let subscription_id = flow.subscription_id(&app_id, &api_id).await;
    let how = flow.invocation(&subscription_id).await;
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
    let api_key = flow
        .generate_api_key(&app_id, "PRODUCTION", json!({}))
        .await;
    let menu = run_command(&find("GET /menu", "apikey"), vec![("API_KEY", api_key)]).await;
    assert!(menu.contains("BBQ Chicken Bacon"), "{menu}");
}
