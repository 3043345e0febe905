//! The request path, phase by phase, top to bottom:
//!
//! route → authenticate → authorize (subscription, scopes, key type) → throttle
//!       → prepare upstream → proxy; the hit is counted during the throttle phase (a striped map)
//!
//! Every phase reads the one [`RuntimeState`] snapshot taken when the request arrived.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName};
use http::{Request, Response};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use tollgate_model::{
    ApiAuthentication, ApiKeyClaims, ApiKeyRestrictions, KeyType, LifecycleState, Operation,
    API_KEY_TOKEN_TYPE, RESIDENT_KEY_MANAGER,
};

use crate::state::{ApiRoute, ExternalIssuer, RouteMiss, SubscriptionAccess, ThrottleRule};
use crate::tokens::{ApiKeyGrant, VerifiedClaims};
use crate::upstream::Backends;
use crate::{Gateway, GatewayError, RuntimeState};

pub type ResponseBody = Either<Incoming, Full<Bytes>>;

/// Serves one API request. Never fails: every error becomes WSO2's error response.
/// `client` is the address of the connection's peer.
pub async fn handle(
    gateway: Arc<Gateway>,
    backends: Arc<Backends>,
    client: Option<IpAddr>,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let state = gateway.state();
    match process(&gateway, &backends, &state, client, request).await {
        Ok(response) => Ok(response),
        Err(err) => {
            match &err {
                GatewayError::BackendUnreachable(reason) => {
                    if let Some(held_back) = gateway.backend_failures.ready() {
                        tracing::warn!(%reason, held_back, "backend call failed")
                    }
                }
                GatewayError::ClientBody(reason) => {
                    tracing::debug!(%reason, "the client's request body was malformed")
                }
                GatewayError::InvalidCredentials(reason) => {
                    tracing::debug!(%reason, "credentials refused")
                }
                _ => {}
            }
            Ok(err.to_response().map(Either::Right))
        }
    }
}

/// What the policy phases concluded about a request that may pass.
pub struct Admission<'s, 'p> {
    pub route: &'s ApiRoute,
    /// The path below the API's base path.
    pub resource_path: &'p str,
    pub key_type: KeyType,
}

/// What the policy phases read of a request besides its method and path.
#[derive(Clone, Copy)]
pub struct RequestView<'r> {
    pub headers: &'r HeaderMap,
    pub query: Option<&'r str>,
    /// The client's address, as the listener saw it.
    pub client: Option<IpAddr>,
}

/// The credential a request presents, as the API accepts them.
enum Credential<'r> {
    Bearer(&'r [u8]),
    ApiKey { key: &'r [u8] },
}

/// The policy phases — route, authenticate, authorize, throttle — without I/O: lookups in the
/// runtime state, the token cache and the decision map, and the hit put on its queue.
pub fn admit<'s, 'p>(
    gateway: &Gateway,
    state: &'s RuntimeState,
    method: &http::Method,
    path: &'p str,
    request: &RequestView<'_>,
) -> Result<Admission<'s, 'p>, GatewayError> {
    // Route.
    let (route, resource_path) = state.route(path).ok_or(GatewayError::NoApi)?;
    if route.api.lifecycle_status == LifecycleState::Blocked {
        return Err(GatewayError::ApiBlocked);
    }
    let operation = route
        .operation(method, resource_path)
        .map_err(|miss| match miss {
            RouteMiss::NoResource => GatewayError::NoResource {
                method: method.to_string(),
                path: path.to_string(),
            },
            RouteMiss::MethodNotAllowed(allow) => GatewayError::MethodNotAllowed {
                allow: allow.clone(),
            },
        })?;

    // Authenticate and authorize.
    let now = tollgate_model::now_millis();
    let (key_type, throttle) = if operation.is_unsecured() {
        (KeyType::Production, None)
    } else {
        match credential(&route.api.authentication, request)? {
            Credential::Bearer(token) => {
                let claims = authenticate(gateway, state, token, now / 1000)?;
                authorize(state, route, operation, &claims)?
            }
            Credential::ApiKey { key } => {
                let claims = authenticate_api_key(gateway, state, key, now / 1000)?;
                authorize_api_key(state, route, operation, &claims, request)?
            }
        }
    };

    // Throttle: refuse keys the traffic manager has decided on; count the rest.
    if let Some(rule) = throttle {
        let hit = crate::hits::Hit {
            key: &rule.key,
            level: rule.level,
            policy: &rule.policy,
            window_start: now - now.rem_euclid(rule.window_millis),
        };
        if let Some(verdict) = gateway
            .decisions
            .load()
            .get(&*rule.key)
            .filter(|v| v.until > now)
        {
            let refused = match &verdict.allowance {
                None => true,
                Some(left) if left.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) <= 0 => {
                    // This gateway's share is used up: ask the traffic manager for more.
                    gateway.hits.record_demand(hit);
                    true
                }
                Some(_) => false,
            };
            if refused {
                return Err(GatewayError::Throttled {
                    retry_after_secs: (verdict.until.saturating_sub(now).saturating_add(999) / 1000)
                        as u64,
                });
            }
        }
        gateway.hits.record(hit);
    }
    Ok(Admission {
        route,
        resource_path,
        key_type,
    })
}

