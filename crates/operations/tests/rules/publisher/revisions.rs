//! `publisher::revisions`: revisions freeze the working copy (five at most, no event);
//! deploying one tells each environment's gateways (`DEPLOY_API_IN_GATEWAY`), undeploying
//! takes it off (`REMOVE_API_FROM_GATEWAY`); a deployed revision stays until undeployed.

use serde_json::json;
use tollgate_model::{Event, LifecycleAction, LifecycleState};
use tollgate_operations::environments::{create_environment, EnvironmentInput};
use tollgate_operations::publisher::apis::{get_api, update_api};
use tollgate_operations::publisher::definition::{ApiDefinition, ScopeDefinition};
use tollgate_operations::publisher::revisions::{
    create_revision, delete_revision, deploy_revision, deployments, get_revision, list_revisions,
    restore_revision, undeploy_revision, DeploymentTarget, MAX_REVISIONS,
};
use tollgate_operations::publisher::scopes::{
    create_shared_scope, delete_shared_scope, shared_scope_usage,
};
use tollgate_store::{ApiRow, RevisionRow};
use tollgate_testbed::fixtures::api_body;
use tollgate_testbed::{Refused, TestBed};

const DEFAULT: &str = tollgate_model::DEFAULT_ENVIRONMENT;

fn target(environment: &str) -> DeploymentTarget {
    DeploymentTarget {
        environment: environment.into(),
        vhost: None,
        display_on_devportal: true,
    }
}

async fn revision(bed: &TestBed, api: &ApiRow) -> RevisionRow {
    create_revision(bed.services(), &bed.admin(), &api.id, None)
        .await
        .expect("create a revision")
}

/// Replaces the API's working copy with the fixture's body and `extra`.
async fn update(bed: &TestBed, api: &ApiRow, extra: serde_json::Value) -> ApiRow {
    let definition = ApiDefinition::from_json(api_body(&api.name, &api.context, extra)).unwrap();
    update_api(bed.services(), &bed.admin(), &api.id, definition, None)
        .await
        .expect("update the API")
}

/// An environment added through the Admin API, with one vhost.
async fn add_environment(bed: &TestBed, name: &str, host: &str) {
    let input: EnvironmentInput =
        serde_json::from_value(json!({"name": name, "vhosts": [{"host": host}]})).unwrap();
    create_environment(bed.services(), &bed.admin(), input)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_revision_freezes_the_working_copy_and_gateways_hear_nothing() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    create_revision(services, &bed.user("alice"), &api.id, None)
        .await
        .forbidden();
    create_revision(services, &bed.admin(), &api.id, Some(&"x".repeat(256)))
        .await
        .invalid("description");
    create_revision(services, &bed.admin(), "no-such-api", None)
        .await
        .not_found();
    let first = create_revision(services, &bed.user("creator"), &api.id, Some("first"))
        .await
        .unwrap();
    update(&bed, &api, json!({"description": "changed"})).await;
    let second = create_revision(services, &bed.user("publisher"), &api.id, None)
        .await
        .unwrap();
    assert_eq!((first.number, second.number), (1, 2));
    assert_eq!(first.description, "first");
    let (kept, _) = get_revision(services, &bed.user("creator"), &api.id, &first.id)
        .await
        .unwrap();
    assert!(kept.definition.get("description").is_none());
    assert_eq!(second.definition["description"], "changed");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_api_keeps_at_most_five_revisions() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let mut made = Vec::new();
    for _ in 0..MAX_REVISIONS {
        made.push(revision(&bed, &api).await);
    }
    let message = create_revision(bed.services(), &bed.admin(), &api.id, None)
        .await
        .not_allowed();
    assert!(message.contains("Maximum number of revisions"), "{message}");
    delete_revision(bed.services(), &bed.admin(), &api.id, &made[0].id)
        .await
        .unwrap();
    // Numbers are not reused.
    assert_eq!(revision(&bed, &api).await.number, MAX_REVISIONS + 1);
}

#[tokio::test]
async fn revisions_are_read_with_a_view_scope_from_an_api_that_exists() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    let made = revision(&bed, &api).await;
    list_revisions(services, &bed.user("alice"), &api.id)
        .await
        .forbidden();
    list_revisions(services, &bed.admin(), "no-such-api")
        .await
        .not_found();
    get_revision(services, &bed.admin(), &api.id, "no-such-revision")
        .await
        .not_found();
    get_revision(services, &bed.user("bob"), &api.id, &made.id)
        .await
        .forbidden();
    let (revisions, deployed) = list_revisions(services, &bed.user("creator"), &api.id)
        .await
        .unwrap();
    assert_eq!(revisions.len(), 1);
    assert!(deployed.is_empty());
}

