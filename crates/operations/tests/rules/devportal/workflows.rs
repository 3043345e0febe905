//! `devportal::workflows`, the consumer's side: where the configuration asks for approval, a
//! new application, a subscription or a change of tier is stored in a state gateways do not
//! honour, with a workflow saying what waits; what waits cannot be used, and what is removed
//! stops waiting. (The administrator's decisions: `admin::workflows`.)

use serde_json::json;
use tollgate_model::{
    ApplicationStatus, GrantType, KeyType, SubscriptionStatus, WorkflowStatus, SUPER_TENANT,
};
use tollgate_operations::devportal::keys::{self, KeyRequest, MapRequest};
use tollgate_operations::devportal::subscriptions::{self, change_tier, SubscriptionRequest};
use tollgate_operations::devportal::workflows::{pending, Approvals};
use tollgate_operations::devportal::{api_keys, applications};
use tollgate_operations::publisher::subscriptions::set_subscription_state;
use tollgate_store::WorkflowRow;
use tollgate_testbed::{Refused, TestBed};

use super::{approving, ALL};

/// What waits for a decision, oldest first.
async fn waiting(bed: &TestBed) -> Vec<WorkflowRow> {
    pending(bed.services(), &bed.admin(), None, ALL)
        .await
        .unwrap()
        .items
}

fn applications_wait() -> Approvals {
    Approvals {
        application_creation: true,
        ..Approvals::default()
    }
}

fn subscriptions_wait() -> Approvals {
    Approvals {
        subscription_creation: true,
        ..Approvals::default()
    }
}

fn tier_changes_wait() -> Approvals {
    Approvals {
        subscription_update: true,
        ..Approvals::default()
    }
}

#[tokio::test]
async fn a_new_application_waits_for_approval_with_a_workflow_describing_it() {
    let bed = approving(applications_wait()).await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    assert_eq!(app.status, ApplicationStatus::Created);
    // Gateways learn of it, as not approved.
    assert_eq!(bed.events().await, ["APPLICATION_CREATE"]);
    let held = waiting(&bed).await;
    assert_eq!(held.len(), 1);
    let workflow = &held[0];
    assert_eq!(
        (workflow.workflow_type.as_str(), workflow.reference.as_str()),
        ("AM_APPLICATION_CREATION", app.id.as_str())
    );
    assert_eq!(
        (workflow.status, workflow.created_by.as_str()),
        (WorkflowStatus::Created, "alice")
    );
    assert_eq!(
        workflow.properties,
        json!({"applicationName": "Shop", "applicationTier": "Unlimited"})
    );
    assert!(
        workflow.description.contains("[Shop]") && workflow.description.contains("alice"),
        "{}",
        workflow.description
    );
}