async fn process(
    gateway: &Gateway,
    backends: &Backends,
    state: &RuntimeState,
    client: Option<IpAddr>,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, GatewayError> {
    // Route on, check, and forward one path: the normal form (see `path`).
    let path = crate::path::normalise(request.uri().path()).map_err(GatewayError::BadPath)?;
    if let Some(probe) = path.strip_prefix(HEALTH_PREFIX) {
        return Ok(health(gateway, probe).map(Either::Right));
    }
    let view = RequestView {
        headers: request.headers(),
        query: request.uri().query(),
        client,
    };
    let admission = match admit(gateway, state, request.method(), &path, &view) {
        // A token of an external issuer names a key not fetched yet: fetch (rate-limited, one
        // fetch for all waiting requests) and try once more.
        Err(GatewayError::NeedsKeys(issuer)) => {
            gateway.refresh_key_set(&issuer).await;
            admit(gateway, state, request.method(), &path, &view)
        }
        // An opaque token not seen before: the key manager says what it is.
        Err(GatewayError::NeedsIntrospection(token)) => match gateway.introspect(&token).await {
            Ok(()) => admit(gateway, state, request.method(), &path, &view),
            Err(unavailable) => Err(unavailable),
        },
        other => other,
    }
    .map_err(|err| match err {
        GatewayError::NeedsKeys(_) => {
            GatewayError::InvalidCredentials("unknown signing key".into())
        }
        GatewayError::NeedsIntrospection(_) => {
            GatewayError::InvalidCredentials("the token could not be introspected".into())
        }
        other => other,
    });
    let Admission {
        route,
        resource_path,
        key_type,
    } = admission?;

    // Prepare the upstream request.
    let upstream = route
        .upstream(key_type)
        .ok_or(GatewayError::NoEndpoint(match key_type {
            KeyType::Production => "production",
            KeyType::Sandbox => "sandbox",
        }))?
        .as_ref()
        .map_err(|err| GatewayError::BackendUnreachable(err.clone()))?;
    let authentication = &route.api.authentication;
    // Like the token, an API key was for the gateway, and stays here.
    // Whatever credential was used, a key in the query stays here too.
    let query = match request.uri().query() {
        Some(query) if authentication.api_key && authentication.api_key_in_query => {
            without_param(query, &authentication.api_key_header)
        }
        query => query.map(std::borrow::Cow::Borrowed),
    };
    let target = upstream
        .request_target(resource_path, query.as_deref())
        .map_err(GatewayError::BackendUnreachable)?;
    drop(query);
    drop(path);
    let (mut parts, body) = request.into_parts();
    parts.uri = target;
    strip_hop_by_hop(&mut parts.headers);
    // The token was for the gateway; like WSO2, do not pass it to the backend. An API whose
    // tokens come in another header passes `Authorization` on (credentials for the backend).
    match &authentication.authorization_header {
        None => {
            parts.headers.remove(header::AUTHORIZATION);
        }
        Some(name) => {
            parts.headers.remove(name.as_str());
        }
    }
    if authentication.api_key {
        parts.headers.remove(authentication.api_key_header.as_str());
    }
    parts
        .headers
        .insert(header::HOST, upstream.authority().clone());
    parts.version = http::Version::HTTP_11;

    // Proxy, streaming both bodies.
    let mut response = backends
        .send(
            upstream,
            Request::from_parts(parts, crate::upstream::client_body(body)),
        )
        .await?;
    strip_hop_by_hop(response.headers_mut());
    Ok(response.map(Either::Left))
}

/// Reserved path prefix for health probes (`/_health/live`, `/_health/ready`); API contexts may
/// not start with `/_`.
pub const HEALTH_PREFIX: &str = "/_health/";

/// Liveness: the process serves. Readiness: it has a runtime state to serve from.
fn health(gateway: &Gateway, probe: &str) -> Response<Full<Bytes>> {
    let state = gateway.state();
    let (status, ready) = match probe {
        "live" => (http::StatusCode::OK, gateway.is_ready()),
        "ready" if gateway.is_ready() => (http::StatusCode::OK, true),
        "ready" => (http::StatusCode::SERVICE_UNAVAILABLE, false),
        _ => (http::StatusCode::NOT_FOUND, gateway.is_ready()),
    };
    let body = serde_json::json!({
        "status": if status == http::StatusCode::OK { "ok" } else { "unavailable" },
        "ready": ready,
        "seq": state.seq,
        "apis": state.api_count(),
        "droppedHits": gateway.dropped_hits(),
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Which credential the request presents: a bearer token where the API takes OAuth2 tokens
/// and the request has an `Authorization` header; otherwise an API key, where the API takes
/// them, from its header or (if allowed) the query parameter of the same name.
fn credential<'r>(
    authentication: &ApiAuthentication,
    request: &RequestView<'r>,
) -> Result<Credential<'r>, GatewayError> {
    if authentication.oauth2 {
        let token_header = match &authentication.authorization_header {
            None => request.headers.get(header::AUTHORIZATION),
            Some(name) => request.headers.get(name.as_str()),
        };
        if let Some(value) = token_header {
            // Bytes until the cache misses: a cached token was valid text when it was verified,
            // and validating an 800-byte JWT on every request costs more than the lookup.
            let value = value.as_bytes();
            let bearer = value
                .strip_prefix(b"Bearer ")
                .or_else(|| value.strip_prefix(b"bearer "))
                .map(<[u8]>::trim_ascii)
                .filter(|t| !t.is_empty());
            match bearer {
                Some(token) => return Ok(Credential::Bearer(token)),
                // Another scheme (Basic credentials meant for the backend, say): an API that
                // takes API keys looks for one.
                None if !authentication.api_key => return Err(GatewayError::MissingCredentials),
                None => {}
            }
        }
    }
    if authentication.api_key {
        if let Some(value) = request.headers.get(authentication.api_key_header.as_str()) {
            let key = value.as_bytes().trim_ascii();
            if !key.is_empty() {
                return Ok(Credential::ApiKey { key });
            }
        }
        if authentication.api_key_in_query {
            if let Some(key) = request
                .query
                .and_then(|q| query_param(q, &authentication.api_key_header))
            {
                return Ok(Credential::ApiKey {
                    key: key.as_bytes(),
                });
            }
        }
    }
    Err(GatewayError::MissingCredentials)
}

/// The value of the query parameter `name` (not decoded: an API key is a JWT, whose characters
/// need no escaping); `None` when absent or empty.
fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// `query` without the parameter `name`; `None` when nothing is left.
fn without_param<'q>(query: &'q str, name: &str) -> Option<std::borrow::Cow<'q, str>> {
    fn key_of(pair: &str) -> &str {
        pair.split_once('=').map_or(pair, |(key, _)| key)
    }
    // Most queries do not carry it: nothing to copy.
    if !query.split('&').any(|pair| key_of(pair) == name) {
        return Some(std::borrow::Cow::Borrowed(query));
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| key_of(pair) != name)
        .collect();
    (!kept.is_empty()).then(|| std::borrow::Cow::Owned(kept.join("&")))
}

