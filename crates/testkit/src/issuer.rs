//! An OpenID Connect issuer of the test's own on loopback — discovery, a JWKS endpoint and a
//! client-credentials token endpoint for one client — with keys the test holds, so it can sign
//! whatever token or assertion a scenario needs (good, forged, expired, misaddressed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

/// The one client the issuer's token endpoint knows.
pub const CLIENT_ID: &str = "partner-client";
pub const CLIENT_SECRET: &str = "partner-secret";

/// An RSA signing key: its `kid`, the private half for signing, the public half as a JWK.
pub struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    pub jwk: Value,
}

impl SigningKey {
    /// A new 2048-bit RSA key named `kid`.
    pub fn generate(kid: &str) -> SigningKey {
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key");
        let der = private.to_pkcs1_der().expect("DER");
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

    /// `claims` signed RS256 with this key, the header naming its `kid` and `typ`.
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.into());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

struct IssuerState {
    issuer: String,
    keys: Mutex<Vec<Arc<SigningKey>>>,
    jwks_fetches: AtomicUsize,
}

/// The issuer, serving on loopback for as long as the test's runtime lives.
pub struct TestIssuer {
    /// `http://127.0.0.1:<port>`: `/issuer/.well-known/openid-configuration`, `/jwks`, `/token`.
    pub url: String,
    state: Arc<IssuerState>,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs() as i64
}

/// A random token id.
pub fn jti() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl TestIssuer {
    /// Starts an issuer with one key, `kid`.
    pub async fn start(kid: &str) -> TestIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the issuer");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let state = Arc::new(IssuerState {
            issuer: format!("{url}/issuer"),
            keys: Mutex::new(vec![Arc::new(SigningKey::generate(kid))]),
            jwks_fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/issuer/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestIssuer { url, state }
    }

    /// The `iss` of its tokens (`<url>/issuer`).
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// Its OpenID Connect discovery document's URL.
    pub fn well_known(&self) -> String {
        format!("{}/issuer/.well-known/openid-configuration", self.url)
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.url)
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.url)
    }

    /// How often its key set has been fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Publishes another key (a rotation); tokens of its token endpoint are signed with it.
    pub fn add_key(&self, kid: &str) {
        self.state
            .keys
            .lock()
            .expect("the keys")
            .push(Arc::new(SigningKey::generate(kid)));
    }

    /// One of its keys.
    pub fn key(&self, kid: &str) -> Arc<SigningKey> {
        self.state
            .keys
            .lock()
            .expect("the keys")
            .iter()
            .find(|k| k.kid == kid)
            .cloned()
            .unwrap_or_else(|| panic!("no key {kid}"))
    }

    /// An RFC 9068 access token (`at+jwt`) of this issuer for `client`, signed with `kid`,
    /// with `changes` merged into its claims (`null` removes nothing but sets null).
    pub fn access_token(&self, kid: &str, client: &str, changes: Value) -> String {
        let mut claims = json!({
            "iss": self.issuer(), "sub": client, "azp": client, "aud": "partner-apis",
            "scp": ["read", "write"], "iat": now(), "exp": now() + 600, "jti": jti(),
        });
        merge(&mut claims, changes);
        self.key(kid).sign("at+jwt", &claims)
    }

    /// An assertion (RFC 7523, `typ` JWT) of this issuer for `subject`, meant for `audience`,
    /// signed with `kid`, with `changes` merged into its claims.
    pub fn assertion(&self, kid: &str, subject: &str, audience: &str, changes: Value) -> String {
        let mut claims = json!({"iss": self.issuer(), "sub": subject, "aud": audience,
            "exp": now() + 300, "iat": now(), "jti": jti()});
        merge(&mut claims, changes);
        self.key(kid).sign("JWT", &claims)
    }

    /// WSO2's key manager object for this issuer (type `custom`, keys by JWKS, self-validated
    /// JWTs), named `name`.
    pub fn key_manager_body(&self, name: &str) -> Value {
        json!({
            "name": name,
            "displayName": format!("{name} (test issuer)"),
            "type": "custom",
            "description": "An issuer of the test's own",
            "issuer": self.issuer(),
            "wellKnownEndpoint": self.well_known(),
            "tokenEndpoint": self.token_endpoint(),
            "certificates": {"type": "JWKS", "value": self.jwks_url()},
            "consumerKeyClaim": "azp",
            "scopesClaim": "scp",
            "availableGrantTypes": ["client_credentials"],
            "enabled": true,
            "additionalProperties": {"self_validate_jwt": true},
        })
    }
}

fn merge(claims: &mut Value, changes: Value) {
    if let Value::Object(changes) = changes {
        for (k, v) in changes {
            claims[k] = v;
        }
    }
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
        .expect("the keys")
        .iter()
        .map(|k| k.jwk.clone())
        .collect();
    Json(json!({"keys": keys}))
}

async fn token(
    State(state): State<Arc<IssuerState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let credentials = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default();
    if credentials != format!("{CLIENT_ID}:{CLIENT_SECRET}") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        );
    }
    let key = state
        .keys
        .lock()
        .expect("the keys")
        .last()
        .expect("a key")
        .clone();
    let claims = json!({
        "iss": state.issuer, "sub": CLIENT_ID, "azp": CLIENT_ID, "aud": "partner-apis",
        "scp": ["read"], "iat": now(), "exp": now() + 600, "jti": jti(),
    });
    (
        StatusCode::OK,
        Json(
            json!({"access_token": key.sign("at+jwt", &claims), "token_type": "Bearer", "expires_in": 600}),
        ),
    )
}
