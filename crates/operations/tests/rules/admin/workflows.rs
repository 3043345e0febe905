//! `devportal::workflows`, the administrator's side: what waits for approval, and how a
//! decision settles what it held back (an application, a subscription, a tier change), with
//! the event gateways need.

use tollgate_model::{
    ApplicationStatus, Event, GrantType, KeyType, SubscriptionStatus, WorkflowStatus, SUPER_TENANT,
};
use tollgate_operations::devportal::keys::{self, KeyRequest};
use tollgate_operations::devportal::subscriptions::change_tier;
use tollgate_operations::devportal::workflows::{decide, get, pending, Approvals};
use tollgate_operations::publisher::subscriptions::set_subscription_state;
use tollgate_operations::{Listed, Page};
use tollgate_store::{Change, SubscriptionRow, WorkflowRow};
use tollgate_testbed::{Refused, Settings, TestBed};

/// A bed where these changes wait for an administrator.
async fn approving(approvals: Approvals) -> TestBed {
    let mut settings = Settings::default();
    settings.devportal.approvals = approvals;
    TestBed::sqlite_with(settings).await
}

fn applications() -> Approvals {
    Approvals {
        application_creation: true,
        ..Approvals::default()
    }
}

async fn waiting(bed: &TestBed, workflow_type: Option<&str>, page: Page) -> Listed<WorkflowRow> {
    pending(bed.services(), &bed.admin(), workflow_type, page)
        .await
        .unwrap()
}

fn all() -> Page {
    Page::new(None, None).unwrap()
}

/// The one workflow waiting.
async fn the_pending(bed: &TestBed) -> WorkflowRow {
    let mut listed = waiting(bed, None, all()).await;
    assert_eq!(listed.total, 1, "{:?}", listed.items);
    listed.items.remove(0)
}

async fn subscription(bed: &TestBed, id: &str) -> SubscriptionRow {
    bed.store().subscription(SUPER_TENANT, id).await.unwrap()
}

/// Whether the application gets keys (only an approved one does).
async fn gets_keys(bed: &TestBed, application_id: &str) -> bool {
    let request = KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials]);
    match keys::generate(bed.services(), &bed.user("alice"), application_id, request).await {
        Ok(_) => true,
        refused => {
            refused.not_allowed();
            false
        }
    }
}

#[tokio::test]
async fn workflows_are_seen_with_a_workflow_scope_and_decided_by_approvers_only() {
    let bed = approving(applications()).await;
    let services = bed.services();
    bed.application(&bed.user("alice"), "Shop").await;
    let workflow = the_pending(&bed).await;
    bed.events().await;
    let viewer = bed.with_scopes("viewer", &["apim:api_workflow_view"]);
    for who in [bed.user("alice"), bed.user("publisher")] {
        pending(services, &who, None, all()).await.forbidden();
        get(services, &who, &workflow.id).await.forbidden();
        decide(services, &who, &workflow.id, "APPROVED", None)
            .await
            .forbidden();
    }
    assert_eq!(
        pending(services, &viewer, None, all()).await.unwrap().total,
        1
    );
    assert_eq!(
        get(services, &viewer, &workflow.id).await.unwrap(),
        workflow
    );
    decide(services, &viewer, &workflow.id, "APPROVED", None)
        .await
        .forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let approver = bed.with_scopes("approver", &["apim:api_workflow_approve"]);
    let decided = decide(services, &approver, &workflow.id, "APPROVED", None)
        .await
        .unwrap();
    assert_eq!(decided.decided_by.as_deref(), Some("approver"));
    assert_eq!(bed.events().await, ["APPLICATION_UPDATE"]);
}

#[tokio::test]
async fn an_approved_application_gets_keys_and_the_decision_is_recorded() {
    let bed = approving(applications()).await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    assert_eq!(app.status, ApplicationStatus::Created);
    assert_eq!(bed.events().await, ["APPLICATION_CREATE"]);
    let workflow = the_pending(&bed).await;
    assert_eq!(
        (workflow.workflow_type.as_str(), workflow.reference.as_str()),
        ("AM_APPLICATION_CREATION", app.id.as_str())
    );
    assert!(!gets_keys(&bed, &app.id).await);
    let decided = decide(
        bed.services(),
        &bed.admin(),
        &workflow.id,
        "APPROVED",
        Some("welcome"),
    )
    .await
    .unwrap();
    assert_eq!(decided.status, WorkflowStatus::Approved);
    assert_eq!(
        (
            decided.decided_by.as_deref(),
            decided.decision_note.as_deref()
        ),
        (Some("admin"), Some("welcome"))
    );
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::ApplicationUpdate(a)] if a.id == app.id && a.status == ApplicationStatus::Approved),
        "{events:?}"
    );
    assert_eq!(
        get(bed.services(), &bed.admin(), &workflow.id)
            .await
            .unwrap(),
        decided
    );
    assert_eq!(waiting(&bed, None, all()).await.total, 0);
    assert!(gets_keys(&bed, &app.id).await);
}

