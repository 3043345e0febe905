//! `publisher::lifecycle`: WSO2's state graph, who may move an API through it, and what
//! gateways learn.

use tollgate_model::{LifecycleAction, LifecycleState};
use tollgate_operations::publisher::lifecycle::{
    change_lifecycle, lifecycle_history, lifecycle_state, Checklist,
};
use tollgate_testbed::{Refused, TestBed};

#[tokio::test]
async fn only_a_publisher_moves_an_api_and_gateways_learn_each_move() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    for who in ["creator", "alice"] {
        change_lifecycle(
            services,
            &bed.user(who),
            &api.id,
            LifecycleAction::Publish,
            Checklist::default(),
        )
        .await
        .forbidden();
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let state = change_lifecycle(
        services,
        &bed.user("publisher"),
        &api.id,
        LifecycleAction::Publish,
        Checklist::default(),
    )
    .await
    .unwrap();
    assert_eq!(state, LifecycleState::Published);
    assert_eq!(bed.events().await, ["LIFECYCLE_CHANGE"]);
    let history = lifecycle_history(services, &bed.user("creator"), &api.id)
        .await
        .unwrap();
    let states: Vec<_> = history.iter().map(|h| h.new_state).collect();
    assert_eq!(states, [LifecycleState::Created, LifecycleState::Published]);
}

#[tokio::test]
async fn an_action_the_state_does_not_allow_is_refused_naming_the_allowed_ones() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let message = change_lifecycle(
        bed.services(),
        &bed.admin(),
        &api.id,
        LifecycleAction::Retire,
        Checklist::default(),
    )
    .await
    .invalid("action");
    assert!(
        message.contains("allowed: Publish, Deploy as a Prototype"),
        "{message}"
    );
    assert_eq!(
        lifecycle_state(bed.services(), &bed.admin(), &api.id)
            .await
            .unwrap(),
        LifecycleState::Created
    );
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_unknown_api_is_not_found_and_views_need_a_view_scope() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    change_lifecycle(
        bed.services(),
        &bed.admin(),
        "no-such-api",
        LifecycleAction::Publish,
        Checklist::default(),
    )
    .await
    .not_found();
    lifecycle_state(bed.services(), &bed.admin(), "no-such-api")
        .await
        .not_found();
    lifecycle_history(bed.services(), &bed.admin(), "no-such-api")
        .await
        .not_found();
    lifecycle_state(bed.services(), &bed.user("alice"), &api.id)
        .await
        .forbidden();
    lifecycle_history(bed.services(), &bed.user("alice"), &api.id)
        .await
        .forbidden();
}

#[tokio::test]
async fn publishing_with_deprecate_old_versions_deprecates_the_older_published_ones() {
    let bed = TestBed::sqlite().await;
    let v1 = bed.published_api("Pizza", "/pizza").await;
    bed.events().await;
    let v2 = tollgate_operations::publisher::apis::copy_api(
        bed.services(),
        &bed.admin(),
        &v1.id,
        "2.0.0",
        false,
    )
    .await
    .unwrap();
    change_lifecycle(
        bed.services(),
        &bed.admin(),
        &v2.id,
        LifecycleAction::Publish,
        Checklist {
            deprecate_old_versions: true,
            requires_resubscription: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, ["LIFECYCLE_CHANGE", "LIFECYCLE_CHANGE"]);
    assert_eq!(
        lifecycle_state(bed.services(), &bed.admin(), &v1.id)
            .await
            .unwrap(),
        LifecycleState::Deprecated
    );
}

#[test]
fn a_checklist_names_its_items_and_their_values() {
    let checklist =
        Checklist::parse("Deprecate old versions after publishing the API:true").unwrap();
    assert!(checklist.deprecate_old_versions && !checklist.requires_resubscription);
    Checklist::parse("Deprecate old versions after publishing the API:maybe")
        .invalid("lifecycleChecklist");
    Checklist::parse("Tidy up:true").invalid("lifecycleChecklist");
}
