//! External key managers at the gateway: two small OpenID Connect issuers of the test's own
//! (each with its own keys, a JWKS endpoint and a token endpoint) are registered through the
//! Admin API; the gateway accepts their tokens — the `iss` claim choosing the key manager, never
//! the order they were added in — fetches their key sets off the request path, fetches again
//! (rate-limited) on an unknown `kid`, and stops trusting a disabled one at once. And the gateway
//! refuses forged, expired, premature, misaddressed and mistyped tokens with 401 900901, and an
//! API that names its audiences takes only tokens meant for one of them. (The key managers'
//! own rules through the Admin API, and the JWT bearer grant, are tested in process:
//! `operations/tests/rules/rest/key_managers.rs`, `keymanager/tests/oauth.rs`.)

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{get_public_json, pizzashack, Flow};
use tollgate_testkit::gateway::{Bearer, Gateway};
use tollgate_testkit::issuer::{jti, now, TestIssuer, CLIENT_ID, CLIENT_SECRET};
use tollgate_testkit::jwt::claims_of;
use tollgate_testkit::oauth::OAuthClient;
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const MENU: &str = "/pizzashack/1.0.0/menu";

async fn start_node() -> Node {
    Node::start(
        BIN.as_ref(),
        NodeOptions {
            // Only RFC 9068 access tokens: an ID token (or any other JWT) of a trusted issuer
            // is no access token.
            extra_config: "[oauth.token_validation]\nrequire_at_jwt = true\n".into(),
            env: vec![("TOLLGATE_LOG".into(), "info,tollgate_gateway=debug".into())],
            ..NodeOptions::default()
        },
    )
    .await
}

struct Setup {
    node: Node,
    admin: Flow,
    gateway: Gateway,
    backend: MockBackend,
    app_id: String,
}

/// A node with the PizzaShack API published and an application subscribed to it.
async fn setup() -> Setup {
    let node = start_node().await;
    let backend = MockBackend::start().await;
    let admin = Flow::login_with_scopes(
        &node,
        "apim:admin apim:api_view apim:api_create apim:api_publish apim:subscribe",
    )
    .await;
    let api_id = admin.publish_api(pizzashack(&backend.url())).await;
    let app_id = admin.create_application("PartnerApp").await;
    admin.subscribe(&app_id, &api_id, "Unlimited").await;
    Setup {
        gateway: Gateway::of(&node),
        node,
        admin,
        backend,
        app_id,
    }
}

impl Setup {
    async fn call(&self, token: &str) -> StatusCode {
        self.gateway.get(MENU, Bearer(token)).await.status
    }

    async fn refused(&self, token: &str, why: &str) {
        let answer = self.gateway.get(MENU, Bearer(token)).await;
        let body = answer.refused(StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "900901", "{why}: {body}");
    }

    /// Maps the issuer's client as the application's production keys through `key_manager`.
    async fn map_keys(&self, key_manager: &str) -> Value {
        self.admin
            .map_keys(
                &self.app_id,
                json!({"consumerKey": CLIENT_ID, "consumerSecret": CLIENT_SECRET, "keyType": "PRODUCTION", "keyManager": key_manager}),
            )
            .await
    }
}

