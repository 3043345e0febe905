//! Approval workflows through the Developer Portal, Publisher and Admin APIs: with approval
//! switched on, a new application, a subscription and a change of tier wait, in WSO2's states,
//! until an administrator approves or rejects them. (That the gateway does not honour what
//! waits is the end-to-end suite's.)

use serde_json::{json, Value};
use tollgate_operations::devportal::workflows::Approvals;
use tollgate_testbed::{Settings, TestBed};

use super::{admin, devportal, pizzashack, publish_api, publisher};

async fn pending(bed: &TestBed, kind: &str) -> Vec<Value> {
    bed.get(&admin(&format!("/workflows?workflowType={kind}")))
        .as_user("admin")
        .send()
        .await
        .expect(200)["list"]
        .as_array()
        .unwrap()
        .clone()
}

async fn decide(bed: &TestBed, reference: &str, status: &str) -> tollgate_testbed::Reply {
    bed.post(&admin(&format!(
        "/workflows/update-workflow-status?workflowReferenceId={reference}"
    )))
    .as_user("admin")
    .json(&json!({"status": status, "description": "checked"}))
    .send()
    .await
}

/// The one pending workflow of `kind`; approves or rejects it.
async fn settle(bed: &TestBed, kind: &str, status: &str) -> Value {
    let pending = pending(bed, kind).await;
    assert_eq!(pending.len(), 1, "{kind}: {pending:?}");
    assert_eq!(pending[0]["workflowStatus"], "CREATED");
    let reference = pending[0]["referenceId"].as_str().unwrap();
    decide(bed, reference, status).await.expect(200)
}

async fn create_application(bed: &TestBed, name: &str) -> Value {
    bed.post(&devportal("/applications"))
        .as_user("admin")
        .json(&json!({"name": name, "throttlingPolicy": "Unlimited"}))
        .send()
        .await
        .expect(201)
}

