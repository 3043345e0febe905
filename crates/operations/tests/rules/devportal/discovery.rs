//! `devportal::discovery`: which APIs a viewer finds (state and visibility, filtered in SQL, so
//! the rules also run on PostgreSQL), WSO2's search, and what the portal shows of an API —
//! its definition with the gateway URLs, documents, thumbnail, tiers and tags.

use serde_json::{json, Value};
use tollgate_model::{
    DocumentSource, DocumentType, DocumentVisibility, LifecycleAction, PolicyLevel,
    DEFAULT_ENVIRONMENT,
};
use tollgate_operations::devportal::discovery::{
    definition, document, document_content, documents, endpoint_urls, get_api, list_apis, search,
    subscription_policies, tags, thumbnail, tiers, EndpointUrls, SearchHit, Viewer,
};
use tollgate_operations::publisher::documents::{create_document, DocumentInput, ServedContent};
use tollgate_operations::publisher::settings::set_thumbnail;
use tollgate_operations::{Listed, OpError, Page};
use tollgate_store::{ApiRow, DocumentRow};
use tollgate_testbed::{Refused, Settings, TestBed};

use super::ALL;

/// An API created from `extra`, deployed and published by the admin.
async fn published_with(bed: &TestBed, name: &str, context: &str, extra: Value) -> ApiRow {
    let api = bed.api_as(&bed.admin(), name, context, extra).await;
    bed.deploy(&api).await;
    bed.lifecycle(&api, LifecycleAction::Publish).await;
    api
}

async fn viewer(bed: &TestBed, username: &str) -> Viewer {
    Viewer::signed_in(bed.services(), &bed.user(username))
        .await
        .unwrap()
}

/// The names of the APIs `viewer` finds for `query`, sorted.
async fn found(bed: &TestBed, viewer: &Viewer, query: Option<&str>) -> Vec<String> {
    let listed = list_apis(bed.services(), viewer, query, ALL).await.unwrap();
    assert_eq!(listed.total as usize, listed.items.len());
    let mut names: Vec<String> = listed.items.into_iter().map(|a| a.name).collect();
    names.sort();
    names
}

/// The admin adds a document to the API.
async fn add_document(
    bed: &TestBed,
    api: &ApiRow,
    name: &str,
    text: &str,
    visibility: DocumentVisibility,
) -> DocumentRow {
    let input = DocumentInput {
        name: name.into(),
        doc_type: DocumentType::HowTo,
        other_type_name: None,
        summary: Some(format!("about {name}")),
        source_type: DocumentSource::Markdown,
        source_url: None,
        visibility: Some(visibility),
        inline_content: Some(text.into()),
    };
    create_document(bed.services(), &bed.admin(), &api.id, input)
        .await
        .unwrap()
}

fn not_found<T>(result: Result<T, OpError>) -> String {
    match result {
        Err(OpError::NotFound(message)) => message,
        Err(other) => panic!("expected NotFound, got {other:?}"),
        Ok(_) => panic!("expected NotFound, got a result"),
    }
}

/// The tags of the APIs `viewer` finds, with how many carry each, and how many tags there are.
async fn tags_found(bed: &TestBed, viewer: &Viewer, page: Page) -> (Vec<(String, i64)>, i64) {
    let listed = tags(bed.services(), viewer, page).await.unwrap();
    (listed.items, listed.total)
}

