//! API keys of the caller's applications (WSO2's `/applications/{id}/api-keys/{keyType}/…`):
//! self-contained JWTs signed by the resident key manager (see [`tollgate_model::ApiKeyClaims`]).
//! Nothing is stored for a key; revoking one records its id, as for a token, and every gateway
//! refuses it from that event on.

use std::collections::BTreeMap;

use tollgate_keymanager::{qualify_username, KeyManagerError};
use tollgate_model::{
    ApiKeyApplication, ApiKeyClaims, ApiKeyRestrictions, ApiKeySubscription, ApiKeyTier, KeyType,
    SubscriptionStatus, API_KEY_NEVER_EXPIRES, API_KEY_TOKEN_TYPE,
};

use super::own_application;
use crate::{Actor, OpError, OpResult, Problems, Services};

/// WSO2 lets any of these make or revoke API keys.
const API_KEY: &[&str] = &["apim:api_key", "apim:subscribe", "apim:app_manage"];

/// The longest validity a key may ask for: WSO2's field is a 32-bit number of seconds.
const MAX_VALIDITY_SECS: i64 = i32::MAX as i64;

/// What a consumer asks for (WSO2's `APIKeyGenerateRequest`, with `permittedIP` and
/// `permittedReferer` in `additionalProperties`).
#[derive(Debug, Clone, Default)]
pub struct ApiKeyRequest {
    /// Seconds; `None`, `-1` or `0`: the key never expires (WSO2's default).
    pub validity_period: Option<i64>,
    pub permitted_ip: Option<String>,
    pub permitted_referer: Option<String>,
}

/// A key made: the JWT and its validity in seconds (`-1`: never expires).
#[derive(Debug, Clone)]
pub struct IssuedApiKey {
    pub api_key: String,
    pub validity_time: i64,
}

/// Makes an API key of one of the caller's applications, naming its current subscriptions.
pub async fn generate(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_type: KeyType,
    request: &ApiKeyRequest,
) -> OpResult<IssuedApiKey> {
    actor.require_any(API_KEY)?;
    let application = own_application(services, actor, application_id).await?;
    let mut problems = Problems::default();
    let validity = match request.validity_period {
        None | Some(-1) | Some(0) => None,
        Some(v) if (1..=MAX_VALIDITY_SECS).contains(&v) => Some(v),
        Some(_) => {
            problems.add(
                "validityPeriod",
                format!("must be a number of seconds from 1 to {MAX_VALIDITY_SECS}, or -1 for a key that never expires"),
            );
            None
        }
    };
    let permitted_ip = non_empty(&request.permitted_ip);
    let permitted_referer = non_empty(&request.permitted_referer);
    if let Err(bad) =
        ApiKeyRestrictions::parse(permitted_ip.as_deref(), permitted_referer.as_deref())
    {
        problems.add(format!("additionalProperties.{}", bad.field), bad.message);
    }
    problems.into_result(())?;
    super::approved(&application)?;

    // The subscriptions the key names (informative: gateways check the ones they hold).
    let (subscriptions, _) = services
        .store
        .subscriptions(&actor.tenant, Some(&application.id), None, i64::MAX, 0)
        .await?;
    let subscriptions: Vec<_> = subscriptions
        .into_iter()
        .filter(|s| {
            s.status != SubscriptionStatus::OnHold && s.status != SubscriptionStatus::Rejected
        })
        .collect();
    let ids: Vec<&str> = subscriptions.iter().map(|s| s.api_id.as_str()).collect();
    let apis = services.store.apis_by_ids(&actor.tenant, &ids).await?;
    let mut tier_info = BTreeMap::new();
    let mut subscribed_apis = Vec::new();
    for subscription in &subscriptions {
        let Some(api) = apis.iter().find(|a| a.id == subscription.api_id) else {
            continue;
        };
        tier_info
            .entry(subscription.throttling_policy.clone())
            .or_insert(ApiKeyTier {
                tier_quota_type: "requestCount".into(),
                stop_on_quota_reach: true,
            });
        subscribed_apis.push(ApiKeySubscription {
            name: api.name.clone(),
            context: tollgate_model::base_path(&api.context, &api.version),
            version: api.version.clone(),
            publisher: api.provider.clone(),
            subscription_tier: subscription.throttling_policy.clone(),
            subscriber_tenant_domain: actor.tenant.clone(),
        });
    }

    let now = tollgate_model::now_millis() / 1000;
    let claims = ApiKeyClaims {
        iss: services.key_manager.issuer().to_string(),
        sub: qualify_username(&actor.tenant, &application.owner),
        iat: now,
        exp: validity.map_or(API_KEY_NEVER_EXPIRES, |v| now.saturating_add(v)),
        jti: uuid::Uuid::new_v4().to_string(),
        keytype: key_type,
        token_type: API_KEY_TOKEN_TYPE.into(),
        application: ApiKeyApplication {
            uuid: application.id.clone(),
            name: application.name.clone(),
            tier: application.throttling_policy.clone(),
            owner: application.owner.clone(),
        },
        tier_info,
        subscribed_apis,
        permitted_ip,
        permitted_referer,
    };
    let api_key = services.key_manager.sign_api_key(&claims)?;
    tracing::info!(application = %application.id, jti = %claims.jti, keytype = key_type.as_str(), "API key generated");
    Ok(IssuedApiKey {
        api_key,
        validity_time: validity.unwrap_or(-1),
    })
}

/// Revokes an API key of one of the caller's applications. A key that has expired already
/// needs nothing; a key that is not this application's (or not of this key type) is refused,
/// so nobody revokes another's key.
pub async fn revoke(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_type: KeyType,
    api_key: &str,
) -> OpResult<()> {
    actor.require_any(API_KEY)?;
    let application = own_application(services, actor, application_id).await?;
    let api_key = api_key.trim();
    if api_key.is_empty() {
        return Err(OpError::invalid("apikey", "is required"));
    }
    let claims = match services.key_manager.verify_api_key(api_key) {
        Ok(Some(claims)) => claims,
        Ok(None) => return Ok(()),
        Err(KeyManagerError::InvalidToken(reason)) => {
            return Err(OpError::invalid(
                "apikey",
                format!("is not an API key issued here: {reason}"),
            ))
        }
        Err(other) => return Err(other.into()),
    };
    if claims.application.uuid != application.id || claims.keytype != key_type {
        return Err(OpError::invalid(
            "apikey",
            format!(
                "is not a {} API key of application {}",
                key_type.as_str(),
                application.name
            ),
        ));
    }
    services
        .key_manager
        .revoke_api_key(&actor.tenant, &claims)
        .await?;
    Ok(())
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
