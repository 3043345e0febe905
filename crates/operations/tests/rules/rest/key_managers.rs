//! External key managers through the Admin and Developer Portal APIs: what is refused (bad
//! fields, key sets or secrets over plain HTTP off loopback, the resident issuer), discovery from
//! a well-known endpoint, names taken once, the list's order, keys mapped through one (the
//! secret proved at its token endpoint), changes keeping what they leave out, and deletion
//! kept back by mapped keys. (That gateways trust their tokens, and stop, is the end-to-end
//! suite's.)

use serde_json::{json, Value};
use tollgate_testbed::testkit::issuer::{TestIssuer, CLIENT_ID, CLIENT_SECRET};
use tollgate_testbed::{Part, Reply, TestBed};

use super::{admin, application, devportal, named_api, publisher, NOWHERE};

async fn add(bed: &TestBed, body: &Value) -> Reply {
    bed.post(&admin("/key-managers"))
        .as_user("admin")
        .json(body)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_managers_are_checked_discovered_mapped_and_kept_while_used() {
    let bed = TestBed::sqlite().await;
    let (partner, other) = (TestIssuer::start("k1").await, TestIssuer::start("k1").await);
    let app_id = application(&bed, "admin", "PartnerApp").await;

    // Bad input names its field; nothing is created.
    let mut bad = partner.key_manager_body("Broken");
    bad["issuer"] = json!("");
    bad["certificates"] = json!({"type": "PEM", "value": "-----BEGIN CERTIFICATE-----"});
    bad["tokenEndpoint"] = json!("not a url");
    let text = add(&bed, &bad).await.refused(400).to_string();
    for field in ["issuer", "certificates.type", "tokenEndpoint"] {
        assert!(text.contains(field), "{field} not named: {text}");
    }
    // Key sets and secrets never cross a network in the clear: http only on loopback.
    let mut plain = partner.key_manager_body("Plain");
    plain["certificates"] = json!({"type": "JWKS", "value": "http://idp.example.com/jwks"});
    plain["tokenEndpoint"] = json!("http://idp.example.com/token");
    let text = add(&bed, &plain).await.refused(400).to_string();
    for field in ["certificates.value", "tokenEndpoint"] {
        assert!(text.contains(field), "{field} not named: {text}");
    }
    let mut resident_issuer = partner.key_manager_body("Impostor");
    resident_issuer["issuer"] = json!(tollgate_testbed::ISSUER);
    add(&bed, &resident_issuer).await.refused(400);

    // Discovery reads the issuer's well-known endpoint into a key manager to add.
    let discover = |url: String| {
        let bed = &bed;
        async move {
            bed.post(&admin("/key-managers/discover"))
                .as_user("admin")
                .multipart(&[Part::text("url", &url), Part::text("type", "custom")])
                .send()
                .await
        }
    };
    let found = discover(partner.well_known()).await.expect(200);
    assert_eq!(found["valid"], true, "{found}");
    assert_eq!(found["value"]["issuer"], partner.issuer());
    assert_eq!(found["value"]["certificates"]["value"], partner.jwks_url());
    assert_eq!(found["value"]["tokenEndpoint"], partner.token_endpoint());
    let nothing = discover(format!("{}/nothing-here", partner.url))
        .await
        .expect(200);
    assert_eq!(nothing["valid"], false);

    add(&bed, &other.key_manager_body("Other"))
        .await
        .expect(201);
    let created = add(&bed, &partner.key_manager_body("Partner"))
        .await
        .expect(201);
    let partner_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["issuer"], partner.issuer());
    assert_eq!(created["certificates"]["type"], "JWKS");
    assert_eq!(created["scopesClaim"], "scp");
    assert_eq!(created["additionalProperties"]["self_validate_jwt"], true);
    add(&bed, &partner.key_manager_body("Partner"))
        .await
        .refused(409);

    let listed = bed
        .get(&admin("/key-managers"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    let names: Vec<&str> = listed["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Resident Key Manager", "Other", "Partner"]);
    let portal = bed
        .get(&devportal("/key-managers"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(portal["count"], 3);
    assert_eq!(portal["list"][2]["tokenEndpoint"], partner.token_endpoint());

    // Keys of the partner's client: its token endpoint proves the secret.
    let map_keys = |secret: &'static str| {
        let (bed, path) = (&bed, devportal(&format!("/applications/{app_id}/map-keys")));
        async move {
            bed.post(&path)
                .as_user("admin")
                .json(&json!({"consumerKey": CLIENT_ID, "consumerSecret": secret, "keyType": "PRODUCTION", "keyManager": "Partner"}))
                .send()
                .await
        }
    };
    let wrong = map_keys("not-the-secret").await.refused(400);
    assert!(wrong.to_string().contains("consumerSecret"), "{wrong}");
    let mapped = map_keys(CLIENT_SECRET).await.expect(200);
    assert_eq!(mapped["keyManager"], "Partner");
    assert_eq!(mapped["mode"], "MAPPED");
    let mapping_id = mapped["keyMappingId"].as_str().unwrap().to_string();
    // Its tokens come from the partner: the resident key manager does not issue them.
    bed.post(&devportal(&format!(
        "/applications/{app_id}/oauth-keys/{mapping_id}/generate-token"
    )))
    .as_user("admin")
    .json(&json!({"grantType": "CLIENT_CREDENTIALS"}))
    .send()
    .await
    .refused(400);

    // Disabled; an edit that leaves `enabled` out keeps it disabled; the name stays.
    let put = |body: Value| {
        let (bed, path) = (&bed, admin(&format!("/key-managers/{partner_id}")));
        async move { bed.put(&path).as_user("admin").json(&body).send().await }
    };
    let mut disabled = partner.key_manager_body("Partner");
    disabled["enabled"] = json!(false);
    assert_eq!(put(disabled).await.expect(200)["enabled"], false);
    let mut edited = partner.key_manager_body("Partner");
    edited.as_object_mut().unwrap().remove("enabled");
    edited["description"] = json!("edited while disabled");
    assert_eq!(put(edited).await.expect(200)["enabled"], false);
    let mut renamed = partner.key_manager_body("Renamed");
    renamed["enabled"] = json!(true);
    put(renamed).await.refused(400);
    put(partner.key_manager_body("Partner")).await.expect(200);

    // The resident key manager cannot be changed here; a key manager with mapped keys cannot
    // be deleted until the keys are removed.
    let resident_id = listed["list"][0]["id"].as_str().unwrap();
    let resident = bed
        .get(&admin(&format!("/key-managers/{resident_id}")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(resident["type"], "default");
    assert!(resident["tokenEndpoint"]
        .as_str()
        .unwrap()
        .ends_with("/oauth2/token"));
    let delete = |id: String| {
        let bed = &bed;
        async move {
            bed.delete(&admin(&format!("/key-managers/{id}")))
                .as_user("admin")
                .send()
                .await
        }
    };
    delete(resident_id.to_string()).await.refused(400);
    delete(partner_id.clone()).await.refused(409);
    bed.post(&devportal(&format!(
        "/applications/{app_id}/oauth-keys/{mapping_id}/clean-up"
    )))
    .as_user("admin")
    .json(&json!({}))
    .send()
    .await
    .expect(200);
    assert_eq!(delete(partner_id).await.status, 200);
}

#[tokio::test]
async fn an_api_names_its_audiences_as_urls() {
    let bed = TestBed::sqlite().await;
    let mut orders = named_api("Orders", "/orders", "1.0.0", NOWHERE);
    orders["audiences"] = json!(["https://orders.example"]);
    let created = super::create_api(&bed, &orders).await;
    let stored = bed
        .get(&publisher(&format!(
            "/apis/{}",
            created["id"].as_str().unwrap()
        )))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(stored["audiences"], json!(["https://orders.example"]));
    let mut bad = named_api("BadAudiences", "/bad-audiences", "1.0.0", NOWHERE);
    bad["audiences"] = json!(["", "x"]);
    let body = bed
        .post(&publisher("/apis"))
        .as_user("admin")
        .json(&bad)
        .send()
        .await
        .refused(400);
    assert!(body.to_string().contains("audiences[0]"), "{body}");
}