#[tokio::test]
async fn an_application_waiting_for_approval_gets_no_keys_and_subscribes_to_nothing() {
    let bed = approving(applications_wait()).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    let services = bed.services();
    let request = KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials]);
    let message = keys::generate(services, &alice, &app.id, request)
        .await
        .not_allowed();
    assert!(message.contains("CREATED, not approved"), "{message}");
    let mapping = MapRequest {
        consumer_key: "some-client".into(),
        consumer_secret: "secret".into(),
        key_type: KeyType::Production,
        key_manager: None,
    };
    keys::map(services, &alice, &app.id, mapping, None)
        .await
        .not_allowed();
    let no_expiry = api_keys::ApiKeyRequest::default();
    api_keys::generate(services, &alice, &app.id, KeyType::Production, &no_expiry)
        .await
        .not_allowed();
    let request = SubscriptionRequest {
        application_id: app.id.clone(),
        api_id: api.id.clone(),
        throttling_policy: "Gold".into(),
    };
    let message = subscriptions::subscribe(services, &alice, request)
        .await
        .invalid("applicationId");
    assert!(message.contains("not approved"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(keys::list(services, &alice, &app.id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_waiting_application_stays_waiting_through_an_update_and_stops_when_deleted() {
    let bed = approving(applications_wait()).await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    let services = bed.services();
    let renamed = applications::ApplicationInput {
        name: "Store".into(),
        throttling_policy: "Unlimited".into(),
        ..Default::default()
    };
    let changed = applications::update(services, &alice, &app.id, renamed)
        .await
        .unwrap();
    assert_eq!(changed.status, ApplicationStatus::Created);
    assert_eq!(bed.events().await, ["APPLICATION_UPDATE"]);
    assert_eq!(waiting(&bed).await.len(), 1);
    applications::delete(services, &alice, &app.id)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["APPLICATION_DELETE"]);
    assert!(waiting(&bed).await.is_empty());
}

#[tokio::test]
async fn a_new_subscription_waits_on_hold_with_a_workflow_describing_it() {
    let bed = approving(subscriptions_wait()).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    let sub = bed.subscribe(&alice, &app, &api, "Gold").await.subscription;
    assert_eq!(sub.status, SubscriptionStatus::OnHold);
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_CREATE"]);
    let held = waiting(&bed).await;
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].workflow_type.as_str(), held[0].reference.as_str()),
        ("AM_SUBSCRIPTION_CREATION", sub.id.as_str())
    );
    assert_eq!(
        held[0].properties,
        json!({"apiName": "Pizza", "apiVersion": "1.0.0", "applicationName": "Shop", "requestedTier": "Gold"})
    );
    // A held subscription changes no tier until it is decided.
    let message = change_tier(bed.services(), &alice, &sub.id, "Unlimited")
        .await
        .not_allowed();
    assert!(message.contains("ON_HOLD"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn removing_a_held_subscription_or_its_application_withdraws_the_workflow() {
    let bed = approving(subscriptions_wait()).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let (shop, home) = (
        bed.application(&alice, "Shop").await,
        bed.application(&alice, "Home").await,
    );
    let sub = bed
        .subscribe(&alice, &shop, &api, "Gold")
        .await
        .subscription;
    bed.subscribe(&alice, &home, &api, "Gold").await;
    assert_eq!(waiting(&bed).await.len(), 2);
    bed.events().await;
    let services = bed.services();
    subscriptions::delete(services, &alice, &sub.id)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_DELETE"]);
    let left: Vec<_> = waiting(&bed)
        .await
        .into_iter()
        .map(|w| w.reference)
        .collect();
    assert_eq!(left.len(), 1);
    assert_ne!(left[0], sub.id);
    applications::delete(services, &alice, &home.id)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["APPLICATION_DELETE"]);
    assert!(waiting(&bed).await.is_empty());
}

#[tokio::test]
async fn a_tier_change_waits_on_the_old_tier_one_at_a_time() {
    let bed = approving(tier_changes_wait()).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let sub = bed.subscribe(&alice, &app, &api, "Gold").await.subscription;
    assert_eq!(sub.status, SubscriptionStatus::Unblocked);
    bed.events().await;
    let services = bed.services();
    let asked = change_tier(services, &alice, &sub.id, "Unlimited")
        .await
        .unwrap()
        .subscription;
    assert_eq!(
        (asked.status, asked.throttling_policy.as_str()),
        (SubscriptionStatus::TierUpdatePending, "Gold")
    );
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_UPDATE"]);
    let held = waiting(&bed).await;
    assert_eq!(
        (held.len(), held[0].workflow_type.as_str()),
        (1, "AM_SUBSCRIPTION_UPDATE")
    );
    assert_eq!(
        held[0].properties,
        json!({"requestedTier": "Unlimited", "previousStatus": "UNBLOCKED"})
    );
    let message = change_tier(services, &alice, &sub.id, "Unlimited")
        .await
        .not_allowed();
    assert!(message.contains("TIER_UPDATE_PENDING"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(waiting(&bed).await.len(), 1);
    let stored = bed
        .store()
        .subscription(SUPER_TENANT, &sub.id)
        .await
        .unwrap();
    assert_eq!(stored.throttling_policy, "Gold");
}

#[tokio::test]
async fn only_an_unblocked_subscription_asks_for_a_tier_change() {
    let bed = approving(tier_changes_wait()).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let sub = bed.subscribe(&alice, &app, &api, "Gold").await.subscription;
    let services = bed.services();
    set_subscription_state(
        services,
        &bed.user("publisher"),
        &sub.id,
        SubscriptionStatus::ProdOnlyBlocked,
    )
    .await
    .unwrap();
    bed.events().await;
    // Pending stands for "unblocked, on the old tier" at the gateway: a blocked one must not ask.
    let message = change_tier(services, &alice, &sub.id, "Unlimited")
        .await
        .not_allowed();
    assert!(message.contains("PROD_ONLY_BLOCKED"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(waiting(&bed).await.is_empty());
    let stored = bed
        .store()
        .subscription(SUPER_TENANT, &sub.id)
        .await
        .unwrap();
    assert_eq!(
        (stored.status, stored.throttling_policy.as_str()),
        (SubscriptionStatus::ProdOnlyBlocked, "Gold")
    );
}

#[tokio::test]
async fn deleting_a_subscription_whose_tier_change_waits_withdraws_the_request() {
    let bed = approving(tier_changes_wait()).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let sub = bed.subscribe(&alice, &app, &api, "Gold").await.subscription;
    let services = bed.services();
    change_tier(services, &alice, &sub.id, "Unlimited")
        .await
        .unwrap();
    assert_eq!(waiting(&bed).await.len(), 1);
    bed.events().await;
    subscriptions::delete(services, &alice, &sub.id)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_DELETE"]);
    assert!(waiting(&bed).await.is_empty());
}
