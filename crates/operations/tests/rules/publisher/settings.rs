//! `publisher::settings`: what publisher clients read to set themselves up (settings, tiers,
//! an API's tiers and resources), thumbnails (images of at most 1 MB), and probing a backend.

use serde_json::json;
use tollgate_model::PolicyLevel;
use tollgate_operations::environments::{create_environment, EnvironmentInput};
use tollgate_operations::publisher::apis::get_api;
use tollgate_operations::publisher::settings::{
    api_subscription_policies, resource_paths, set_thumbnail, settings, throttling_policies,
    thumbnail, validate_endpoint, MAX_THUMBNAIL_BYTES,
};
use tollgate_testbed::{Refused, TestBed};

use tollgate_testbed::stub::{serve, Answer};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

#[tokio::test]
async fn settings_name_every_environment_the_devportal_and_the_publisher_scopes() {
    let bed = TestBed::sqlite().await;
    let input: EnvironmentInput =
        serde_json::from_value(json!({"name": "Edge", "vhosts": [{"host": "edge.example"}]}))
            .unwrap();
    create_environment(bed.services(), &bed.admin(), input)
        .await
        .unwrap();
    settings(bed.services(), &bed.user("alice"))
        .await
        .map(|_| ())
        .forbidden();
    let read = settings(bed.services(), &bed.user("creator"))
        .await
        .unwrap();
    let environments: Vec<(&str, bool)> = read
        .environments
        .iter()
        .map(|e| (e.name.as_str(), e.read_only))
        .collect();
    assert_eq!(
        environments,
        [(tollgate_model::DEFAULT_ENVIRONMENT, true), ("Edge", false)]
    );
    assert_eq!(read.devportal_url, "https://localhost:9443/devportal");
    for scope in [
        "apim:api_create",
        "apim:api_publish",
        "apim:subscription_block",
    ] {
        assert!(read.scopes.contains(&scope), "{scope}");
    }
    assert!(!read.scopes.contains(&"apim:subscribe"));
}

#[tokio::test]
async fn tiers_are_listed_by_level_except_the_admin_apis_application_level() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    throttling_policies(services, &bed.user("alice"), PolicyLevel::Api)
        .await
        .forbidden();
    throttling_policies(services, &bed.admin(), PolicyLevel::Application)
        .await
        .invalid("policyLevel");
    let viewer = bed.with_scopes("viewer", &["apim:tier_view"]);
    let names = |tiers: Vec<tollgate_model::ThrottlePolicy>| {
        let mut names: Vec<String> = tiers.into_iter().map(|t| t.name).collect();
        names.sort();
        names
    };
    let api = throttling_policies(services, &viewer, PolicyLevel::Api)
        .await
        .unwrap();
    assert_eq!(
        names(api),
        ["10KPerMin", "20KPerMin", "50KPerMin", "Unlimited"]
    );
    let subscription = throttling_policies(services, &viewer, PolicyLevel::Subscription)
        .await
        .unwrap();
    assert_eq!(
        names(subscription),
        ["Bronze", "Gold", "Silver", "Unauthenticated", "Unlimited"]
    );
}

#[tokio::test]
async fn an_apis_tiers_and_resources_are_read_from_its_definition() {
    let bed = TestBed::sqlite().await;
    let api = bed
        .api_as(
            &bed.admin(),
            "Pizza",
            "/pizza",
            json!({"policies": ["Unlimited", "Bronze"]}),
        )
        .await;
    let services = bed.services();
    api_subscription_policies(services, &bed.user("alice"), &api.id)
        .await
        .forbidden();
    api_subscription_policies(services, &bed.admin(), "no-such-api")
        .await
        .not_found();
    resource_paths(services, &bed.user("alice"), &api.id)
        .await
        .forbidden();
    resource_paths(services, &bed.admin(), "no-such-api")
        .await
        .not_found();
    let tiers = api_subscription_policies(services, &bed.user("publisher"), &api.id)
        .await
        .unwrap();
    let mut names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Bronze", "Unlimited"]);
    assert_eq!(
        resource_paths(services, &bed.user("creator"), &api.id)
            .await
            .unwrap(),
        [
            ("GET".to_string(), "/menu".to_string()),
            ("POST".to_string(), "/order".to_string())
        ]
    );
}

