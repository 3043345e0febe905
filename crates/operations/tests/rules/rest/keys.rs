//! Application keys through the Developer Portal API and the token endpoint: secrets shown
//! once, token lifetimes per application, grant types changed, secrets regenerated, keys
//! mapped, and the keys by type (WSO2's older paths).

use serde_json::json;
use tollgate_testbed::testkit::jwt::claims_of;
use tollgate_testbed::{TestBed, PASSWORD};

use super::{application, devportal, is_active, register_client, token_request};

#[tokio::test]
async fn application_keys_show_secrets_once_and_regenerate_them() {
    let bed = TestBed::sqlite().await;
    let app_id = application(&bed, "admin", "keys-app").await;
    let keys = bed
        .post(&devportal(&format!("/applications/{app_id}/generate-keys")))
        .as_user("admin")
        .json(&json!({"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials", "password"], "callbackUrl": "",
               "additionalProperties": {"application_access_token_expiry_time": "120", "user_access_token_expiry_time": "N/A"}}))
        .send()
        .await
        .expect(200);
    let consumer_key = keys["consumerKey"].as_str().unwrap().to_string();
    let secret = keys["consumerSecret"].as_str().unwrap().to_string();
    assert_eq!(
        keys["additionalProperties"]["application_access_token_expiry_time"],
        "120"
    );
    // Stored hashed: the list does not show it again.
    let listed = bed
        .get(&devportal(&format!("/applications/{app_id}/oauth-keys")))
        .as_user("admin")
        .send()
        .await
        .expect(200)["list"][0]
        .clone();
    assert!(listed["consumerSecret"].is_null(), "{listed}");
    let mapping = listed["keyMappingId"].as_str().unwrap().to_string();

    // The per-application validity applies to client-credentials tokens.
    let client = (consumer_key.clone(), secret.clone());
    let cc = [("grant_type", "client_credentials")];
    let issued = token_request(&bed, &client, &cc).await.expect(200);
    assert_eq!(issued["expires_in"], 120);
    assert_eq!(
        claims_of(issued["access_token"].as_str().unwrap())["keytype"],
        "PRODUCTION"
    );
    let old_token = issued["access_token"].as_str().unwrap().to_string();

    // Bad validity is refused, naming the field.
    let body = bed
        .post(&devportal(&format!("/applications/{app_id}/generate-keys")))
        .as_user("admin")
        .json(&json!({"keyType": "SANDBOX", "grantTypesToBeSupported": ["client_credentials"], "additionalProperties": {"refresh_token_expiry_time": "soon"}}))
        .send()
        .await
        .refused(400);
    assert!(
        body.to_string()
            .contains("additionalProperties.refresh_token_expiry_time"),
        "{body}"
    );

    // Grant types change: the password grant is no longer allowed.
    let updated = bed
        .put(&devportal(&format!("/applications/{app_id}/oauth-keys/{mapping}")))
        .as_user("admin")
        .json(&json!({"supportedGrantTypes": ["client_credentials"], "callbackUrl": "https://app.example/cb"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        updated["supportedGrantTypes"],
        json!(["client_credentials"])
    );
    assert_eq!(updated["callbackUrl"], "https://app.example/cb");
    let password = token_request(
        &bed,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(password.expect(400)["error"], "unauthorized_client");

    // A new secret: the old one stops working at once, and earlier tokens are revoked.
    let renewed = bed
        .post(&devportal(&format!(
            "/applications/{app_id}/oauth-keys/{mapping}/regenerate-secret"
        )))
        .as_user("admin")
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    let new_secret = renewed["consumerSecret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(token_request(&bed, &client, &cc).await.status, 401);
    let client = (consumer_key.clone(), new_secret.clone());
    let fresh = token_request(&bed, &client, &cc).await.expect(200);
    assert!(is_active(&bed, &client, fresh["access_token"].as_str().unwrap()).await);
    assert!(!is_active(&bed, &client, &old_token).await);

    // The developer portal's generate-token runs the same grant.
    let generate_token = format!("/applications/{app_id}/oauth-keys/{mapping}/generate-token");
    let token = bed
        .post(&devportal(&generate_token))
        .as_user("admin")
        .json(&json!({"consumerSecret": new_secret, "validityPeriod": 60, "scopes": []}))
        .send()
        .await
        .expect(200);
    assert_eq!(token["validityTime"], 60);
    let body = bed
        .post(&devportal(&generate_token))
        .as_user("admin")
        .json(&json!({"consumerSecret": secret, "validityPeriod": 60}))
        .send()
        .await
        .refused(400);
    assert!(body.to_string().contains("consumerSecret"), "{body}");

    // map-keys: a client registered elsewhere becomes the application's sandbox keys.
    let registered = register_client(&bed, "client_credentials").await;
    let map_keys = devportal(&format!("/applications/{app_id}/map-keys"));
    let mapped = bed
        .post(&map_keys)
        .as_user("admin")
        .json(&json!({"consumerKey": registered.0, "consumerSecret": registered.1, "keyType": "SANDBOX", "keyManager": "Resident Key Manager"}))
        .send()
        .await
        .expect(200);
    assert_eq!(mapped["mode"], "MAPPED");
    assert_eq!(mapped["keyType"], "SANDBOX");
    bed.post(&map_keys)
        .as_user("admin")
        .json(
            &json!({"consumerKey": registered.0, "consumerSecret": "wrong", "keyType": "SANDBOX"}),
        )
        .send()
        .await
        .refused(400);
    let sandbox = token_request(&bed, &registered, &cc).await.expect(200);
    assert_eq!(
        claims_of(sandbox["access_token"].as_str().unwrap())["keytype"],
        "SANDBOX"
    );
}

#[tokio::test]
async fn keys_by_type_are_the_same_keys() {
    let bed = TestBed::sqlite().await;
    let app_id = application(&bed, "admin", "TypedApp").await;
    let keys = bed
        .post(&devportal(&format!("/applications/{app_id}/generate-keys")))
        .as_user("admin")
        .json(&json!({"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]}))
        .send()
        .await
        .expect(200);
    // WSO2's older path lists the same keys.
    let listed = bed
        .get(&devportal(&format!("/applications/{app_id}/keys")))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(listed["list"][0]["consumerKey"], keys["consumerKey"]);

    let typed = |path: &str| devportal(&format!("/applications/{app_id}/keys/{path}"));
    let production = bed
        .get(&typed("PRODUCTION"))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(production["consumerKey"], keys["consumerKey"]);
    assert_eq!(production["keyType"], "PRODUCTION");
    bed.get(&typed("SANDBOX"))
        .as_user("admin")
        .send()
        .await
        .refused(404);
    let refused = bed
        .get(&typed("TESTING"))
        .as_user("admin")
        .send()
        .await
        .refused(400);
    assert!(refused.to_string().contains("keyType"), "{refused}");
    let token = bed
        .post(&typed("PRODUCTION/generate-token"))
        .as_user("admin")
        .json(
            &json!({"consumerSecret": keys["consumerSecret"], "validityPeriod": 600, "scopes": []}),
        )
        .send()
        .await
        .expect(200);
    let client = (
        keys["consumerKey"].as_str().unwrap().to_string(),
        keys["consumerSecret"].as_str().unwrap().to_string(),
    );
    assert!(is_active(&bed, &client, token["accessToken"].as_str().unwrap()).await);
    let renewed = bed
        .post(&typed("PRODUCTION/regenerate-secret"))
        .as_user("admin")
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_ne!(renewed["consumerSecret"], keys["consumerSecret"]);
    // Another consumer's application (here: none) is not found.
    bed.get(&devportal("/applications/no-such-app/keys/PRODUCTION"))
        .as_user("admin")
        .send()
        .await
        .refused(404);
}
