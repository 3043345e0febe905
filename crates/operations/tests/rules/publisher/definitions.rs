//! `publisher::definitions`: OpenAPI definitions — validated without a change, imported as a
//! new API (its resources, scopes and endpoint from the document, WSO2's
//! `additionalProperties` winning), read back showing the API's resources, and replaced.

use serde_json::{json, Value};
use tollgate_operations::publisher::apis::get_api;
use tollgate_operations::publisher::definition::ScopeDefinition;
use tollgate_operations::publisher::definitions::{
    get_definition, import_definition, update_definition, validate_definition, DefinitionSource,
    Validation,
};
use tollgate_operations::publisher::openapi::MAX_DEFINITION_BYTES;
use tollgate_operations::publisher::scopes::create_shared_scope;
use tollgate_operations::OpResult;
use tollgate_testbed::{Refused, TestBed};

use tollgate_testbed::stub::{serve, Answer};

/// A small OpenAPI 3 document: `GET /menu` (tier 10KPerMin, scope `menu:read` bound to
/// subscribers) and `POST /order`, served from the Pizza Shack backend.
fn pizza_shack() -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "Pizza Shack", "version": "1.0.0", "description": "Pizza for everyone"},
        "servers": [{"url": "http://127.0.0.1:9080/pizzashack"}],
        "paths": {
            "/menu": {"get": {
                "responses": {"200": {"description": "the menu"}},
                "security": [{"default": ["menu:read"]}],
                "x-throttling-tier": "10KPerMin",
            }},
            "/order": {"post": {"responses": {"201": {"description": "ordered"}}}},
        },
        "components": {"securitySchemes": {"default": {
            "type": "oauth2",
            "flows": {"implicit": {
                "authorizationUrl": "https://localhost:9443/oauth2/authorize",
                "scopes": {"menu:read": "Read the menu"},
            }},
            "x-scopes-bindings": {"menu:read": "subscriber"},
        }}},
    })
}

fn inline(document: &Value) -> DefinitionSource {
    DefinitionSource::Inline(serde_json::to_vec(document).unwrap())
}

/// The fields a validation found at fault (none when valid).
fn problems(validation: OpResult<Validation>) -> Vec<String> {
    match validation.map_err(|e| e.to_string()).expect("a validation") {
        Validation::Valid { .. } => vec![],
        Validation::Invalid(problems) => problems.into_iter().map(|p| p.field).collect(),
    }
}

