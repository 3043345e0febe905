//! `devportal::settings`: what a developer portal reads to set itself up.

use tollgate_operations::devportal::settings::{application_attributes, settings};
use tollgate_operations::devportal::ApplicationAttribute;
use tollgate_testbed::{Refused, Settings, TestBed};

#[tokio::test]
async fn a_portal_reads_its_settings_and_subscribers_the_application_attributes() {
    let mut configured = Settings::default();
    configured.devportal.anonymous_mode = false;
    configured.devportal.application_attributes = vec![ApplicationAttribute {
        name: "team".into(),
        description: "Who runs it".into(),
        required: true,
        hidden: false,
        default: None,
        tooltip: String::new(),
    }];
    let bed = TestBed::sqlite_with(configured).await;
    let read = settings(bed.services());
    assert!(!read.anonymous_mode);
    assert!(read.grant_types.contains(&"client_credentials"));
    assert!(read
        .gateway_endpoint
        .starts_with("http://localhost:8280,https://"));
    assert_eq!(
        (read.min_password_length, read.max_password_length),
        (8, 64)
    );
    let attributes = application_attributes(bed.services(), &bed.user("alice")).unwrap();
    assert_eq!(attributes[0].name, "team");
    application_attributes(bed.services(), &bed.with_scopes("alice", &["openid"])).forbidden();
}
