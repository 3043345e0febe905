//! The key manager's grants through a real process: authorization code with PKCE through the
//! sign-in page, rotating refresh tokens, replays, ID tokens, userinfo, signing key rotation,
//! application keys (secrets shown once, regenerated, grant types changed, keys mapped), and a
//! standard OpenID Connect client library doing discovery, the code flow and a refresh.

use std::collections::HashMap;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, ok_json, Flow};
use tollgate_testkit::{http_client, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// RFC 7636 appendix B's verifier and challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn register(node: &Node, http: &reqwest::Client, grants: &str) -> (String, String) {
    let registered = ok_json(
        http.post(node.control_plane_http("/client-registration/v0.17/register"))
            .basic_auth("admin", Some(&node.admin_password))
            .json(&json!({"clientName": "grants-test", "owner": "admin", "grantType": grants, "callbackUrl": CALLBACK}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    (
        registered["clientId"].as_str().unwrap().to_string(),
        registered["clientSecret"].as_str().unwrap().to_string(),
    )
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
    url_decode_pairs(query)
}

fn url_decode_pairs(query: &str) -> HashMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Signs in on the authorization page with `authorize_url` and returns the redirect's
/// Location.
async fn sign_in(
    browser: &reqwest::Client,
    node: &Node,
    authorize_url: &str,
    password: &str,
    consent: &str,
) -> (StatusCode, String) {
    let page = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");
    let mut form = hidden_fields(&html);
    form.push(("username".into(), "admin".into()));
    form.push(("password".into(), password.into()));
    form.push(("consent".into(), consent.into()));
    let answer = browser
        .post(node.control_plane_https("/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let location = answer
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location)
}

fn authorize_url(node: &Node, client_id: &str, extra: &[(&str, &str)]) -> String {
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
    node.control_plane_https(&format!("/oauth2/authorize?{query}"))
}

fn claims_of(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    let body =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (header, body)
}

async fn token_request(
    http: &reqwest::Client,
    node: &Node,
    client: &(String, String),
    form: &[(&str, &str)],
) -> reqwest::Response {
    http.post(node.control_plane_https("/oauth2/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn introspect_active(
    http: &reqwest::Client,
    node: &Node,
    client: &(String, String),
    token: &str,
) -> bool {
    let body = ok_json(
        http.post(node.control_plane_https("/oauth2/introspect"))
            .basic_auth(&client.0, Some(&client.1))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    body["active"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_with_pkce_refresh_rotation_and_replays() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let http = http_client();
    let browser = browser();
    let client = register(&node, &http, "authorization_code refresh_token").await;

    // The page refuses to redirect to anything but the registered URI, and unknown clients.
    for bad in [
        authorize_url(
            &node,
            &client.0,
            &[("redirect_uri", "http://127.0.0.1:9/other")],
        ),
        authorize_url(&node, "no-such-client", &[]),
    ] {
        let page = browser.get(&bad).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        assert!(page.headers().get("location").is_none());
    }
    // PKCE is required, and only S256.
    for (extra, reason) in [
        (vec![("code_challenge_method", "plain")], "S256"),
        (vec![("code_challenge", "")], "code_challenge"),
        (vec![("response_type", "token")], "response_type"),
    ] {
        let refused = browser
            .get(authorize_url(&node, &client.0, &extra))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FOUND);
        let location = refused.headers()["location"].to_str().unwrap().to_string();
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
        &browser,
        &node,
        &authorize_url(&node, &client.0, &[]),
        "wrong-password",
        "approve",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, location) = sign_in(
        &browser,
        &node,
        &authorize_url(&node, &client.0, &[]),
        &node.admin_password,
        "deny",
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(query_of(&location)["error"], "access_denied");

    // Signed in and allowed: a code for the registered URI, with the state.
    let (status, location) = sign_in(
        &browser,
        &node,
        &authorize_url(&node, &client.0, &[]),
        &node.admin_password,
        "approve",
    )
    .await;
    assert_eq!(status, StatusCode::FOUND, "{location}");
    let params = query_of(&location);
    assert_eq!(params["state"], "xyz 1");
    let code = params["code"].clone();

    // The wrong verifier fails (and burns the code).
    let wrong = token_request(
        &http,
        &node,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &"x".repeat(43)),
        ],
    )
    .await;
    let body = ok_json(wrong, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"], "invalid_grant");

    let (_, location) = sign_in(
        &browser,
        &node,
        &authorize_url(&node, &client.0, &[]),
        &node.admin_password,
        "approve",
    )
    .await;
    let code = query_of(&location)["code"].clone();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let issued = ok_json(
        token_request(&http, &node, &client, &exchange).await,
        StatusCode::OK,
    )
    .await;
    let access = issued["access_token"].as_str().unwrap().to_string();
    let refresh = issued["refresh_token"].as_str().unwrap().to_string();
    let id_token = issued["id_token"].as_str().unwrap();
    assert_eq!(issued["scope"], "openid apim:api_view");

    // An RFC 9068 access token with the claims it must have.
    let (header, claims) = claims_of(&access);
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
    let (id_header, id_claims) = claims_of(id_token);
    assert_eq!(id_header["typ"], "JWT");
    assert_eq!(id_claims["aud"], client.0.as_str());
    assert_eq!(id_claims["nonce"], "n-0S6");
    assert_eq!(id_claims["iss"], claims["iss"]);
    assert!(id_claims["azp"].is_null());
    assert!(id_claims["at_hash"].is_string());

    // userinfo with the access token.
    let info = ok_json(
        http.get(node.control_plane_https("/oauth2/userinfo"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["sub"], "admin");
    let no_token = http
        .get(node.control_plane_https("/oauth2/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert!(no_token.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));

    // A replayed code is refused and revokes what it was exchanged for.
    let replay = ok_json(
        token_request(&http, &node, &client, &exchange).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(replay["error"], "invalid_grant");
    assert!(!introspect_active(&http, &node, &client, &access).await);
    let dead_refresh = token_request(
        &http,
        &node,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        ok_json(dead_refresh, StatusCode::BAD_REQUEST).await["error"],
        "invalid_grant"
    );

    // A fresh grant; its refresh token rotates.
    let (_, location) = sign_in(
        &browser,
        &node,
        &authorize_url(&node, &client.0, &[]),
        &node.admin_password,
        "approve",
    )
    .await;
    let code = query_of(&location)["code"].clone();
    let issued = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let first_refresh = issued["refresh_token"].as_str().unwrap().to_string();
    // Asking for more scope than granted is invalid_scope.
    let wider = token_request(
        &http,
        &node,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
            ("scope", "apim:admin"),
        ],
    )
    .await;
    assert_eq!(
        ok_json(wider, StatusCode::BAD_REQUEST).await["error"],
        "invalid_scope"
    );
    let rotated = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &first_refresh),
            ],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_string();
    let second_access = rotated["access_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first_refresh);
    assert!(introspect_active(&http, &node, &client, &second_access).await);
    // Presenting the used one again revokes the whole family.
    let reused = token_request(
        &http,
        &node,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    assert_eq!(
        ok_json(reused, StatusCode::BAD_REQUEST).await["error"],
        "invalid_grant"
    );
    assert!(!introspect_active(&http, &node, &client, &second_access).await);
    let after = token_request(
        &http,
        &node,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &second_refresh),
        ],
    )
    .await;
    assert_eq!(
        ok_json(after, StatusCode::BAD_REQUEST).await["error"],
        "invalid_grant"
    );

    // Grants the client was not given, unknown grants, and bad clients: RFC 6749 §5.2.
    let password = token_request(
        &http,
        &node,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", &node.admin_password),
        ],
    )
    .await;
    assert_eq!(
        ok_json(password, StatusCode::BAD_REQUEST).await["error"],
        "unauthorized_client"
    );
    let unknown = token_request(
        &http,
        &node,
        &client,
        &[("grant_type", "urn:example:nothing")],
    )
    .await;
    assert_eq!(
        ok_json(unknown, StatusCode::BAD_REQUEST).await["error"],
        "unsupported_grant_type"
    );
    let bad_client = token_request(
        &http,
        &node,
        &(client.0.clone(), "wrong".into()),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(bad_client.status(), StatusCode::UNAUTHORIZED);
    assert!(bad_client.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(
        ok_json(bad_client, StatusCode::UNAUTHORIZED).await["error"],
        "invalid_client"
    );
    let missing = token_request(
        &http,
        &node,
        &client,
        &[("grant_type", "authorization_code"), ("code", "x")],
    )
    .await;
    let missing = ok_json(missing, StatusCode::BAD_REQUEST).await;
    assert_eq!(missing["error"], "invalid_request");
    // redirect_uri is required only when the authorization request carried one (the key
    // manager's in-process tests check that); code_verifier always.
    assert!(missing["error_description"]
        .as_str()
        .unwrap()
        .contains("code_verifier"));

    // Revoking a refresh token (RFC 7009) revokes its family's access tokens too.
    let (_, location) = sign_in(
        &browser,
        &node,
        &authorize_url(&node, &client.0, &[]),
        &node.admin_password,
        "approve",
    )
    .await;
    let code = query_of(&location)["code"].clone();
    let issued = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let revoked = http
        .post(node.control_plane_https("/oauth2/revoke"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[
            ("token", issued["refresh_token"].as_str().unwrap()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(
        !introspect_active(
            &http,
            &node,
            &client,
            issued["access_token"].as_str().unwrap()
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openid_connect_library_discovers_signs_in_and_refreshes() {
    use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
    use openidconnect::{
        AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
        OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    };

    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let http = http_client();
    let browser = browser();
    let (id, secret) = register(&node, &http, "authorization_code refresh_token").await;

    let metadata: Value = ok_json(
        http.get(node.control_plane_https("/oauth2/token/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let issuer = IssuerUrl::new(metadata["issuer"].as_str().unwrap().to_string()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &browser)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        provider,
        ClientId::new(id.clone()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_string()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("apim:api_view".into()))
        .set_pkce_challenge(challenge)
        .url();
    let (status, location) = sign_in(
        &browser,
        &node,
        url.as_str(),
        &node.admin_password,
        "approve",
    )
    .await;
    assert_eq!(status, StatusCode::FOUND, "{location}");
    let params = query_of(&location);
    assert_eq!(&params["state"], state.secret());

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&browser)
        .await
        .unwrap();
    // The library checks the ID token: signature by the JWKS, issuer, audience, nonce, expiry.
    let id_token = tokens.id_token().expect("an id_token for the openid scope");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), "admin");
    let scopes: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(scopes.contains(&"openid".to_string()), "{scopes:?}");

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&browser)
        .await
        .unwrap();
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret()
    );
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_and_old_tokens_stay_valid() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let http = http_client();
    let flow = Flow::login_with_scopes(&node, "apim:admin").await;
    let client = register(&node, &http, "client_credentials").await;
    let old_token = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[("grant_type", "client_credentials")],
        )
        .await,
        StatusCode::OK,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let before = ok_json(
        http.get(node.control_plane_https("/oauth2/jwks"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);

    let admin = |path: &str| node.control_plane_https(&format!("/api/am/admin/v4{path}"));
    let rotated = ok_json(
        flow.post(admin("/signing-keys/rotate"), json!({})).await,
        StatusCode::OK,
    )
    .await;
    let new_kid = rotated["kid"].as_str().unwrap();
    let listed = ok_json(
        http.get(admin("/signing-keys"))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["list"][0]["kid"], new_kid);
    assert_eq!(listed["list"][0]["signing"], true);
    assert!(listed["list"][1]["retireAfter"].as_i64().unwrap() > 0);

    let after = ok_json(
        http.get(node.control_plane_https("/oauth2/jwks"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&new_kid));
    let new_token = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[("grant_type", "client_credentials")],
        )
        .await,
        StatusCode::OK,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(claims_of(&new_token).0["kid"], new_kid);
    assert!(introspect_active(&http, &node, &client, &old_token).await);
    assert!(introspect_active(&http, &node, &client, &new_token).await);

    // Rotation needs the admin's scope.
    let viewer = Flow::login_with_scopes(&node, "apim:api_view").await;
    let refused = viewer.post(admin("/signing-keys/rotate"), json!({})).await;
    error_body(refused, StatusCode::FORBIDDEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_keys_show_secrets_once_and_regenerate_them() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let http = http_client();
    let flow = Flow::login(&node).await;
    let app = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "keys-app", "throttlingPolicy": "Unlimited", "tokenType": "JWT"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let app_id = app["applicationId"].as_str().unwrap();
    let keys = ok_json(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/generate-keys")),
            json!({"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials", "password"], "callbackUrl": "",
                   "additionalProperties": {"application_access_token_expiry_time": "120", "user_access_token_expiry_time": "N/A"}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let consumer_key = keys["consumerKey"].as_str().unwrap().to_string();
    let secret = keys["consumerSecret"].as_str().unwrap().to_string();
    assert_eq!(
        keys["additionalProperties"]["application_access_token_expiry_time"],
        "120"
    );
    // Stored hashed: the list does not show it again.
    let listed = flow.production_key(app_id).await;
    assert!(listed["consumerSecret"].is_null(), "{listed}");
    let mapping = listed["keyMappingId"].as_str().unwrap().to_string();

    // The per-application validity applies to client-credentials tokens.
    let client = (consumer_key.clone(), secret.clone());
    let issued = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[("grant_type", "client_credentials")],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(issued["expires_in"], 120);
    assert_eq!(
        claims_of(issued["access_token"].as_str().unwrap()).1["keytype"],
        "PRODUCTION"
    );
    let old_token = issued["access_token"].as_str().unwrap().to_string();

    // Bad validity is refused, naming the field.
    let bad = flow
        .post(
            flow.devportal(&format!("/applications/{app_id}/generate-keys")),
            json!({"keyType": "SANDBOX", "grantTypesToBeSupported": ["client_credentials"], "additionalProperties": {"refresh_token_expiry_time": "soon"}}),
        )
        .await;
    let body = error_body(bad, StatusCode::BAD_REQUEST).await;
    assert!(
        body.to_string()
            .contains("additionalProperties.refresh_token_expiry_time"),
        "{body}"
    );

    // Grant types change: the password grant is no longer allowed.
    let updated = ok_json(
        http.put(flow.devportal(&format!("/applications/{app_id}/oauth-keys/{mapping}")))
            .bearer_auth(&flow.token)
            .json(&json!({"supportedGrantTypes": ["client_credentials"], "callbackUrl": "https://app.example/cb"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        updated["supportedGrantTypes"],
        json!(["client_credentials"])
    );
    assert_eq!(updated["callbackUrl"], "https://app.example/cb");
    let password = token_request(
        &http,
        &node,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", &node.admin_password),
        ],
    )
    .await;
    assert_eq!(
        ok_json(password, StatusCode::BAD_REQUEST).await["error"],
        "unauthorized_client"
    );

    // A new secret: the old one stops working at once, and earlier tokens are revoked.
    let renewed = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/regenerate-secret"
            )),
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let new_secret = renewed["consumerSecret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    let old = token_request(
        &http,
        &node,
        &client,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let client = (consumer_key.clone(), new_secret.clone());
    let fresh = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[("grant_type", "client_credentials")],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        introspect_active(
            &http,
            &node,
            &client,
            fresh["access_token"].as_str().unwrap()
        )
        .await
    );
    assert!(!introspect_active(&http, &node, &client, &old_token).await);

    // The developer portal's generate-token runs the same grant.
    let token = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/generate-token"
            )),
            json!({"consumerSecret": new_secret, "validityPeriod": 60, "scopes": []}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(token["validityTime"], 60);
    let wrong = flow
        .post(
            flow.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/generate-token"
            )),
            json!({"consumerSecret": secret, "validityPeriod": 60}),
        )
        .await;
    let body = error_body(wrong, StatusCode::BAD_REQUEST).await;
    assert!(body.to_string().contains("consumerSecret"), "{body}");

    // map-keys: a client registered elsewhere becomes the application's sandbox keys.
    let registered = register(&node, &http, "client_credentials").await;
    let mapped = ok_json(
        flow.post(
            flow.devportal(&format!("/applications/{app_id}/map-keys")),
            json!({"consumerKey": registered.0, "consumerSecret": registered.1, "keyType": "SANDBOX", "keyManager": "Resident Key Manager"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mapped["mode"], "MAPPED");
    assert_eq!(mapped["keyType"], "SANDBOX");
    let again = flow
        .post(
            flow.devportal(&format!("/applications/{app_id}/map-keys")),
            json!({"consumerKey": registered.0, "consumerSecret": "wrong", "keyType": "SANDBOX"}),
        )
        .await;
    error_body(again, StatusCode::BAD_REQUEST).await;
    let sandbox = ok_json(
        token_request(
            &http,
            &node,
            &registered,
            &[("grant_type", "client_credentials")],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        claims_of(sandbox["access_token"].as_str().unwrap()).1["keytype"],
        "SANDBOX"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_grant_can_be_switched_off() {
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[oauth.grant_type.password]\nenable = false\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let http = http_client();
    let client = register(&node, &http, "password client_credentials").await;
    let refused = token_request(
        &http,
        &node,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", &node.admin_password),
        ],
    )
    .await;
    assert_eq!(
        ok_json(refused, StatusCode::BAD_REQUEST).await["error"],
        "unsupported_grant_type"
    );
    let metadata = ok_json(
        http.get(node.control_plane_https("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(!metadata["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("password")));
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
}

/// An all-in-one node with PizzaShack published on a mock backend, and an admin flow on it.
async fn node_serving_pizzashack() -> (
    tollgate_testkit::MockBackend,
    Node,
    reqwest::Client,
    Flow,
    String,
) {
    let backend = tollgate_testkit::MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow
        .publish_api(tollgate_testkit::flow::pizzashack(&backend.url()))
        .await;
    (backend, node, http_client(), flow, api_id)
}

/// A new consumer secret is an event: the gateway refuses the tokens issued before it, and
/// accepts the ones issued after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regenerated_secret_revokes_earlier_tokens_at_the_gateway() {
    use tollgate_testkit::flow::eventually;
    let (_backend, node, http, flow, api_id) = node_serving_pizzashack().await;
    let (app_id, token) = flow
        .application_with_token("revoking-app", Some(&api_id))
        .await;
    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    let served = eventually(&http, &menu, Some(&token), StatusCode::OK).await;
    assert_eq!(served.status(), StatusCode::OK);

    let key = flow.production_key(&app_id).await;
    let mapping = key["keyMappingId"].as_str().unwrap();
    let renewed = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/oauth-keys/{mapping}/regenerate-secret"
            )),
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let started = std::time::Instant::now();
    let refused = eventually(&http, &menu, Some(&token), StatusCode::UNAUTHORIZED).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let waited = started.elapsed();
    assert!(refused.text().await.unwrap().contains("900901"));
    tracing_free_note(waited);

    // A token from the new secret works at once.
    let client = (
        key["consumerKey"].as_str().unwrap().to_string(),
        renewed["consumerSecret"].as_str().unwrap().to_string(),
    );
    let fresh = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[("grant_type", "client_credentials")],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let served = http
        .get(&menu)
        .bearer_auth(fresh["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
}

/// How long the revocation took to reach the gateway, for the test log (never asserted: the
/// machine is shared).
fn tracing_free_note(waited: std::time::Duration) {
    eprintln!("revocation reached the gateway after {waited:?}");
}

/// Opaque tokens (an application of token type OAUTH) at the gateway of an all-in-one node:
/// introspected once, then served from the cache; a revoked one is refused, an unknown one too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_pass_the_gateway_by_introspection() {
    use tollgate_testkit::flow::eventually;
    let (_backend, node, http, flow, api_id) = node_serving_pizzashack().await;
    let (_, keys, token) = flow
        .application_with_token_type("opaque-app", Some(&api_id), "OAUTH")
        .await;
    assert!(!token.contains('.'), "not an opaque token: {token}");
    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    let served = eventually(&http, &menu, Some(&token), StatusCode::OK).await;
    assert_eq!(served.status(), StatusCode::OK);
    for _ in 0..20 {
        let served = http.get(&menu).bearer_auth(&token).send().await.unwrap();
        assert_eq!(served.status(), StatusCode::OK);
    }
    for unknown in ["0123456789abcdef0123456789abcdef", "not/an\"opaque token"] {
        let refused = http.get(&menu).bearer_auth(unknown).send().await.unwrap();
        let body = error_body(refused, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["code"], "900901");
    }

    let client = (
        keys["consumerKey"].as_str().unwrap().to_string(),
        keys["consumerSecret"].as_str().unwrap().to_string(),
    );
    let revoked = http
        .post(node.control_plane_https("/oauth2/revoke"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    let refused = eventually(&http, &menu, Some(&token), StatusCode::UNAUTHORIZED).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    tracing_free_note(started.elapsed());

    // A new opaque token of the same client works at once.
    let fresh = ok_json(
        token_request(
            &http,
            &node,
            &client,
            &[("grant_type", "client_credentials")],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let fresh = fresh["access_token"].as_str().unwrap();
    assert!(!fresh.contains('.'));
    let served = http.get(&menu).bearer_auth(fresh).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
}
