//! `devportal::subscriptions`: subscribing one or many (all or nothing), to an API the caller
//! may see and that takes subscriptions, under a tier it offers; changing tier; listing and
//! removing — each change an event gateways honour at once.

use tollgate_model::{Event, LifecycleAction, SubscriptionStatus, SUPER_TENANT};
use tollgate_operations::devportal::subscriptions::{
    change_tier, delete, get, list, subscribe, subscribe_many, SubscriptionRequest,
    SubscriptionView,
};
use tollgate_operations::publisher::subscriptions::set_subscription_state;
use tollgate_operations::Page;
use tollgate_store::{ApiRow, ApplicationRow};
use tollgate_testbed::{Refused, TestBed};

use super::ALL;

fn request(app: &ApplicationRow, api_id: &str, tier: &str) -> SubscriptionRequest {
    SubscriptionRequest {
        application_id: app.id.clone(),
        api_id: api_id.into(),
        throttling_policy: tier.into(),
    }
}

/// A published API and alice's application subscribed to it under Gold; the subscription's id.
async fn subscribed(bed: &TestBed) -> (ApiRow, ApplicationRow, String) {
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let id = bed
        .subscribe(&alice, &app, &api, "Gold")
        .await
        .subscription
        .id;
    bed.events().await;
    (api, app, id)
}

async fn subscription_count(bed: &TestBed, app: &ApplicationRow) -> usize {
    let subs = bed.store().subscriptions_of_application(&app.id).await;
    subs.unwrap().len()
}

#[tokio::test]
async fn a_subscription_is_unblocked_at_once_and_gateways_learn_it() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    let view = subscribe(bed.services(), &alice, request(&app, &api.id, "Gold"))
        .await
        .unwrap();
    let sub = &view.subscription;
    assert_eq!(
        (sub.status, sub.throttling_policy.as_str()),
        (SubscriptionStatus::Unblocked, "Gold")
    );
    assert_eq!(
        (view.api.map(|a| a.id), view.application.id),
        (Some(api.id.clone()), app.id.clone())
    );
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::SubscriptionCreate(s)] if s.id == sub.id && s.api_id == api.id),
        "{events:?}"
    );
    let stored = bed
        .store()
        .subscription(SUPER_TENANT, &sub.id)
        .await
        .unwrap();
    assert_eq!(stored.application_id, app.id);
}

