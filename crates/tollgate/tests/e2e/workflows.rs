//! Approval workflows through a real process and its gateway: with approval switched on, a new
//! application, a subscription and a change of tier wait (the gateway does not honour them)
//! until an administrator approves or rejects them through the Admin API.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, eventually, ok_json, pizzashack, Flow};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

struct Admin<'n> {
    node: &'n Node,
    http: reqwest::Client,
}

impl Admin<'_> {
    async fn pending(&self, kind: &str) -> Vec<Value> {
        let list =
            ok_json(
                self.http
                    .get(self.node.control_plane_http(&format!(
                        "/api/am/admin/v4/workflows?workflowType={kind}"
                    )))
                    .basic_auth("admin", Some(&self.node.admin_password))
                    .send()
                    .await
                    .unwrap(),
                StatusCode::OK,
            )
            .await;
        list["list"].as_array().unwrap().clone()
    }

    async fn decide(&self, reference: &str, status: &str) -> reqwest::Response {
        self.http
            .post(self.node.control_plane_http(&format!(
                "/api/am/admin/v4/workflows/update-workflow-status?workflowReferenceId={reference}"
            )))
            .basic_auth("admin", Some(&self.node.admin_password))
            .json(&json!({"status": status, "description": "checked"}))
            .send()
            .await
            .unwrap()
    }

    /// The one pending workflow of `kind`; approves or rejects it.
    async fn settle(&self, kind: &str, status: &str) -> Value {
        let pending = self.pending(kind).await;
        assert_eq!(pending.len(), 1, "{kind}: {pending:?}");
        assert_eq!(pending[0]["workflowStatus"], "CREATED");
        let reference = pending[0]["referenceId"].as_str().unwrap();
        ok_json(self.decide(reference, status).await, StatusCode::OK).await
    }
}

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
    let flow = Flow::login(&node).await;
    let admin = Admin {
        node: &node,
        http: flow.http.clone(),
    };
    let mut api = pizzashack(&backend.url());
    api["policies"] = json!(["Gold", "Bronze"]);
    let api_id = flow.publish_api(api).await;

    // A new application waits: no keys, no subscriptions yet.
    let app = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "Held", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(app["status"], "CREATED");
    let app_id = app["applicationId"].as_str().unwrap().to_string();
    let keys_request =
        json!({"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]});
    error_body(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/generate-keys")),
            keys_request.clone(),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    error_body(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Gold"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let pending = admin.pending("AM_APPLICATION_CREATION").await;
    assert_eq!(pending[0]["workflowType"], "APPLICATION_CREATION");
    assert!(pending[0]["description"].as_str().unwrap().contains("Held"));
    admin.settle("AM_APPLICATION_CREATION", "APPROVED").await;
    let app = ok_json(
        flow.get(flow.devportal(&format!("/applications/{app_id}")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app["status"], "APPROVED");

    // A subscription waits ON_HOLD; the gateway refuses its tokens until it is approved.
    let subscription = ok_json(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Gold"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(subscription["status"], "ON_HOLD");
    let subscription_id = subscription["subscriptionId"].as_str().unwrap().to_string();
    let keys = ok_json(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/generate-keys")),
            keys_request.clone(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let token = flow.token_for(&app_id, &keys, 3600).await;
    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    // A publisher's unblock does not stand in for the approval.
    let unblock = flow
        .http
        .post(flow.publisher(&format!(
            "/subscriptions/unblock-subscription?subscriptionId={subscription_id}"
        )))
        .basic_auth("admin", Some(&node.admin_password))
        .send()
        .await
        .unwrap();
    assert_eq!(unblock.status(), StatusCode::CONFLICT);
    let refused = eventually(&flow.http, &menu, Some(&token), StatusCode::FORBIDDEN).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    admin.settle("AM_SUBSCRIPTION_CREATION", "APPROVED").await;
    let served = eventually(&flow.http, &menu, Some(&token), StatusCode::OK).await;
    assert_eq!(served.status(), StatusCode::OK);

    // A blocked subscription does not ask for another tier (its pending state would pass).
    let block = |state: &'static str| {
        let url = flow.publisher(&format!(
            "/subscriptions/{}-subscription?subscriptionId={subscription_id}{}",
            if state == "UNBLOCKED" {
                "unblock"
            } else {
                "block"
            },
            if state == "UNBLOCKED" {
                String::new()
            } else {
                format!("&blockState={state}")
            }
        ));
        let request = flow
            .http
            .post(url)
            .basic_auth("admin", Some(&node.admin_password));
        async move { request.send().await.unwrap() }
    };
    assert_eq!(block("PROD_ONLY_BLOCKED").await.status(), StatusCode::OK);
    error_body(
        flow.http
            .put(flow.devportal(&format!("/subscriptions/{subscription_id}")))
            .bearer_auth(&flow.token)
            .json(&json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Bronze"}))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(block("UNBLOCKED").await.status(), StatusCode::OK);

    // A change of tier waits too; the old tier applies meanwhile.
    let changed = ok_json(
        flow.http
            .put(flow.devportal(&format!("/subscriptions/{subscription_id}")))
            .bearer_auth(&flow.token)
            .json(&json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Bronze"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["status"], "TIER_UPDATE_PENDING");
    assert_eq!(changed["throttlingPolicy"], "Gold");
    let response = flow
        .http
        .get(&menu)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let pending = admin.pending("AM_SUBSCRIPTION_UPDATE").await;
    assert_eq!(pending[0]["properties"]["requestedTier"], "Bronze");
    admin.settle("AM_SUBSCRIPTION_UPDATE", "APPROVED").await;
    let now = ok_json(
        flow.get(flow.devportal(&format!("/subscriptions/{subscription_id}")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now["throttlingPolicy"], "Bronze");
    assert_eq!(now["status"], "UNBLOCKED");

    // Rejections: an application stays REJECTED; a rejected subscription is never honoured.
    let other = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "Refused", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let decided = admin.settle("AM_APPLICATION_CREATION", "REJECTED").await;
    assert_eq!(decided["status"], "REJECTED");
    let other = ok_json(
        flow.get(flow.devportal(&format!(
            "/applications/{}",
            other["applicationId"].as_str().unwrap()
        )))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(other["status"], "REJECTED");

    // Bad decisions are named; a decided workflow is not pending any more.
    let third = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "Third", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let pending = admin.pending("AM_APPLICATION_CREATION").await;
    let reference = pending[0]["referenceId"].as_str().unwrap().to_string();
    let refused = error_body(
        admin.decide(&reference, "MAYBE").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("status"), "{refused}");
    ok_json(admin.decide(&reference, "APPROVED").await, StatusCode::OK).await;
    error_body(
        admin.decide(&reference, "REJECTED").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let single = ok_json(
        admin
            .http
            .get(node.control_plane_http(&format!("/api/am/admin/v4/workflows/{reference}")))
            .basic_auth("admin", Some(&node.admin_password))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(single["workflowStatus"], "APPROVED");
    // Deleting an application withdraws what waited for it.
    let fourth = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "Fourth", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let deleted = flow
        .http
        .delete(flow.devportal(&format!(
            "/applications/{}",
            fourth["applicationId"].as_str().unwrap()
        )))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(admin.pending("AM_APPLICATION_CREATION").await.is_empty());
    let _ = third;
    // A subscriber may not decide.
    let refused = flow
        .http
        .get(node.control_plane_http("/api/am/admin/v4/workflows"))
        .bearer_auth(&flow.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
