//! `/oauth2/authorize` (RFC 6749 §4.1 with PKCE, RFC 7636): a server-rendered sign-in and
//! consent page. The request's parameters travel as hidden fields and are checked again when the
//! form comes back, so no session is kept between the two.
//!
//! Errors before the client and its redirect URI are known to be good are shown on a page; any
//! later error is sent back to the client's redirect URI (§4.1.2.1).

use std::collections::HashMap;
use std::net::IpAddr;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tollgate_model::GrantType;
use tollgate_store::{AuthorizationCodeRow, OAuthClientRow};

use crate::grants::now_secs;
use crate::secrets::{hash_secret, random_token};
use crate::{split_tenant, KeyManager, KeyManagerError};

/// The authorization request parameters that the page carries through.
const CARRIED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

#[derive(Template)]
#[template(path = "authorize.html")]
struct SignInPage<'a> {
    action: &'a str,
    client_name: &'a str,
    hidden: Vec<(&'a str, &'a str)>,
    scopes: Vec<&'a str>,
    username: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "authorize_error.html")]
struct ErrorPage<'a> {
    message: &'a str,
}

/// A checked authorization request.
struct Checked {
    client: OAuthClientRow,
    /// Where the answer goes: the request's `redirect_uri`, or the registered callback.
    redirect_uri: String,
    /// Whether the request named `redirect_uri` (then the token request must name it too).
    redirect_uri_given: bool,
    state: Option<String>,
    scopes: Vec<String>,
    code_challenge: String,
    nonce: Option<String>,
}

/// Where a failed request is answered.
enum Refusal {
    /// Unknown client or a redirect URI it did not register: shown, never redirected.
    Page(String),
    /// Sent back to the client (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl KeyManager {
    /// Checks an authorization request's parameters.
    async fn check_authorization(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<Checked, Refusal> {
        let client_id = params.get("client_id").map(String::as_str).unwrap_or("");
        let client = match self.store.oauth_client(client_id).await {
            Ok(Some(client)) if !client_id.is_empty() => client,
            Ok(_) => {
                return Err(Refusal::Page(
                    "The application (client_id) is unknown.".into(),
                ))
            }
            Err(err) => {
                tracing::error!(error = %err, "authorization request failed");
                return Err(Refusal::Page(
                    "The server could not check the request.".into(),
                ));
            }
        };
        // RFC 9700 §4.1.3: the redirect URI must equal a registered one exactly.
        let redirect_uri_given = params.get("redirect_uri").is_some_and(|u| !u.is_empty());
        let redirect_uri = match params.get("redirect_uri").filter(|u| !u.is_empty()) {
            Some(uri) if *uri == client.callback_url => uri.clone(),
            Some(_) => {
                return Err(Refusal::Page(
                    "The redirect_uri is not the one registered for this application.".into(),
                ))
            }
            None if !client.callback_url.is_empty() => client.callback_url.clone(),
            None => {
                return Err(Refusal::Page(
                    "The application has no callback URL registered.".into(),
                ))
            }
        };
        let state = params.get("state").cloned();
        let refuse = |error: &'static str, description: &str| Refusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
            description: description.to_string(),
        };
        if params.get("response_type").map(String::as_str) != Some("code") {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        if !client.grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(refuse(
                "unauthorized_client",
                "the application may not use the authorization code grant",
            ));
        }
        let code_challenge = match params.get("code_challenge").filter(|c| !c.is_empty()) {
            Some(challenge) => challenge.clone(),
            None => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge is required (PKCE, S256)",
                ))
            }
        };
        if params.get("code_challenge_method").map(String::as_str) != Some("S256") {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256; plain is not accepted",
            ));
        }
        if code_challenge.len() != 43 || URL_SAFE_NO_PAD.decode(&code_challenge).is_err() {
            return Err(refuse(
                "invalid_request",
                "code_challenge is not a base64url SHA-256 digest",
            ));
        }
        let scopes = match crate::grants::scope_list(params.get("scope")) {
            Ok(scopes) => scopes,
            Err(err) => return Err(refuse("invalid_scope", &err.to_string())),
        };
        Ok(Checked {
            client,
            redirect_uri,
            redirect_uri_given,
            state,
            scopes,
            code_challenge,
            nonce: params.get("nonce").filter(|n| !n.is_empty()).cloned(),
        })
    }

    /// `GET /oauth2/authorize`: the sign-in page, or the refusal.
    pub(crate) async fn authorization_page(&self, params: HashMap<String, String>) -> Response {
        match self.check_authorization(&params).await {
            Ok(checked) => sign_in_page(&params, &checked, "", None, StatusCode::OK),
            Err(refusal) => refusal.into_response(),
        }
    }

    /// `POST /oauth2/authorize`: the signed-in user's decision, answered by a redirect carrying
    /// a code (or an error) to the client.
    pub(crate) async fn authorization_decision(
        &self,
        form: HashMap<String, String>,
        source: Option<IpAddr>,
    ) -> Response {
        let checked = match self.check_authorization(&form).await {
            Ok(checked) => checked,
            Err(refusal) => return refusal.into_response(),
        };
        if form.get("consent").map(String::as_str) != Some("approve") {
            return Refusal::Redirect {
                redirect_uri: checked.redirect_uri,
                state: checked.state,
                error: "access_denied",
                description: "the user denied the request".into(),
            }
            .into_response();
        }
        let username = form.get("username").map(String::as_str).unwrap_or("");
        let password = form.get("password").map(String::as_str).unwrap_or("");
        let user = match self.authenticate_user(username, password, source).await {
            Ok(Some(user)) => user,
            Ok(None) => {
                return sign_in_page(
                    &form,
                    &checked,
                    username,
                    Some("Invalid username or password."),
                    StatusCode::UNAUTHORIZED,
                )
            }
            Err(err @ KeyManagerError::AccountLocked { .. })
            | Err(err @ KeyManagerError::TooManyAttempts { .. })
            | Err(err @ KeyManagerError::Busy) => {
                let message = format!("Sign-in refused: {err}.");
                return sign_in_page(
                    &form,
                    &checked,
                    username,
                    Some(&message),
                    StatusCode::TOO_MANY_REQUESTS,
                );
            }
            Err(err) => return server_error(err),
        };
        let (tenant, _) = split_tenant(&user.username);
        let requested: Vec<&str> = checked.scopes.iter().map(String::as_str).collect();
        let scopes = match self.grant_scopes(tenant, &user.roles, &requested).await {
            Ok(scopes) => scopes,
            Err(err) => return server_error(err),
        };
        let code = random_token(32);
        let now = now_secs();
        let row = AuthorizationCodeRow {
            code_hash: hash_secret(&code),
            tenant: tenant.to_string(),
            consumer_key: checked.client.consumer_key.clone(),
            subject: user.username.clone(),
            scope: scopes.join(" "),
            // Empty when the request named none: the exchange then needs none.
            redirect_uri: if checked.redirect_uri_given {
                checked.redirect_uri.clone()
            } else {
                String::new()
            },
            code_challenge: checked.code_challenge.clone(),
            nonce: checked.nonce.clone(),
            auth_time: now,
            expires_at: now + self.settings.authorization_code_validity,
            used: false,
            family_id: None,
            access_jti: None,
            access_expires_at: None,
        };
        let saved = async {
            let mut tx = self.store.begin().await?;
            tx.insert_authorization_code(&row).await?;
            tx.commit().await
        }
        .await;
        if let Err(err) = saved {
            return server_error(err.into());
        }
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = &checked.state {
            params.push(("state", state));
        }
        redirect(&checked.redirect_uri, &params)
    }
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) equals the challenge; the verifier is 43 to 128
/// unreserved characters.
pub(crate) fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    let computed = URL_SAFE_NO_PAD.encode(digest);
    well_formed && tollgate_guard::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