#[tokio::test]
async fn each_subscription_operation_needs_a_subscribe_scope() {
    let bed = TestBed::sqlite().await;
    let (api, app, id) = subscribed(&bed).await;
    let services = bed.services();
    for who in [
        bed.user("creator"),
        bed.with_scopes("alice", &["apim:app_manage"]),
    ] {
        subscribe(services, &who, request(&app, &api.id, "Gold"))
            .await
            .forbidden();
        subscribe_many(services, &who, vec![], true)
            .await
            .forbidden();
        get(services, &who, &id).await.forbidden();
        change_tier(services, &who, &id, "Unlimited")
            .await
            .forbidden();
        list(services, &who, Some(&app.id), None, ALL)
            .await
            .forbidden();
        delete(services, &who, &id).await.forbidden();
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let manager = bed.with_scopes("alice", &["apim:sub_manage"]);
    get(services, &manager, &id).await.unwrap();
}

#[tokio::test]
async fn another_users_application_or_an_api_the_caller_cannot_see_is_not_found() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let draft = bed.api("Draft", "/draft").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    let services = bed.services();
    let message = subscribe(services, &bed.user("bob"), request(&app, &api.id, "Gold"))
        .await
        .not_found();
    assert!(message.contains(&app.id), "{message}");
    for api_id in [draft.id.as_str(), "no-such-api"] {
        let message = subscribe(services, &alice, request(&app, api_id, "Gold"))
            .await
            .not_found();
        assert!(message.contains(api_id), "{message}");
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(subscription_count(&bed, &app).await, 0);
}

#[tokio::test]
async fn only_a_published_api_takes_new_subscriptions() {
    let bed = TestBed::sqlite().await;
    let (pizza, _, _) = subscribed(&bed).await;
    let proto = bed.api("Proto", "/proto").await;
    bed.lifecycle(&proto, LifecycleAction::DeployAsPrototype)
        .await;
    bed.lifecycle(&pizza, LifecycleAction::Deprecate).await;
    let alice = bed.user("alice");
    let other = bed.application(&alice, "Other").await;
    bed.events().await;
    // A prototype is seen but not subscribed; a deprecated API only its subscribers still see.
    let message = subscribe(bed.services(), &alice, request(&other, &proto.id, "Gold"))
        .await
        .invalid("apiId");
    assert!(message.contains("Prototyped"), "{message}");
    let message = subscribe(bed.services(), &alice, request(&other, &pizza.id, "Gold"))
        .await
        .invalid("apiId");
    assert!(message.contains("takes no new subscriptions"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(subscription_count(&bed, &other).await, 0);
}

#[tokio::test]
async fn a_tier_the_api_does_not_offer_is_refused_naming_the_offered_ones() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.events().await;
    for tier in ["Silver", "Platinum", ""] {
        let message = subscribe(bed.services(), &alice, request(&app, &api.id, tier))
            .await
            .invalid("throttlingPolicy");
        assert!(message.contains("it offers: Gold, Unlimited"), "{message}");
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(subscription_count(&bed, &app).await, 0);
}

#[tokio::test]
async fn an_application_subscribes_to_an_api_once() {
    let bed = TestBed::sqlite().await;
    let (api, app, id) = subscribed(&bed).await;
    let message = subscribe(
        bed.services(),
        &bed.user("alice"),
        request(&app, &api.id, "Unlimited"),
    )
    .await
    .conflict();
    assert!(message.contains("already subscribed"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let stored = bed.store().subscription(SUPER_TENANT, &id).await.unwrap();
    assert_eq!(stored.throttling_policy, "Gold");
}

#[tokio::test]
async fn many_subscriptions_are_made_together_or_not_at_all_each_problem_by_position() {
    let bed = TestBed::sqlite().await;
    let pizza = bed.published_api("Pizza", "/pizza").await;
    let pasta = bed.published_api("Pasta", "/pasta").await;
    let alice = bed.user("alice");
    let shop = bed.application(&alice, "Shop").await;
    let bobs = bed.application(&bed.user("bob"), "Bobs").await;
    bed.events().await;
    let services = bed.services();
    let requests = vec![
        request(&shop, &pizza.id, "Gold"),
        request(&shop, &pasta.id, "Silver"),
        request(&shop, &pizza.id, "Unlimited"),
        request(&bobs, &pizza.id, "Gold"),
        request(&shop, "no-such-api", "Gold"),
    ];
    subscribe_many(services, &alice, requests, true)
        .await
        .invalid_fields(&[
            "[1].throttlingPolicy",
            "[2].apiId",
            "[3].applicationId",
            "[4].apiId",
        ]);
    subscribe_many(services, &alice, vec![], true)
        .await
        .invalid("");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(subscription_count(&bed, &shop).await, 0);
    let requests = vec![
        request(&shop, &pizza.id, "Gold"),
        request(&shop, &pasta.id, "Unlimited"),
    ];
    let made = subscribe_many(services, &alice, requests, true)
        .await
        .unwrap();
    assert_eq!(made.len(), 2);
    assert_eq!(
        bed.events().await,
        ["SUBSCRIPTIONS_CREATE", "SUBSCRIPTIONS_CREATE"]
    );
}

#[tokio::test]
async fn without_positions_a_list_names_fields_plainly_and_an_unknown_application_is_not_found() {
    let bed = TestBed::sqlite().await;
    let pizza = bed.published_api("Pizza", "/pizza").await;
    let pasta = bed.published_api("Pasta", "/pasta").await;
    let alice = bed.user("alice");
    let shop = bed.application(&alice, "Shop").await;
    bed.events().await;
    let services = bed.services();
    let requests = vec![
        request(&shop, &pizza.id, "Gold"),
        request(&shop, &pasta.id, "Silver"),
    ];
    subscribe_many(services, &alice, requests, false)
        .await
        .invalid_fields(&["throttlingPolicy"]);
    let mut unknown = request(&shop, &pasta.id, "Gold");
    unknown.application_id = "no-such-application".into();
    let requests = vec![request(&shop, &pizza.id, "Gold"), unknown];
    subscribe_many(services, &alice, requests, false)
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(subscription_count(&bed, &shop).await, 0);
}

#[tokio::test]
async fn a_tier_change_moves_to_another_offered_tier_and_gateways_learn_it() {
    let bed = TestBed::sqlite().await;
    let (_, _, id) = subscribed(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let message = change_tier(services, &alice, &id, "Silver")
        .await
        .invalid("throttlingPolicy");
    assert!(message.contains("Gold, Unlimited"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let view = change_tier(services, &alice, &id, "Unlimited")
        .await
        .unwrap();
    assert_eq!(
        (
            view.subscription.throttling_policy.as_str(),
            view.subscription.status
        ),
        ("Unlimited", SubscriptionStatus::Unblocked)
    );
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::SubscriptionUpdate(s)] if s.throttling_policy == "Unlimited"),
        "{events:?}"
    );
    let stored = bed.store().subscription(SUPER_TENANT, &id).await.unwrap();
    assert_eq!(stored.throttling_policy, "Unlimited");
}

#[tokio::test]
async fn a_blocked_subscription_keeps_its_tier_and_a_production_only_block_does_not() {
    let bed = TestBed::sqlite().await;
    let (_, _, id) = subscribed(&bed).await;
    let (services, alice, publisher) = (bed.services(), bed.user("alice"), bed.user("publisher"));
    set_subscription_state(services, &publisher, &id, SubscriptionStatus::Blocked)
        .await
        .unwrap();
    bed.events().await;
    let message = change_tier(services, &alice, &id, "Unlimited")
        .await
        .not_allowed();
    assert!(message.contains("BLOCKED"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let stored = bed.store().subscription(SUPER_TENANT, &id).await.unwrap();
    assert_eq!(stored.throttling_policy, "Gold");
    set_subscription_state(
        services,
        &publisher,
        &id,
        SubscriptionStatus::ProdOnlyBlocked,
    )
    .await
    .unwrap();
    bed.events().await;
    let view = change_tier(services, &alice, &id, "Unlimited")
        .await
        .unwrap();
    assert_eq!(
        (
            view.subscription.throttling_policy.as_str(),
            view.subscription.status
        ),
        ("Unlimited", SubscriptionStatus::ProdOnlyBlocked)
    );
    assert_eq!(bed.events().await, ["SUBSCRIPTIONS_UPDATE"]);
}

#[tokio::test]
async fn subscriptions_of_an_api_no_longer_published_keep_their_tiers() {
    let bed = TestBed::sqlite().await;
    let (api, _, id) = subscribed(&bed).await;
    let alice = bed.user("alice");
    bed.lifecycle(&api, LifecycleAction::Deprecate).await;
    bed.events().await;
    let message = change_tier(bed.services(), &alice, &id, "Unlimited")
        .await
        .not_allowed();
    assert!(message.contains("Deprecated"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let view = get(bed.services(), &alice, &id).await.unwrap();
    assert_eq!(view.subscription.throttling_policy, "Gold");
}

#[tokio::test]
async fn another_users_subscription_is_not_found() {
    let bed = TestBed::sqlite().await;
    let (_, _, id) = subscribed(&bed).await;
    let (services, bob) = (bed.services(), bed.user("bob"));
    for id in [id.as_str(), "no-such-subscription"] {
        let message = get(services, &bob, id).await.not_found();
        assert!(message.contains(id), "{message}");
        change_tier(services, &bob, id, "Unlimited")
            .await
            .not_found();
        delete(services, &bob, id).await.not_found();
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let view = get(services, &bed.user("alice"), &id).await.unwrap();
    assert_eq!(view.subscription.throttling_policy, "Gold");
}

#[tokio::test]
async fn deleting_a_subscription_tells_gateways() {
    let bed = TestBed::sqlite().await;
    let (api, app, id) = subscribed(&bed).await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    delete(services, &alice, &id).await.unwrap();
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [Event::SubscriptionDelete { subscription_id, .. }] if *subscription_id == id),
        "{events:?}"
    );
    get(services, &alice, &id).await.not_found();
    delete(services, &alice, &id).await.not_found();
    // Gone, it may be made again.
    bed.subscribe(&alice, &app, &api, "Unlimited").await;
}

/// Alice's subscriptions (of an application, to an API), as sorted `application/API` names, and
/// how many there are in all.
async fn listed(
    bed: &TestBed,
    app: Option<&ApplicationRow>,
    api: Option<&ApiRow>,
    page: Page,
) -> (Vec<String>, i64) {
    let (app, api) = (app.map(|a| a.id.as_str()), api.map(|a| a.id.as_str()));
    let (views, total) = list(bed.services(), &bed.user("alice"), app, api, page)
        .await
        .unwrap();
    let mut names: Vec<String> = views
        .into_iter()
        .map(|v: SubscriptionView| {
            let api = v.api.map(|a| a.name).unwrap_or_default();
            format!("{}/{api}", v.application.name)
        })
        .collect();
    names.sort();
    (names, total)
}

#[tokio::test]
async fn the_callers_subscriptions_are_listed_by_application_or_by_api_and_paged_on_postgres() {
    let bed = TestBed::postgres().await;
    let (pizza, pasta) = (
        bed.published_api("Pizza", "/pizza").await,
        bed.published_api("Pasta", "/pasta").await,
    );
    let (alice, bob) = (bed.user("alice"), bed.user("bob"));
    let (shop, home) = (
        bed.application(&alice, "Shop").await,
        bed.application(&alice, "Home").await,
    );
    let bobs = bed.application(&bob, "Bobs").await;
    bed.subscribe(&alice, &shop, &pizza, "Gold").await;
    bed.subscribe(&alice, &shop, &pasta, "Gold").await;
    bed.subscribe(&alice, &home, &pizza, "Unlimited").await;
    bed.subscribe(&bob, &bobs, &pizza, "Gold").await;
    let of_shop = listed(&bed, Some(&shop), None, ALL).await;
    assert_eq!(of_shop, (vec!["Shop/Pasta".into(), "Shop/Pizza".into()], 2));
    let of_shop_to_pizza = listed(&bed, Some(&shop), Some(&pizza), ALL).await;
    assert_eq!(of_shop_to_pizza, (vec!["Shop/Pizza".into()], 1));
    // To one API: all of alice's applications' subscriptions, never bob's.
    let to_pizza = listed(&bed, None, Some(&pizza), ALL).await;
    assert_eq!(
        to_pizza,
        (vec!["Home/Pizza".into(), "Shop/Pizza".into()], 2)
    );
    let mut paged = Vec::new();
    for offset in 0..2 {
        let page = Page::new(Some(1), Some(offset)).unwrap();
        let (names, total) = listed(&bed, None, Some(&pizza), page).await;
        assert_eq!((names.len(), total), (1, 2));
        paged.extend(names);
    }
    paged.sort();
    assert_eq!(paged, to_pizza.0);
}

#[tokio::test]
async fn a_list_names_an_application_of_the_callers_or_an_api() {
    let bed = TestBed::sqlite().await;
    let bobs = bed.application(&bed.user("bob"), "Bobs").await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    let message = list(services, &alice, None, None, ALL)
        .await
        .invalid("applicationId");
    assert!(message.contains("apiId"), "{message}");
    let message = list(services, &alice, Some(&bobs.id), None, ALL)
        .await
        .not_found();
    assert!(message.contains(&bobs.id), "{message}");
    let (none, total) = list(services, &alice, None, Some("no-such-api"), ALL)
        .await
        .unwrap();
    assert_eq!((none.len(), total), (0, 0));
}
