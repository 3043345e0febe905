//! The key manager's rules in process, through its real HTTP endpoints over a real database
//! (`tollgate-testbed`): what the token, authorization, introspection, revocation, userinfo and
//! metadata endpoints accept and refuse, signing keys' rotation, and assertions of trusted
//! issuers exchanged for tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

use std::collections::HashMap;

use serde_json::{json, Value};
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

/// Introspects `token` as `client` (Basic credentials): whether it is active.
async fn active(bed: &TestBed, client: &(String, String), token: &str) -> bool {
    let reply = bed
        .post("/oauth2/introspect")
        .basic_auth(&client.0, &client.1)
        .form(&[("token", token)])
        .send()
        .await;
    reply.expect(200)["active"] == true
}

#[tokio::test]
async fn introspection_tells_active_tokens_from_the_rest() {
    let bed = TestBed::sqlite().await;
    let (id, secret) = register(&bed, "client_credentials password").await;
    let client = (id.clone(), secret.clone());
    let issued = token(
        &bed,
        &client,
        &[("grant_type", "client_credentials"), ("scope", "default")],
    )
    .await;
    // Token responses are not to be cached (RFC 6749 §5.1).
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    assert_eq!(issued.header("pragma"), Some("no-cache"));
    let token = issued.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Client authentication in the form (client_secret_post), as RFC 6749 §2.3.1 allows.
    let introspect = |token: String| {
        let (id, secret) = (id.clone(), secret.clone());
        let bed = &bed;
        async move {
            bed.post("/oauth2/introspect")
                .form(&[
                    ("token", token.as_str()),
                    ("client_id", id.as_str()),
                    ("client_secret", secret.as_str()),
                ])
                .send()
                .await
        }
    };
    let reply = introspect(token.clone()).await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.expect(200);
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["client_id"], id.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "default");
    assert!(body["exp"].as_i64().unwrap() > body["iat"].as_i64().unwrap());

    for garbage in ["", "not-a-token", "a.b.c"] {
        let reply = introspect(garbage.to_string()).await;
        if garbage.is_empty() {
            assert_eq!(reply.status, 400);
            continue;
        }
        assert_eq!(reply.expect(200), json!({"active": false}), "{garbage}");
    }
    // A tampered payload is not active either.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert_eq!(
        introspect(parts.join(".")).await.expect(200)["active"],
        false
    );

    // Revoked: inactive from then on.
    let revoked = bed
        .post("/oauth2/revoke")
        .basic_auth(&id, &secret)
        .form(&[("token", token.as_str())])
        .send()
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(
        introspect(token.clone()).await.expect(200),
        json!({"active": false})
    );

    // Only authenticated clients may ask.
    let anonymous = bed
        .post("/oauth2/introspect")
        .form(&[("token", token.as_str())])
        .send()
        .await;
    assert_eq!(anonymous.status, 401);
    let wrong = bed
        .post("/oauth2/introspect")
        .basic_auth(&id, "not-the-secret")
        .form(&[("token", token.as_str())])
        .send()
        .await;
    assert_eq!(wrong.status, 401);
}

#[tokio::test]
async fn metadata_lists_what_is_supported() {
    let bed = TestBed::sqlite().await;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/oauth2/token",
    ] {
        let metadata = bed.get(path).send().await.expect(200);
        let issuer = metadata["issuer"].as_str().unwrap();
        assert!(issuer.ends_with("/oauth2/token"), "{issuer}");
        let base = issuer.trim_end_matches("/oauth2/token");
        assert_eq!(metadata["token_endpoint"], format!("{base}/oauth2/token"));
        assert_eq!(metadata["jwks_uri"], format!("{base}/oauth2/jwks"));
        assert_eq!(
            metadata["introspection_endpoint"],
            format!("{base}/oauth2/introspect")
        );
        assert_eq!(
            metadata["revocation_endpoint"],
            format!("{base}/oauth2/revoke")
        );
        assert_eq!(
            metadata["grant_types_supported"],
            json!([
                "authorization_code",
                "client_credentials",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "password"
            ])
        );
        assert_eq!(
            metadata["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post"])
        );
        // The advertised endpoints answer.
        let jwks = bed.get("/oauth2/jwks").send().await.expect(200);
        assert!(!jwks["keys"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_password_grant_can_be_switched_off() {
    let mut settings = tollgate_testbed::Settings::default();
    settings.tokens.password_grant = false;
    let bed = TestBed::sqlite_with(settings).await;
    let client = register(&bed, "password client_credentials").await;
    let refused = token(
        &bed,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", tollgate_testbed::PASSWORD),
        ],
    )
    .await;
    assert_eq!(refused.expect(400)["error"], "unsupported_grant_type");
    let metadata = bed
        .get("/.well-known/oauth-authorization-server")
        .send()
        .await
        .expect(200);
    assert!(!metadata["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("password")));
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
}

/// The hidden fields of the sign-in form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("&#43;", "+")
            .replace("&#61;", "=")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|rest| {
            let name = rest
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = rest
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (unescape(name), unescape(value))
        })
        .collect()
}

fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The authorization page's path for `client_id` with a PKCE challenge, a state and a nonce;
/// `extra` replaces (or, empty, removes) parameters.
fn authorize_path(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "openid apim:api_view"),
        ("state", "xyz 1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("nonce", "n-0S6"),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/oauth2/authorize?{query}")
}

