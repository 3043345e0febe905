//! Authenticate: the credential the request presents, verified (from the token cache when seen
//! before), and the application it stands for. Every scheme yields one [`Consumer`]; the
//! phases after this one do not know which scheme it was, except where WSO2's rules differ
//! (audiences concern tokens only).

use std::sync::Arc;

use http::header;
use tollgate_model::{
    ApiAuthentication, ApiKeyClaims, ApiKeyRestrictions, Application, KeyType, API_KEY_TOKEN_TYPE,
    RESIDENT_KEY_MANAGER,
};

use super::RequestView;
use crate::state::ExternalIssuer;
use crate::tokens::{ApiKeyGrant, VerifiedClaims};
use crate::{Gateway, GatewayError, RuntimeState};

/// Who calls: the application behind the credential, and the key type (so the endpoint) the
/// credential stands for.
pub struct Consumer<'s> {
    pub application: &'s Application,
    pub key_type: KeyType,
    pub scheme: Scheme,
    /// What the credential claims: scopes, audiences, its id for revocation.
    pub claims: Arc<VerifiedClaims>,
}

/// The security scheme a request used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scheme {
    /// An OAuth2 access token (JWT or opaque) of the resident or an external key manager.
    OAuth2,
    /// A WSO2 API key.
    ApiKey,
}

/// The credential a request presents, as the API accepts them.
enum Credential<'r> {
    Bearer(&'r [u8]),
    ApiKey { key: &'r [u8] },
}

/// Authenticates the request for an API with `authentication`: the consumer it comes from.
pub fn authenticate<'s>(
    gateway: &Gateway,
    state: &'s RuntimeState,
    authentication: &ApiAuthentication,
    request: &RequestView<'_>,
    now_secs: i64,
) -> Result<Consumer<'s>, GatewayError> {
    match credential(authentication, request)? {
        Credential::Bearer(token) => {
            let claims = authenticate_token(gateway, state, token, now_secs)?;
            token_consumer(state, claims)
        }
        Credential::ApiKey { key } => {
            let claims = authenticate_api_key(gateway, state, key, now_secs)?;
            api_key_consumer(state, claims, request)
        }
    }
}

/// The application a token was issued to. Its client must be mapped through the key manager
/// that issued the token: the same consumer key at another issuer is another client.
fn token_consumer(
    state: &RuntimeState,
    claims: Arc<VerifiedClaims>,
) -> Result<Consumer<'_>, GatewayError> {
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
    Ok(Consumer {
        application,
        key_type: mapping.key_type,
        scheme: Scheme::OAuth2,
        claims,
    })
}

/// The application an API key was issued to, when its restrictions allow this caller.
fn api_key_consumer<'s>(
    state: &'s RuntimeState,
    claims: Arc<VerifiedClaims>,
    request: &RequestView<'_>,
) -> Result<Consumer<'s>, GatewayError> {
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
    let key_type = grant.key_type;
    Ok(Consumer {
        application,
        key_type,
        scheme: Scheme::ApiKey,
        claims,
    })
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

fn authenticate_token(
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