fn authenticate(
    gateway: &Gateway,
    state: &RuntimeState,
    token: &[u8],
    now_secs: i64,
) -> Result<Arc<VerifiedClaims>, GatewayError> {
    let claims = match gateway.tokens.get(token, now_secs, |kid, claims| {
        state.still_trusts(kid, claims)
    }) {
        Some(claims) => claims,
        // A JWT has three parts; anything else is an opaque token, which only the key manager
        // can vouch for.
        None if token.iter().filter(|&&b| b == b'.').count() != 2 => {
            if !(MIN_OPAQUE_TOKEN_BYTES..=MAX_OPAQUE_TOKEN_BYTES).contains(&token.len())
                || !token
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
                || gateway.known_inactive(token, now_secs * 1000)
            {
                return Err(GatewayError::InvalidCredentials(
                    "unknown or inactive token".into(),
                ));
            }
            let token = std::str::from_utf8(token)
                .map_err(|_| GatewayError::InvalidCredentials("token is not text".into()))?;
            return Err(GatewayError::NeedsIntrospection(token.into()));
        }
        None => {
            let token = std::str::from_utf8(token)
                .map_err(|_| GatewayError::InvalidCredentials("token is not text".into()))?;
            let (kid, claims) = verify_token(state, token)?;
            let claims = Arc::new(claims);
            gateway.tokens.insert(token, &kid, claims.clone());
            claims
        }
    };
    if claims.api_key.is_some() {
        return Err(GatewayError::InvalidCredentials(
            "an API key is not an access token".into(),
        ));
    }
    if state.is_revoked(&claims.jti, &claims.azp, claims.iat) {
        return Err(GatewayError::InvalidCredentials("token revoked".into()));
    }
    Ok(claims)
}

