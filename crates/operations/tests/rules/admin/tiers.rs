//! `admin::tiers`: throttling tiers of each level, who may see and change them, what makes a
//! tier valid, and what gateways learn of each change.

use serde_json::json;
use tollgate_model::{PolicyLevel, TimeUnit, SUPER_TENANT};
use tollgate_operations::admin::tiers::{
    create_tier, delete_tier, get_tier, list_tiers, update_tier, TierInput,
};
use tollgate_testbed::{Refused, TestBed};

/// A request-count tier: `count` requests per `unit_time` `unit`.
fn tier(name: &str, count: i64, unit_time: i64, unit: &str) -> TierInput {
    TierInput {
        name: name.into(),
        display_name: None,
        description: None,
        limit_type: tollgate_model::LimitType::RequestCount,
        request_count: Some((count, unit_time, unit.into())),
    }
}

/// The id of the tier `name` of `level` (the template holds WSO2's default tiers).
async fn tier_id(bed: &TestBed, level: PolicyLevel, name: &str) -> String {
    bed.store()
        .policy(SUPER_TENANT, level, name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {level:?} tier {name}"))
        .id
}

#[tokio::test]
async fn tiers_are_seen_with_a_tier_scope_and_changed_with_tier_manage_only() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let gold = tier_id(&bed, PolicyLevel::Subscription, "Gold").await;
    let level = PolicyLevel::Subscription;
    let alice = bed.user("alice");
    list_tiers(services, &alice, level).await.forbidden();
    get_tier(services, &alice, level, &gold).await.forbidden();
    // A creator sees the tiers an API can offer, but changes none.
    let creator = bed.user("creator");
    let names: Vec<_> = list_tiers(services, &creator, level)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(names.contains(&"Gold".to_string()), "{names:?}");
    assert_eq!(
        get_tier(services, &creator, level, &gold)
            .await
            .unwrap()
            .name,
        "Gold"
    );
    create_tier(services, &creator, level, tier("Tin", 10, 1, "min"))
        .await
        .forbidden();
    update_tier(services, &creator, level, &gold, tier("Gold", 1, 1, "min"))
        .await
        .forbidden();
    delete_tier(services, &creator, level, &gold)
        .await
        .forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    // The tier_manage scope alone suffices.
    let operator = bed.with_scopes("operator", &["apim:tier_manage"]);
    create_tier(services, &operator, level, tier("Tin", 10, 1, "min"))
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["POLICY_UPDATE"]);
}

#[tokio::test]
async fn a_new_tier_is_stored_and_gateways_learn_it() {
    let bed = TestBed::sqlite().await;
    let level = PolicyLevel::Application;
    let created = create_tier(
        bed.services(),
        &bed.admin(),
        level,
        tier("  5PerSec ", 5, 1, "sec"),
    )
    .await
    .unwrap();
    // The name is trimmed, the display name defaults to it, the description to nothing.
    assert_eq!(created.name, "5PerSec");
    assert_eq!(created.display_name, "5PerSec");
    assert_eq!(created.description, "");
    assert_eq!(created.tenant, SUPER_TENANT);
    assert_eq!(
        (created.request_count, created.unit_time, created.time_unit),
        (Some(5), 1, TimeUnit::Sec)
    );
    // Tollgate announces a new tier as WSO2 announces a changed one: gateways upsert it.
    let events = bed.event_bodies().await;
    assert_eq!(
        events.iter().map(|e| e.type_name()).collect::<Vec<_>>(),
        ["POLICY_UPDATE"]
    );
    assert!(matches!(&events[0], tollgate_model::Event::PolicyUpdate(p) if *p == created));
    let read = get_tier(bed.services(), &bed.admin(), level, &created.id)
        .await
        .unwrap();
    assert_eq!(read, created);
    // A tier belongs to its level only.
    get_tier(
        bed.services(),
        &bed.admin(),
        PolicyLevel::Subscription,
        &created.id,
    )
    .await
    .not_found();
}

#[tokio::test]
async fn every_problem_with_a_tier_is_named_by_its_field() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let level = PolicyLevel::Subscription;
    let mut input = tier("has space", 0, 1, "fortnight");
    input.display_name = Some("x".repeat(513));
    input.description = Some("x".repeat(1025));
    create_tier(services, &admin, level, input)
        .await
        .invalid_fields(&[
            "policyName",
            "displayName",
            "description",
            "defaultLimit.requestCount.requestCount",
            "defaultLimit.requestCount.timeUnit",
        ]);
    for name in ["", "a/b", &"n".repeat(61)] {
        create_tier(services, &admin, level, tier(name, 1, 1, "min"))
            .await
            .invalid("policyName");
    }
    let mut control = tier("Tab", 1, 1, "min");
    control.display_name = Some("Ta\tb".into());
    create_tier(services, &admin, level, control)
        .await
        .invalid("displayName");
    let message = create_tier(
        services,
        &admin,
        level,
        tier("Big", tollgate_model::MAX_REQUEST_COUNT + 1, 1, "min"),
    )
    .await
    .invalid("defaultLimit.requestCount.requestCount");
    assert!(message.contains("must be from 1 to"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_tier_limit_is_a_request_count_in_a_window_of_at_most_366_days() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let level = PolicyLevel::Subscription;
    let message = create_tier(services, &admin, level, tier("Long", 1, 367, "day"))
        .await
        .invalid("defaultLimit.requestCount.unitTime");
    assert!(message.contains("from 1 to 366"), "{message}");
    create_tier(services, &admin, level, tier("Zero", 1, 0, "min"))
        .await
        .invalid("defaultLimit.requestCount.unitTime");
    let mut bandwidth = tier("Bandwidth", 1, 1, "min");
    bandwidth.limit_type = tollgate_model::LimitType::Bandwidth;
    create_tier(services, &admin, level, bandwidth)
        .await
        .invalid_fields(&["defaultLimit.type"]);
    let mut no_count = tier("NoCount", 1, 1, "min");
    no_count.request_count = None;
    create_tier(services, &admin, level, no_count)
        .await
        .invalid_fields(&["defaultLimit.requestCount"]);
    assert_eq!(bed.events().await, Vec::<&str>::new());
    // The longest window there is: 366 days.
    create_tier(services, &admin, level, tier("Yearly", 1, 366, "days"))
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["POLICY_UPDATE"]);
}

