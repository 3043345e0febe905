//! Applications through the Developer Portal API: every bad field named at once, names
//! unique per owner, one owner's applications hidden from another, the attributes the
//! configuration declares, and what a portal reads to set itself up.

use serde_json::json;
use tollgate_operations::devportal::ApplicationAttribute;
use tollgate_testbed::{Settings, TestBed};

use super::devportal;

#[tokio::test]
async fn applications_name_every_bad_field_and_belong_to_their_owners() {
    let bed = TestBed::sqlite().await;
    let create = |user: &'static str, body: serde_json::Value| {
        let bed = &bed;
        async move {
            bed.post(&devportal("/applications"))
                .as_user(user)
                .json(&body)
                .send()
                .await
        }
    };
    // Every bad field named at once; a name is unique per owner.
    let refused = create(
        "admin",
        json!({"name": "", "throttlingPolicy": "NoSuchTier", "tokenType": "SAML",
               "attributes": {"team": 42}}),
    )
    .await
    .refused(400);
    let text = refused.to_string();
    for field in ["name", "throttlingPolicy", "tokenType", "attributes.team"] {
        assert!(text.contains(field), "{field} not named: {text}");
    }
    let created = create(
        "admin",
        json!({"name": "Mobile", "throttlingPolicy": "10PerMin", "tokenType": "OAUTH",
               "description": "the phone app", "attributes": {"team": "mobile"}}),
    )
    .await
    .expect(201);
    assert_eq!(created["tokenType"], "OAUTH");
    assert_eq!(created["attributes"]["team"], "mobile");
    create(
        "admin",
        json!({"name": "Mobile", "throttlingPolicy": "Unlimited"}),
    )
    .await
    .refused(409);

    // Another owner may use the same name; neither sees the other's.
    let alices = create(
        "alice",
        json!({"name": "Mobile", "throttlingPolicy": "Unlimited"}),
    )
    .await
    .expect(201);
    bed.get(&devportal(&format!(
        "/applications/{}",
        alices["applicationId"].as_str().unwrap()
    )))
    .as_user("admin")
    .send()
    .await
    .refused(404);
    let mine = bed
        .get(&devportal("/applications"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(mine["count"], 1);

    // Deleted: gone.
    let path = devportal(&format!(
        "/applications/{}",
        created["applicationId"].as_str().unwrap()
    ));
    assert_eq!(bed.delete(&path).as_user("admin").send().await.status, 200);
    bed.get(&path).as_user("admin").send().await.refused(404);
}

#[tokio::test]
async fn application_attributes_follow_the_configuration() {
    let mut settings = Settings::default();
    settings.devportal.application_attributes = vec![
        ApplicationAttribute {
            name: "External Reference Id".into(),
            description: "Your order system's id".into(),
            required: true,
            hidden: false,
            default: None,
            tooltip: String::new(),
        },
        ApplicationAttribute {
            name: "Region".into(),
            description: String::new(),
            required: false,
            hidden: true,
            default: Some("eu".into()),
            tooltip: String::new(),
        },
    ];
    let bed = TestBed::sqlite_with(settings).await;
    let declared = bed
        .get(&devportal("/settings/application-attributes"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(declared["count"], 2);
    assert_eq!(declared["list"][0]["attribute"], "External Reference Id");
    assert_eq!(declared["list"][0]["required"], "true");
    assert_eq!(declared["list"][1]["hidden"], "true");
    let refused = bed
        .post(&devportal("/applications"))
        .as_user("admin")
        .json(&json!({"name": "NoRef", "throttlingPolicy": "Unlimited"}))
        .send()
        .await
        .refused(400);
    assert!(
        refused
            .to_string()
            .contains("attributes.External Reference Id"),
        "{refused}"
    );
    let app = bed
        .post(&devportal("/applications"))
        .as_user("admin")
        .json(&json!({"name": "WithRef", "throttlingPolicy": "Unlimited", "attributes": {"External Reference Id": "PO-7"}}))
        .send()
        .await
        .expect(201);
    assert_eq!(app["attributes"]["External Reference Id"], "PO-7");
    assert_eq!(app["attributes"]["Region"], "eu");
    // What a portal reads to set itself up; the tiers, open to visitors.
    let settings = bed.get(&devportal("/settings")).send().await.expect(200);
    assert_eq!(settings["IsAnonymousModeEnabled"], true);
    assert!(settings["grantTypes"]
        .as_array()
        .unwrap()
        .contains(&json!("client_credentials")));
    let tiers = bed
        .get(&devportal("/throttling-policies/application"))
        .send()
        .await
        .expect(200);
    assert!(tiers["list"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "Unlimited"));
    bed.get(&devportal("/throttling-policies/api"))
        .send()
        .await
        .refused(400);
}