fn counts(tags: &[(&str, i64)]) -> Vec<(String, i64)> {
    tags.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

/// Public, private (any signed-in user) and restricted (to a role) APIs, a prototype and a
/// draft: who finds which, and which of their tags.
async fn visibility_decides_who_finds_an_api_and_its_tags(bed: TestBed) {
    let food = json!({"tags": ["food", "italian"]});
    published_with(&bed, "Pizza", "/pizza", food).await;
    let private = json!({"visibility": "PRIVATE", "tags": ["food"]});
    let pasta = published_with(&bed, "Pasta", "/pasta", private).await;
    let restricted = json!({"visibility": "RESTRICTED", "visibleRoles": ["Internal/Publisher"]});
    let secret = published_with(&bed, "Secret", "/secret", restricted).await;
    let proto = bed.api("Proto", "/proto").await;
    bed.lifecycle(&proto, LifecycleAction::DeployAsPrototype)
        .await;
    let draft = bed
        .api_as(&bed.admin(), "Draft", "/draft", json!({"tags": ["draft"]}))
        .await;
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    assert_eq!(found(&bed, &anonymous, None).await, ["Pizza", "Proto"]);
    let alice = viewer(&bed, "alice").await;
    assert_eq!(found(&bed, &alice, None).await, ["Pasta", "Pizza", "Proto"]);
    let publisher = viewer(&bed, "publisher").await;
    assert_eq!(
        found(&bed, &publisher, None).await,
        ["Pasta", "Pizza", "Proto", "Secret"]
    );
    let services = bed.services();
    get_api(services, &publisher, &secret.id).await.unwrap();
    let message = get_api(services, &alice, &secret.id).await.not_found();
    assert!(message.contains(&secret.id), "{message}");
    get_api(services, &anonymous, &pasta.id).await.not_found();
    get_api(services, &viewer(&bed, "admin").await, &draft.id)
        .await
        .not_found();
    assert_eq!(
        tags_found(&bed, &anonymous, ALL).await,
        (counts(&[("food", 1), ("italian", 1)]), 2)
    );
    let first = Page::new(Some(1), Some(0)).unwrap();
    assert_eq!(
        tags_found(&bed, &alice, first).await,
        (counts(&[("food", 2)]), 2)
    );
}

#[tokio::test]
async fn visibility_decides_who_finds_an_api_and_its_tags_on_sqlite() {
    visibility_decides_who_finds_an_api_and_its_tags(TestBed::sqlite().await).await;
}

#[tokio::test]
async fn visibility_decides_who_finds_an_api_and_its_tags_on_postgres() {
    visibility_decides_who_finds_an_api_and_its_tags(TestBed::postgres().await).await;
}

#[tokio::test]
async fn anonymous_visitors_browse_only_where_anonymous_mode_is_on() {
    let mut settings = Settings::default();
    settings.devportal.anonymous_mode = false;
    let bed = TestBed::sqlite_with(settings).await;
    let message = Viewer::anonymous(bed.services()).unwrap_err().to_string();
    assert!(message.contains("enable_anonymous_mode"), "{message}");
    assert!(matches!(
        Viewer::anonymous(bed.services()),
        Err(OpError::Unauthenticated(_))
    ));
    // Signed in, the same user browses as before.
    bed.published_api("Pizza", "/pizza").await;
    assert_eq!(
        found(&bed, &viewer(&bed, "alice").await, None).await,
        ["Pizza"]
    );
}

#[tokio::test]
async fn a_deprecated_api_is_found_by_its_subscribers_only() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    bed.subscribe(&alice, &app, &api, "Gold").await;
    bed.lifecycle(&api, LifecycleAction::Deprecate).await;
    assert_eq!(
        found(&bed, &viewer(&bed, "alice").await, None).await,
        ["Pizza"]
    );
    assert!(found(&bed, &viewer(&bed, "bob").await, None)
        .await
        .is_empty());
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    assert!(found(&bed, &anonymous, None).await.is_empty());
    get_api(bed.services(), &viewer(&bed, "bob").await, &api.id)
        .await
        .not_found();
}