/// An API key: verified once with the resident key manager's keys (the gateway holds them
/// already), then found in the token cache like a token.
fn authenticate_api_key(
    gateway: &Gateway,
    state: &RuntimeState,
    key: &[u8],
    now_secs: i64,
) -> Result<Arc<VerifiedClaims>, GatewayError> {
    let claims = match gateway
        .tokens
        .get(key, now_secs, |kid, claims| state.still_trusts(kid, claims))
    {
        Some(claims) => claims,
        None => {
            let key = std::str::from_utf8(key)
                .map_err(|_| GatewayError::InvalidCredentials("API key is not text".into()))?;
            let (kid, claims) = verify_api_key(state, key)?;
            let claims = Arc::new(claims);
            gateway.tokens.insert(key, &kid, claims.clone());
            claims
        }
    };
    if claims.api_key.is_none() {
        return Err(GatewayError::InvalidCredentials(
            "an access token is not an API key".into(),
        ));
    }
    if state.is_revoked(&claims.jti, &claims.azp, claims.iat) {
        return Err(GatewayError::InvalidCredentials("API key revoked".into()));
    }
    Ok(claims)
}

/// The full check of an API key: a JWT signed by one of the resident key manager's keys, with
/// `token_type` `apiKey`; its restrictions are parsed here, once (see `ApiKeyRestrictions`).
pub fn verify_api_key(
    state: &RuntimeState,
    key: &str,
) -> Result<(String, VerifiedClaims), GatewayError> {
    let invalid = |e: tollgate_jwt::JwtError| GatewayError::InvalidCredentials(e.to_string());
    let kid = tollgate_jwt::key_id(key).map_err(invalid)?;
    let verifying = state
        .verifying_key(&kid)
        .ok_or_else(|| GatewayError::InvalidCredentials("unknown signing key".into()))?;
    let claims: ApiKeyClaims = verifying.verify_not_access_token(key).map_err(invalid)?;
    if claims.token_type != API_KEY_TOKEN_TYPE {
        return Err(GatewayError::InvalidCredentials("not an API key".into()));
    }
    // A restriction that cannot be read restricts everything.
    let restrictions = ApiKeyRestrictions::parse(
        claims.permitted_ip.as_deref(),
        claims.permitted_referer.as_deref(),
    )
    .map_err(|bad| GatewayError::InvalidCredentials(format!("{}: {}", bad.field, bad.message)))?;
    Ok((
        kid,
        VerifiedClaims {
            azp: String::new(),
            scope: String::new(),
            jti: claims.jti,
            exp: claims.exp,
            iat: claims.iat,
            aud: Vec::new(),
            origin: None,
            introspected: false,
            api_key: Some(Box::new(ApiKeyGrant {
                application_id: claims.application.uuid,
                key_type: claims.keytype,
                restrictions,
            })),
        },
    ))
}