#[tokio::test]
async fn a_deployed_revision_cannot_be_deleted_until_it_is_undeployed() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    bed.deploy(&api).await;
    let (revisions, _) = list_revisions(bed.services(), &bed.admin(), &api.id)
        .await
        .unwrap();
    let deployed = &revisions[0];
    bed.events().await;
    let services = bed.services();
    delete_revision(services, &bed.user("alice"), &api.id, &deployed.id)
        .await
        .forbidden();
    delete_revision(services, &bed.admin(), "no-such-api", &deployed.id)
        .await
        .not_found();
    delete_revision(services, &bed.admin(), &api.id, "no-such-revision")
        .await
        .not_found();
    let message = delete_revision(services, &bed.admin(), &api.id, &deployed.id)
        .await
        .conflict();
    assert!(message.contains(DEFAULT), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    undeploy_revision(services, &bed.admin(), &api.id, &deployed.id, None)
        .await
        .unwrap();
    delete_revision(services, &bed.user("creator"), &api.id, &deployed.id)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["REMOVE_API_FROM_GATEWAY"]);
    assert!(bed.store().revisions(&api.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn restoring_a_revision_makes_it_the_working_copy_again_without_an_event() {
    let bed = TestBed::sqlite().await;
    let api = bed
        .api_as(&bed.admin(), "Pizza", "/pizza", json!({"tags": ["food"]}))
        .await;
    let first = revision(&bed, &api).await;
    update(
        &bed,
        &api,
        json!({"description": "changed", "tags": ["hot"]}),
    )
    .await;
    let services = bed.services();
    restore_revision(services, &bed.user("alice"), &api.id, &first.id)
        .await
        .forbidden();
    restore_revision(services, &bed.admin(), "no-such-api", &first.id)
        .await
        .not_found();
    restore_revision(services, &bed.admin(), &api.id, "no-such-revision")
        .await
        .not_found();
    let restored = restore_revision(services, &bed.user("creator"), &api.id, &first.id)
        .await
        .unwrap();
    assert_eq!(
        (restored.description.as_str(), restored.row_version),
        ("", 3)
    );
    assert_eq!(restored.tags, ["food"]);
    let stored = get_api(services, &bed.admin(), &api.id).await.unwrap();
    assert!(stored.definition.get("description").is_none());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn restoring_a_revision_brings_back_the_resource_scopes_it_requires() {
    let bed = TestBed::sqlite().await;
    let scope: ScopeDefinition = serde_json::from_value(json!({"name": "menu:read"})).unwrap();
    let shared = create_shared_scope(bed.services(), &bed.admin(), scope)
        .await
        .unwrap();
    let api = bed
        .api_as(
            &bed.admin(),
            "Pizza",
            "/pizza",
            json!({"operations": [{"target": "/menu", "verb": "GET", "scopes": ["menu:read"]}]}),
        )
        .await;
    let first = revision(&bed, &api).await;
    update(
        &bed,
        &api,
        json!({"operations": [{"target": "/menu", "verb": "GET"}]}),
    )
    .await;
    restore_revision(bed.services(), &bed.admin(), &api.id, &first.id)
        .await
        .unwrap();
    let (_, uses) = shared_scope_usage(bed.services(), &bed.admin(), &shared.id)
        .await
        .unwrap();
    assert_eq!(uses.len(), 1);
    delete_shared_scope(bed.services(), &bed.admin(), &shared.id)
        .await
        .conflict();
}

#[tokio::test]
async fn restoring_a_revision_that_changes_the_default_version_mark_announces_it() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let first = revision(&bed, &api).await;
    update(&bed, &api, json!({"isDefaultVersion": true})).await;
    assert_eq!(bed.events().await, ["API_DEFAULT_VERSION"]);
    let restored = restore_revision(bed.services(), &bed.admin(), &api.id, &first.id)
        .await
        .unwrap();
    assert!(!restored.is_default_version);
    assert_eq!(bed.events().await, ["API_DEFAULT_VERSION"]);
}

#[tokio::test]
async fn deploying_needs_a_revision_and_environments_that_exist() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let made = revision(&bed, &api).await;
    let services = bed.services();
    let (api_id, revision_id) = (api.id.as_str(), made.id.as_str());
    let default = [target(DEFAULT)];
    deploy_revision(services, &bed.user("alice"), api_id, revision_id, &default)
        .await
        .forbidden();
    deploy_revision(services, &bed.admin(), api_id, "", &default)
        .await
        .invalid("revisionId");
    deploy_revision(services, &bed.admin(), api_id, revision_id, &[])
        .await
        .invalid("body");
    let bad = [
        target("Nowhere"),
        DeploymentTarget {
            vhost: Some("elsewhere.example".into()),
            ..target(DEFAULT)
        },
    ];
    deploy_revision(services, &bed.admin(), api_id, revision_id, &bad)
        .await
        .invalid_fields(&["[0].name", "[1].vhost"]);
    deploy_revision(services, &bed.admin(), "no-such-api", revision_id, &default)
        .await
        .not_found();
    deploy_revision(services, &bed.admin(), api_id, "no-such-revision", &default)
        .await
        .not_found();
    assert!(bed.store().deployments(&api.id).await.unwrap().is_empty());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_deployment_tells_each_environments_gateways_what_the_api_is_now() {
    let bed = TestBed::sqlite().await;
    add_environment(&bed, "Edge", "edge.example").await;
    let api = bed.api("Pizza", "/pizza").await;
    let made = revision(&bed, &api).await;
    bed.lifecycle(&api, LifecycleAction::Publish).await;
    bed.events().await;
    let targets = [
        target(DEFAULT),
        DeploymentTarget {
            vhost: Some("edge.example".into()),
            display_on_devportal: false,
            ..target("Edge")
        },
    ];
    let deployed = deploy_revision(
        bed.services(),
        &bed.user("creator"),
        &api.id,
        &made.id,
        &targets,
    )
    .await
    .unwrap();
    let places: Vec<(&str, &str, bool)> = deployed
        .iter()
        .map(|d| {
            (
                d.environment.as_str(),
                d.vhost.as_str(),
                d.display_on_devportal,
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            (DEFAULT, "localhost", true),
            ("Edge", "edge.example", false)
        ]
    );
    let events = bed.event_bodies().await;
    assert_eq!(events.len(), 2);
    for event in &events {
        let Event::ApiDeploy(deployed) = event else {
            panic!("{event:?}")
        };
        assert_eq!(deployed.api.revision_id, made.id);
        // The revision was cut in Created; gateways get the API's state now.
        assert_eq!(deployed.api.lifecycle_status, LifecycleState::Published);
    }
    // A newer revision replaces the one deployed there.
    let newer = revision(&bed, &api).await;
    deploy_revision(
        bed.services(),
        &bed.admin(),
        &api.id,
        &newer.id,
        &[target(DEFAULT)],
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, ["DEPLOY_API_IN_GATEWAY"]);
    let now: Vec<(String, String)> = bed
        .store()
        .deployments(&api.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.environment, d.revision_id))
        .collect();
    assert_eq!(
        now,
        [
            (DEFAULT.to_string(), newer.id.clone()),
            ("Edge".to_string(), made.id.clone())
        ]
    );
}

#[tokio::test]
async fn undeploying_takes_a_revision_off_where_it_is_deployed() {
    let bed = TestBed::sqlite().await;
    add_environment(&bed, "Edge", "edge.example").await;
    let api = bed.api("Pizza", "/pizza").await;
    let made = revision(&bed, &api).await;
    let other = revision(&bed, &api).await;
    deploy_revision(
        bed.services(),
        &bed.admin(),
        &api.id,
        &made.id,
        &[target(DEFAULT), target("Edge")],
    )
    .await
    .unwrap();
    bed.events().await;
    let services = bed.services();
    let edge = ["Edge".to_string()];
    undeploy_revision(services, &bed.user("alice"), &api.id, &made.id, None)
        .await
        .forbidden();
    undeploy_revision(services, &bed.admin(), &api.id, "", None)
        .await
        .invalid("revisionId");
    undeploy_revision(services, &bed.admin(), &api.id, &made.id, Some(&[]))
        .await
        .invalid("body");
    undeploy_revision(services, &bed.admin(), "no-such-api", &made.id, None)
        .await
        .not_found();
    undeploy_revision(services, &bed.admin(), &api.id, "no-such-revision", None)
        .await
        .not_found();
    let message = undeploy_revision(services, &bed.admin(), &api.id, &other.id, Some(&edge))
        .await
        .invalid("body");
    assert!(message.contains("revision 2"), "{message}");
    assert_eq!(bed.events().await, Vec::<&str>::new());
    undeploy_revision(
        services,
        &bed.user("creator"),
        &api.id,
        &made.id,
        Some(&edge),
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, ["REMOVE_API_FROM_GATEWAY"]);
    undeploy_revision(services, &bed.admin(), &api.id, &made.id, Some(&edge))
        .await
        .invalid("body");
    // Without a list: everywhere it still is.
    undeploy_revision(services, &bed.admin(), &api.id, &made.id, None)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["REMOVE_API_FROM_GATEWAY"]);
    assert!(bed.store().deployments(&api.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn deployments_show_each_environment_and_its_gateways_progress() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    deployments(services, &bed.user("alice"), &api.id)
        .await
        .forbidden();
    deployments(services, &bed.admin(), "no-such-api")
        .await
        .not_found();
    assert!(deployments(services, &bed.admin(), &api.id)
        .await
        .unwrap()
        .is_empty());
    bed.deploy(&api).await;
    let status = deployments(services, &bed.user("publisher"), &api.id)
        .await
        .unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].deployment.environment, DEFAULT);
    assert!(status[0].deployment.event_seq > 0);
    // No gateway has reported in this bed.
    assert_eq!(
        (status[0].live_gateways, status[0].applied_gateways),
        (0, 0)
    );
}
