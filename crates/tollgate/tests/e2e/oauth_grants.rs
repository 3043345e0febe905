//! The key manager's grants where they meet real processes: a standard OpenID Connect client
//! library doing discovery, the code flow and a refresh against a node's listeners; a new
//! consumer secret and a revoked opaque token refused by the gateway. (What the token,
//! authorization and introspection endpoints accept and refuse is tested in process:
//! `crates/keymanager/tests/oauth.rs`.)

use std::collections::HashMap;
use std::path::Path;

use reqwest::StatusCode;
use serde_json::json;
use tollgate_testkit::flow::{get_public_json, pizzashack, Flow};
use tollgate_testkit::gateway::{Bearer, Gateway};
use tollgate_testkit::oauth::{register_client_with, OAuthClient};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const CALLBACK: &str = "http://127.0.0.1:9/callback";
const MENU: &str = "/pizzashack/1.0.0/menu";

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
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
            let field = |attribute: &str| {
                rest.split(&format!("{attribute}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string()
            };
            (unescape(&field("name")), unescape(&field("value")))
        })
        .collect()
}

fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Opens the authorization page as a browser would, signs the admin in and approves; the
/// redirect's status and Location. (The page's form is what a browser posts: raw requests.)
async fn sign_in(
    browser: &reqwest::Client,
    node: &Node,
    authorize_url: &str,
) -> (StatusCode, String) {
    let page = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let mut form = hidden_fields(&page.text().await.unwrap());
    form.push(("username".into(), "admin".into()));
    form.push(("password".into(), node.admin_password.clone()));
    form.push(("consent".into(), "approve".into()));
    let answer = browser
        .post(node.control_plane_https("/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = answer
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (answer.status(), location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openid_connect_library_discovers_signs_in_and_refreshes() {
    use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
    use openidconnect::{
        AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
        OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    };

    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let browser = browser();
    let registered = register_client_with(
        &node,
        json!({"clientName": "grants-test", "owner": "admin",
            "grantType": "authorization_code refresh_token", "callbackUrl": CALLBACK}),
    )
    .await;

    let metadata = get_public_json(
        &node.control_plane_https("/oauth2/token/.well-known/openid-configuration"),
    )
    .await;
    let issuer = IssuerUrl::new(metadata["issuer"].as_str().unwrap().to_string()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &browser)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        provider,
        ClientId::new(registered.id.clone()),
        Some(ClientSecret::new(registered.secret.clone())),
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
    let (status, location) = sign_in(&browser, &node, url.as_str()).await;
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

/// An all-in-one node with PizzaShack published on a mock backend, and an admin flow on it.
async fn node_serving_pizzashack() -> (MockBackend, Node, Flow, String) {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    (backend, node, flow, api_id)
}

/// A new consumer secret is an event: the gateway refuses the tokens issued before it, and
/// accepts the ones issued after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regenerated_secret_revokes_earlier_tokens_at_the_gateway() {
    let (_backend, node, flow, api_id) = node_serving_pizzashack().await;
    let gateway = Gateway::of(&node);
    let (app_id, token) = flow
        .application_with_token("revoking-app", Some(&api_id))
        .await;
    gateway.until(MENU, Bearer(&token), StatusCode::OK).await;

    let key = flow.production_key(&app_id).await;
    let renewed = flow.regenerate_secret(&app_id, &key).await;
    let started = std::time::Instant::now();
    let refused = gateway
        .until(MENU, Bearer(&token), StatusCode::UNAUTHORIZED)
        .await;
    assert!(refused.body.contains("900901"));
    tracing_free_note(started.elapsed());

    // A token from the new secret works at once.
    let client = OAuthClient::new(
        &node,
        key["consumerKey"].as_str().unwrap(),
        renewed["consumerSecret"].as_str().unwrap(),
    );
    let fresh = client.client_credentials().await;
    assert_eq!(
        gateway.get(MENU, Bearer(&fresh)).await.status,
        StatusCode::OK
    );
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
    let (_backend, node, flow, api_id) = node_serving_pizzashack().await;
    let gateway = Gateway::of(&node);
    let (_, keys, token) = flow
        .application_with_token_type("opaque-app", Some(&api_id), "OAUTH")
        .await;
    assert!(!token.contains('.'), "not an opaque token: {token}");
    gateway.until(MENU, Bearer(&token), StatusCode::OK).await;
    for _ in 0..20 {
        assert_eq!(
            gateway.get(MENU, Bearer(&token)).await.status,
            StatusCode::OK
        );
    }
    for unknown in ["0123456789abcdef0123456789abcdef", "not/an\"opaque token"] {
        let refused = gateway.get(MENU, Bearer(unknown)).await;
        assert_eq!(refused.refused_with(StatusCode::UNAUTHORIZED), "900901");
    }

    let client = OAuthClient::of_keys(&node, &keys);
    client.revoke(&token).await;
    let started = std::time::Instant::now();
    gateway
        .until(MENU, Bearer(&token), StatusCode::UNAUTHORIZED)
        .await;
    tracing_free_note(started.elapsed());

    // A new opaque token of the same client works at once.
    let fresh = client.client_credentials().await;
    assert!(!fresh.contains('.'));
    assert_eq!(
        gateway.get(MENU, Bearer(&fresh)).await.status,
        StatusCode::OK
    );
}