/// The shape of an opaque token worth asking the key manager about: Tollgate's are 28 base64url
/// characters, WSO2's 36 (a UUID); anything else is refused without a call.
const MIN_OPAQUE_TOKEN_BYTES: usize = 16;
const MAX_OPAQUE_TOKEN_BYTES: usize = 128;

/// The full check of a JWT (see [`tollgate_jwt`]). The `iss` it claims selects who verifies
/// it: an enabled external key manager with that issuer (its key set, its claim names), else the
/// resident key manager (the signing key its `kid` names; that key's issuer must match).
pub fn verify_token(
    state: &RuntimeState,
    token: &str,
) -> Result<(String, VerifiedClaims), GatewayError> {
    let invalid = |e: tollgate_jwt::JwtError| GatewayError::InvalidCredentials(e.to_string());
    let kid = tollgate_jwt::key_id(token);
    if let Some(issuer) = tollgate_jwt::unverified_issuer(token)
        .ok()
        .and_then(|iss| state.external_issuer(&iss))
    {
        // An issuer with a single key may name none.
        let kid = match kid {
            Err(tollgate_jwt::JwtError::NoKeyId) => String::new(),
            other => other.map_err(invalid)?,
        };
        let claims = verify_external(issuer, &kid, token)?;
        return Ok((kid, claims));
    }
    let kid = kid.map_err(invalid)?;
    let key = state
        .verifying_key(&kid)
        .ok_or_else(|| GatewayError::InvalidCredentials("unknown signing key".into()))?;
    let claims = key.verify::<VerifiedClaims>(token).map_err(invalid)?;
    Ok((kid, claims))
}

/// A token of an external key manager, verified with its key set; the client and the scopes
/// are read from the claims it names.
fn verify_external(
    issuer: &Arc<ExternalIssuer>,
    kid: &str,
    token: &str,
) -> Result<VerifiedClaims, GatewayError> {
    use serde_json::Value;
    let claims: serde_json::Map<String, Value> = match issuer.keys.verify(kid, token) {
        Ok(claims) => claims,
        Err(tollgate_jwt::JwtError::UnknownKey) => {
            return Err(GatewayError::NeedsKeys(issuer.clone()))
        }
        Err(err) => return Err(GatewayError::InvalidCredentials(err.to_string())),
    };
    // An ID token of the same issuer (same keys, often `azp` = the client) is no access token.
    if claims.contains_key("nonce") || claims.contains_key("at_hash") {
        return Err(GatewayError::InvalidCredentials(
            "an ID token is not an access token".into(),
        ));
    }
    let config = &issuer.config;
    let consumer_key = claims
        .get(&config.consumer_key_claim)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            GatewayError::InvalidCredentials(format!(
                "token has no '{}' claim naming its client",
                config.consumer_key_claim
            ))
        })?;
    let scope = match claims.get(&config.scopes_claim) {
        Some(Value::String(scopes)) => scopes.clone(),
        Some(Value::Array(scopes)) => scopes
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    Ok(VerifiedClaims {
        azp: consumer_key.to_string(),
        scope,
        jti: claims
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        exp: claims
            .get("exp")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        iat: claims
            .get("iat")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        aud: match claims.get("aud") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        },
        origin: Some(issuer.clone()),
        introspected: false,
        api_key: None,
    })
}

/// Finds the application behind the token and checks its subscription and the resource's
/// scopes; returns which key type (and so which endpoint) the token stands for, and the
/// subscription's throttle rule.
fn authorize<'s>(
    state: &'s RuntimeState,
    route: &ApiRoute,
    operation: &Operation,
    claims: &VerifiedClaims,
) -> Result<(KeyType, Option<&'s ThrottleRule>), GatewayError> {
    // An API that names audiences takes only tokens meant for one of them.
    let audiences = &route.api.audiences;
    if !audiences.is_empty() && !claims.aud.iter().any(|aud| audiences.contains(aud)) {
        return Err(GatewayError::InvalidCredentials(
            "the token is meant for another audience".into(),
        ));
    }
    // The client must be mapped through the key manager that issued the token: the same
    // consumer key at another issuer is another client.
    let issued_by = claims
        .origin
        .as_ref()
        .map_or(RESIDENT_KEY_MANAGER, |origin| origin.config.name.as_str());
    let mapping = state
        .key_mapping(&claims.azp)
        .filter(|mapping| mapping.key_manager == issued_by)
        .ok_or_else(|| {
            GatewayError::InvalidCredentials("token not issued to an application".into())
        })?;
    let application = state
        .application(&mapping.application_id)
        .ok_or_else(|| GatewayError::InvalidCredentials("application unknown".into()))?;
    // An external key manager vouches for its own tenant's clients only.
    if claims
        .origin
        .as_ref()
        .is_some_and(|origin| origin.config.tenant != application.tenant)
    {
        return Err(GatewayError::InvalidCredentials(
            "token not issued to an application".into(),
        ));
    }
    authorize_application(
        state,
        route,
        operation,
        &application.id,
        mapping.key_type,
        claims,
    )
}