#[tokio::test]
async fn a_query_is_read_as_wso2s_search_and_paged_on_postgres() {
    let bed = TestBed::postgres().await;
    let food = json!({"tags": ["food"], "description": "hot and fresh"});
    published_with(&bed, "Pizza", "/pizza", food.clone()).await;
    published_with(&bed, "Pasta", "/pasta", food).await;
    published_with(&bed, "Weather", "/weather", json!({"tags": ["sky"]})).await;
    let alice = viewer(&bed, "alice").await;
    assert_eq!(
        found(&bed, &alice, Some("tag:food")).await,
        ["Pasta", "Pizza"]
    );
    assert_eq!(found(&bed, &alice, Some("PIZ")).await, ["Pizza"]);
    assert_eq!(found(&bed, &alice, Some("name:\"pizza\"")).await, ["Pizza"]);
    assert_eq!(
        found(&bed, &alice, Some("description:fresh context:/pa")).await,
        ["Pasta"]
    );
    assert_eq!(found(&bed, &alice, Some("status:published")).await.len(), 3);
    let services = bed.services();
    let mut seen = Vec::new();
    for offset in 0..3 {
        let page = Page::new(Some(1), Some(offset)).unwrap();
        let listed = list_apis(services, &alice, None, page).await.unwrap();
        assert_eq!((listed.items.len(), listed.total), (1, 3));
        seen.push(listed.items[0].name.clone());
    }
    seen.sort();
    assert_eq!(seen, ["Pasta", "Pizza", "Weather"]);
    for bad in ["colour:red", "status:sleeping"] {
        list_apis(services, &alice, Some(bad), ALL)
            .await
            .invalid("query");
    }
}

#[tokio::test]
async fn the_definition_names_the_gateway_urls_and_the_security_the_gateway_applies() {
    let bed = TestBed::sqlite().await;
    let both = json!({"securityScheme": ["oauth2", "api_key"], "apiKeyHeader": "X-Key"});
    let api = published_with(&bed, "Pizza", "/pizza", both).await;
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    let services = bed.services();
    let document = definition(services, &anonymous, &api.id, None)
        .await
        .unwrap();
    assert_eq!(
        document["servers"],
        json!([
            {"url": "https://localhost:8243/pizza/1.0.0"},
            {"url": "http://localhost:8280/pizza/1.0.0"}
        ])
    );
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        schemes["default"]["flows"]["clientCredentials"]["tokenUrl"],
        "https://localhost:9443/oauth2/token"
    );
    assert_eq!(
        schemes["api_key"],
        json!({"type": "apiKey", "name": "x-key", "in": "header"})
    );
    assert_eq!(
        document["security"],
        json!([{"default": []}, {"api_key": []}])
    );
    let at = definition(services, &anonymous, &api.id, Some(DEFAULT_ENVIRONMENT)).await;
    assert_eq!(at.unwrap()["servers"], document["servers"]);
    let message = definition(services, &anonymous, &api.id, Some("Mars"))
        .await
        .not_found();
    assert!(message.contains("Mars"), "{message}");
    let draft = bed.api("Draft", "/draft").await;
    definition(services, &anonymous, &draft.id, None)
        .await
        .not_found();
}

#[tokio::test]
async fn an_api_not_deployed_has_no_gateway_urls() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    bed.lifecycle(&api, LifecycleAction::Publish).await;
    assert_eq!(endpoint_urls(bed.services(), &api).await.unwrap(), []);
    let deployed = bed.published_api("Pasta", "/pasta").await;
    assert_eq!(
        endpoint_urls(bed.services(), &deployed).await.unwrap(),
        [EndpointUrls {
            environment: DEFAULT_ENVIRONMENT.into(),
            display_name: DEFAULT_ENVIRONMENT.into(),
            http: Some("http://localhost:8280/pasta/1.0.0".into()),
            https: Some("https://localhost:8243/pasta/1.0.0".into()),
            default_http: None,
            default_https: None,
        }]
    );
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    let document = definition(bed.services(), &anonymous, &api.id, None).await;
    assert_eq!(document.unwrap()["servers"], json!([]));
    definition(
        bed.services(),
        &anonymous,
        &api.id,
        Some(DEFAULT_ENVIRONMENT),
    )
    .await
    .not_found();
}

