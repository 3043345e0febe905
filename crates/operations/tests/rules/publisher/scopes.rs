//! `publisher::scopes`: shared scopes — who manages them, the bounds of their fields, one
//! name per tenant (shared or an API's own), a name that stays, no deleting one in use.
//! Scopes are the key manager's business: no gateway event.

use serde_json::{json, Value};
use tollgate_operations::publisher::apis::update_api;
use tollgate_operations::publisher::definition::{ApiDefinition, ScopeDefinition};
use tollgate_operations::publisher::scopes::{
    create_shared_scope, delete_shared_scope, get_shared_scope, list_shared_scopes, scope_exists,
    shared_scope_usage, update_shared_scope,
};
use tollgate_operations::Page;
use tollgate_store::{ApiRow, ScopeRow};
use tollgate_testbed::fixtures::api_body;
use tollgate_testbed::{Refused, TestBed};

fn scope(fields: Value) -> ScopeDefinition {
    serde_json::from_value(fields).expect("a scope")
}

async fn shared(bed: &TestBed, name: &str) -> ScopeRow {
    create_shared_scope(bed.services(), &bed.admin(), scope(json!({"name": name})))
        .await
        .expect("create a shared scope")
}

/// An API whose `GET /menu` requires `required`.
async fn api_requiring(bed: &TestBed, name: &str, context: &str, required: &str) -> ApiRow {
    bed.api_as(
        &bed.admin(),
        name,
        context,
        json!({"operations": [{"target": "/menu", "verb": "GET", "scopes": [required]}]}),
    )
    .await
}

