//! Approval workflows at the gateway: with approval switched on (`[apim.workflow]`), a
//! subscription on hold is refused until an administrator approves it, and during a pending
//! change of tier the old tier still applies. (The workflows' states, refusals and decisions
//! through the REST APIs are tested in process: `operations/tests/rules/rest/workflows.rs`.)

use std::path::Path;

use reqwest::StatusCode;
use serde_json::json;
use tollgate_testkit::flow::{pizzashack, Flow};
use tollgate_testkit::gateway::{Bearer, Gateway};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const MENU: &str = "/pizzashack/1.0.0/menu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_hold_changes_until_an_administrator_decides() {
    let backend = MockBackend::start().await;
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[apim.workflow]\napplication_creation = true\nsubscription_creation = true\nsubscription_update = true\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow =
        Flow::login_with_scopes(&node, &format!("{} apim:admin", Flow::QUICK_START_SCOPES)).await;
    let gateway = Gateway::of(&node);
    let mut api = pizzashack(&backend.url());
    api["policies"] = json!(["Gold", "Bronze"]);
    let api_id = flow.publish_api(api).await;

    // A new application waits for its approval.
    let app = flow
        .create_application_with(json!({"name": "Held", "throttlingPolicy": "Unlimited"}))
        .await;
    assert_eq!(app["status"], "CREATED");
    let app_id = app["applicationId"].as_str().unwrap().to_string();
    flow.settle_workflow("AM_APPLICATION_CREATION", "APPROVED")
        .await;

    // A subscription waits ON_HOLD; the gateway refuses its tokens until it is approved.
    let subscription = flow.subscribe(&app_id, &api_id, "Gold").await;
    assert_eq!(subscription["status"], "ON_HOLD");
    let subscription_id = subscription["subscriptionId"].as_str().unwrap().to_string();
    let keys = flow.generate_keys(&app_id, "PRODUCTION").await;
    let token = flow.token_for(&app_id, &keys, 3600).await;
    gateway
        .until(MENU, Bearer(&token), StatusCode::FORBIDDEN)
        .await;
    flow.settle_workflow("AM_SUBSCRIPTION_CREATION", "APPROVED")
        .await;
    gateway.until(MENU, Bearer(&token), StatusCode::OK).await;

    // A change of tier waits too; the old tier applies meanwhile.
    let changed = flow
        .change_tier(&subscription_id, &app_id, &api_id, "Bronze")
        .await;
    assert_eq!(changed["status"], "TIER_UPDATE_PENDING");
    assert_eq!(changed["throttlingPolicy"], "Gold");
    assert_eq!(
        gateway.get(MENU, Bearer(&token)).await.status,
        StatusCode::OK
    );
    flow.settle_workflow("AM_SUBSCRIPTION_UPDATE", "APPROVED")
        .await;
    let now = flow.get_subscription(&subscription_id).await;
    assert_eq!(now["throttlingPolicy"], "Bronze");
    assert_eq!(
        gateway.get(MENU, Bearer(&token)).await.status,
        StatusCode::OK
    );
}
