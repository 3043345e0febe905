//! External key managers through a real process: two small OpenID Connect issuers of the test's
//! own (each with its own keys, a JWKS endpoint and a token endpoint) are registered through the
//! Admin API; the gateway accepts their tokens — the `iss` claim choosing the key manager, never
//! the order they were added in — fetches their key sets off the request path, fetches again
//! (rate-limited) on an unknown `kid`, and stops trusting a disabled one at once. Application
//! keys are mapped from them; the resident key manager exchanges their assertions (JWT bearer
//! grant). And the gateway refuses forged, expired, premature, misaddressed and mistyped tokens
//! with 401 900901, and an API that names its audiences takes only tokens meant for one of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, eventually, ok_json, pizzashack, Flow};
use tollgate_testkit::MockBackend;
use tollgate_testkit::{Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const CLIENT_ID: &str = "partner-client";
const CLIENT_SECRET: &str = "partner-secret";

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

fn rsa_key(kid: &str) -> SigningKey {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let der = private.to_pkcs1_der().unwrap();
    SigningKey {
        kid: kid.into(),
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        }),
    }
}

struct IssuerState {
    issuer: String,
    keys: Mutex<Vec<Arc<SigningKey>>>,
    jwks_fetches: AtomicUsize,
}

/// A small OpenID Connect issuer: discovery, JWKS and a client-credentials token endpoint.
struct TestIssuer {
    url: String,
    state: Arc<IssuerState>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl TestIssuer {
    async fn start(kid: &str) -> TestIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(IssuerState {
            issuer: format!("{url}/issuer"),
            keys: Mutex::new(vec![Arc::new(rsa_key(kid))]),
            jwks_fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/issuer/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestIssuer { url, state }
    }

    fn issuer(&self) -> &str {
        &self.state.issuer
    }

    fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    fn add_key(&self, kid: &str) {
        self.state.keys.lock().unwrap().push(Arc::new(rsa_key(kid)));
    }

    fn key(&self, kid: &str) -> Arc<SigningKey> {
        self.state
            .keys
            .lock()
            .unwrap()
            .iter()
            .find(|k| k.kid == kid)
            .unwrap()
            .clone()
    }

    /// An access token of this issuer for `client`, signed with `kid`, with `changes` applied.
    fn access_token(&self, kid: &str, client: &str, changes: Value) -> String {
        let mut claims = json!({
            "iss": self.issuer(), "sub": client, "azp": client, "aud": "partner-apis",
            "scp": ["read", "write"], "iat": now(), "exp": now() + 600,
            "jti": uuid_like(),
        });
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        sign(&self.key(kid), "at+jwt", &claims)
    }
}

fn uuid_like() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn sign(key: &SigningKey, typ: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = Some(typ.into());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

async fn discovery(State(state): State<Arc<IssuerState>>) -> Json<Value> {
    let base = state.issuer.trim_end_matches("/issuer");
    Json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{base}/jwks"),
        "token_endpoint": format!("{base}/token"),
    }))
}

async fn jwks(State(state): State<Arc<IssuerState>>) -> Json<Value> {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys: Vec<Value> = state
        .keys
        .lock()
        .unwrap()
        .iter()
        .map(|k| k.jwk.clone())
        .collect();
    Json(json!({"keys": keys}))
}

