//! "Try it": a real request to an API through its gateway, made by the control plane for a
//! consumer with a fresh five-minute token of one of their applications' production keys, so
//! a portal can show what the API answers without a client of its own.

use std::sync::OnceLock;
use std::time::Duration;

use tollgate_model::{HttpVerb, KeyType, RESIDENT_KEY_MANAGER};

use super::discovery::{self, Viewer};
use super::keys::{self, TokenOrder};
use crate::{Actor, OpError, OpResult, Services};

/// How long the token "try it" uses lives.
const TOKEN_SECONDS: i64 = 300;
/// How long the gateway has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a response body shown.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The most of a request body sent.
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// What to send: an operation of the API, at a path below its base (parameters filled in).
#[derive(Debug, Clone)]
pub struct TryRequest {
    pub application_id: String,
    pub method: HttpVerb,
    /// Below the API's base path, starting with `/`.
    pub path: String,
    /// Sent as JSON when given.
    pub body: Option<String>,
}

/// What the gateway answered (`status` 0: it could not be reached; `body` says why).
#[derive(Debug, Clone)]
pub struct TryResponse {
    /// `GET https://…`, as sent.
    pub request: String,
    pub status: u16,
    pub content_type: String,
    /// At most [`BODY_LIMIT`] bytes of it, as text.
    pub body: String,
}

/// One client for every try (connections are reused; redirects are shown, not followed).
fn client() -> OpResult<&'static reqwest::Client> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let built = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| OpError::NotAllowed(format!("no HTTP client for trying APIs: {e}")))?;
    Ok(CLIENT.get_or_init(|| built))
}

/// Calls the API as the caller's application would.
pub async fn try_it(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    request: TryRequest,
) -> OpResult<TryResponse> {
    let path = request.path.trim();
    if !path.starts_with('/') || path.contains("://") || path.chars().any(char::is_control) {
        return Err(OpError::invalid(
            "path",
            "must start with / and stay below the API",
        ));
    }
    if request
        .body
        .as_ref()
        .is_some_and(|b| b.len() > MAX_REQUEST_BODY)
    {
        return Err(OpError::invalid(
            "body",
            format!("must be at most {MAX_REQUEST_BODY} bytes"),
        ));
    }
    let viewer = Viewer::signed_in(services, actor).await?;
    let detail = discovery::api_detail(services, &viewer, api_id).await?;
    let key = keys::list(services, actor, &request.application_id)
        .await?
        .into_iter()
        .find(|k| {
            k.mapping.key_type == KeyType::Production
                && k.mapping.key_manager == RESIDENT_KEY_MANAGER
        })
        .ok_or_else(|| {
            OpError::NotAllowed(
                "The application has no production keys yet: generate them on its page".into(),
            )
        })?;
    // The first gateway URL, plain HTTP first: the control plane calls its own gateways.
    let base = detail
        .urls
        .iter()
        .find_map(|u| u.http.clone())
        .or_else(|| detail.urls.iter().find_map(|u| u.https.clone()))
        .ok_or_else(|| {
            OpError::NotAllowed("The API is not deployed to a gateway shown in the portal".into())
        })?;
    let token = keys::generate_token(
        services,
        actor,
        &request.application_id,
        &key.mapping.id,
        TokenOrder {
            validity_period: Some(TOKEN_SECONDS),
            ..TokenOrder::default()
        },
        None,
    )
    .await?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
        .map_err(|_| OpError::invalid("operation", "is not an HTTP method"))?;
    // The token goes in the header the API takes tokens in (WSO2's `authorizationHeader`).
    let token_header = detail
        .definition
        .runtime_authentication()
        .authorization_header
        .unwrap_or_else(|| "authorization".into());
    let mut call = client()?.request(method.clone(), &url).header(
        token_header.as_str(),
        format!("Bearer {}", token.access_token),
    );
    if let Some(body) = request.body.filter(|b| !b.trim().is_empty()) {
        call = call.header("content-type", "application/json").body(body);
    }
    let sent = format!("{method} {url}");
    Ok(match call.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = match response.bytes().await {
                Ok(bytes) => {
                    String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_LIMIT)]).into_owned()
                }
                Err(err) => format!("The gateway's answer could not be read: {err}"),
            };
            TryResponse {
                request: sent,
                status,
                content_type,
                body,
            }
        }
        Err(err) => TryResponse {
            request: sent,
            status: 0,
            content_type: String::new(),
            body: format!("The gateway could not be reached: {err}"),
        },
    })
}