#[tokio::test]
async fn the_default_version_is_also_served_without_its_version() {
    let bed = TestBed::sqlite().await;
    for (context, base) in [
        ("/noodles", "/noodles/"),
        ("/api/{version}/soup", "/api/soup/"),
    ] {
        let api = bed
            .api_as(
                &bed.admin(),
                &format!("V{}", base.len()),
                context,
                json!({"isDefaultVersion": true}),
            )
            .await;
        bed.deploy(&api).await;
        bed.lifecycle(&api, LifecycleAction::Publish).await;
        let urls = endpoint_urls(bed.services(), &api).await.unwrap();
        assert_eq!(
            (urls[0].default_http.clone(), urls[0].default_https.clone()),
            (
                Some(format!("http://localhost:8280{base}")),
                Some(format!("https://localhost:8243{base}"))
            ),
            "{context}"
        );
    }
}

#[tokio::test]
async fn consumers_read_only_the_documents_visible_at_the_apis_level() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let guide = add_document(
        &bed,
        &api,
        "Guide",
        "# Ordering",
        DocumentVisibility::ApiLevel,
    )
    .await;
    let private = add_document(&bed, &api, "Ops", "runbook", DocumentVisibility::Private).await;
    let owner = add_document(&bed, &api, "Notes", "mine", DocumentVisibility::OwnerOnly).await;
    let (services, alice) = (bed.services(), viewer(&bed, "alice").await);
    let listed = documents(services, &alice, &api.id, ALL).await.unwrap();
    let names: Vec<_> = listed.items.iter().map(|d| d.name.as_str()).collect();
    assert_eq!((names, listed.total), (vec!["Guide"], 1));
    assert_eq!(
        document(services, &alice, &api.id, &guide.id)
            .await
            .unwrap()
            .id,
        guide.id
    );
    match document_content(services, &alice, &api.id, &guide.id).await {
        Ok(ServedContent::Text { markdown, text }) => {
            assert_eq!((markdown, text.as_str()), (true, "# Ordering"))
        }
        _ => panic!("expected the document's text"),
    }
    for hidden in [&private.id, &owner.id, &"no-such-document".to_string()] {
        let message = document(services, &alice, &api.id, hidden)
            .await
            .not_found();
        assert!(message.contains(hidden.as_str()), "{message}");
        not_found(document_content(services, &alice, &api.id, hidden).await);
    }
    // Nor another API's document through this one, nor any of an API not found.
    let other = bed.published_api("Pasta", "/pasta").await;
    document(services, &alice, &other.id, &guide.id)
        .await
        .not_found();
    let draft = bed.api("Draft", "/draft").await;
    documents(services, &alice, &draft.id, ALL)
        .await
        .not_found();
}

#[tokio::test]
async fn a_file_document_has_no_content_until_its_file_is_uploaded() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let file = DocumentInput {
        name: "Sheet".into(),
        doc_type: DocumentType::Samples,
        other_type_name: None,
        summary: None,
        source_type: DocumentSource::File,
        source_url: None,
        visibility: None,
        inline_content: None,
    };
    let services = bed.services();
    let sheet = create_document(services, &bed.admin(), &api.id, file)
        .await
        .unwrap();
    let alice = viewer(&bed, "alice").await;
    // Listed (visible at the API's level by default), but with nothing to serve yet.
    assert_eq!(
        document(services, &alice, &api.id, &sheet.id)
            .await
            .unwrap()
            .id,
        sheet.id
    );
    let message = not_found(document_content(services, &alice, &api.id, &sheet.id).await);
    assert!(message.contains("content of document"), "{message}");
}

#[tokio::test]
async fn a_thumbnail_is_served_when_the_api_has_one() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    let message = thumbnail(bed.services(), &anonymous, &api.id)
        .await
        .not_found();
    assert!(message.contains("thumbnail"), "{message}");
    let png = b"\x89PNG\r\n\x1a\n0000IHDR".to_vec();
    set_thumbnail(bed.services(), &bed.admin(), &api.id, png.clone())
        .await
        .unwrap();
    let image = thumbnail(bed.services(), &anonymous, &api.id)
        .await
        .unwrap();
    assert_eq!(
        (image.content_type.as_str(), image.content),
        ("image/png", png)
    );
    let draft = bed.api("Draft", "/draft").await;
    thumbnail(bed.services(), &anonymous, &draft.id)
        .await
        .not_found();
}