/// An API key may call the APIs its application is subscribed to now, from where its
/// restrictions allow. It holds no scopes (a resource guarded by scopes needs a token), and
/// API audiences concern tokens only.
fn authorize_api_key<'s>(
    state: &'s RuntimeState,
    route: &ApiRoute,
    operation: &Operation,
    claims: &VerifiedClaims,
    request: &RequestView<'_>,
) -> Result<(KeyType, Option<&'s ThrottleRule>), GatewayError> {
    let Some(grant) = claims.api_key.as_deref() else {
        return Err(GatewayError::InvalidCredentials("not an API key".into()));
    };
    if !grant.restrictions.is_empty() {
        if !grant.restrictions.allows_client(request.client) {
            return Err(GatewayError::InvalidCredentials(
                "the API key may not be used from this address".into(),
            ));
        }
        let referer = request
            .headers
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok());
        if !grant.restrictions.allows_referer(referer) {
            return Err(GatewayError::InvalidCredentials(
                "the API key may not be used from this referer".into(),
            ));
        }
    }
    let application = state
        .application(&grant.application_id)
        .ok_or_else(|| GatewayError::InvalidCredentials("application unknown".into()))?;
    authorize_application(
        state,
        route,
        operation,
        &application.id,
        grant.key_type,
        claims,
    )
}

/// The checks every credential of an application passes: its subscription to the API (a
/// prototype needs none), the subscription's state for the key type, and the resource's
/// scopes; returns the key type and the subscription's throttle rule.
fn authorize_application<'s>(
    state: &'s RuntimeState,
    route: &ApiRoute,
    operation: &Operation,
    application_id: &str,
    key_type: KeyType,
    claims: &VerifiedClaims,
) -> Result<(KeyType, Option<&'s ThrottleRule>), GatewayError> {
    let Some(entry) = state.subscription(application_id, &route.api.id) else {
        // A prototype is for trying out: any application's token may call it.
        if route.api.lifecycle_status == LifecycleState::Prototyped {
            check_scopes(operation, claims)?;
            return Ok((key_type, None));
        }
        return Err(GatewayError::NotSubscribed);
    };
    match entry.access {
        SubscriptionAccess::Blocked => return Err(GatewayError::SubscriptionBlocked),
        SubscriptionAccess::ProductionBlocked if key_type == KeyType::Production => {
            return Err(GatewayError::SubscriptionBlocked)
        }
        SubscriptionAccess::Unblocked | SubscriptionAccess::ProductionBlocked => {}
        SubscriptionAccess::Inactive => return Err(GatewayError::SubscriptionInactive),
    }
    check_scopes(operation, claims)?;
    Ok((key_type, entry.throttle.as_ref()))
}

/// A resource that names scopes needs a token holding one of them.
fn check_scopes(operation: &Operation, claims: &VerifiedClaims) -> Result<(), GatewayError> {
    if !operation.scopes.is_empty()
        && !claims
            .scope
            .split_whitespace()
            .any(|s| operation.scopes.iter().any(|r| r == s))
    {
        return Err(GatewayError::InvalidScope);
    }
    Ok(())
}

/// Removes the headers that describe one connection, not the message (RFC 9110 §7.6.1).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    const HOP_BY_HOP: [HeaderName; 6] = [
        header::CONNECTION,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ];
    // Most messages carry none: one pass over their few names is cheaper than eight removals.
    let any = headers.keys().any(|name| {
        HOP_BY_HOP.contains(name) || name == "keep-alive" || name == "proxy-connection"
    });
    if !any {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(named.iter()) {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}