#[tokio::test]
async fn gateways_trust_external_key_managers_by_issuer() {
    let setup = setup().await;
    let (partner, other) = (TestIssuer::start("k1").await, TestIssuer::start("k1").await);

    // The other issuer is added first: were key managers tried in list order, its key "k1"
    // would be tried for the partner's tokens too.
    setup
        .admin
        .add_key_manager(other.key_manager_body("Other"))
        .await;
    let created = setup
        .admin
        .add_key_manager(partner.key_manager_body("Partner"))
        .await;
    let partner_id = created["id"].as_str().unwrap().to_string();
    let mapped = setup.map_keys("Partner").await;

    // A token from the partner's own token endpoint works at the gateway.
    let token = OAuthClient::at(&partner.token_endpoint(), CLIENT_ID, CLIENT_SECRET)
        .client_credentials()
        .await;
    setup
        .gateway
        .until(MENU, Bearer(&token), StatusCode::OK)
        .await;
    for _ in 0..20 {
        assert_eq!(setup.call(&token).await, StatusCode::OK);
    }
    let fetched = partner.jwks_fetches();
    assert!(
        (1..=3).contains(&fetched),
        "key set fetched {fetched} times"
    );

    // The other issuer's "k1" is another key: a token claiming the partner as issuer but
    // signed by it is refused, and so is one claiming the other issuer (its client is not
    // mapped through it).
    let forged = other.key("k1").sign(
        "at+jwt",
        &json!({"iss": partner.issuer(), "azp": CLIENT_ID, "exp": now() + 600, "iat": now()}),
    );
    setup
        .refused(&forged, "signed by another issuer's key")
        .await;
    let elsewhere = other.access_token("k1", CLIENT_ID, json!({}));
    setup
        .refused(&elsewhere, "client mapped through another key manager")
        .await;

    // The partner rotates: a token signed by its new key is accepted at once (the gateway
    // fetches the set again when it meets the unknown kid, at most once a second).
    partner.add_key("k2");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rotated = partner.access_token("k2", CLIENT_ID, json!({}));
    assert_eq!(setup.call(&rotated).await, StatusCode::OK);

    // Tokens naming keys that do not exist fetch the set at most once a second.
    let before = partner.jwks_fetches();
    let started = std::time::Instant::now();
    for i in 0..10 {
        let mut unknown = partner.access_token("k2", CLIENT_ID, json!({}));
        let header = URL_SAFE_NO_PAD.encode(
            json!({"alg": "RS256", "typ": "at+jwt", "kid": format!("nope-{i}")}).to_string(),
        );
        unknown = format!("{header}.{}", unknown.split_once('.').unwrap().1);
        setup.refused(&unknown, "unknown kid").await;
    }
    let fetches = partner.jwks_fetches() - before;
    assert!(
        fetches <= 1 + started.elapsed().as_secs() as usize,
        "{fetches} fetches for 10 unknown kids"
    );

    // Disabled: its tokens are refused within a second; enabled again: accepted.
    let mut disabled = partner.key_manager_body("Partner");
    disabled["enabled"] = json!(false);
    setup.admin.update_key_manager(&partner_id, disabled).await;
    let started = std::time::Instant::now();
    setup
        .gateway
        .until(MENU, Bearer(&token), StatusCode::UNAUTHORIZED)
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    setup
        .admin
        .update_key_manager(&partner_id, partner.key_manager_body("Partner"))
        .await;
    setup
        .gateway
        .until(MENU, Bearer(&token), StatusCode::OK)
        .await;

    // Its keys removed, the partner's tokens are refused; then the key manager can go.
    setup.admin.clean_up_keys(&setup.app_id, &mapped).await;
    setup
        .gateway
        .until(MENU, Bearer(&token), StatusCode::UNAUTHORIZED)
        .await;
    setup.admin.delete_key_manager(&partner_id).await;
}