#[tokio::test]
async fn a_rejected_application_stays_without_keys() {
    let bed = approving(applications()).await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    let workflow = the_pending(&bed).await;
    bed.events().await;
    let decided = decide(bed.services(), &bed.admin(), &workflow.id, "REJECTED", None)
        .await
        .unwrap();
    assert_eq!(decided.status, WorkflowStatus::Rejected);
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::ApplicationUpdate(a)] if a.status == ApplicationStatus::Rejected),
        "{events:?}"
    );
    let stored = bed
        .store()
        .application(SUPER_TENANT, &app.id)
        .await
        .unwrap();
    assert_eq!(stored.status, ApplicationStatus::Rejected);
    assert!(!gets_keys(&bed, &app.id).await);
}

#[tokio::test]
async fn a_held_subscription_is_unblocked_or_rejected_by_the_decision() {
    let bed = approving(Approvals {
        subscription_creation: true,
        ..Approvals::default()
    })
    .await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let (shop, other) = (
        bed.application(&alice, "Shop").await,
        bed.application(&alice, "Other").await,
    );
    let approved = bed
        .subscribe(&alice, &shop, &api, "Gold")
        .await
        .subscription;
    let rejected = bed
        .subscribe(&alice, &other, &api, "Gold")
        .await
        .subscription;
    assert_eq!(approved.status, SubscriptionStatus::OnHold);
    bed.events().await;
    let held = waiting(&bed, Some("AM_SUBSCRIPTION_CREATION"), all()).await;
    // Both held; created in the same millisecond, their order is not the point here.
    let task_of = |subscription: &str| {
        held.items
            .iter()
            .find(|w| w.reference == subscription)
            .map(|w| w.id.clone())
            .unwrap_or_else(|| panic!("no workflow holds {subscription}"))
    };
    assert_eq!(held.items.len(), 2);
    let (services, admin) = (bed.services(), bed.admin());
    decide(services, &admin, &task_of(&approved.id), "APPROVED", None)
        .await
        .unwrap();
    decide(services, &admin, &task_of(&rejected.id), "REJECTED", None)
        .await
        .unwrap();
    let events = bed.event_bodies().await;
    let statuses: Vec<_> = events
        .iter()
        .map(|e| match e {
            Event::SubscriptionUpdate(s) => s.status,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        statuses,
        [SubscriptionStatus::Unblocked, SubscriptionStatus::Rejected]
    );
    assert_eq!(
        subscription(&bed, &approved.id).await.status,
        SubscriptionStatus::Unblocked
    );
    assert_eq!(
        subscription(&bed, &rejected.id).await.status,
        SubscriptionStatus::Rejected
    );
}

#[tokio::test]
async fn an_approved_tier_change_applies_and_a_rejected_one_keeps_the_old_tier() {
    let bed = approving(Approvals {
        subscription_update: true,
        ..Approvals::default()
    })
    .await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let sub = bed.subscribe(&alice, &app, &api, "Gold").await.subscription;
    let (services, admin) = (bed.services(), bed.admin());
    bed.events().await;
    let asked = change_tier(services, &alice, &sub.id, "Unlimited")
        .await
        .unwrap()
        .subscription;
    // The old tier applies until an administrator decides.
    assert_eq!(
        (asked.status, asked.throttling_policy.as_str()),
        (SubscriptionStatus::TierUpdatePending, "Gold")
    );
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_UPDATE"]);
    let workflow = the_pending(&bed).await;
    assert_eq!(workflow.workflow_type.as_str(), "AM_SUBSCRIPTION_UPDATE");
    decide(services, &admin, &workflow.id, "APPROVED", None)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_UPDATE"]);
    let now = subscription(&bed, &sub.id).await;
    assert_eq!(
        (now.status, now.throttling_policy.as_str()),
        (SubscriptionStatus::Unblocked, "Unlimited")
    );
    change_tier(services, &alice, &sub.id, "Gold")
        .await
        .unwrap();
    let workflow = the_pending(&bed).await;
    bed.events().await;
    decide(services, &admin, &workflow.id, "REJECTED", None)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_UPDATE"]);
    let now = subscription(&bed, &sub.id).await;
    assert_eq!(
        (now.status, now.throttling_policy.as_str()),
        (SubscriptionStatus::Unblocked, "Unlimited")
    );
}

#[tokio::test]
async fn a_block_made_while_a_tier_change_waits_outlasts_the_decision() {
    let bed = approving(Approvals {
        subscription_update: true,
        ..Approvals::default()
    })
    .await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let sub = bed.subscribe(&alice, &app, &api, "Gold").await.subscription;
    let services = bed.services();
    change_tier(services, &alice, &sub.id, "Unlimited")
        .await
        .unwrap();
    set_subscription_state(
        services,
        &bed.user("publisher"),
        &sub.id,
        SubscriptionStatus::Blocked,
    )
    .await
    .unwrap();
    let workflow = the_pending(&bed).await;
    bed.events().await;
    decide(services, &bed.admin(), &workflow.id, "APPROVED", None)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_UPDATE"]);
    let now = subscription(&bed, &sub.id).await;
    assert_eq!(
        (now.status, now.throttling_policy.as_str()),
        (SubscriptionStatus::Blocked, "Unlimited")
    );
}

#[tokio::test]
async fn a_decision_names_a_bad_status_or_an_overlong_note() {
    let bed = approving(applications()).await;
    let app = bed.application(&bed.user("alice"), "Shop").await;
    let workflow = the_pending(&bed).await;
    bed.events().await;
    let (services, admin) = (bed.services(), bed.admin());
    for status in ["MAYBE", "CREATED", ""] {
        let message = decide(services, &admin, &workflow.id, status, None)
            .await
            .invalid("status");
        assert!(message.contains("APPROVED, REJECTED"), "{message}");
    }
    let note = "n".repeat(1025);
    decide(services, &admin, &workflow.id, "APPROVED", Some(&note))
        .await
        .invalid_fields(&["description"]);
    // Input is checked before the workflow is looked up.
    decide(services, &admin, "no-such-workflow", "MAYBE", None)
        .await
        .invalid_fields(&["status"]);
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(the_pending(&bed).await, workflow);
    let stored = bed
        .store()
        .application(SUPER_TENANT, &app.id)
        .await
        .unwrap();
    assert_eq!(stored.status, ApplicationStatus::Created);
    let note = "n".repeat(1024);
    decide(services, &admin, &workflow.id, "APPROVED", Some(&note))
        .await
        .unwrap();
}

#[tokio::test]
async fn only_a_pending_workflow_is_decided() {
    let bed = approving(applications()).await;
    bed.application(&bed.user("alice"), "Shop").await;
    let workflow = the_pending(&bed).await;
    let (services, admin) = (bed.services(), bed.admin());
    decide(services, &admin, "no-such-workflow", "APPROVED", None)
        .await
        .not_found();
    get(services, &admin, "no-such-workflow").await.not_found();
    decide(services, &admin, &workflow.id, "APPROVED", None)
        .await
        .unwrap();
    bed.events().await;
    decide(services, &admin, &workflow.id, "REJECTED", None)
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let decided = get(services, &admin, &workflow.id).await.unwrap();
    assert_eq!(decided.status, WorkflowStatus::Approved);
}

#[tokio::test]
async fn pending_workflows_are_filtered_by_type_and_paged_oldest_first() {
    let bed = approving(Approvals {
        application_creation: true,
        subscription_creation: true,
        subscription_update: false,
    })
    .await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let (services, admin) = (bed.services(), bed.admin());
    let shop = bed.application(&alice, "Shop").await;
    let first = the_pending(&bed).await;
    decide(services, &admin, &first.id, "APPROVED", None)
        .await
        .unwrap();
    let later = bed.application(&alice, "Later").await;
    let sub = bed
        .subscribe(&alice, &shop, &api, "Gold")
        .await
        .subscription;
    let references = |listed: Listed<WorkflowRow>| {
        let refs: Vec<String> = listed.items.into_iter().map(|w| w.reference).collect();
        (refs, listed.total)
    };
    assert_eq!(
        references(waiting(&bed, None, all()).await),
        (vec![later.id.clone(), sub.id.clone()], 2)
    );
    assert_eq!(references(waiting(&bed, Some(" "), all()).await).1, 2);
    assert_eq!(
        references(waiting(&bed, Some("AM_APPLICATION_CREATION"), all()).await),
        (vec![later.id.clone()], 1)
    );
    let second = Page::new(Some(1), Some(1)).unwrap();
    assert_eq!(
        references(waiting(&bed, None, second).await),
        (vec![sub.id.clone()], 2)
    );
    let message = pending(services, &admin, Some("AM_API_STATE"), all())
        .await
        .invalid("workflowType");
    assert!(message.contains("AM_SUBSCRIPTION_UPDATE"), "{message}");
}

#[tokio::test]
async fn a_subscription_settled_meanwhile_is_not_decided_again() {
    let bed = approving(Approvals {
        subscription_creation: true,
        ..Approvals::default()
    })
    .await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let mut sub = bed.subscribe(&alice, &app, &api, "Gold").await.subscription;
    let workflow = the_pending(&bed).await;
    // No operation moves a held subscription (a publisher's block refuses to); the store stands
    // in for whatever might, to reach the decision's own check.
    sub.status = SubscriptionStatus::Blocked;
    let mut tx = bed.store().begin().await.unwrap();
    tx.apply(&Change::UpdateSubscription(sub.clone()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    bed.events().await;
    let message = decide(bed.services(), &bed.admin(), &workflow.id, "APPROVED", None)
        .await
        .conflict();
    assert!(message.contains("no longer waiting"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(the_pending(&bed).await, workflow);
    assert_eq!(
        subscription(&bed, &sub.id).await.status,
        SubscriptionStatus::Blocked
    );
}