#[tokio::test]
async fn an_api_shows_the_subscription_tiers_it_offers() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    let offered = subscription_policies(bed.services(), &anonymous, &api.id)
        .await
        .unwrap();
    let mut names: Vec<_> = offered.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Gold", "Unlimited"]);
    let draft = bed.api("Draft", "/draft").await;
    subscription_policies(bed.services(), &anonymous, &draft.id)
        .await
        .not_found();
}

#[tokio::test]
async fn the_portal_lists_application_and_subscription_tiers_but_no_api_ones() {
    let bed = TestBed::sqlite().await;
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    let services = bed.services();
    for (level, tier) in [
        (PolicyLevel::Application, "Unlimited"),
        (PolicyLevel::Subscription, "Gold"),
    ] {
        let listed = tiers(services, &anonymous, level).await.unwrap();
        assert!(listed.iter().all(|p| p.level == level), "{listed:?}");
        assert!(listed.iter().any(|p| p.name == tier), "{listed:?}");
    }
    let message = tiers(services, &anonymous, PolicyLevel::Api)
        .await
        .invalid("policyLevel");
    assert!(message.contains("application, subscription"), "{message}");
}

#[tokio::test]
async fn search_finds_apis_then_documents_of_apis_the_viewer_may_see() {
    let bed = TestBed::sqlite().await;
    let pizza = bed.published_api("Pizza", "/pizza").await;
    let private = json!({"visibility": "PRIVATE"});
    let pasta = published_with(&bed, "Pasta", "/pasta", private).await;
    add_document(
        &bed,
        &pizza,
        "Menu",
        "margherita",
        DocumentVisibility::ApiLevel,
    )
    .await;
    add_document(
        &bed,
        &pasta,
        "Menu",
        "carbonara",
        DocumentVisibility::ApiLevel,
    )
    .await;
    add_document(&bed, &pizza, "Secrets", "menu", DocumentVisibility::Private).await;
    let services = bed.services();
    let hits = |listed: Listed<SearchHit>| {
        let mut hits: Vec<(String, Option<String>)> = listed
            .items
            .into_iter()
            .map(|h| (h.api.name, h.document.map(|d| d.name)))
            .collect();
        hits.sort();
        hits
    };
    let hit = |api: &str, doc: Option<&str>| (api.to_string(), doc.map(str::to_string));
    let anonymous = Viewer::anonymous(services).unwrap();
    let menu = search(services, &anonymous, Some("menu"), ALL)
        .await
        .unwrap();
    assert_eq!(hits(menu), [hit("Pizza", Some("Menu"))]);
    let alice = viewer(&bed, "alice").await;
    let menu = search(services, &alice, Some("menu"), ALL).await.unwrap();
    assert_eq!(
        hits(menu),
        [hit("Pasta", Some("Menu")), hit("Pizza", Some("Menu"))]
    );
    let pizzas = search(services, &alice, Some("pizza"), ALL).await.unwrap();
    assert_eq!(hits(pizzas), [hit("Pizza", None)]);
    // `content:` finds the APIs by their documents' text, and those documents.
    let carbonara = search(services, &alice, Some("content:carbonara"), ALL).await;
    assert_eq!(
        hits(carbonara.unwrap()),
        [hit("Pasta", None), hit("Pasta", Some("Menu"))]
    );
    let page = Page::new(Some(1), Some(1)).unwrap();
    let second = search(services, &alice, Some("menu"), page).await.unwrap();
    assert_eq!((second.items.len(), second.total), (1, 2));
    search(services, &alice, Some("colour:red"), ALL)
        .await
        .invalid("query");
}