#[tokio::test]
async fn the_gateway_refuses_forged_and_misused_tokens() {
    let setup = setup().await;
    let partner = TestIssuer::start("k1").await;
    setup
        .admin
        .add_key_manager(partner.key_manager_body("Partner"))
        .await;
    setup.map_keys("Partner").await;
    let good = partner.access_token("k1", CLIENT_ID, json!({}));
    setup
        .gateway
        .until(MENU, Bearer(&good), StatusCode::OK)
        .await;

    // A resident token of the application, for tampering.
    let keys = setup.admin.generate_keys(&setup.app_id, "SANDBOX").await;
    let resident = setup.admin.token_for(&setup.app_id, &keys, 600).await;
    let (header, rest) = resident.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut claims = claims_of(&resident);

    // alg none, with and without a signature.
    let none_header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "typ": "at+jwt", "kid": key_id(&resident)}).to_string());
    setup
        .refused(&format!("{none_header}.{payload}."), "alg none")
        .await;
    setup
        .refused(
            &format!("{none_header}.{payload}.{signature}"),
            "alg none, signed",
        )
        .await;

    // HS256 with the resident key's public key (its JWK and PEM forms) as the HMAC secret.
    let jwks = get_public_json(&setup.node.control_plane_http("/oauth2/jwks")).await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == key_id(&resident))
        .unwrap()
        .clone();
    let modulus = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let exponent = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let public = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&modulus),
        rsa::BigUint::from_bytes_be(&exponent),
    )
    .unwrap();
    use rsa::pkcs8::EncodePublicKey;
    let pem = public
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap();
    for secret in [pem.as_bytes(), jwk.to_string().as_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key_id(&resident));
        header.typ = Some("at+jwt".into());
        let forged =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap();
        setup.refused(&forged, "HS256 with the public key").await;
    }

    // A tampered payload under the original signature.
    claims["scope"] = json!("apim:admin everything");
    let tampered_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    setup
        .refused(
            &format!("{header}.{tampered_payload}.{signature}"),
            "tampered payload",
        )
        .await;

    // An unknown kid (of the resident issuer).
    let unknown_kid = URL_SAFE_NO_PAD
        .encode(json!({"alg": "RS256", "typ": "at+jwt", "kid": "no-such-key"}).to_string());
    setup
        .refused(
            &format!("{unknown_kid}.{payload}.{signature}"),
            "unknown kid",
        )
        .await;

    // Well signed, but expired, not valid yet, from another issuer, or not an access token.
    for (why, token) in [
        (
            "expired",
            partner.access_token(
                "k1",
                CLIENT_ID,
                json!({"exp": now() - 3600, "iat": now() - 7200}),
            ),
        ),
        (
            "nbf in the future",
            partner.access_token("k1", CLIENT_ID, json!({"nbf": now() + 3600})),
        ),
        (
            "issuer not registered",
            partner.access_token("k1", CLIENT_ID, json!({"iss": "https://unknown.example/"})),
        ),
        (
            "claims the resident issuer",
            partner.access_token("k1", CLIENT_ID, json!({"iss": claims["iss"]})),
        ),
        (
            "no client claim",
            partner.access_token("k1", CLIENT_ID, json!({"azp": null})),
        ),
        (
            "an ID token (nonce)",
            partner.access_token("k1", CLIENT_ID, json!({"nonce": "n-0S6_WzA2Mj"})),
        ),
        ("an ID token (typ JWT)", {
            let mut claims = claims_of(&good);
            claims["jti"] = json!(jti());
            partner.key("k1").sign("JWT", &claims)
        }),
    ] {
        setup.refused(&token, why).await;
    }
    // The genuine ones still pass.
    assert_eq!(setup.call(&good).await, StatusCode::OK);
    assert_eq!(setup.call(&resident).await, StatusCode::OK);

    // An API that names its audiences takes only tokens meant for one of them.
    let mut orders = pizzashack(&setup.backend.url());
    orders["name"] = json!("Orders");
    orders["context"] = json!("/orders");
    orders["audiences"] = json!(["https://orders.example"]);
    let orders_id = setup.admin.publish_api(orders).await;
    setup
        .admin
        .subscribe(&setup.app_id, &orders_id, "Unlimited")
        .await;
    let orders_menu = "/orders/1.0.0/menu";
    let meant = partner.access_token(
        "k1",
        CLIENT_ID,
        json!({"aud": ["https://elsewhere.example", "https://orders.example"]}),
    );
    setup
        .gateway
        .until(orders_menu, Bearer(&meant), StatusCode::OK)
        .await;
    for (why, token) in [
        ("another audience", good.clone()),
        (
            "no audience",
            partner.access_token("k1", CLIENT_ID, json!({"aud": null})),
        ),
    ] {
        let body = setup
            .gateway
            .get(orders_menu, Bearer(&token))
            .await
            .refused(StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "900901", "{why}: {body}");
    }
}

fn key_id(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}
