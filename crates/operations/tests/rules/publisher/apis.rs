//! `publisher::apis`: who may create, change, delete and copy an API; what a definition must
//! name (existing tiers and scopes); identity (name, context, version) and `If-Match`; and the
//! events: none for the working copy, `API_DEFAULT_VERSION` for the default mark, `API_DELETE`.

use serde_json::{json, Value};
use tollgate_model::{ApiSortBy, LifecycleState, SortOrder};
use tollgate_operations::publisher::apis::{
    api_exists, copy_api, create_api, delete_api, get_api, list_apis, update_api, ApiListing,
};
use tollgate_operations::publisher::definition::{ApiDefinition, ScopeDefinition};
use tollgate_operations::publisher::documents::{create_document, list_documents, DocumentInput};
use tollgate_operations::publisher::revisions::list_revisions;
use tollgate_operations::publisher::scopes::{create_shared_scope, scope_exists};
use tollgate_operations::{Page, Services};
use tollgate_testbed::fixtures::api_body;
use tollgate_testbed::{Refused, TestBed};

fn definition(name: &str, context: &str, extra: Value) -> ApiDefinition {
    ApiDefinition::from_json(api_body(name, context, extra)).expect("a valid API object")
}

fn scope(name: &str) -> ScopeDefinition {
    serde_json::from_value(json!({"name": name, "bindings": ["admin"]})).unwrap()
}

const ALL: Page = Page {
    limit: 100,
    offset: 0,
};

async fn names(
    services: &Services,
    bed: &TestBed,
    listing: &ApiListing,
    page: Page,
) -> Vec<String> {
    list_apis(services, &bed.admin(), listing, page)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.name)
        .collect()
}

#[tokio::test]
async fn a_creator_creates_an_api_in_the_created_state_and_gateways_hear_nothing() {
    let bed = TestBed::sqlite().await;
    for who in ["publisher", "alice"] {
        create_api(
            bed.services(),
            &bed.user(who),
            definition("Pizza", "/pizza", json!({})),
        )
        .await
        .forbidden();
    }
    let api = create_api(
        bed.services(),
        &bed.user("creator"),
        definition("Pizza", "pizza/", json!({"tags": [" food "]})),
    )
    .await
    .unwrap();
    assert_eq!(
        (api.provider.as_str(), api.context.as_str()),
        ("creator", "/pizza")
    );
    assert_eq!(api.lifecycle_status, LifecycleState::Created);
    assert_eq!(api.tags, ["food"]);
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let stored = get_api(bed.services(), &bed.user("publisher"), &api.id)
        .await
        .unwrap();
    assert_eq!(stored.row_version, 1);
    assert_eq!(stored.definition["policies"], json!(["Gold", "Unlimited"]));
}

#[tokio::test]
async fn a_default_version_mark_is_announced_when_the_api_is_created_with_it() {
    let bed = TestBed::sqlite().await;
    let api = create_api(
        bed.services(),
        &bed.admin(),
        definition("Pizza", "/pizza", json!({"isDefaultVersion": true})),
    )
    .await
    .unwrap();
    assert!(api.is_default_version);
    assert_eq!(bed.events().await, ["API_DEFAULT_VERSION"]);
}

