//! API keys through the Developer Portal API: a key carries WSO2's claims and lives forever
//! unless asked otherwise; bad requests are named; only this application's key of this type
//! is revoked. (That gateways take and refuse keys is the end-to-end suite's.)

use serde_json::json;
use tollgate_testbed::testkit::jwt::claims_of;
use tollgate_testbed::TestBed;

use super::{application, devportal, pizzashack, publish_api, subscribe, NOWHERE};

#[tokio::test]
async fn api_keys_carry_wso2s_claims_and_bad_requests_are_named() {
    let bed = TestBed::sqlite().await;
    let mut api = pizzashack(NOWHERE);
    api["securityScheme"] = json!(["oauth2", "api_key"]);
    let api_id = publish_api(&bed, &api).await;
    let app_id = application(&bed, "admin", "KeyApp").await;
    subscribe(&bed, "admin", &app_id, &api_id, "Unlimited").await;
    let generate = |key_type: &str| {
        devportal(&format!(
            "/applications/{app_id}/api-keys/{key_type}/generate"
        ))
    };

    // No body: a key that never expires, with WSO2's claims.
    let key = bed
        .post(&generate("PRODUCTION"))
        .as_user("admin")
        .body("application/json", "")
        .send()
        .await
        .expect(200);
    assert_eq!(key["validityTime"], -1);
    let key = key["apikey"].as_str().unwrap().to_string();
    let claims = claims_of(&key);
    assert_eq!(claims["token_type"], "apiKey");
    assert_eq!(claims["keytype"], "PRODUCTION");
    assert_eq!(claims["application"]["uuid"], app_id.as_str());
    assert_eq!(claims["application"]["name"], "KeyApp");
    let subscribed: Vec<&str> = claims["subscribedAPIs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["context"].as_str().unwrap())
        .collect();
    assert!(subscribed.contains(&"/pizzashack/1.0.0"), "{claims}");
    assert!(claims["tierInfo"]["Unlimited"].is_object(), "{claims}");

    // Bad input names its field; another key type or another application's key is not
    // revoked through this one.
    for (body, field) in [
        (json!({"validityPeriod": "soon"}), "validityPeriod"),
        (json!({"validityPeriod": -5}), "validityPeriod"),
        (
            json!({"additionalProperties": {"permittedIP": "10.0.0.0/8,nowhere"}}),
            "additionalProperties.permittedIP",
        ),
    ] {
        let refused = bed
            .post(&generate("PRODUCTION"))
            .as_user("admin")
            .json(&body)
            .send()
            .await
            .refused(400);
        assert!(refused.to_string().contains(field), "{refused}");
    }
    bed.post(&generate("TESTING"))
        .as_user("admin")
        .json(&json!({}))
        .send()
        .await
        .refused(400);
    let sandbox_key = bed
        .post(&generate("SANDBOX"))
        .as_user("admin")
        .json(&json!({"validityPeriod": 600}))
        .send()
        .await
        .expect(200)["apikey"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = devportal(&format!(
        "/applications/{app_id}/api-keys/PRODUCTION/revoke"
    ));
    let revoking = |api_key: String| {
        let (bed, revoke) = (&bed, revoke.clone());
        async move {
            bed.post(&revoke)
                .as_user("admin")
                .json(&json!({"apikey": api_key}))
                .send()
                .await
        }
    };
    revoking(sandbox_key).await.refused(400);
    let other_app = application(&bed, "admin", "OtherApp").await;
    subscribe(&bed, "admin", &other_app, &api_id, "Unlimited").await;
    let others = bed
        .post(&devportal(&format!(
            "/applications/{other_app}/api-keys/PRODUCTION/generate"
        )))
        .as_user("admin")
        .json(&json!({}))
        .send()
        .await
        .expect(200)["apikey"]
        .as_str()
        .unwrap()
        .to_string();
    revoking(others).await.refused(400);
    revoking("not-a-key".into()).await.refused(400);
    revoking(key).await.expect(200);

    // Keys for an application the caller does not have: it does not exist for them.
    let refused = bed
        .post(&devportal(
            "/applications/no-such-app/api-keys/PRODUCTION/generate",
        ))
        .as_user("admin")
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(refused.status, 404);
}