#[tokio::test]
async fn approvals_hold_changes_until_an_administrator_decides() {
    let mut settings = Settings::default();
    settings.devportal.approvals = Approvals {
        application_creation: true,
        subscription_creation: true,
        subscription_update: true,
    };
    let bed = TestBed::sqlite_with(settings).await;
    let mut api = pizzashack("http://127.0.0.1:9/pizzashack/v1");
    api["policies"] = json!(["Gold", "Bronze"]);
    let api_id = publish_api(&bed, &api).await;

    // A new application waits: no keys, no subscriptions yet.
    let app = create_application(&bed, "Held").await;
    assert_eq!(app["status"], "CREATED");
    let app_id = app["applicationId"].as_str().unwrap().to_string();
    let keys_request =
        json!({"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]});
    let generate_keys = devportal(&format!("/applications/{app_id}/generate-keys"));
    bed.post(&generate_keys)
        .as_user("admin")
        .json(&keys_request)
        .send()
        .await
        .refused(400);
    let subscription_request =
        json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Gold"});
    bed.post(&devportal("/subscriptions"))
        .as_user("admin")
        .json(&subscription_request)
        .send()
        .await
        .refused(400);
    let waiting = pending(&bed, "AM_APPLICATION_CREATION").await;
    assert_eq!(waiting[0]["workflowType"], "APPLICATION_CREATION");
    assert!(waiting[0]["description"].as_str().unwrap().contains("Held"));
    settle(&bed, "AM_APPLICATION_CREATION", "APPROVED").await;
    let app = bed
        .get(&devportal(&format!("/applications/{app_id}")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(app["status"], "APPROVED");

    // A subscription waits ON_HOLD; a publisher's unblock does not stand in for the approval.
    let subscription = bed
        .post(&devportal("/subscriptions"))
        .as_user("admin")
        .json(&subscription_request)
        .send()
        .await
        .expect(201);
    assert_eq!(subscription["status"], "ON_HOLD");
    let subscription_id = subscription["subscriptionId"].as_str().unwrap().to_string();
    bed.post(&generate_keys)
        .as_user("admin")
        .json(&keys_request)
        .send()
        .await
        .expect(200);
    let unblock = bed
        .post(&publisher(&format!(
            "/subscriptions/unblock-subscription?subscriptionId={subscription_id}"
        )))
        .as_user("admin")
        .send()
        .await;
    assert_eq!(unblock.status, 409);
    settle(&bed, "AM_SUBSCRIPTION_CREATION", "APPROVED").await;

    // A blocked subscription does not ask for another tier (its pending state would pass).
    let block = bed
        .post(&publisher(&format!(
            "/subscriptions/block-subscription?subscriptionId={subscription_id}&blockState=PROD_ONLY_BLOCKED"
        )))
        .as_user("admin")
        .send()
        .await;
    assert_eq!(block.status, 200);
    let bronze = json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": "Bronze"});
    let subscription_path = devportal(&format!("/subscriptions/{subscription_id}"));
    bed.put(&subscription_path)
        .as_user("admin")
        .json(&bronze)
        .send()
        .await
        .refused(400);
    let unblock = bed
        .post(&publisher(&format!(
            "/subscriptions/unblock-subscription?subscriptionId={subscription_id}"
        )))
        .as_user("admin")
        .send()
        .await;
    assert_eq!(unblock.status, 200);

    // A change of tier waits too; the old tier applies meanwhile.
    let changed = bed
        .put(&subscription_path)
        .as_user("admin")
        .json(&bronze)
        .send()
        .await
        .expect(200);
    assert_eq!(changed["status"], "TIER_UPDATE_PENDING");
    assert_eq!(changed["throttlingPolicy"], "Gold");
    let waiting = pending(&bed, "AM_SUBSCRIPTION_UPDATE").await;
    assert_eq!(waiting[0]["properties"]["requestedTier"], "Bronze");
    settle(&bed, "AM_SUBSCRIPTION_UPDATE", "APPROVED").await;
    let now = bed
        .get(&subscription_path)
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(now["throttlingPolicy"], "Bronze");
    assert_eq!(now["status"], "UNBLOCKED");

    // Rejections: an application stays REJECTED.
    let other = create_application(&bed, "Refused").await;
    let decided = settle(&bed, "AM_APPLICATION_CREATION", "REJECTED").await;
    assert_eq!(decided["status"], "REJECTED");
    let other = bed
        .get(&devportal(&format!(
            "/applications/{}",
            other["applicationId"].as_str().unwrap()
        )))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(other["status"], "REJECTED");

    // Bad decisions are named; a decided workflow is not pending any more.
    create_application(&bed, "Third").await;
    let waiting = pending(&bed, "AM_APPLICATION_CREATION").await;
    let reference = waiting[0]["referenceId"].as_str().unwrap().to_string();
    let refused = decide(&bed, &reference, "MAYBE").await.refused(400);
    assert!(refused.to_string().contains("status"), "{refused}");
    decide(&bed, &reference, "APPROVED").await.expect(200);
    decide(&bed, &reference, "REJECTED").await.refused(404);
    let single = bed
        .get(&admin(&format!("/workflows/{reference}")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(single["workflowStatus"], "APPROVED");
    // Deleting an application withdraws what waited for it.
    let fourth = create_application(&bed, "Fourth").await;
    let deleted = bed
        .delete(&devportal(&format!(
            "/applications/{}",
            fourth["applicationId"].as_str().unwrap()
        )))
        .as_user("admin")
        .send()
        .await;
    assert_eq!(deleted.status, 200);
    assert!(pending(&bed, "AM_APPLICATION_CREATION").await.is_empty());
    // A subscriber (a token with the quick-start scopes) may not decide.
    let quick_start = bed
        .rest_token(
            "admin",
            "apim:api_view apim:api_create apim:api_publish apim:subscribe",
        )
        .await;
    let refused = bed
        .get(&admin("/workflows"))
        .bearer(&quick_start)
        .send()
        .await;
    assert_eq!(refused.status, 403);
}