#[tokio::test]
async fn shared_scopes_are_managed_by_holders_of_the_shared_scope_scope() {
    let bed = TestBed::sqlite().await;
    for who in ["publisher", "alice"] {
        create_shared_scope(
            bed.services(),
            &bed.user(who),
            scope(json!({"name": "menu:read"})),
        )
        .await
        .forbidden();
    }
    let created = create_shared_scope(
        bed.services(),
        &bed.user("creator"),
        scope(json!({"name": " menu:read ", "bindings": ["subscriber"]})),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            created.name.as_str(),
            created.display_name.as_str(),
            created.description.as_str()
        ),
        ("menu:read", "menu:read", "")
    );
    assert_eq!(created.api_id, None);
    let read = get_shared_scope(bed.services(), &bed.user("publisher"), &created.id)
        .await
        .unwrap();
    assert_eq!(read.scope, created);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_shared_scope_has_a_name_without_spaces_and_bounded_texts() {
    let bed = TestBed::sqlite().await;
    let admin = bed.admin();
    create_shared_scope(bed.services(), &admin, scope(json!({"name": "  "})))
        .await
        .invalid_fields(&["name"]);
    create_shared_scope(
        bed.services(),
        &admin,
        scope(json!({
            "name": "menu read", "displayName": "x".repeat(256),
            "description": "x".repeat(513), "bindings": ["admin", ""],
        })),
    )
    .await
    .invalid_fields(&["name", "displayName", "description", "bindings[1]"]);
    let listed = list_shared_scopes(bed.services(), &admin, Page::new(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
}

#[tokio::test]
async fn a_scope_name_is_taken_by_a_shared_scope_or_an_apis_own() {
    let bed = TestBed::sqlite().await;
    shared(&bed, "menu:read").await;
    let message = create_shared_scope(
        bed.services(),
        &bed.admin(),
        scope(json!({"name": "menu:read"})),
    )
    .await
    .conflict();
    assert!(message.contains("menu:read"), "{message}");
    bed.api_as(
        &bed.admin(),
        "Pizza",
        "/pizza",
        json!({"scopes": [{"scope": {"name": "pizza:order"}, "shared": false}]}),
    )
    .await;
    create_shared_scope(
        bed.services(),
        &bed.admin(),
        scope(json!({"name": "pizza:order"})),
    )
    .await
    .conflict();
    let creator = bed.user("creator");
    for (name, exists) in [
        ("menu:read", true),
        ("pizza:order", true),
        ("pizza:pay", false),
    ] {
        assert_eq!(
            scope_exists(bed.services(), &creator, name).await.unwrap(),
            exists,
            "{name}"
        );
    }
    scope_exists(bed.services(), &bed.user("alice"), "menu:read")
        .await
        .forbidden();
}

#[tokio::test]
async fn an_update_changes_all_but_the_name() {
    let bed = TestBed::sqlite().await;
    let created = shared(&bed, "menu:read").await;
    let services = bed.services();
    let same = |extra: Value| {
        let mut fields = json!({"name": "menu:read"});
        fields
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        scope(fields)
    };
    update_shared_scope(
        services,
        &bed.user("publisher"),
        &created.id,
        same(json!({})),
    )
    .await
    .forbidden();
    update_shared_scope(services, &bed.admin(), "no-such-scope", same(json!({})))
        .await
        .not_found();
    update_shared_scope(
        services,
        &bed.admin(),
        &created.id,
        scope(json!({"name": "menu:write"})),
    )
    .await
    .invalid("name");
    update_shared_scope(
        services,
        &bed.admin(),
        &created.id,
        same(json!({"bindings": [""]})),
    )
    .await
    .invalid("bindings[0]");
    let updated = update_shared_scope(
        services,
        &bed.user("creator"),
        &created.id,
        same(json!({"displayName": "Read the menu", "description": "Lists pizzas", "bindings": ["subscriber"]})),
    )
    .await
    .unwrap();
    let stored = get_shared_scope(services, &bed.admin(), &created.id)
        .await
        .unwrap()
        .scope;
    assert_eq!(stored, updated);
    assert_eq!(
        (
            stored.display_name.as_str(),
            stored.description.as_str(),
            stored.bindings.as_slice()
        ),
        (
            "Read the menu",
            "Lists pizzas",
            ["subscriber".to_string()].as_slice()
        )
    );
    // What is left out goes back to its default.
    let cleared = update_shared_scope(services, &bed.admin(), &created.id, same(json!({})))
        .await
        .unwrap();
    assert_eq!(
        (cleared.display_name.as_str(), cleared.description.as_str()),
        ("menu:read", "")
    );
    assert!(cleared.bindings.is_empty());
}

#[tokio::test]
async fn an_apis_own_scope_is_not_a_shared_one() {
    let bed = TestBed::sqlite().await;
    let api = bed
        .api_as(
            &bed.admin(),
            "Pizza",
            "/pizza",
            json!({"scopes": [{"scope": {"name": "pizza:order"}, "shared": false}]}),
        )
        .await;
    let local = bed.store().local_scopes(&api.id).await.unwrap();
    let services = bed.services();
    get_shared_scope(services, &bed.admin(), &local[0].id)
        .await
        .not_found();
    update_shared_scope(
        services,
        &bed.admin(),
        &local[0].id,
        scope(json!({"name": "pizza:order"})),
    )
    .await
    .not_found();
    delete_shared_scope(services, &bed.admin(), &local[0].id)
        .await
        .not_found();
    shared_scope_usage(services, &bed.admin(), &local[0].id)
        .await
        .not_found();
}

#[tokio::test]
async fn a_shared_scope_an_api_requires_cannot_be_deleted() {
    let bed = TestBed::sqlite().await;
    let created = shared(&bed, "menu:read").await;
    let api = api_requiring(&bed, "Pizza", "/pizza", "menu:read").await;
    let services = bed.services();
    delete_shared_scope(services, &bed.user("publisher"), &created.id)
        .await
        .forbidden();
    let message = delete_shared_scope(services, &bed.admin(), &created.id)
        .await
        .conflict();
    assert!(message.contains("1 API resource"), "{message}");
    let definition = ApiDefinition::from_json(api_body("Pizza", "/pizza", json!({}))).unwrap();
    update_api(services, &bed.admin(), &api.id, definition, None)
        .await
        .unwrap();
    delete_shared_scope(services, &bed.user("creator"), &created.id)
        .await
        .unwrap();
    get_shared_scope(services, &bed.admin(), &created.id)
        .await
        .not_found();
    delete_shared_scope(services, &bed.admin(), &created.id)
        .await
        .not_found();
    assert!(!scope_exists(services, &bed.admin(), "menu:read")
        .await
        .unwrap());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn shared_scopes_are_listed_by_name_with_how_many_resources_require_each() {
    let bed = TestBed::sqlite().await;
    for name in ["c:scope", "a:scope", "b:scope"] {
        shared(&bed, name).await;
    }
    api_requiring(&bed, "Pizza", "/pizza", "b:scope").await;
    api_requiring(&bed, "Pasta", "/pasta", "b:scope").await;
    let services = bed.services();
    list_shared_scopes(services, &bed.user("alice"), Page::new(None, None).unwrap())
        .await
        .forbidden();
    let page = Page {
        limit: 2,
        offset: 1,
    };
    let listed = list_shared_scopes(services, &bed.user("creator"), page)
        .await
        .unwrap();
    let counts: Vec<(&str, i64)> = listed
        .items
        .iter()
        .map(|s| (s.scope.name.as_str(), s.usage_count))
        .collect();
    assert_eq!(
        (listed.total, counts),
        (3, vec![("b:scope", 2), ("c:scope", 0)])
    );
    let b = &listed.items[0].scope;
    assert_eq!(
        get_shared_scope(services, &bed.user("publisher"), &b.id)
            .await
            .unwrap()
            .usage_count,
        2
    );
    get_shared_scope(services, &bed.user("alice"), &b.id)
        .await
        .forbidden();
    shared_scope_usage(services, &bed.user("alice"), &b.id)
        .await
        .forbidden();
    shared_scope_usage(services, &bed.admin(), "no-such-scope")
        .await
        .not_found();
    let (scope, uses) = shared_scope_usage(services, &bed.user("creator"), &b.id)
        .await
        .unwrap();
    assert_eq!(scope.name, "b:scope");
    let apis: Vec<(&str, &str, &str)> = uses
        .iter()
        .map(|u| (u.api_name.as_str(), u.verb.as_str(), u.target.as_str()))
        .collect();
    assert_eq!(apis, [("Pasta", "GET", "/menu"), ("Pizza", "GET", "/menu")]);
}

#[tokio::test]
async fn under_postgresql_names_stay_unique_and_usage_is_counted_in_one_query() {
    let bed = TestBed::postgres().await;
    for name in ["b:scope", "a:scope"] {
        shared(&bed, name).await;
    }
    create_shared_scope(
        bed.services(),
        &bed.admin(),
        scope(json!({"name": "a:scope"})),
    )
    .await
    .conflict();
    // An API requiring a shared scope and declaring its own: both names looked up at once.
    bed.api_as(
        &bed.admin(),
        "Pizza",
        "/pizza",
        json!({
            "scopes": [{"scope": {"name": "pizza:order"}, "shared": false}],
            "operations": [
                {"target": "/menu", "verb": "GET", "scopes": ["a:scope"]},
                {"target": "/order", "verb": "POST", "scopes": ["a:scope", "pizza:order"]},
            ],
        }),
    )
    .await;
    create_shared_scope(
        bed.services(),
        &bed.admin(),
        scope(json!({"name": "pizza:order"})),
    )
    .await
    .conflict();
    let listed = list_shared_scopes(bed.services(), &bed.admin(), Page::new(None, None).unwrap())
        .await
        .unwrap();
    let counts: Vec<(&str, i64)> = listed
        .items
        .iter()
        .map(|s| (s.scope.name.as_str(), s.usage_count))
        .collect();
    assert_eq!(counts, [("a:scope", 2), ("b:scope", 0)]);
}
