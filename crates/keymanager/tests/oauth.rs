//! The key manager's rules in process, through its real HTTP endpoints over a real database
//! (`tollgate-testbed`): what the token and authorization endpoints accept and refuse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

use std::collections::HashMap;

use serde_json::json;
use tollgate_testbed::{Reply, TestBed};

const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// RFC 7636 appendix B's verifier and challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A client of the admin's registered through DCR: (id, secret).
async fn register(bed: &TestBed, grants: &str) -> (String, String) {
    let reply = bed
        .post("/client-registration/v0.17/register")
        .as_user("admin")
        .json(&json!({"clientName": "rules", "owner": "admin", "grantType": grants, "callbackUrl": CALLBACK}))
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    (
        body["clientId"].as_str().unwrap().to_string(),
        body["clientSecret"].as_str().unwrap().to_string(),
    )
}

async fn token(bed: &TestBed, client: &(String, String), form: &[(&str, &str)]) -> Reply {
    bed.post("/oauth2/token")
        .basic_auth(&client.0, &client.1)
        .form(form)
        .send()
        .await
}

/// Signs `admin` in on the authorization page with these parameters (besides the client's id,
/// `response_type` and the PKCE challenge) and approves; the code the redirect carries.
async fn authorize(bed: &TestBed, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut form: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    form.extend_from_slice(extra);
    form.extend([
        ("username", "admin"),
        ("password", tollgate_testbed::PASSWORD),
        ("consent", "approve"),
    ]);
    let reply = bed.post("/oauth2/authorize").form(&form).send().await;
    assert_eq!(reply.status, 302, "{}", reply.text());
    let location = reply.location();
    assert!(location.starts_with(CALLBACK), "{location}");
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    params["code"].clone()
}

#[tokio::test]
async fn a_scope_parameter_is_bounded_and_never_one_sql_variable_per_scope() {
    let bed = TestBed::sqlite().await;
    let client = register(&bed, "client_credentials").await;
    // A megabyte of scopes: refused as invalid_scope, not a database error.
    let huge = (0..100_000)
        .map(|i| format!("s{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let reply = token(
        &bed,
        &client,
        &[("grant_type", "client_credentials"), ("scope", &huge)],
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["error"], "invalid_scope");
    assert!(reply.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("at most 256"));
    // As many as allowed: granted what the roles allow (none of these scopes exist).
    let most = (0..256)
        .map(|i| format!("s{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let reply = token(
        &bed,
        &client,
        &[("grant_type", "client_credentials"), ("scope", &most)],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn a_code_needs_the_redirect_uri_only_when_its_request_carried_one() {
    let bed = TestBed::sqlite().await;
    let client = register(&bed, "authorization_code").await;
    let exchange = |code: String, redirect_uri: Option<&'static str>| {
        let client = client.clone();
        let bed = &bed;
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("code_verifier", VERIFIER),
            ];
            form.extend(redirect_uri.map(|uri| ("redirect_uri", uri)));
            token(bed, &client, &form).await
        }
    };
    // RFC 6749 §4.1.3: not carried, so not required — or, if given, the registered one.
    let code = authorize(&bed, &client.0, &[]).await;
    assert_eq!(exchange(code, None).await.status, 200);
    let code = authorize(&bed, &client.0, &[]).await;
    assert_eq!(exchange(code, Some(CALLBACK)).await.status, 200);
    let code = authorize(&bed, &client.0, &[]).await;
    let refused = exchange(code, Some("http://127.0.0.1:9/other")).await;
    assert_eq!(
        (refused.status.as_u16(), &refused.json()["error"]),
        (400, &json!("invalid_grant"))
    );
    // Carried: required, and exactly it.
    let code = authorize(&bed, &client.0, &[("redirect_uri", CALLBACK)]).await;
    let refused = exchange(code, None).await;
    assert_eq!(refused.status, 400);
    assert!(refused.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("redirect_uri is required"));
    let code = authorize(&bed, &client.0, &[("redirect_uri", CALLBACK)]).await;
    assert_eq!(exchange(code, Some(CALLBACK)).await.status, 200);
}

async fn registration(bed: &TestBed, user: Option<&str>, body: serde_json::Value) -> Reply {
    let call = bed.post("/client-registration/v0.17/register").json(&body);
    match user {
        Some(user) => call.as_user(user),
        None => call,
    }
    .send()
    .await
}

#[tokio::test]
async fn client_registration_checks_who_registers_what_in_wso2s_error_body() {
    let bed = TestBed::sqlite().await;
    let refused = |reply: Reply, status: u16, said: &str| {
        assert_eq!(reply.status, status, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["code"], status, "{body}");
        let description = body["description"].as_str().unwrap();
        assert!(description.contains(said), "{description}");
    };
    let body = json!({"clientName": "cli", "grantType": "client_credentials"});
    refused(
        registration(&bed, None, body.clone()).await,
        401,
        "Basic authentication",
    );
    let wrong = bed
        .post("/client-registration/v0.17/register")
        .basic_auth("alice", "not her password")
        .json(&body)
        .send()
        .await;
    refused(wrong, 401, "Invalid username or password");
    for (bad, said) in [
        (json!({"clientName": " "}), "clientName is required"),
        (json!({"clientName": "x".repeat(256)}), "at most 255"),
        (json!({"clientName": "a\u{7}b"}), "control character"),
        (
            json!({"clientName": "cli", "grantType": "password telepathy"}),
            "'telepathy' is not one of",
        ),
        (
            json!({"clientName": "cli", "tokenType": "SAML"}),
            "'SAML' is not one of JWT, OAUTH",
        ),
        (json!({"name": "cli"}), "Invalid registration request"),
    ] {
        refused(registration(&bed, Some("alice"), bad).await, 400, said);
    }
    // Only an administrator registers for someone else.
    let for_bob = json!({"clientName": "cli", "owner": "bob"});
    refused(
        registration(&bed, Some("alice"), for_bob.clone()).await,
        403,
        "may not register a client for bob",
    );
    let made = registration(&bed, Some("admin"), for_bob).await;
    assert_eq!(
        (made.status.as_u16(), &made.json()["appOwner"]),
        (200, &json!("bob"))
    );
}

#[tokio::test]
async fn a_registered_client_has_the_grants_and_token_type_asked_for() {
    let bed = TestBed::sqlite().await;
    let made = registration(
        &bed,
        Some("alice"),
        json!({"clientName": "cli", "grantType": "client_credentials, password client_credentials", "tokenType": "oauth"}),
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.text());
    let body = made.json();
    assert_eq!(body["tokenType"], "OAUTH");
    assert_eq!(body["appOwner"], "alice");
    let stored = bed
        .store()
        .oauth_client(body["clientId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.grant_types,
        [
            tollgate_model::GrantType::ClientCredentials,
            tollgate_model::GrantType::Password
        ]
    );
    assert_eq!(stored.token_type, tollgate_model::TokenType::Oauth);
    // Without grantType: WSO2's default three.
    let plain = registration(&bed, Some("alice"), json!({"clientName": "plain"})).await;
    let id = plain.json()["clientId"].as_str().unwrap().to_string();
    let stored = bed.store().oauth_client(&id).await.unwrap().unwrap();
    assert_eq!(stored.grant_types, tollgate_keymanager::DEFAULT_GRANT_TYPES);
    assert_eq!(stored.token_type, tollgate_model::TokenType::Jwt);
}
