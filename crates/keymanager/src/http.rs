//! The key manager's HTTP endpoints, with OAuth2's error format (RFC 6749 §5.2) for the token
//! endpoint and WSO2's for client registration. All of this layer's errors map to HTTP here.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::{KeyManager, KeyManagerError, TokenRequest};

pub fn router(km: Arc<KeyManager>) -> Router {
    Router::new()
        .route("/client-registration/v0.17/register", post(register))
        .route("/oauth2/token", post(token))
        .route(
            "/oauth2/authorize",
            get(authorize_page).post(authorize_decision),
        )
        .route("/oauth2/userinfo", get(userinfo).post(userinfo))
        .route(
            "/oauth2/token/.well-known/openid-configuration",
            get(metadata),
        )
        .route("/.well-known/openid-configuration", get(metadata))
        .route("/oauth2/jwks", get(jwks))
        .route("/oauth2/revoke", post(revoke))
        .route("/oauth2/introspect", post(introspect))
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route(
            "/.well-known/oauth-authorization-server/oauth2/token",
            get(metadata),
        )
        .with_state(km)
}

/// An error of the token endpoint, in OAuth2's shape.
struct OAuthError(KeyManagerError);

impl From<KeyManagerError> for OAuthError {
    fn from(err: KeyManagerError) -> Self {
        OAuthError(err)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, code) = match &self.0 {
            KeyManagerError::InvalidClient => (StatusCode::UNAUTHORIZED, "invalid_client"),
            KeyManagerError::InvalidGrant(_) => (StatusCode::BAD_REQUEST, "invalid_grant"),
            KeyManagerError::UnsupportedGrantType(_) => {
                (StatusCode::BAD_REQUEST, "unsupported_grant_type")
            }
            KeyManagerError::UnauthorizedClient(_) => {
                (StatusCode::BAD_REQUEST, "unauthorized_client")
            }
            KeyManagerError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            KeyManagerError::InvalidScope(_) => (StatusCode::BAD_REQUEST, "invalid_scope"),
            // Only the bearer-token endpoints (userinfo) answer these (RFC 6750 §3.1).
            KeyManagerError::InvalidToken(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
            KeyManagerError::InsufficientScope(_) | KeyManagerError::Forbidden(_) => {
                (StatusCode::FORBIDDEN, "insufficient_scope")
            }
            KeyManagerError::AccountLocked { .. } => (StatusCode::BAD_REQUEST, "invalid_grant"),
            KeyManagerError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable")
            }
            KeyManagerError::Busy | KeyManagerError::Upstream(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
            KeyManagerError::Store(tollgate_store::StoreError::InvalidText(_)) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
            KeyManagerError::Crypto(_) | KeyManagerError::Store(_) => {
                tracing::error!(error = %self.0, "token endpoint failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
            }
        };
        let mut response = (
            status,
            Json(json!({"error": code, "error_description": self.0.to_string()})),
        )
            .into_response();
        if let Some(secs) = retry_after(&self.0) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        let challenge = match &self.0 {
            KeyManagerError::InvalidClient => Some("Basic realm=\"oauth2\""),
            KeyManagerError::InvalidToken(_) => Some("Bearer error=\"invalid_token\""),
            KeyManagerError::InsufficientScope(_) => {
                Some("Bearer error=\"insufficient_scope\", scope=\"openid\"")
            }
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(challenge),
            );
        }
        no_store(response)
    }
}

/// Seconds a client should wait before trying again, for the errors that have one.
pub(crate) fn retry_after(err: &KeyManagerError) -> Option<u64> {
    match err {
        KeyManagerError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
        KeyManagerError::AccountLocked { retry_after_secs } => *retry_after_secs,
        KeyManagerError::Busy => Some(1),
        _ => None,
    }
}

/// The client's address, when the listener gave it.
fn source(client: &Option<Extension<tollgate_guard::ClientAddr>>) -> Option<std::net::IpAddr> {
    client.as_ref().map(|Extension(addr)| addr.0.ip())
}