async fn token(
    State(state): State<Arc<IssuerState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (AxumStatus, Json<Value>) {
    let credentials = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default();
    if credentials != format!("{CLIENT_ID}:{CLIENT_SECRET}") {
        return (
            AxumStatus::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            AxumStatus::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        );
    }
    let key = state.keys.lock().unwrap().last().unwrap().clone();
    let claims = json!({
        "iss": state.issuer, "sub": CLIENT_ID, "azp": CLIENT_ID, "aud": "partner-apis",
        "scp": ["read"], "iat": now(), "exp": now() + 600, "jti": uuid_like(),
    });
    (
        AxumStatus::OK,
        Json(
            json!({"access_token": sign(&key, "at+jwt", &claims), "token_type": "Bearer", "expires_in": 600}),
        ),
    )
}

fn key_manager_body(name: &str, issuer: &TestIssuer) -> Value {
    json!({
        "name": name,
        "displayName": format!("{name} (test issuer)"),
        "type": "custom",
        "description": "An issuer of the test's own",
        "issuer": issuer.issuer(),
        "wellKnownEndpoint": format!("{}/issuer/.well-known/openid-configuration", issuer.url),
        "tokenEndpoint": format!("{}/token", issuer.url),
        "certificates": {"type": "JWKS", "value": format!("{}/jwks", issuer.url)},
        "consumerKeyClaim": "azp",
        "scopesClaim": "scp",
        "availableGrantTypes": ["client_credentials"],
        "enabled": true,
        "additionalProperties": {"self_validate_jwt": true},
    })
}

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
    _backend: MockBackend,
    app_id: String,
    menu: String,
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
    let app = ok_json(
        admin
            .post(
                admin.devportal("/applications"),
                json!({"name": "PartnerApp", "throttlingPolicy": "Unlimited", "tokenType": "JWT"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let app_id = app["applicationId"].as_str().unwrap().to_string();
    admin.subscribe(&app_id, &api_id, "Unlimited").await;
    let menu = node.gateway_http("/pizzashack/1.0.0/menu");
    Setup {
        node,
        admin,
        _backend: backend,
        app_id,
        menu,
    }
}

impl Setup {
    fn admin_api(&self, path: &str) -> String {
        self.node
            .control_plane_http(&format!("/api/am/admin/v4{path}"))
    }

    /// An admin's GET that must answer 200 with JSON.
    async fn get(&self, url: String) -> Value {
        ok_json(
            self.admin
                .http
                .get(url)
                .bearer_auth(&self.admin.token)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await
    }

    async fn call(&self, token: &str) -> StatusCode {
        self.admin
            .http
            .get(&self.menu)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn refused(&self, token: &str, why: &str) {
        let response = self
            .admin
            .http
            .get(&self.menu)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let body = error_body(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["code"], "900901", "{why}: {body}");
    }

    async fn add_key_manager(&self, body: Value) -> Value {
        ok_json(
            self.admin.post(self.admin_api("/key-managers"), body).await,
            StatusCode::CREATED,
        )
        .await
    }

    async fn map_keys(&self, key_manager: &str, secret: &str) -> reqwest::Response {
        self.admin
            .post(
                self.admin
                    .devportal(&format!("/applications/{}/map-keys", self.app_id)),
                json!({"consumerKey": CLIENT_ID, "consumerSecret": secret, "keyType": "PRODUCTION", "keyManager": key_manager}),
            )
            .await
    }
}

#[tokio::test]
async fn gateways_trust_external_key_managers_by_issuer() {
    let setup = setup().await;
    let (partner, other) = (TestIssuer::start("k1").await, TestIssuer::start("k1").await);

    // Bad input names its field; nothing is created.
    let mut bad = key_manager_body("Broken", &partner);
    bad["issuer"] = json!("");
    bad["certificates"] = json!({"type": "PEM", "value": "-----BEGIN CERTIFICATE-----"});
    bad["tokenEndpoint"] = json!("not a url");
    let body = error_body(
        setup
            .admin
            .post(setup.admin_api("/key-managers"), bad)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let text = body.to_string();
    for field in ["issuer", "certificates.type", "tokenEndpoint"] {
        assert!(text.contains(field), "{field} not named: {text}");
    }
    // Key sets and secrets never cross a network in the clear: http only on loopback.
    let mut plain = key_manager_body("Plain", &partner);
    plain["certificates"] = json!({"type": "JWKS", "value": "http://idp.example.com/jwks"});
    plain["tokenEndpoint"] = json!("http://idp.example.com/token");
    let body = error_body(
        setup
            .admin
            .post(setup.admin_api("/key-managers"), plain)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let text = body.to_string();
    for field in ["certificates.value", "tokenEndpoint"] {
        assert!(text.contains(field), "{field} not named: {text}");
    }
    let mut resident_issuer = key_manager_body("Impostor", &partner);
    resident_issuer["issuer"] = json!(format!(
        "https://localhost:{}/oauth2/token",
        setup.node.port(9443)
    ));
    error_body(
        setup
            .admin
            .post(setup.admin_api("/key-managers"), resident_issuer)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Discovery reads the issuer's well-known endpoint into a key manager to add.
    let discover = |url: String| {
        setup
            .admin
            .http
            .post(setup.admin_api("/key-managers/discover"))
            .bearer_auth(&setup.admin.token)
            .multipart(
                reqwest::multipart::Form::new()
                    .text("url", url)
                    .text("type", "custom"),
            )
            .send()
    };
    let found = ok_json(
        discover(format!(
            "{}/issuer/.well-known/openid-configuration",
            partner.url
        ))
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["valid"], true, "{found}");
    assert_eq!(found["value"]["issuer"], partner.issuer());
    assert_eq!(
        found["value"]["certificates"]["value"],
        format!("{}/jwks", partner.url)
    );
    assert_eq!(
        found["value"]["tokenEndpoint"],
        format!("{}/token", partner.url)
    );
    let nothing = ok_json(
        discover(format!("{}/nothing-here", partner.url))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(nothing["valid"], false);

    // The other issuer is added first: were key managers tried in list order, its key "k1"
    // would be tried for the partner's tokens too.
    setup
        .add_key_manager(key_manager_body("Other", &other))
        .await;
    let created = setup
        .add_key_manager(key_manager_body("Partner", &partner))
        .await;
    let partner_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["issuer"], partner.issuer());
    assert_eq!(created["certificates"]["type"], "JWKS");
    assert_eq!(created["scopesClaim"], "scp");
    assert_eq!(created["additionalProperties"]["self_validate_jwt"], true);
    error_body(
        setup
            .admin
            .post(
                setup.admin_api("/key-managers"),
                key_manager_body("Partner", &partner),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    let listed = setup.get(setup.admin_api("/key-managers")).await;
    let names: Vec<&str> = listed["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Resident Key Manager", "Other", "Partner"]);
    let portal = setup.get(setup.admin.devportal("/key-managers")).await;
    assert_eq!(portal["count"], 3);
    assert_eq!(
        portal["list"][2]["tokenEndpoint"],
        format!("{}/token", partner.url)
    );

    // Keys of the partner's client: its token endpoint proves the secret.
    let wrong = error_body(
        setup.map_keys("Partner", "not-the-secret").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(wrong.to_string().contains("consumerSecret"), "{wrong}");
    let mapped = ok_json(
        setup.map_keys("Partner", CLIENT_SECRET).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mapped["keyManager"], "Partner");
    assert_eq!(mapped["mode"], "MAPPED");
    let mapping_id = mapped["keyMappingId"].as_str().unwrap().to_string();
    // Its tokens come from the partner: the resident key manager does not issue them.
    error_body(
        setup
            .admin
            .post(
                setup.admin.devportal(&format!(
                    "/applications/{}/oauth-keys/{mapping_id}/generate-token",
                    setup.app_id
                )),
                json!({"grantType": "CLIENT_CREDENTIALS"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // A token from the partner's own token endpoint works at the gateway.
    let token = ok_json(
        setup
            .admin
            .http
            .post(format!("{}/token", partner.url))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let response = eventually(&setup.admin.http, &setup.menu, Some(&token), StatusCode::OK).await;
    assert_eq!(response.status(), StatusCode::OK);
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
    let forged = sign(
        &other.key("k1"),
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
    let mut disabled = key_manager_body("Partner", &partner);
    disabled["enabled"] = json!(false);
    let put = |body: Value| {
        setup
            .admin
            .http
            .put(setup.admin_api(&format!("/key-managers/{partner_id}")))
            .bearer_auth(&setup.admin.token)
            .json(&body)
            .send()
    };
    let updated = ok_json(put(disabled).await.unwrap(), StatusCode::OK).await;
    assert_eq!(updated["enabled"], false);
    // An edit that leaves `enabled` out keeps it disabled.
    let mut edited = key_manager_body("Partner", &partner);
    edited.as_object_mut().unwrap().remove("enabled");
    edited["description"] = json!("edited while disabled");
    let updated = ok_json(put(edited).await.unwrap(), StatusCode::OK).await;
    assert_eq!(updated["enabled"], false);
    let started = std::time::Instant::now();
    let response = eventually(
        &setup.admin.http,
        &setup.menu,
        Some(&token),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut renamed = key_manager_body("Renamed", &partner);
    renamed["enabled"] = json!(true);
    error_body(put(renamed).await.unwrap(), StatusCode::BAD_REQUEST).await;
    ok_json(
        put(key_manager_body("Partner", &partner)).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let response = eventually(&setup.admin.http, &setup.menu, Some(&token), StatusCode::OK).await;
    assert_eq!(response.status(), StatusCode::OK);

    // The resident key manager cannot be changed here; a key manager with mapped keys cannot
    // be deleted until the keys are removed.
    let resident_id = listed["list"][0]["id"].as_str().unwrap();
    let resident = setup
        .get(setup.admin_api(&format!("/key-managers/{resident_id}")))
        .await;
    assert_eq!(resident["type"], "default");
    assert!(resident["tokenEndpoint"]
        .as_str()
        .unwrap()
        .ends_with("/oauth2/token"));
    let delete = |id: String| {
        setup
            .admin
            .http
            .delete(setup.admin_api(&format!("/key-managers/{id}")))
            .bearer_auth(&setup.admin.token)
            .send()
    };
    error_body(
        delete(resident_id.to_string()).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    error_body(
        delete(partner_id.clone()).await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    ok_json(
        setup
            .admin
            .post(
                setup.admin.devportal(&format!(
                    "/applications/{}/oauth-keys/{mapping_id}/clean-up",
                    setup.app_id
                )),
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let response = eventually(
        &setup.admin.http,
        &setup.menu,
        Some(&token),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(delete(partner_id).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn assertions_of_trusted_issuers_are_exchanged_for_tokens() {
    let setup = setup().await;
    let partner = TestIssuer::start("k1").await;
    setup
        .add_key_manager(key_manager_body("Partner", &partner))
        .await;
    let http = &setup.admin.http;
    let registered = ok_json(
        http.post(
            setup
                .node
                .control_plane_http("/client-registration/v0.17/register"),
        )
        .basic_auth("admin", Some(&setup.node.admin_password))
        .json(&json!({"clientName": "bearer-test", "owner": "admin",
            "grantType": "urn:ietf:params:oauth:grant-type:jwt-bearer client_credentials"}))
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    let (client_id, client_secret) = (
        registered["clientId"].as_str().unwrap(),
        registered["clientSecret"].as_str().unwrap(),
    );
    let metadata = ok_json(
        http.get(
            setup
                .node
                .control_plane_http("/.well-known/oauth-authorization-server"),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(metadata["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("urn:ietf:params:oauth:grant-type:jwt-bearer")));
    let audience = metadata["issuer"].as_str().unwrap().to_string();
    let exchange = |assertion: String| {
        http.post(setup.node.control_plane_https("/oauth2/token"))
            .basic_auth(client_id, Some(client_secret))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
                ("scope", "default apim:admin apim:api_create"),
            ])
            .send()
    };
    let assertion = |changes: Value| {
        let mut claims = json!({"iss": partner.issuer(), "sub": "admin", "aud": audience,
            "exp": now() + 300, "iat": now(), "jti": uuid_like()});
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        sign(&partner.key("k1"), "JWT", &claims)
    };

    let token = ok_json(
        exchange(assertion(json!({}))).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(token["token_type"], "Bearer");
    assert!(token.get("refresh_token").is_none());
    let access = token["access_token"].as_str().unwrap();
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    // The subject is the partner's user, not the local admin of the same name: it holds no
    // local roles, so no role-guarded scope, and the REST APIs refuse it.
    assert_eq!(payload["sub"], "Partner/admin");
    assert_eq!(payload["azp"], client_id);
    assert_eq!(token["scope"], "default");
    let refused = http
        .get(setup.admin_api("/key-managers"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert!(
        refused.status() == StatusCode::FORBIDDEN || refused.status() == StatusCode::UNAUTHORIZED,
        "{}",
        refused.status()
    );
    // A subject naming a tenant stays in the client's tenant.
    let tenanted = ok_json(
        exchange(assertion(json!({"sub": "alice@victim.org"})))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(
                tenanted["access_token"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["sub"], "Partner/alice%40victim.org");

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
        let body = oauth_error(exchange(assertion(changes)).await.unwrap()).await;
        assert_eq!(body["error"], "invalid_grant", "{why}: {body}");
    }
    // Not a trusted issuer: an assertion from an unregistered one.
    let stranger = TestIssuer::start("k1").await;
    let untrusted = sign(
        &stranger.key("k1"),
        "JWT",
        &json!({"iss": stranger.issuer(), "sub": "admin", "aud": audience, "exp": now() + 300}),
    );
    let body = oauth_error(exchange(untrusted).await.unwrap()).await;
    assert_eq!(body["error"], "invalid_grant");
    // A client not allowed the grant is refused it.
    let (plain_id, plain_secret) = {
        let registered = ok_json(
            http.post(
                setup
                    .node
                    .control_plane_http("/client-registration/v0.17/register"),
            )
            .basic_auth("admin", Some(&setup.node.admin_password))
            .json(&json!({"clientName": "plain", "owner": "admin", "grantType": "client_credentials"}))
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
    };
    let body = oauth_error(
        http.post(setup.node.control_plane_https("/oauth2/token"))
            .basic_auth(&plain_id, Some(&plain_secret))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion(json!({})).as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn the_gateway_refuses_forged_and_misused_tokens() {
    let setup = setup().await;
    let partner = TestIssuer::start("k1").await;
    setup
        .add_key_manager(key_manager_body("Partner", &partner))
        .await;
    ok_json(
        setup.map_keys("Partner", CLIENT_SECRET).await,
        StatusCode::OK,
    )
    .await;
    let good = partner.access_token("k1", CLIENT_ID, json!({}));
    let response = eventually(&setup.admin.http, &setup.menu, Some(&good), StatusCode::OK).await;
    assert_eq!(response.status(), StatusCode::OK);

    // A resident token of the application, for tampering.
    let keys = ok_json(
        setup
            .admin
            .post(
                setup
                    .admin
                    .devportal(&format!("/applications/{}/generate-keys", setup.app_id)),
                json!({"keyType": "SANDBOX", "grantTypesToBeSupported": ["client_credentials"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let resident = setup.admin.token_for(&setup.app_id, &keys, 600).await;
    let (header, rest) = resident.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();

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
    let jwks = ok_json(
        setup
            .admin
            .http
            .get(setup.node.control_plane_http("/oauth2/jwks"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
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
            let mut claims: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(good.split('.').nth(1).unwrap())
                    .unwrap(),
            )
            .unwrap();
            claims["jti"] = json!(uuid_like());
            sign(&partner.key("k1"), "JWT", &claims)
        }),
    ] {
        setup.refused(&token, why).await;
    }
    // The genuine ones still pass.
    assert_eq!(setup.call(&good).await, StatusCode::OK);
    assert_eq!(setup.call(&resident).await, StatusCode::OK);

    // An API that names its audiences takes only tokens meant for one of them.
    let mut orders = pizzashack(&setup._backend.url());
    orders["name"] = json!("Orders");
    orders["context"] = json!("/orders");
    orders["audiences"] = json!(["https://orders.example"]);
    let orders_id = setup.admin.publish_api(orders).await;
    let stored = setup
        .get(setup.admin.publisher(&format!("/apis/{orders_id}")))
        .await;
    assert_eq!(stored["audiences"], json!(["https://orders.example"]));
    setup
        .admin
        .subscribe(&setup.app_id, &orders_id, "Unlimited")
        .await;
    let orders_menu = setup.node.gateway_http("/orders/1.0.0/menu");
    let meant = partner.access_token(
        "k1",
        CLIENT_ID,
        json!({"aud": ["https://elsewhere.example", "https://orders.example"]}),
    );
    let response = eventually(
        &setup.admin.http,
        &orders_menu,
        Some(&meant),
        StatusCode::OK,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    for (why, token) in [
        ("another audience", good.clone()),
        (
            "no audience",
            partner.access_token("k1", CLIENT_ID, json!({"aud": null})),
        ),
    ] {
        let response = setup
            .admin
            .http
            .get(&orders_menu)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let body = error_body(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["code"], "900901", "{why}: {body}");
    }
    let mut bad = pizzashack(&setup._backend.url());
    bad["name"] = json!("BadAudiences");
    bad["context"] = json!("/bad-audiences");
    bad["audiences"] = json!(["", "x"]);
    let body = error_body(
        setup.admin.post(setup.admin.publisher("/apis"), bad).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(body.to_string().contains("audiences[0]"), "{body}");
}

/// An RFC 6749 §5.2 error answer (400).
async fn oauth_error(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    response.json().await.unwrap()
}

fn key_id(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}