#[tokio::test]
async fn an_invalid_definition_is_refused_before_anything_is_written() {
    let bed = TestBed::sqlite().await;
    create_api(
        bed.services(),
        &bed.admin(),
        definition("Pizza<Shack>", "/pizza", json!({"version": "1 0"})),
    )
    .await
    .invalid_fields(&["name", "version"]);
    let listed = list_apis(bed.services(), &bed.admin(), &ApiListing::default(), ALL)
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn every_tier_a_definition_names_must_exist_at_its_level() {
    let bed = TestBed::sqlite().await;
    let body = json!({
        "policies": ["Gold", "Platinum"],
        // A subscription tier is not an API tier.
        "apiThrottlingPolicy": "Gold",
        "operations": [
            {"target": "/menu", "verb": "GET", "throttlingPolicy": "10KPerMin"},
            {"target": "/order", "verb": "POST", "throttlingPolicy": "Tiny"},
            {"target": "/order", "verb": "PUT", "throttlingPolicy": "Tiny"},
        ],
    });
    create_api(
        bed.services(),
        &bed.admin(),
        definition("Pizza", "/pizza", body),
    )
    .await
    .invalid_fields(&[
        "policies[1]",
        "apiThrottlingPolicy",
        "operations[1].throttlingPolicy",
        "operations[2].throttlingPolicy",
    ]);
    let api = create_api(
        bed.services(),
        &bed.admin(),
        definition(
            "Pizza",
            "/pizza",
            json!({"apiThrottlingPolicy": "50KPerMin", "policies": ["Bronze"]}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(api.definition["apiThrottlingPolicy"], "50KPerMin");
}

#[tokio::test]
async fn a_resource_requires_a_scope_the_api_declares_or_a_shared_one_listed_as_shared() {
    let bed = TestBed::sqlite().await;
    create_shared_scope(bed.services(), &bed.admin(), scope("orders:write"))
        .await
        .unwrap();
    let refused = |scopes: Value, uses: &str| {
        json!({
            "scopes": scopes,
            "operations": [{"target": "/menu", "verb": "GET", "scopes": [uses]}],
        })
    };
    for (body, field) in [
        // Listed as shared, but no shared scope has the name.
        (
            refused(
                json!([{"scope": {"name": "menu:read"}, "shared": true}]),
                "menu:read",
            ),
            "scopes[0].scope.name",
        ),
        // A shared scope's name, listed as the API's own.
        (
            refused(
                json!([{"scope": {"name": "orders:write"}, "shared": false}]),
                "orders:write",
            ),
            "scopes[0].scope.name",
        ),
        // Required but declared nowhere.
        (refused(json!([]), "menu:read"), "operations[0].scopes[0]"),
    ] {
        create_api(
            bed.services(),
            &bed.admin(),
            definition("Pizza", "/pizza", body),
        )
        .await
        .invalid_fields(&[field]);
    }
    let api = create_api(
        bed.services(),
        &bed.admin(),
        definition(
            "Pizza",
            "/pizza",
            json!({
                "scopes": [{"scope": {"name": "menu:read", "bindings": ["subscriber"]}, "shared": false}],
                "operations": [
                    {"target": "/menu", "verb": "GET", "scopes": ["menu:read"]},
                    // A shared scope may be required without listing it.
                    {"target": "/order", "verb": "POST", "scopes": ["orders:write"]},
                ],
            }),
        ),
    )
    .await
    .unwrap();
    let local = bed.store().local_scopes(&api.id).await.unwrap();
    assert_eq!(local.len(), 1);
    assert_eq!(
        (local[0].name.as_str(), local[0].bindings.as_slice()),
        ("menu:read", ["subscriber".to_string()].as_slice())
    );
    let uses = bed
        .store()
        .scope_uses("carbon.super", "orders:write")
        .await
        .unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(
        (uses[0].verb.as_str(), uses[0].target.as_str()),
        ("POST", "/order")
    );
}

#[tokio::test]
async fn a_local_scope_named_like_another_apis_is_a_conflict_and_leaves_no_api_behind() {
    let bed = TestBed::sqlite().await;
    let with_scope = json!({
        "scopes": [{"scope": {"name": "menu:read"}, "shared": false}],
        "operations": [{"target": "/menu", "verb": "GET", "scopes": ["menu:read"]}],
    });
    create_api(
        bed.services(),
        &bed.admin(),
        definition("Pizza", "/pizza", with_scope.clone()),
    )
    .await
    .unwrap();
    let message = create_api(
        bed.services(),
        &bed.admin(),
        definition("Pasta", "/pasta", with_scope),
    )
    .await
    .conflict();
    assert!(message.contains("menu:read"), "{message}");
    assert!(!api_exists(bed.services(), &bed.admin(), "name:Pasta")
        .await
        .unwrap());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_name_or_context_taken_at_the_same_version_is_a_conflict() {
    let bed = TestBed::sqlite().await;
    bed.api("Pizza", "/pizza").await;
    create_api(
        bed.services(),
        &bed.admin(),
        definition("Pizza", "/other", json!({})),
    )
    .await
    .conflict();
    let message = create_api(
        bed.services(),
        &bed.admin(),
        definition("Pasta", "/pizza", json!({})),
    )
    .await
    .conflict();
    assert!(message.contains("/pizza"), "{message}");
    // Another version of the same API may keep its context.
    create_api(
        bed.services(),
        &bed.admin(),
        definition("Pizza", "/pizza", json!({"version": "2.0.0"})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_context_taken_by_another_api_is_a_conflict_whatever_the_version() {
    let bed = TestBed::sqlite().await;
    bed.api("Pizza", "/pizza").await;
    create_api(
        bed.services(),
        &bed.admin(),
        definition("Pasta", "/pizza", json!({"version": "2.0.0"})),
    )
    .await
    .conflict();
}

#[tokio::test]
async fn updating_keeps_the_identity_and_checks_if_match() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    update_api(
        services,
        &bed.user("alice"),
        &api.id,
        definition("Pizza", "/pizza", json!({})),
        None,
    )
    .await
    .forbidden();
    update_api(
        services,
        &bed.admin(),
        "no-such-api",
        definition("Pizza", "/pizza", json!({})),
        None,
    )
    .await
    .not_found();
    update_api(
        services,
        &bed.admin(),
        &api.id,
        definition("Pasta", "/pasta", json!({"version": "2.0.0"})),
        None,
    )
    .await
    .invalid_fields(&["name", "context", "version"]);
    update_api(
        services,
        &bed.admin(),
        &api.id,
        definition("Pizza", "/pizza", json!({"cacheTimeout": -1})),
        None,
    )
    .await
    .invalid("cacheTimeout");
    update_api(
        services,
        &bed.admin(),
        &api.id,
        definition("Pizza", "/pizza", json!({})),
        Some(api.row_version + 1),
    )
    .await
    .stale();
    let stored = get_api(services, &bed.admin(), &api.id).await.unwrap();
    assert_eq!((stored.row_version, stored.description.as_str()), (1, ""));
}

#[tokio::test]
async fn an_update_changes_the_working_copy_only_and_a_publisher_may_make_it() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let updated = update_api(
        bed.services(),
        &bed.user("publisher"),
        &api.id,
        definition(
            "Pizza",
            "pizza",
            json!({"description": "Hot pizza", "tags": ["food", "hot"]}),
        ),
        Some(api.row_version),
    )
    .await
    .unwrap();
    assert_eq!(updated.row_version, 2);
    assert_eq!(updated.description, "Hot pizza");
    assert_eq!(updated.tags, ["food", "hot"]);
    assert_eq!(bed.events().await, Vec::<&str>::new());
    let stored = get_api(bed.services(), &bed.admin(), &api.id)
        .await
        .unwrap();
    assert_eq!(stored.definition["description"], "Hot pizza");
}

#[tokio::test]
async fn setting_or_clearing_the_default_version_mark_is_announced() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let default = |on: bool| definition("Pizza", "/pizza", json!({"isDefaultVersion": on}));
    let row = update_api(bed.services(), &bed.admin(), &api.id, default(true), None)
        .await
        .unwrap();
    assert!(row.is_default_version);
    assert_eq!(bed.events().await, ["API_DEFAULT_VERSION"]);
    update_api(bed.services(), &bed.admin(), &api.id, default(true), None)
        .await
        .unwrap();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    update_api(bed.services(), &bed.admin(), &api.id, default(false), None)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["API_DEFAULT_VERSION"]);
}

#[tokio::test]
async fn an_api_with_subscriptions_cannot_be_deleted() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.subscribe(&alice, &app, &api, "Gold").await;
    bed.events().await;
    let message = delete_api(bed.services(), &bed.admin(), &api.id, None)
        .await
        .conflict();
    assert!(message.contains("1 subscription"), "{message}");
    get_api(bed.services(), &bed.admin(), &api.id)
        .await
        .unwrap();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn deleting_needs_the_delete_scope_and_a_current_copy_and_gateways_forget_the_api() {
    let bed = TestBed::sqlite().await;
    let api = bed
        .api_as(
            &bed.admin(),
            "Pizza",
            "/pizza",
            json!({
                "scopes": [{"scope": {"name": "menu:read"}, "shared": false}],
                "operations": [{"target": "/menu", "verb": "GET", "scopes": ["menu:read"]}],
            }),
        )
        .await;
    bed.deploy(&api).await;
    bed.events().await;
    let services = bed.services();
    delete_api(services, &bed.user("publisher"), &api.id, None)
        .await
        .forbidden();
    delete_api(services, &bed.admin(), "no-such-api", None)
        .await
        .not_found();
    delete_api(services, &bed.admin(), &api.id, Some(api.row_version + 1))
        .await
        .stale();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    delete_api(
        services,
        &bed.user("creator"),
        &api.id,
        Some(api.row_version),
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, ["API_DELETE"]);
    get_api(services, &bed.admin(), &api.id).await.not_found();
    // Its local scope went with it: the name is free again.
    assert!(!scope_exists(services, &bed.admin(), "menu:read")
        .await
        .unwrap());
}

#[tokio::test]
async fn a_copy_is_a_new_version_named_by_new_version() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    copy_api(services, &bed.user("publisher"), &api.id, "2.0.0", false)
        .await
        .forbidden();
    copy_api(services, &bed.admin(), "no-such-api", "2.0.0", false)
        .await
        .not_found();
    copy_api(services, &bed.admin(), &api.id, "  ", false)
        .await
        .invalid("newVersion");
    copy_api(services, &bed.admin(), &api.id, "2.0 beta", false)
        .await
        .invalid_fields(&["newVersion"]);
    copy_api(services, &bed.admin(), &api.id, "1.0.0", false)
        .await
        .conflict();
    let listed = list_apis(services, &bed.admin(), &ApiListing::default(), ALL)
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_copy_carries_the_definition_and_documents_but_not_the_state_or_revisions() {
    let bed = TestBed::sqlite().await;
    let api = bed
        .api_as(
            &bed.admin(),
            "Pizza",
            "/pizza",
            json!({
                "description": "Hot pizza",
                "scopes": [{"scope": {"name": "menu:read"}, "shared": false}],
                "operations": [{"target": "/menu", "verb": "GET", "scopes": ["menu:read"]}],
            }),
        )
        .await;
    bed.deploy(&api).await;
    bed.lifecycle(&api, tollgate_model::LifecycleAction::Publish)
        .await;
    create_document(
        bed.services(),
        &bed.admin(),
        &api.id,
        DocumentInput {
            name: "Menu".into(),
            doc_type: tollgate_model::DocumentType::HowTo,
            other_type_name: None,
            summary: None,
            source_type: tollgate_model::DocumentSource::Inline,
            source_url: None,
            visibility: None,
            inline_content: Some("Margherita".into()),
        },
    )
    .await
    .unwrap();
    bed.events().await;
    let copy = copy_api(bed.services(), &bed.user("creator"), &api.id, "2.0.0", true)
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["API_DEFAULT_VERSION"]);
    assert_eq!(
        (
            copy.version.as_str(),
            copy.context.as_str(),
            copy.provider.as_str()
        ),
        ("2.0.0", "/pizza", "creator")
    );
    assert_eq!(copy.lifecycle_status, LifecycleState::Created);
    assert_eq!(copy.description, "Hot pizza");
    let docs = list_documents(bed.services(), &bed.admin(), &copy.id, ALL)
        .await
        .unwrap();
    assert_eq!(docs.items[0].inline_content.as_deref(), Some("Margherita"));
    let (revisions, _) = list_revisions(bed.services(), &bed.admin(), &copy.id)
        .await
        .unwrap();
    assert!(revisions.is_empty());
}

#[tokio::test]
async fn reading_and_listing_need_a_view_scope_and_a_query_the_parser_knows() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    get_api(services, &bed.user("alice"), &api.id)
        .await
        .forbidden();
    get_api(services, &bed.admin(), "no-such-api")
        .await
        .not_found();
    list_apis(services, &bed.user("alice"), &ApiListing::default(), ALL)
        .await
        .forbidden();
    let colour = ApiListing {
        query: Some("colour:red".into()),
        ..ApiListing::default()
    };
    list_apis(services, &bed.admin(), &colour, ALL)
        .await
        .invalid("query");
    let viewer = bed.with_scopes("viewer", &["apim:api_list_view"]);
    let listed = list_apis(services, &viewer, &ApiListing::default(), ALL)
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
}

#[tokio::test]
async fn a_listing_filters_sorts_and_pages() {
    let bed = TestBed::sqlite().await;
    for (name, context) in [
        ("Pizza", "/pizza"),
        ("Pasta", "/pasta"),
        ("Salad", "/salad"),
    ] {
        bed.api(name, context).await;
    }
    let by_name = |order| ApiListing {
        query: None,
        sort_by: ApiSortBy::ApiName,
        order,
    };
    let services = bed.services();
    assert_eq!(
        names(services, &bed, &by_name(SortOrder::Asc), ALL).await,
        ["Pasta", "Pizza", "Salad"]
    );
    let second = Page {
        limit: 1,
        offset: 1,
    };
    assert_eq!(
        names(services, &bed, &by_name(SortOrder::Desc), second).await,
        ["Pizza"]
    );
    let listed = list_apis(services, &bed.admin(), &by_name(SortOrder::Asc), second)
        .await
        .unwrap();
    assert_eq!((listed.total, listed.page), (3, second));
    let query = ApiListing {
        query: Some("p".into()),
        ..by_name(SortOrder::Asc)
    };
    assert_eq!(names(services, &bed, &query, ALL).await, ["Pasta", "Pizza"]);
}

#[tokio::test]
async fn api_exists_matches_whole_values_ignoring_case() {
    let bed = TestBed::sqlite().await;
    bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    let creator = bed.user("creator");
    let exists = |query: &'static str| api_exists(services, &creator, query);
    api_exists(services, &bed.user("alice"), "name:Pizza")
        .await
        .forbidden();
    exists("").await.invalid("query");
    exists("   ").await.invalid("query");
    exists("colour:red").await.invalid("query");
    for (query, found) in [
        ("name:pizza", true),
        ("PIZZA", true),
        ("name:pizz", false),
        ("context:pizza/", true),
        ("context:/piz", false),
        ("version:1.0.0", true),
        ("version:1.0", false),
        ("name:Pizza status:published", false),
    ] {
        assert_eq!(exists(query).await.unwrap(), found, "{query}");
    }
}

#[tokio::test]
async fn under_postgresql_uniqueness_is_a_conflict_and_search_takes_wildcards_literally() {
    let bed = TestBed::postgres().await;
    let services = bed.services();
    for (name, context, description) in [
        ("Pizza_1", "/pizza1", "50% off"),
        ("PizzaX1", "/pizzax", "500 off"),
        ("Pasta", "/pasta", "none"),
    ] {
        bed.api_as(
            &bed.admin(),
            name,
            context,
            json!({"description": description}),
        )
        .await;
    }
    for (name, context) in [("Salad", "/pasta"), ("Pasta", "/salad")] {
        create_api(services, &bed.admin(), definition(name, context, json!({})))
            .await
            .conflict();
    }
    let query = |q: &str| ApiListing {
        query: Some(q.into()),
        sort_by: ApiSortBy::ApiName,
        order: SortOrder::Asc,
    };
    assert_eq!(
        names(services, &bed, &query("description:50%"), ALL).await,
        ["Pizza_1"]
    );
    assert_eq!(
        names(services, &bed, &query("pizza_"), ALL).await,
        ["Pizza_1"]
    );
    let page = Page {
        limit: 2,
        offset: 2,
    };
    let listed = list_apis(services, &bed.admin(), &query(""), page)
        .await
        .unwrap();
    assert_eq!(listed.total, 3);
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].name, "PizzaX1");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}