/// `user:password` from a Basic `Authorization` header; `None` when malformed, or when the user
/// part has control characters (no user has them).
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if user.chars().any(|c| c.is_ascii_control()) {
        return None;
    }
    Some((user.to_string(), password.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationRequest {
    client_name: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    grant_type: Option<String>,
    #[serde(default, alias = "callbackURL")]
    callback_url: Option<String>,
    #[serde(default)]
    saas_app: Option<bool>,
    #[serde(default)]
    token_type: Option<String>,
}

/// Why client registration refused, answered in WSO2's error body: the one place this
/// endpoint's errors become HTTP.
enum RegistrationError {
    /// No credentials, or wrong ones.
    Unauthenticated(&'static str),
    Malformed(String),
    Refused(KeyManagerError),
}

impl From<KeyManagerError> for RegistrationError {
    fn from(err: KeyManagerError) -> Self {
        RegistrationError::Refused(err)
    }
}

impl IntoResponse for RegistrationError {
    fn into_response(self) -> Response {
        let (status, message, description, retry) = match self {
            RegistrationError::Unauthenticated(why) => (
                StatusCode::UNAUTHORIZED,
                "Unauthenticated request",
                why.to_string(),
                None,
            ),
            RegistrationError::Malformed(why) => {
                (StatusCode::BAD_REQUEST, "Bad Request", why, None)
            }
            RegistrationError::Refused(err) => {
                let retry = retry_after(&err);
                let (status, message) = match &err {
                    KeyManagerError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "Bad Request"),
                    KeyManagerError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
                    KeyManagerError::AccountLocked { .. } => {
                        (StatusCode::UNAUTHORIZED, "Unauthenticated request")
                    }
                    KeyManagerError::TooManyAttempts { .. } => {
                        (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
                    }
                    KeyManagerError::Busy => {
                        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
                    }
                    KeyManagerError::Upstream(_) => (StatusCode::BAD_GATEWAY, "Bad Gateway"),
                    _ => {
                        tracing::error!(error = %err, "client registration failed");
                        return wso2_error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "Internal Server Error",
                            "The key manager could not complete the request".into(),
                            None,
                        );
                    }
                };
                (status, message, err.to_string(), retry)
            }
        };
        wso2_error(status, message, description, retry)
    }
}

/// WSO2's error body.
fn wso2_error(
    status: StatusCode,
    message: &str,
    description: String,
    retry_after: Option<u64>,
) -> Response {
    let mut response = (
        status,
        Json(json!({
            "code": status.as_u16(),
            "message": message,
            "description": description,
            "moreInfo": "",
            "error": []
        })),
    )
        .into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    response
}

/// `POST /client-registration/v0.17/register`: WSO2's JSON in, [`KeyManager::register_client`],
/// WSO2's JSON out.
async fn register(
    State(km): State<Arc<KeyManager>>,
    client: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<serde_json::Value>, RegistrationError> {
    let (username, password) =
        basic_credentials(&headers).ok_or(RegistrationError::Unauthenticated(
            "Client registration needs Basic authentication of a user",
        ))?;
    let user = km
        .authenticate_user(&username, &password, source(&client))
        .await?
        .ok_or(RegistrationError::Unauthenticated(
            "Invalid username or password",
        ))?;
    let Json(body) =
        body.map_err(|rejection| RegistrationError::Malformed(rejection.body_text()))?;
    let request: RegistrationRequest = serde_json::from_value(body).map_err(|err| {
        RegistrationError::Malformed(format!("Invalid registration request: {err}"))
    })?;
    let saas = request.saas_app.unwrap_or(false);
    let registered = km
        .register_client(
            &user,
            crate::ClientRegistration {
                client_name: request.client_name,
                owner: request.owner,
                grant_types: request.grant_type,
                callback_url: request.callback_url,
                token_type: request.token_type,
            },
        )
        .await?;
    let client = &registered.client;
    let grant_names: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    let json_string = json!({
        "grant_types": grant_names.join(" "),
        "redirect_uris": client.callback_url,
        "client_name": client.client_name,
    })
    .to_string();
    Ok(Json(json!({
        "clientId": client.consumer_key,
        "clientName": client.client_name,
        "callBackURL": client.callback_url,
        "clientSecret": registered.secret,
        "isSaasApplication": saas,
        "appOwner": client.owner,
        "jsonString": json_string,
        "jsonAppAttribute": "{}",
        "tokenType": client.token_type,
    })))
}

/// The form of an OAuth2 endpoint and the client it authenticates (Basic header, or
/// `client_id` and `client_secret` in the form, as RFC 6749 §2.3.1 allows).
async fn authenticated_client(
    km: &KeyManager,
    client: &Option<Extension<tollgate_guard::ClientAddr>>,
    headers: &HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<(tollgate_store::OAuthClientRow, HashMap<String, String>), OAuthError> {
    let Form(form) = form.map_err(|r| {
        KeyManagerError::InvalidRequest(format!(
            "the body must be application/x-www-form-urlencoded: {}",
            r.body_text()
        ))
    })?;
    // Passwords may hold any character; nothing else in these forms may hold control ones.
    if let Some(name) = form
        .iter()
        .find(|(k, v)| {
            k.chars().any(|c| c.is_ascii_control())
                || (*k != "password" && v.chars().any(|c| c.is_ascii_control()))
        })
        .map(|(k, _)| k.escape_debug().to_string())
    {
        return Err(KeyManagerError::InvalidRequest(format!(
            "parameter '{name}' contains a control character"
        ))
        .into());
    }
    let (client_id, client_secret) = basic_credentials(headers)
        .or_else(|| {
            Some((
                form.get("client_id")?.clone(),
                form.get("client_secret")?.clone(),
            ))
        })
        .ok_or(KeyManagerError::InvalidClient)?;
    let client = km
        .authenticate_client(&client_id, &client_secret, source(client))
        .await?;
    Ok((client, form))
}

async fn token(
    State(km): State<Arc<KeyManager>>,
    client_addr: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, OAuthError> {
    let (client, form) = authenticated_client(&km, &client_addr, &headers, form).await?;
    let request = TokenRequest::from_form(&form)?;
    let response = km.grant(&client, request, source(&client_addr)).await?;
    Ok(no_store(Json(response.to_json()).into_response()))
}

async fn authorize_page(
    State(km): State<Arc<KeyManager>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    km.authorization_page(params).await
}

async fn authorize_decision(
    State(km): State<Arc<KeyManager>>,
    client_addr: Option<Extension<tollgate_guard::ClientAddr>>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(form)) => km.authorization_decision(form, source(&client_addr)).await,
        Err(rejection) => OAuthError(KeyManagerError::InvalidRequest(format!(
            "the body must be application/x-www-form-urlencoded: {}",
            rejection.body_text()
        )))
        .into_response(),
    }
}

/// OIDC userinfo: the bearer token's user (GET or POST, RFC 6750 header).
async fn userinfo(
    State(km): State<Arc<KeyManager>>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| KeyManagerError::InvalidToken("a Bearer access token is required".into()))?;
    let info = km.userinfo(token).await?;
    Ok(no_store(Json(info).into_response()))
}

/// Responses carrying tokens or token details are not to be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    response
}

async fn jwks(State(km): State<Arc<KeyManager>>) -> Json<serde_json::Value> {
    Json(km.jwks())
}

/// RFC 7009 revocation: the client that a token was issued to may revoke it. Unknown, foreign or
/// malformed tokens are answered 200 too, as the RFC asks, so the endpoint reveals nothing.
async fn revoke(
    State(km): State<Arc<KeyManager>>,
    client_addr: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, OAuthError> {
    let (client, form) = authenticated_client(&km, &client_addr, &headers, form).await?;
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| KeyManagerError::InvalidRequest("token is required".into()))?;
    km.revoke(&client.consumer_key, token).await?;
    Ok(StatusCode::OK.into_response())
}

/// RFC 7662 introspection, for an authenticated client: the token's claims while it is valid
/// and not revoked, `{"active": false}` for anything else (expired, revoked, foreign, garbage).
async fn introspect(
    State(km): State<Arc<KeyManager>>,
    client_addr: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, OAuthError> {
    let (_, form) = authenticated_client(&km, &client_addr, &headers, form).await?;
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| KeyManagerError::InvalidRequest("token is required".into()))?;
    let body = match km.introspect(token).await? {
        Some(claims) => {
            let (_, username) = crate::split_tenant(&claims.sub);
            json!({
                "active": true,
                "scope": claims.scope,
                "client_id": claims.azp,
                "username": username,
                "token_type": "Bearer",
                "exp": claims.exp,
                "iat": claims.iat,
                "nbf": claims.nbf,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "jti": claims.jti,
            })
        }
        None => json!({"active": false}),
    };
    Ok(no_store(Json(body).into_response()))
}

/// RFC 8414 authorization server metadata: the endpoints, grants and client authentication
/// methods this key manager supports now.
/// The same document answers OpenID Connect discovery, at the issuer's
/// `/.well-known/openid-configuration` (the issuer ends in `/oauth2/token`, as WSO2's does).
fn server_metadata(km: &KeyManager) -> serde_json::Value {
    let base = km.base_url();
    let grants = km.supported_grants();
    let client_auth = ["client_secret_basic", "client_secret_post"];
    json!({
        "issuer": km.issuer(),
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "jwks_uri": format!("{base}/oauth2/jwks"),
        "userinfo_endpoint": format!("{base}/oauth2/userinfo"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "introspection_endpoint": format!("{base}/oauth2/introspect"),
        "registration_endpoint": format!("{base}/client-registration/v0.17/register"),
        "grant_types_supported": grants,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": client_auth,
        "introspection_endpoint_auth_methods_supported": client_auth,
        "scopes_supported": ["openid", "default"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce",
            "at_hash", "preferred_username", "groups"],
    })
}

async fn metadata(State(km): State<Arc<KeyManager>>) -> Json<serde_json::Value> {
    Json(server_metadata(&km))
}
