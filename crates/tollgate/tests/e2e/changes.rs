//! Changes without a dropped request: while other APIs are created, redeployed and undeployed,
//! other subscriptions blocked and other applications' secrets regenerated, every request to an
//! API that stayed deployed and valid succeeds; and a request in flight when its own API is
//! undeployed finishes on the state it started with.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tollgate_testkit::flow::{named_api, Flow};
use tollgate_testkit::gateway::{Bearer, Gateway};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const STABLE: &str = "/stable/1.0.0/menu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_fails_while_other_things_change() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login_with_scopes(
        &node,
        "apim:api_view apim:api_create apim:api_publish apim:subscribe apim:subscription_block",
    )
    .await;
    let gateway = Gateway::of(&node);
    let stable = flow
        .publish_api(named_api("Stable", "/stable", "1.0.0", &backend.url()))
        .await;
    let (_, token) = flow
        .application_with_token("StableApp", Some(&stable))
        .await;
    gateway.until(STABLE, Bearer(&token), StatusCode::OK).await;

    // Another application, subscribed to an API that changes, whose state changes too.
    let changing = flow
        .publish_api(named_api("Changing", "/changing", "1.0.0", &backend.url()))
        .await;
    let (other_app, other_key, _) = flow
        .application_with_keys("OtherApp", Some(&changing))
        .await;
    let other_subscription = flow.subscription_id(&other_app, &changing).await;

    // A request in flight on the changing API (its backend takes a second) when it is
    // undeployed below.
    let (other_token, in_flight) = {
        let token = flow.token_for(&other_app, &other_key, 3600).await;
        gateway
            .until("/changing/1.0.0/menu", Bearer(&token), StatusCode::OK)
            .await;
        let slow_gateway = Gateway::of(&node);
        let slow_token = token.clone();
        let in_flight = tokio::spawn(async move {
            slow_gateway
                .get("/changing/1.0.0/slow", Bearer(&slow_token))
                .await
        });
        (token, in_flight)
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Load on the stable API from four clients, counting every answer that is not 200.
    let running = Arc::new(AtomicBool::new(true));
    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (gateway, token) = (Gateway::of(&node), token.clone());
        let (running, served, failed) = (running.clone(), served.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while running.load(Ordering::Relaxed) {
                let answer = gateway.get(STABLE, Bearer(&token)).await;
                if answer.status == StatusCode::OK {
                    served.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    failures.push(format!("{} {}", answer.status, answer.body));
                }
            }
            failures
        }));
    }

    // Changes elsewhere: the changing API undeployed and deployed again, new APIs published,
    // the other subscription blocked and unblocked, the other application's secret renewed.
    let revisions = flow.revisions(&changing).await;
    let revision = revisions["list"][0]["id"].as_str().unwrap().to_string();
    let default = json!([{"name": "Default", "vhost": "localhost"}]);
    flow.undeploy_revision(&changing, &revision, default.clone())
        .await;
    for round in 0..4 {
        flow.publish_api(named_api(
            &format!("New{round}"),
            &format!("/new{round}"),
            "1.0.0",
            &backend.url(),
        ))
        .await;
        flow.block_subscription(&other_subscription, "BLOCKED")
            .await;
        flow.unblock_subscription(&other_subscription).await;
        flow.deploy(&changing).await;
        flow.regenerate_secret(&other_app, &other_key).await;
    }
    // The last change reaches the gateway (the other application's old tokens refused).
    gateway
        .eventually(
            "/changing/1.0.0/menu",
            Bearer(&other_token),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    running.store(false, Ordering::Relaxed);
    let mut failures = Vec::new();
    for task in load {
        failures.extend(task.await.unwrap());
    }
    let served = served.load(Ordering::Relaxed);
    println!("{served} requests served during the changes");
    assert!(served >= 100, "too little load to tell: {served}");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "{failures:?}");

    // The request that was in flight when its API was undeployed finished normally.
    let slow = in_flight.await.unwrap();
    assert_eq!(slow.status, StatusCode::OK, "{}", slow.body);
    assert_eq!(slow.body, "{\"slow\":true}");
}
