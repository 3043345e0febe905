//! `publisher::subscriptions`: an API's provider blocks and unblocks subscriptions (gateways
//! learn at once: `SUBSCRIPTIONS_UPDATE`) — but not one an approval workflow still settles —
//! and lists them with their applications.

use tollgate_model::{Event, SubscriptionStatus};
use tollgate_operations::devportal::workflows::{self, Approvals};
use tollgate_operations::devportal::DevportalSettings;
use tollgate_operations::publisher::subscriptions::{
    list_subscriptions, set_api_subscription_state, set_subscription_state,
};
use tollgate_operations::Page;
use tollgate_testbed::{Refused, Settings, TestBed};

const ALL: Page = Page {
    limit: 100,
    offset: 0,
};

/// A published API with one subscription of alice's; its id.
async fn subscribed(bed: &TestBed) -> (tollgate_store::ApiRow, String) {
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let view = bed.subscribe(&alice, &app, &api, "Gold").await;
    bed.events().await;
    (api, view.subscription.id)
}

#[tokio::test]
async fn a_publisher_blocks_and_unblocks_and_gateways_learn_each_state() {
    let bed = TestBed::sqlite().await;
    let (_, id) = subscribed(&bed).await;
    let services = bed.services();
    for who in ["creator", "alice"] {
        set_subscription_state(services, &bed.user(who), &id, SubscriptionStatus::Blocked)
            .await
            .forbidden();
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    for state in [
        SubscriptionStatus::Blocked,
        SubscriptionStatus::ProdOnlyBlocked,
        SubscriptionStatus::Unblocked,
    ] {
        let row = set_subscription_state(services, &bed.user("publisher"), &id, state)
            .await
            .unwrap();
        assert_eq!(row.status, state);
        let stored = bed.store().subscription("carbon.super", &id).await.unwrap();
        assert_eq!(stored.status, state);
        match bed.event_bodies().await.as_slice() {
            [Event::SubscriptionUpdate(sub)] => assert_eq!(sub.status, state),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn only_blocked_prod_only_blocked_and_unblocked_are_states_to_set() {
    let bed = TestBed::sqlite().await;
    let (_, id) = subscribed(&bed).await;
    let (services, publisher) = (bed.services(), bed.user("publisher"));
    set_subscription_state(services, &publisher, "", SubscriptionStatus::Blocked)
        .await
        .invalid("subscriptionId");
    for state in [
        SubscriptionStatus::OnHold,
        SubscriptionStatus::Rejected,
        SubscriptionStatus::TierUpdatePending,
        SubscriptionStatus::DeletePending,
    ] {
        set_subscription_state(services, &publisher, &id, state)
            .await
            .invalid("blockState");
    }
    set_subscription_state(
        services,
        &publisher,
        "no-such-subscription",
        SubscriptionStatus::Blocked,
    )
    .await
    .not_found();
    let stored = bed.store().subscription("carbon.super", &id).await.unwrap();
    assert_eq!(stored.status, SubscriptionStatus::Unblocked);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn through_an_api_only_that_apis_subscriptions_are_found() {
    let bed = TestBed::sqlite().await;
    let (api, id) = subscribed(&bed).await;
    let other = bed.api("Pasta", "/pasta").await;
    let (services, publisher) = (bed.services(), bed.user("publisher"));
    let message = set_api_subscription_state(
        services,
        &publisher,
        &other.id,
        &id,
        SubscriptionStatus::Blocked,
    )
    .await
    .not_found();
    assert!(message.contains(&other.id), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let row = set_api_subscription_state(
        services,
        &publisher,
        &api.id,
        &id,
        SubscriptionStatus::Blocked,
    )
    .await
    .unwrap();
    assert_eq!(row.status, SubscriptionStatus::Blocked);
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_UPDATE"]);
}

#[tokio::test]
async fn a_subscription_its_approval_workflow_settles_is_not_blocked_or_unblocked() {
    let bed = TestBed::sqlite_with(Settings {
        devportal: DevportalSettings {
            approvals: Approvals {
                subscription_creation: true,
                ..Approvals::default()
            },
            ..DevportalSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let (_, id) = subscribed(&bed).await;
    let (services, publisher) = (bed.services(), bed.user("publisher"));
    let message = set_subscription_state(services, &publisher, &id, SubscriptionStatus::Blocked)
        .await
        .conflict();
    assert!(message.contains("ON_HOLD"), "{message}");
    let pending = workflows::pending(services, &bed.admin(), None, ALL)
        .await
        .unwrap();
    workflows::decide(
        services,
        &bed.admin(),
        &pending.items[0].id,
        "REJECTED",
        None,
    )
    .await
    .unwrap();
    bed.events().await;
    set_subscription_state(services, &publisher, &id, SubscriptionStatus::Unblocked)
        .await
        .conflict();
    let stored = bed.store().subscription("carbon.super", &id).await.unwrap();
    assert_eq!(stored.status, SubscriptionStatus::Rejected);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn subscriptions_are_listed_per_api_or_all_with_their_applications() {
    let bed = TestBed::sqlite().await;
    let pizza = bed.published_api("Pizza", "/pizza").await;
    let pasta = bed.published_api("Pasta", "/pasta").await;
    let (alice, bob) = (bed.user("alice"), bed.user("bob"));
    let shop = bed.application(&alice, "Shop").await;
    let kitchen = bed.application(&bob, "Kitchen").await;
    bed.subscribe(&alice, &shop, &pizza, "Gold").await;
    bed.subscribe(&bob, &kitchen, &pizza, "Unlimited").await;
    bed.subscribe(&alice, &shop, &pasta, "Gold").await;
    let services = bed.services();
    list_subscriptions(services, &alice, Some(&pizza.id), ALL)
        .await
        .forbidden();
    list_subscriptions(services, &bed.admin(), Some("no-such-api"), ALL)
        .await
        .not_found();
    let all = list_subscriptions(services, &bed.user("publisher"), None, ALL)
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    let page = Page {
        limit: 1,
        offset: 1,
    };
    let second = list_subscriptions(services, &bed.user("creator"), Some(&pizza.id), page)
        .await
        .unwrap();
    assert_eq!((second.total, second.items.len()), (2, 1));
    let of_pizza = list_subscriptions(services, &bed.user("creator"), Some(&pizza.id), ALL)
        .await
        .unwrap();
    let mut listed: Vec<(&str, &str, &str)> = of_pizza
        .items
        .iter()
        .map(|s| {
            (
                s.subscription.api_id.as_str(),
                s.application.as_ref().map_or("", |a| a.name.as_str()),
                s.subscription.throttling_policy.as_str(),
            )
        })
        .collect();
    listed.sort_unstable();
    let id = pizza.id.as_str();
    assert_eq!(listed, [(id, "Kitchen", "Unlimited"), (id, "Shop", "Gold")]);
}