fn sign_in_page(
    params: &HashMap<String, String>,
    checked: &Checked,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let hidden = CARRIED
        .iter()
        .filter_map(|name| params.get(*name).map(|value| (*name, value.as_str())))
        .collect();
    let page = SignInPage {
        action: "/oauth2/authorize",
        client_name: &checked.client.client_name,
        hidden,
        scopes: checked.scopes.iter().map(String::as_str).collect(),
        username,
        error,
    };
    html(status, page.render())
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(message) => html(
                StatusCode::BAD_REQUEST,
                ErrorPage { message: &message }.render(),
            ),
            Refusal::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => {
                let mut params = vec![("error", error), ("error_description", &description)];
                if let Some(state) = &state {
                    params.push(("state", state));
                }
                redirect(&redirect_uri, &params)
            }
        }
    }
}

/// A page that must not be framed (clickjacking) or cached.
fn html(status: StatusCode, rendered: askama::Result<String>) -> Response {
    let body = match rendered {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "rendering the sign-in page failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 302 to `uri` with `params` added to its query.
fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let separator = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{separator}{query}");
    match HeaderValue::from_str(&location) {
        Ok(value) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => html(
            StatusCode::BAD_REQUEST,
            ErrorPage {
                message: "The redirect URI cannot be used.",
            }
            .render(),
        ),
    }
}

fn server_error(err: KeyManagerError) -> Response {
    tracing::error!(error = %err, "authorization request failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorPage {
            message: "The server could not complete the request; try again later.",
        }
        .render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B's example.
    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(&verifier.replace('d', "e"), challenge));
        assert!(!verifier_matches("short", challenge));
    }
}
