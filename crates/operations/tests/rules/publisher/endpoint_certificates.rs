//! `publisher::endpoint_certificates`: who uploads them, what an upload must be (an alias, an
//! `https://` endpoint, one PEM certificate that has not expired), one alias per tenant, and
//! the event each change writes for gateways; usage is by the endpoint's origin.

use serde_json::json;
use tollgate_operations::publisher::endpoint_certificates::{
    add, delete, get, list, update, usage, CertificateUpload,
};
use tollgate_testbed::{Refused, TestBed};

fn pem(host: &str) -> Vec<u8> {
    rcgen::generate_simple_self_signed(vec![host.to_string()])
        .expect("a certificate")
        .cert
        .pem()
        .into_bytes()
}

fn upload(alias: &str, endpoint: &str, certificate: Vec<u8>) -> CertificateUpload {
    CertificateUpload {
        alias: alias.into(),
        endpoint: endpoint.into(),
        certificate,
    }
}

#[tokio::test]
async fn an_upload_is_checked_field_by_field_and_writes_nothing_when_refused() {
    let bed = TestBed::sqlite().await;
    add(
        bed.services(),
        &bed.user("alice"),
        upload("backend", "https://backend.example", pem("backend.example")),
    )
    .await
    .forbidden();
    add(
        bed.services(),
        &bed.admin(),
        upload("", "http://backend.example", b"hello".to_vec()),
    )
    .await
    .invalid_fields(&["alias", "endpoint", "certificate"]);
    let message = add(
        bed.services(),
        &bed.admin(),
        upload(
            &"a".repeat(31),
            "https://backend.example",
            pem("backend.example"),
        ),
    )
    .await
    .invalid("alias");
    assert!(message.contains("30"), "{message}");
    add(
        bed.services(),
        &bed.admin(),
        upload("backend", "https://backend.example", Vec::new()),
    )
    .await
    .invalid("certificate");
    assert!(bed.events().await.is_empty());
    assert!(list(bed.services(), &bed.admin(), None, None)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn each_change_is_one_event_and_usage_follows_the_origin() {
    let bed = TestBed::sqlite().await;
    let admin = bed.admin();
    let added = add(
        bed.services(),
        &admin,
        upload(
            " backend ",
            "https://Backend.example:8443/v1",
            pem("backend.example"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(added.alias, "backend");
    assert_eq!(bed.events().await, ["ENDPOINT_CERTIFICATE_UPDATE"]);
    add(
        bed.services(),
        &admin,
        upload("backend", "https://other.example", pem("other.example")),
    )
    .await
    .conflict();
    assert!(bed.events().await.is_empty());

    let by_endpoint = list(
        bed.services(),
        &admin,
        None,
        Some("https://Backend.example:8443/v1"),
    )
    .await
    .unwrap();
    assert_eq!(by_endpoint.len(), 1);
    let (_, details) = get(bed.services(), &admin, "backend").await.unwrap();
    assert_eq!(details.version, "V3");
    assert_eq!(
        details.status(tollgate_model::now_millis() / 1000),
        "Active"
    );

    // Usage: APIs with an endpoint on the same origin (any path, host case ignored).
    let using = bed
        .api_as(
            &admin,
            "Using",
            "/using",
            json!({"endpointConfig": {"endpoint_type": "http",
                "production_endpoints": {"url": "https://backend.example:8443/other"}}}),
        )
        .await;
    bed.api_as(
        &admin,
        "Elsewhere",
        "/elsewhere",
        json!({"endpointConfig": {"endpoint_type": "http",
            "production_endpoints": {"url": "https://backend.example/"}}}),
    )
    .await;
    let users = usage(bed.services(), &admin, "backend").await.unwrap();
    assert_eq!(
        users.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        [using.id.as_str()]
    );
    bed.events().await;

    update(bed.services(), &admin, "backend", b"nope")
        .await
        .invalid("certificate");
    update(bed.services(), &admin, "backend", &pem("backend.example"))
        .await
        .unwrap();
    assert_eq!(bed.events().await, ["ENDPOINT_CERTIFICATE_UPDATE"]);
    delete(bed.services(), &bed.user("alice"), "backend")
        .await
        .forbidden();
    delete(bed.services(), &admin, "backend").await.unwrap();
    assert_eq!(bed.events().await, ["ENDPOINT_CERTIFICATE_DELETE"]);
    get(bed.services(), &admin, "backend").await.not_found();
    delete(bed.services(), &admin, "backend").await.not_found();
}