#[tokio::test]
async fn a_tier_name_is_unique_within_its_level() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let message = create_tier(
        services,
        &admin,
        PolicyLevel::Subscription,
        tier("Gold", 1, 1, "min"),
    )
    .await
    .conflict();
    assert!(message.contains("'Gold' already exists"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    create_tier(
        services,
        &admin,
        PolicyLevel::Application,
        tier("Gold", 1, 1, "min"),
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, ["POLICY_UPDATE"]);
}

#[tokio::test]
async fn a_changed_tier_keeps_its_name_and_gateways_learn_the_new_limit() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let level = PolicyLevel::Subscription;
    let gold = tier_id(&bed, level, "Gold").await;
    update_tier(
        services,
        &admin,
        level,
        &gold,
        tier("Platinum", 1, 1, "min"),
    )
    .await
    .invalid_fields(&["policyName"]);
    // The input is checked before the tier is looked up.
    update_tier(services, &admin, level, &gold, tier("Gold", 0, 1, "min"))
        .await
        .invalid_fields(&["defaultLimit.requestCount.requestCount"]);
    update_tier(
        services,
        &admin,
        level,
        "no-such-tier",
        tier("Gold", 1, 1, "min"),
    )
    .await
    .not_found();
    update_tier(
        services,
        &admin,
        PolicyLevel::Application,
        &gold,
        tier("Gold", 1, 1, "min"),
    )
    .await
    .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let mut input = tier("Gold", 9000, 2, "hour");
    input.display_name = Some("Gold+".into());
    let changed = update_tier(services, &admin, level, &gold, input)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["POLICY_UPDATE"]);
    let stored = get_tier(services, &admin, level, &gold).await.unwrap();
    assert_eq!(stored, changed);
    assert_eq!(
        (stored.name.as_str(), stored.display_name.as_str()),
        ("Gold", "Gold+")
    );
    assert_eq!(
        (stored.request_count, stored.unit_time, stored.time_unit),
        (Some(9000), 2, TimeUnit::Hour)
    );
}

#[tokio::test]
async fn a_tier_in_use_cannot_be_deleted() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.subscribe(&alice, &app, &api, "Gold").await;
    bed.events().await;
    let (services, admin) = (bed.services(), bed.admin());
    let gold = tier_id(&bed, PolicyLevel::Subscription, "Gold").await;
    let message = delete_tier(services, &admin, PolicyLevel::Subscription, &gold)
        .await
        .conflict();
    assert!(message.contains("in use by 1 subscription(s)"), "{message}");
    // The application's tier, Unlimited, is in use too.
    let unlimited = tier_id(&bed, PolicyLevel::Application, "Unlimited").await;
    let message = delete_tier(services, &admin, PolicyLevel::Application, &unlimited)
        .await
        .conflict();
    assert!(message.contains("in use by 1 application(s)"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    get_tier(services, &admin, PolicyLevel::Subscription, &gold)
        .await
        .unwrap();
    get_tier(services, &admin, PolicyLevel::Application, &unlimited)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unused_tier_is_deleted_and_gateways_forget_it() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let level = PolicyLevel::Subscription;
    let silver = tier_id(&bed, level, "Silver").await;
    delete_tier(services, &admin, level, &silver).await.unwrap();
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [tollgate_model::Event::PolicyDelete { level: PolicyLevel::Subscription, name }] if name == "Silver"),
        "{events:?}"
    );
    get_tier(services, &admin, level, &silver).await.not_found();
    delete_tier(services, &admin, level, &silver)
        .await
        .not_found();
    delete_tier(services, &admin, PolicyLevel::Application, "no-such-tier")
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_api_level_tier_an_api_applies_cannot_be_deleted() {
    let bed = TestBed::sqlite().await;
    bed.api_as(
        &bed.admin(),
        "Pizza",
        "/pizza",
        json!({"apiThrottlingPolicy": "10KPerMin"}),
    )
    .await;
    bed.events().await;
    let id = tier_id(&bed, PolicyLevel::Api, "10KPerMin").await;
    delete_tier(bed.services(), &bed.admin(), PolicyLevel::Api, &id)
        .await
        .conflict();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}
