//! `devportal::try_it`: a real call through the API's gateway with a five-minute token of the
//! caller's application — here a stand-in gateway on loopback that answers every call.

use serde_json::json;
use tollgate_model::{GrantType, HttpVerb, KeyType};
use tollgate_operations::devportal::keys::{self, KeyRequest};
use tollgate_operations::devportal::try_it::{try_it, TryRequest, BODY_LIMIT};
use tollgate_testbed::stub::{serve, Answer};
use tollgate_testbed::{Refused, Settings, TestBed};

/// A bed whose default environment's gateway is a stand-in answering with `answer`.
async fn with_gateway(answer: Answer) -> TestBed {
    let gateway = serve(answer).await;
    let mut settings = Settings::default();
    settings.environments[0].http_endpoint = gateway;
    settings.environments[0].https_endpoint = "https://localhost:1".into();
    TestBed::sqlite_with(settings).await
}

fn request(application_id: &str, path: &str) -> TryRequest {
    TryRequest {
        application_id: application_id.into(),
        method: HttpVerb::Get,
        path: path.into(),
        body: None,
    }
}

#[tokio::test]
async fn a_try_calls_the_gateway_with_a_fresh_token_and_shows_its_answer() {
    let menu = json!([{"name": "Margherita"}]);
    let bed = with_gateway(Answer::json(200, &menu)).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let services = bed.services();
    // Keys first: without production keys there is no token to try with.
    let refusal = try_it(services, &alice, &api.id, request(&app.id, "/menu"))
        .await
        .not_allowed();
    assert!(refusal.contains("no production keys"), "{refusal}");
    keys::generate(
        services,
        &alice,
        &app.id,
        KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials]),
    )
    .await
    .unwrap();
    let answer = try_it(services, &alice, &api.id, request(&app.id, "/menu"))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(
        answer.request.starts_with("GET http://localhost:"),
        "{}",
        answer.request
    );
    assert!(
        answer.request.ends_with("/pizza/1.0.0/menu"),
        "{}",
        answer.request
    );
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap(),
        menu
    );
}

#[tokio::test]
async fn a_try_stays_below_the_api_and_needs_a_deployed_api_the_caller_sees() {
    let bed = with_gateway(Answer::ok("x".repeat(BODY_LIMIT + 10))).await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    let services = bed.services();
    keys::generate(
        services,
        &alice,
        &app.id,
        KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials]),
    )
    .await
    .unwrap();
    let api = bed.published_api("Pizza", "/pizza").await;
    for path in ["menu", "/x/http://elsewhere", "/menu\u{7}"] {
        try_it(services, &alice, &api.id, request(&app.id, path))
            .await
            .invalid("path");
    }
    let mut huge = request(&app.id, "/order");
    huge.body = Some("x".repeat(1024 * 1024 + 1));
    try_it(services, &alice, &api.id, huge)
        .await
        .invalid("body");
    // An API not deployed to a gateway the portal shows has nothing to try.
    let draft = bed.api("Draft", "/draft").await;
    bed.lifecycle(&draft, tollgate_model::LifecycleAction::Publish)
        .await;
    let refusal = try_it(services, &alice, &draft.id, request(&app.id, "/menu"))
        .await
        .not_allowed();
    assert!(refusal.contains("not deployed"), "{refusal}");
    // Another's application, an API the caller may not see: not found.
    try_it(
        services,
        &bed.user("bob"),
        &api.id,
        request(&app.id, "/menu"),
    )
    .await
    .not_found();
    let unpublished = bed.api("Secret", "/secret").await;
    try_it(services, &alice, &unpublished.id, request(&app.id, "/menu"))
        .await
        .not_found();
    // A long answer is cut to what the page shows.
    let answer = try_it(services, &alice, &api.id, request(&app.id, "/menu"))
        .await
        .unwrap();
    assert_eq!(answer.body.len(), BODY_LIMIT);
}

#[tokio::test]
async fn a_gateway_that_does_not_answer_is_said_so() {
    let bed = with_gateway(Answer::silence()).await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let alice = bed.user("alice");
    let app = bed.application(&alice, "Shop").await;
    keys::generate(
        bed.services(),
        &alice,
        &app.id,
        KeyRequest::new(KeyType::Production, &[GrantType::ClientCredentials]),
    )
    .await
    .unwrap();
    let answer = try_it(bed.services(), &alice, &api.id, request(&app.id, "/menu"))
        .await
        .unwrap();
    assert_eq!(answer.status, 0);
    assert!(
        answer.body.contains("could not be reached"),
        "{}",
        answer.body
    );
}