/// The API's resources as (verb, target, tier, scopes).
fn resources(definition: &Value) -> Vec<(String, String, String, Value)> {
    definition["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["verb"].as_str().unwrap().to_string(),
                o["target"].as_str().unwrap().to_string(),
                o["throttlingPolicy"].as_str().unwrap_or("").to_string(),
                o["scopes"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn validating_reports_every_problem_of_a_document_without_writing() {
    let bed = TestBed::sqlite().await;
    let creator = bed.user("creator");
    validate_definition(&bed.user("publisher"), &inline(&pizza_shack()))
        .await
        .map(|_| ())
        .forbidden();
    match validate_definition(&creator, &inline(&pizza_shack()))
        .await
        .unwrap()
    {
        Validation::Valid { summary, .. } => {
            assert_eq!(
                (summary.title.as_str(), summary.version.as_str()),
                ("Pizza Shack", "1.0.0")
            );
            assert_eq!(summary.context.as_deref(), Some("/pizzashack"));
            assert_eq!(summary.resources.len(), 2);
        }
        Validation::Invalid(problems) => panic!("{problems:?}"),
    }
    let mut broken = pizza_shack();
    broken["paths"]["/menu"]["get"]["responses"]["200"] =
        json!({"$ref": "#/components/responses/Nope"});
    broken["paths"]["/menu;x"] = json!({"get": {"responses": {"200": {"description": "x"}}}});
    assert_eq!(
        problems(validate_definition(&creator, &inline(&broken)).await),
        ["#/paths/~1menu/get/responses/200/$ref", "#/paths/~1menu;x"]
    );
    for (bytes, field) in [
        (&b""[..], "definition"),
        (b"{not json", "definition"),
        (b"swagger: '1.2'", "#/swagger"),
        (b"info: {title: x}", "#"),
    ] {
        let source = DefinitionSource::Inline(bytes.to_vec());
        assert_eq!(
            problems(validate_definition(&creator, &source).await),
            [field]
        );
    }
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_definition_fetched_from_a_url_must_come_from_an_http_server_that_has_it() {
    let bed = TestBed::sqlite().await;
    let creator = bed.user("creator");
    let validate = |url: String| {
        let creator = creator.clone();
        async move {
            validate_definition(&creator, &DefinitionSource::Url(url))
                .await
                .map(|_| ())
        }
    };
    let found = serve(Answer::ok(serde_json::to_vec(&pizza_shack()).unwrap())).await;
    let missing = serve(Answer::status(404, "no")).await;
    let huge = serve(Answer::ok(vec![b' '; MAX_DEFINITION_BYTES + 1])).await;
    for (url, needle) in [
        ("file:///etc/passwd".to_string(), "not an http"),
        ("http://127.0.0.1:1/api.yaml".to_string(), "cannot fetch"),
        (format!("{missing}/api.yaml"), "answered 404"),
        (format!("{huge}/api.yaml"), "larger than"),
    ] {
        let message = validate(url.clone()).await.invalid("url");
        assert!(message.contains(needle), "{url}: {message}");
    }
    let source = DefinitionSource::Url(format!("{found}/api.json"));
    assert!(problems(validate_definition(&creator, &source).await).is_empty());
    let api = import_definition(bed.services(), &creator, &source, None)
        .await
        .unwrap();
    assert_eq!(api.name, "Pizza Shack");
}

#[tokio::test]
async fn an_import_takes_resources_scopes_and_endpoint_from_the_document() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    import_definition(
        services,
        &bed.user("publisher"),
        &inline(&pizza_shack()),
        None,
    )
    .await
    .forbidden();
    let api = import_definition(
        services,
        &bed.user("creator"),
        &inline(&pizza_shack()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            api.name.as_str(),
            api.version.as_str(),
            api.context.as_str()
        ),
        ("Pizza Shack", "1.0.0", "/pizzashack")
    );
    assert_eq!(
        (api.description.as_str(), api.provider.as_str()),
        ("Pizza for everyone", "creator")
    );
    assert_eq!(
        resources(&api.definition),
        [
            (
                "GET".into(),
                "/menu".into(),
                "10KPerMin".into(),
                json!(["menu:read"])
            ),
            (
                "POST".into(),
                "/order".into(),
                "Unlimited".into(),
                json!([])
            ),
        ]
    );
    let endpoints = &api.definition["endpointConfig"];
    assert_eq!(
        endpoints["production_endpoints"]["url"],
        "http://127.0.0.1:9080/pizzashack"
    );
    assert_eq!(
        endpoints["sandbox_endpoints"]["url"],
        "http://127.0.0.1:9080/pizzashack"
    );
    let local = bed.store().local_scopes(&api.id).await.unwrap();
    assert_eq!(
        (local[0].name.as_str(), local[0].bindings.as_slice()),
        ("menu:read", ["subscriber".to_string()].as_slice())
    );
    let stored = bed.store().api_openapi(&api.id).await.unwrap().unwrap();
    assert_eq!(stored["info"]["title"], "Pizza Shack");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn additional_properties_win_over_the_document_and_are_named_when_wrong() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let document = inline(&pizza_shack());
    import_definition(services, &admin, &document, Some(json!("Pizza")))
        .await
        .invalid_fields(&["additionalProperties"]);
    import_definition(services, &admin, &document, Some(json!({"tags": "food"})))
        .await
        .invalid_fields(&["additionalProperties.tags"]);
    import_definition(
        services,
        &admin,
        &document,
        Some(json!({"policies": ["Platinum"]})),
    )
    .await
    .invalid_fields(&["policies[0]"]);
    let api = import_definition(
        services,
        &admin,
        &document,
        Some(json!({
            "name": "Pizza", "version": "2.0.0", "context": "/pizza",
            "endpointConfig": {"endpoint_type": "http", "production_endpoints": {"url": "http://backend.example"}},
            // The document's resources, not these.
            "operations": [{"target": "/other", "verb": "DELETE"}],
        })),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            api.name.as_str(),
            api.version.as_str(),
            api.context.as_str()
        ),
        ("Pizza", "2.0.0", "/pizza")
    );
    assert_eq!(
        api.definition["endpointConfig"]["production_endpoints"]["url"],
        "http://backend.example"
    );
    assert_eq!(resources(&api.definition).len(), 2);
    // The same name and version again is a conflict, and leaves nothing behind.
    import_definition(
        services,
        &admin,
        &document,
        Some(json!({"name": "Pizza", "version": "2.0.0", "context": "/other"})),
    )
    .await
    .conflict();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn without_properties_the_name_and_context_come_from_the_title() {
    let bed = TestBed::sqlite().await;
    let yaml = "openapi: 3.0.1\ninfo:\n  title: 'Pizza: Shack & Co (beta)'\n  version: '1.0'\n\
                paths:\n  /menu:\n    get:\n      responses:\n        '200': {description: ok}\n";
    let api = import_definition(
        bed.services(),
        &bed.admin(),
        &DefinitionSource::Inline(yaml.as_bytes().to_vec()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            api.name.as_str(),
            api.context.as_str(),
            api.version.as_str()
        ),
        ("Pizza Shack Co beta", "/pizza-shack-co-beta", "1.0")
    );
    assert!(api.definition.get("endpointConfig").is_none());
}

#[tokio::test]
async fn a_scope_the_document_declares_that_is_shared_is_used_as_shared() {
    let bed = TestBed::sqlite().await;
    let shared: ScopeDefinition = serde_json::from_value(json!({"name": "menu:read"})).unwrap();
    create_shared_scope(bed.services(), &bed.admin(), shared)
        .await
        .unwrap();
    let api = import_definition(bed.services(), &bed.admin(), &inline(&pizza_shack()), None)
        .await
        .unwrap();
    assert_eq!(api.definition["scopes"][0]["shared"], true);
    assert!(bed.store().local_scopes(&api.id).await.unwrap().is_empty());
    let uses = bed
        .store()
        .scope_uses("carbon.super", "menu:read")
        .await
        .unwrap();
    assert_eq!(uses.len(), 1);
}

#[tokio::test]
async fn an_invalid_document_or_unknown_tier_imports_nothing() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    import_definition(
        services,
        &admin,
        &DefinitionSource::Inline(b"openapi: 4.0.0".to_vec()),
        None,
    )
    .await
    .invalid("#/openapi");
    let mut document = pizza_shack();
    document["paths"]["/menu"]["get"]["x-throttling-tier"] = json!("Tiny");
    import_definition(services, &admin, &inline(&document), None)
        .await
        .invalid_fields(&["operations[0].throttlingPolicy"]);
    assert!(!tollgate_operations::publisher::apis::api_exists(
        services,
        &admin,
        "name:\"Pizza Shack\""
    )
    .await
    .unwrap());
}

#[tokio::test]
async fn a_definition_is_read_back_with_the_apis_resources_name_and_version() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    get_definition(services, &bed.user("alice"), &api.id)
        .await
        .forbidden();
    get_definition(services, &bed.admin(), "no-such-api")
        .await
        .not_found();
    // Created without a document: one is generated from the resources.
    let generated = get_definition(services, &bed.user("publisher"), &api.id)
        .await
        .unwrap();
    assert_eq!(
        generated["info"],
        json!({"title": "Pizza", "version": "1.0.0"})
    );
    let mut paths: Vec<&String> = generated["paths"].as_object().unwrap().keys().collect();
    paths.sort();
    assert_eq!(paths, ["/menu", "/order"]);
    assert!(generated["paths"]["/menu"].get("get").is_some());
    let imported = import_definition(
        services,
        &bed.admin(),
        &inline(&pizza_shack()),
        Some(json!({"name": "Shack"})),
    )
    .await
    .unwrap();
    let read = get_definition(services, &bed.user("creator"), &imported.id)
        .await
        .unwrap();
    assert_eq!(read["info"]["title"], "Shack");
    assert_eq!(read["info"]["description"], "Pizza for everyone");
    assert_eq!(
        read["paths"]["/menu"]["get"]["x-throttling-tier"],
        "10KPerMin"
    );
}

#[tokio::test]
async fn replacing_a_definition_checks_the_caller_the_copy_and_the_document() {
    let bed = TestBed::sqlite().await;
    let api = import_definition(bed.services(), &bed.admin(), &inline(&pizza_shack()), None)
        .await
        .unwrap();
    let services = bed.services();
    let document = inline(&pizza_shack());
    update_definition(services, &bed.user("alice"), &api.id, &document, None)
        .await
        .forbidden();
    update_definition(services, &bed.admin(), "no-such-api", &document, None)
        .await
        .not_found();
    update_definition(
        services,
        &bed.admin(),
        &api.id,
        &document,
        Some(api.row_version + 1),
    )
    .await
    .stale();
    update_definition(
        services,
        &bed.admin(),
        &api.id,
        &DefinitionSource::Inline(b"{}".to_vec()),
        None,
    )
    .await
    .invalid("#");
    let mut unknown_tier = pizza_shack();
    unknown_tier["paths"]["/menu"]["get"]["x-throttling-tier"] = json!("Tiny");
    update_definition(
        services,
        &bed.admin(),
        &api.id,
        &inline(&unknown_tier),
        None,
    )
    .await
    .invalid("operations[0].throttlingPolicy");
    let stored = get_api(services, &bed.admin(), &api.id).await.unwrap();
    assert_eq!(stored.row_version, api.row_version);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_new_definition_replaces_the_resources_keeping_tiers_it_does_not_give() {
    let bed = TestBed::sqlite().await;
    let api = import_definition(bed.services(), &bed.admin(), &inline(&pizza_shack()), None)
        .await
        .unwrap();
    let mut document = pizza_shack();
    document["info"]["title"] = json!("Renamed in the document");
    let paths = document["paths"].as_object_mut().unwrap();
    paths.remove("/order");
    paths["/menu"]["get"]
        .as_object_mut()
        .unwrap()
        .remove("x-throttling-tier");
    paths.insert(
        "/menu/{id}".into(),
        json!({"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "one pizza"}}}}),
    );
    let rendered = update_definition(
        bed.services(),
        &bed.user("publisher"),
        &api.id,
        &inline(&document),
        Some(api.row_version),
    )
    .await
    .unwrap();
    // The document names the API as the API is named.
    assert_eq!(rendered["info"]["title"], "Pizza Shack");
    let stored = get_api(bed.services(), &bed.admin(), &api.id)
        .await
        .unwrap();
    assert_eq!(stored.row_version, api.row_version + 1);
    assert_eq!(
        resources(&stored.definition),
        [
            (
                "GET".into(),
                "/menu".into(),
                "10KPerMin".into(),
                json!(["menu:read"])
            ),
            (
                "GET".into(),
                "/menu/{id}".into(),
                "Unlimited".into(),
                json!([])
            ),
        ]
    );
    let saved = bed.store().api_openapi(&api.id).await.unwrap().unwrap();
    assert!(saved["paths"].get("/order").is_none());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

/// As in WSO2 (`PUT /apis/{apiId}/swagger`), the document decides a resource's scopes: a
/// resource whose operation names no `security` requires none; only its tier and Tollgate's
/// extra fields are kept (the document has no place for them).
#[tokio::test]
async fn a_resource_the_new_definition_gives_no_scopes_requires_none() {
    let bed = TestBed::sqlite().await;
    let api = import_definition(bed.services(), &bed.admin(), &inline(&pizza_shack()), None)
        .await
        .unwrap();
    let mut document = pizza_shack();
    document["paths"]["/menu"]["get"]
        .as_object_mut()
        .unwrap()
        .remove("security");
    update_definition(
        bed.services(),
        &bed.admin(),
        &api.id,
        &inline(&document),
        None,
    )
    .await
    .unwrap();
    let stored = get_api(bed.services(), &bed.admin(), &api.id)
        .await
        .unwrap();
    assert_eq!(resources(&stored.definition)[0].3, json!([]));
}