/// Opens the authorization page at `path`, signs `admin` in with `password` and answers
/// `consent`; the answer's status and `Location`.
async fn sign_in(bed: &TestBed, path: &str, password: &str, consent: &str) -> (u16, String) {
    let page = bed.get(path).send().await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let html = page.text();
    assert!(html.contains("<form method=\"post\""), "{html}");
    let mut form = hidden_fields(&html);
    form.push(("username".into(), "admin".into()));
    form.push(("password".into(), password.into()));
    form.push(("consent".into(), consent.into()));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let answer = bed.post("/oauth2/authorize").form(&fields).send().await;
    (answer.status.as_u16(), answer.location())
}

/// A code for `client` through the sign-in page, approved.
async fn code_for(bed: &TestBed, client_id: &str) -> String {
    let (status, location) = sign_in(
        bed,
        &authorize_path(client_id, &[]),
        tollgate_testbed::PASSWORD,
        "approve",
    )
    .await;
    assert_eq!(status, 302, "{location}");
    query_of(&location)["code"].clone()
}

#[tokio::test]
async fn authorization_code_with_pkce_refresh_rotation_and_replays() {
    use tollgate_testbed::testkit::jwt::{claims_of, header_of};
    let bed = TestBed::sqlite().await;
    let client = register(&bed, "authorization_code refresh_token").await;

    // The page refuses to redirect to anything but the registered URI, and unknown clients.
    for bad in [
        authorize_path(&client.0, &[("redirect_uri", "http://127.0.0.1:9/other")]),
        authorize_path("no-such-client", &[]),
    ] {
        let page = bed.get(&bad).send().await;
        assert_eq!(page.status, 400);
        assert!(page.header("location").is_none());
    }
    // PKCE is required, and only S256.
    for (extra, reason) in [
        (vec![("code_challenge_method", "plain")], "S256"),
        (vec![("code_challenge", "")], "code_challenge"),
        (vec![("response_type", "token")], "response_type"),
    ] {
        let refused = bed.get(&authorize_path(&client.0, &extra)).send().await;
        assert_eq!(refused.status, 302);
        let location = refused.location();
        assert!(location.starts_with(CALLBACK), "{location}");
        let params = query_of(&location);
        assert!(
            params["error"] == "invalid_request" || params["error"] == "unsupported_response_type"
        );
        assert!(params["error_description"].contains(reason), "{params:?}");
        assert_eq!(params["state"], "xyz 1");
    }

    // A wrong password shows the page again; denying sends access_denied back.
    let (status, _) = sign_in(
        &bed,
        &authorize_path(&client.0, &[]),
        "wrong-password",
        "approve",
    )
    .await;
    assert_eq!(status, 401);
    let (status, location) = sign_in(
        &bed,
        &authorize_path(&client.0, &[]),
        tollgate_testbed::PASSWORD,
        "deny",
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(query_of(&location)["error"], "access_denied");

    // Signed in and allowed: a code for the registered URI, with the state.
    let (status, location) = sign_in(
        &bed,
        &authorize_path(&client.0, &[]),
        tollgate_testbed::PASSWORD,
        "approve",
    )
    .await;
    assert_eq!(status, 302, "{location}");
    let params = query_of(&location);
    assert_eq!(params["state"], "xyz 1");
    let code = params["code"].clone();

    // The wrong verifier fails (and burns the code).
    let wrong = token(
        &bed,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &"x".repeat(43)),
        ],
    )
    .await;
    assert_eq!(wrong.expect(400)["error"], "invalid_grant");

    let code = code_for(&bed, &client.0).await;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let issued = token(&bed, &client, &exchange).await.expect(200);
    let access = issued["access_token"].as_str().unwrap().to_string();
    let refresh = issued["refresh_token"].as_str().unwrap().to_string();
    let id_token = issued["id_token"].as_str().unwrap();
    assert_eq!(issued["scope"], "openid apim:api_view");

    // An RFC 9068 access token with the claims it must have.
    let (header, claims) = (header_of(&access), claims_of(&access));
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "RS256");
    for claim in [
        "iss",
        "sub",
        "aud",
        "azp",
        "client_id",
        "scope",
        "exp",
        "iat",
        "nbf",
        "jti",
    ] {
        assert!(!claims[claim].is_null(), "{claim} missing from {claims}");
    }
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["client_id"], client.0.as_str());
    // The ID token: for this client, with the nonce, and never usable as an access token.
    let (id_header, id_claims) = (header_of(id_token), claims_of(id_token));
    assert_eq!(id_header["typ"], "JWT");
    assert_eq!(id_claims["aud"], client.0.as_str());
    assert_eq!(id_claims["nonce"], "n-0S6");
    assert_eq!(id_claims["iss"], claims["iss"]);
    assert!(id_claims["azp"].is_null());
    assert!(id_claims["at_hash"].is_string());

    // userinfo with the access token.
    let info = bed
        .get("/oauth2/userinfo")
        .bearer(&access)
        .send()
        .await
        .expect(200);
    assert_eq!(info["sub"], "admin");
    let no_token = bed.get("/oauth2/userinfo").send().await;
    assert_eq!(no_token.status, 401);
    assert!(no_token
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));

    // A replayed code is refused and revokes what it was exchanged for.
    let replay = token(&bed, &client, &exchange).await;
    assert_eq!(replay.expect(400)["error"], "invalid_grant");
    assert!(!active(&bed, &client, &access).await);
    let dead_refresh = token(
        &bed,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(dead_refresh.expect(400)["error"], "invalid_grant");

    // A fresh grant; its refresh token rotates.
    let code = code_for(&bed, &client.0).await;
    let issued = token(
        &bed,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
    .expect(200);
    let first_refresh = issued["refresh_token"].as_str().unwrap().to_string();
    // Asking for more scope than granted is invalid_scope.
    let wider = token(
        &bed,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
            ("scope", "apim:admin"),
        ],
    )
    .await;
    assert_eq!(wider.expect(400)["error"], "invalid_scope");
    let rotated = token(
        &bed,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await
    .expect(200);
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_string();
    let second_access = rotated["access_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first_refresh);
    assert!(active(&bed, &client, &second_access).await);
    // Presenting the used one again revokes the whole family.
    let reused = token(
        &bed,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    assert_eq!(reused.expect(400)["error"], "invalid_grant");
    assert!(!active(&bed, &client, &second_access).await);
    let after = token(
        &bed,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &second_refresh),
        ],
    )
    .await;
    assert_eq!(after.expect(400)["error"], "invalid_grant");

    // Grants the client was not given, unknown grants, and bad clients: RFC 6749 §5.2.
    let password = token(
        &bed,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", tollgate_testbed::PASSWORD),
        ],
    )
    .await;
    assert_eq!(password.expect(400)["error"], "unauthorized_client");
    let unknown = token(&bed, &client, &[("grant_type", "urn:example:nothing")]).await;
    assert_eq!(unknown.expect(400)["error"], "unsupported_grant_type");
    let bad_client = token(
        &bed,
        &(client.0.clone(), "wrong".into()),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(bad_client.status, 401);
    assert!(bad_client
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(bad_client.expect(401)["error"], "invalid_client");
    let missing = token(
        &bed,
        &client,
        &[("grant_type", "authorization_code"), ("code", "x")],
    )
    .await
    .expect(400);
    assert_eq!(missing["error"], "invalid_request");
    // redirect_uri is required only when the authorization request carried one
    // (a_code_needs_the_redirect_uri_only_when_its_request_carried_one); code_verifier always.
    assert!(missing["error_description"]
        .as_str()
        .unwrap()
        .contains("code_verifier"));

    // Revoking a refresh token (RFC 7009) revokes its family's access tokens too.
    let code = code_for(&bed, &client.0).await;
    let issued = token(
        &bed,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
    .expect(200);
    let revoked = bed
        .post("/oauth2/revoke")
        .basic_auth(&client.0, &client.1)
        .form(&[
            ("token", issued["refresh_token"].as_str().unwrap()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await;
    assert_eq!(revoked.status, 200);
    assert!(!active(&bed, &client, issued["access_token"].as_str().unwrap()).await);
}

#[tokio::test]
async fn signing_keys_rotate_and_old_tokens_stay_valid() {
    use tollgate_testbed::testkit::jwt::header_of;
    let bed = TestBed::sqlite().await;
    let admin = bed.rest_token("admin", "apim:admin").await;
    let client = register(&bed, "client_credentials").await;
    let cc = [("grant_type", "client_credentials")];
    let old_token = token(&bed, &client, &cc).await.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let before = bed.get("/oauth2/jwks").send().await.expect(200);
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);

    let rotated = bed
        .post("/api/am/admin/v4/signing-keys/rotate")
        .bearer(&admin)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    let new_kid = rotated["kid"].as_str().unwrap();
    let listed = bed
        .get("/api/am/admin/v4/signing-keys")
        .bearer(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["list"][0]["kid"], new_kid);
    assert_eq!(listed["list"][0]["signing"], true);
    assert!(listed["list"][1]["retireAfter"].as_i64().unwrap() > 0);

    let after = bed.get("/oauth2/jwks").send().await.expect(200);
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&new_kid));
    let new_token = token(&bed, &client, &cc).await.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(header_of(&new_token)["kid"], new_kid);
    assert!(active(&bed, &client, &old_token).await);
    assert!(active(&bed, &client, &new_token).await);

    // Rotation needs the admin's scope.
    let viewer = bed.rest_token("admin", "apim:api_view").await;
    bed.post("/api/am/admin/v4/signing-keys/rotate")
        .bearer(&viewer)
        .json(&json!({}))
        .send()
        .await
        .refused(403);
}

#[tokio::test]
async fn assertions_of_trusted_issuers_are_exchanged_for_tokens() {
    use tollgate_testbed::testkit::issuer::{now, TestIssuer};
    use tollgate_testbed::testkit::jwt::claims_of;
    let bed = TestBed::sqlite().await;
    let partner = TestIssuer::start("k1").await;
    bed.post("/api/am/admin/v4/key-managers")
        .as_user("admin")
        .json(&partner.key_manager_body("Partner"))
        .send()
        .await
        .expect(201);
    let client = register(
        &bed,
        "urn:ietf:params:oauth:grant-type:jwt-bearer client_credentials",
    )
    .await;
    let metadata = bed
        .get("/.well-known/oauth-authorization-server")
        .send()
        .await
        .expect(200);
    assert!(metadata["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("urn:ietf:params:oauth:grant-type:jwt-bearer")));
    let audience = metadata["issuer"].as_str().unwrap().to_string();
    let exchange = |client: (String, String), assertion: String| {
        let bed = &bed;
        async move {
            token(
                bed,
                &client,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                    ("scope", "default apim:admin apim:api_create"),
                ],
            )
            .await
        }
    };
    let assertion = |changes: Value| partner.assertion("k1", "admin", &audience, changes);

    let issued = exchange(client.clone(), assertion(json!({})))
        .await
        .expect(200);
    assert_eq!(issued["token_type"], "Bearer");
    assert!(issued.get("refresh_token").is_none());
    let access = issued["access_token"].as_str().unwrap();
    let payload = claims_of(access);
    // The subject is the partner's user, not the local admin of the same name: it holds no
    // local roles, so no role-guarded scope, and the REST APIs refuse it.
    assert_eq!(payload["sub"], "Partner/admin");
    assert_eq!(payload["azp"], client.0.as_str());
    assert_eq!(issued["scope"], "default");
    let refused = bed
        .get("/api/am/admin/v4/key-managers")
        .bearer(access)
        .send()
        .await;
    assert!(
        refused.status == 403 || refused.status == 401,
        "{}",
        refused.status
    );
    // A subject naming a tenant stays in the client's tenant.
    let tenanted = exchange(
        client.clone(),
        assertion(json!({"sub": "alice@victim.org"})),
    )
    .await
    .expect(200);
    assert_eq!(
        claims_of(tenanted["access_token"].as_str().unwrap())["sub"],
        "Partner/alice%40victim.org"
    );

    for (why, changes) in [
        (
            "another audience",
            json!({"aud": "https://elsewhere/token"}),
        ),
        ("expired", json!({"exp": now() - 3600})),
        ("valid for a day", json!({"exp": now() + 86_400})),
        ("no audience", json!({"aud": null})),
        ("no subject", json!({"sub": ""})),
    ] {
        let body = exchange(client.clone(), assertion(changes))
            .await
            .expect(400);
        assert_eq!(body["error"], "invalid_grant", "{why}: {body}");
    }
    // Not a trusted issuer: an assertion from an unregistered one.
    let stranger = TestIssuer::start("k1").await;
    let untrusted = stranger.key("k1").sign(
        "JWT",
        &json!({"iss": stranger.issuer(), "sub": "admin", "aud": audience, "exp": now() + 300}),
    );
    let body = exchange(client.clone(), untrusted).await.expect(400);
    assert_eq!(body["error"], "invalid_grant");
    // A client not allowed the grant is refused it.
    let plain = register(&bed, "client_credentials").await;
    let body = token(
        &bed,
        &plain,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion(json!({})).as_str()),
        ],
    )
    .await
    .expect(400);
    assert_eq!(body["error"], "unauthorized_client");
}