#[tokio::test]
async fn a_thumbnail_is_an_image_of_at_most_a_megabyte() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    set_thumbnail(services, &bed.user("alice"), &api.id, PNG.to_vec())
        .await
        .forbidden();
    let mut big = PNG.to_vec();
    big.resize(MAX_THUMBNAIL_BYTES + 1, 0);
    let message = set_thumbnail(services, &bed.admin(), &api.id, big)
        .await
        .invalid("file");
    assert!(message.contains("1048576"), "{message}");
    for not_an_image in [
        &b"hello"[..],
        b"RIFF\0\0\0\0WAVEfmt ",
        b"<html><svg/></html>",
    ] {
        set_thumbnail(services, &bed.admin(), &api.id, not_an_image.to_vec())
            .await
            .invalid("file");
    }
    set_thumbnail(services, &bed.admin(), "no-such-api", PNG.to_vec())
        .await
        .not_found();
    thumbnail(services, &bed.admin(), &api.id).await.not_found();
    assert!(
        !get_api(services, &bed.admin(), &api.id)
            .await
            .unwrap()
            .has_thumbnail
    );
}

#[tokio::test]
async fn a_thumbnails_type_is_read_from_its_signature() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    for (image, content_type) in [
        (PNG, "image/png"),
        (&[0xff, 0xd8, 0xff, 0xe0][..], "image/jpeg"),
        (b"GIF89a\x01\0\x01\0", "image/gif"),
        (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
        (
            b"\n  <svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "image/svg+xml",
        ),
        (b"<?xml version=\"1.0\"?>\n<svg/>", "image/svg+xml"),
    ] {
        let set = set_thumbnail(services, &bed.user("publisher"), &api.id, image.to_vec())
            .await
            .unwrap();
        assert_eq!(set.content_type, content_type);
        let read = thumbnail(services, &bed.user("creator"), &api.id)
            .await
            .unwrap();
        assert_eq!(
            (read.content_type.as_str(), read.content.as_slice()),
            (content_type, image)
        );
    }
    thumbnail(services, &bed.user("alice"), &api.id)
        .await
        .forbidden();
    thumbnail(services, &bed.admin(), "no-such-api")
        .await
        .not_found();
    assert!(
        get_api(services, &bed.admin(), &api.id)
            .await
            .unwrap()
            .has_thumbnail
    );
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn probing_an_endpoint_needs_an_http_url_and_reports_what_it_answered() {
    let bed = TestBed::sqlite().await;
    let creator = bed.user("creator");
    validate_endpoint(&bed.user("publisher"), "http://127.0.0.1:1/")
        .await
        .map(|_| ())
        .forbidden();
    for url in ["ftp://127.0.0.1/", "127.0.0.1:8080", "http://", "not a url"] {
        validate_endpoint(&creator, url)
            .await
            .map(|_| ())
            .invalid("endpointUrl");
    }
    let up = serve(Answer::ok("pizza")).await;
    let probe = validate_endpoint(&creator, &up).await.unwrap();
    assert_eq!((probe.status, probe.message.as_str()), (200, "OK"));
    assert!(probe.error.is_none());
    // A backend that refuses HEAD is asked with GET.
    let no_head = serve(Answer {
        head_status: Some(405),
        ..Answer::ok("pizza")
    })
    .await;
    assert_eq!(
        validate_endpoint(&creator, &no_head).await.unwrap().status,
        200
    );
    let missing = serve(Answer::status(503, Vec::new())).await;
    assert_eq!(
        validate_endpoint(&creator, &missing).await.unwrap().status,
        503
    );
    // Unreachable: reported as WSO2 does, 404 with the reason.
    let down = validate_endpoint(&creator, "http://127.0.0.1:1/")
        .await
        .unwrap();
    assert_eq!((down.status, down.message.as_str()), (404, "Not Found"));
    assert!(down.error.is_some());
}
