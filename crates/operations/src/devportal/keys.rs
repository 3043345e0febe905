//! The OAuth keys of the caller's applications: generate (a client at the resident key
//! manager), map (a client registered elsewhere, once the caller proves they hold it), read,
//! change, regenerate the secret, remove, and get a token. Each change writes through a
//! [`Change`], so gateways learn of new and removed consumer keys like anything else.

use serde_json::Value;
use tollgate_keymanager::{new_client, Grant, KeyManagerError, TokenRequest, RESIDENT_KEY_MANAGER};
use tollgate_model::{GrantType, KeyMappingMode, KeyType, TokenType};
use tollgate_store::{
    ApplicationRow, Change, ClientValidity, KeyManagerRow, KeyMappingRow, OAuthClientRow,
};

use super::{approved, own_application};
use crate::{Actor, OpError, OpResult, Services};

const SUBSCRIBE_APP: &[&str] = &["apim:subscribe", "apim:app_manage"];

/// WSO2's per-application token lifetimes in `additionalProperties`, seconds; `-1`, `"N/A"` or
/// absence mean the configured default.
const VALIDITY_PROPERTIES: [&str; 4] = [
    "application_access_token_expiry_time",
    "user_access_token_expiry_time",
    "refresh_token_expiry_time",
    "id_token_expiry_time",
];

/// The longest lifetime an application may set for its tokens: a year.
const MAX_CLIENT_VALIDITY: i64 = 365 * 86_400;

/// One of an application's key sets: its mapping and client; the secret only when it was
/// just made (it is stored hashed).
#[derive(Debug, Clone)]
pub struct AppKey {
    pub mapping: KeyMappingRow,
    pub client: OAuthClientRow,
    pub secret: Option<String>,
}

/// What `generate-keys` asks for.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    pub key_type: KeyType,
    pub key_manager: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub callback_url: Option<String>,
    /// WSO2's `additionalProperties` (the token lifetimes).
    pub additional_properties: Option<Value>,
}

impl KeyRequest {
    /// Keys of `key_type` at the resident key manager for these grants, nothing else set.
    pub fn new(key_type: KeyType, grant_types: &[GrantType]) -> KeyRequest {
        KeyRequest {
            key_type,
            key_manager: None,
            grant_types: grant_types.to_vec(),
            callback_url: None,
            additional_properties: None,
        }
    }
}

/// What `map-keys` asks for.
#[derive(Debug, Clone)]
pub struct MapRequest {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub key_type: KeyType,
    pub key_manager: Option<String>,
}

/// What a change of keys asks for; what is left out stays.
#[derive(Debug, Clone, Default)]
pub struct KeyUpdate {
    pub grant_types: Option<Vec<GrantType>>,
    pub callback_url: Option<String>,
    pub additional_properties: Option<Value>,
}

/// What `generate-token` asks for.
#[derive(Debug, Clone, Default)]
pub struct TokenOrder {
    pub consumer_secret: Option<String>,
    pub validity_period: Option<i64>,
    pub scopes: Vec<String>,
    /// Only the client credentials grant (WSO2's `CLIENT_CREDENTIALS`) is offered here.
    pub grant_type: Option<GrantType>,
    /// A token of these keys to revoke first (WSO2's `revokeToken`).
    pub revoke_token: Option<String>,
}

/// A token `generate-token` issued.
#[derive(Debug, Clone)]
pub struct AppToken {
    pub access_token: String,
    pub scopes: Vec<String>,
    pub expires_in: i64,
}

/// Reads WSO2's token lifetimes from `additionalProperties` over `validity`.
pub fn parse_validity(
    properties: Option<&Value>,
    mut validity: ClientValidity,
) -> OpResult<ClientValidity> {
    let Some(properties) = properties else {
        return Ok(validity);
    };
    let Some(properties) = properties.as_object() else {
        return Err(OpError::invalid(
            "additionalProperties",
            "must be an object",
        ));
    };
    for (i, name) in VALIDITY_PROPERTIES.iter().enumerate() {
        let Some(value) = properties.get(*name) else {
            continue;
        };
        let seconds = match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) if s == "N/A" || s.is_empty() => Some(-1),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            Value::Null => Some(-1),
            _ => None,
        };
        let parsed = match seconds {
            Some(-1) => None,
            Some(v) if (1..=MAX_CLIENT_VALIDITY).contains(&v) => Some(v),
            _ => {
                return Err(OpError::invalid(
                    format!("additionalProperties.{name}"),
                    format!("must be a number of seconds from 1 to {MAX_CLIENT_VALIDITY}, or -1 for the default"),
                ))
            }
        };
        match i {
            0 => validity.application_access_token = parsed,
            1 => validity.user_access_token = parsed,
            2 => validity.refresh_token = parsed,
            _ => validity.id_token = parsed,
        }
    }
    Ok(validity)
}

/// The grant types a request names: at least one, each once.
fn grant_types(field: &str, grants: &[GrantType]) -> OpResult<Vec<GrantType>> {
    if grants.is_empty() {
        return Err(OpError::invalid(field, "must list at least one grant type"));
    }
    let mut unique = Vec::with_capacity(grants.len());
    for grant in grants {
        if !unique.contains(grant) {
            unique.push(*grant);
        }
    }
    Ok(unique)
}

/// A fresh mapping of `consumer_key` to the application's keys of `key_type`.
fn new_mapping(
    app: &ApplicationRow,
    consumer_key: &str,
    key_type: KeyType,
    key_manager: String,
    mode: KeyMappingMode,
) -> KeyMappingRow {
    KeyMappingRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: app.tenant.clone(),
        application_id: app.id.clone(),
        consumer_key: consumer_key.to_string(),
        key_type,
        key_manager,
        mode,
        created_time: tollgate_model::now_millis(),
    }
}

/// The key manager `name` names (none: the resident one), which must be enabled.
async fn key_manager_named(
    services: &Services,
    tenant: &str,
    name: Option<&str>,
) -> OpResult<KeyManagerRow> {
    let name = name.unwrap_or_default();
    match crate::key_managers::by_name(services, tenant, name).await? {
        Some(km) if km.enabled => Ok(km),
        Some(km) => Err(OpError::invalid(
            "keyManager",
            format!("key manager '{}' is disabled", km.name),
        )),
        None => Err(OpError::invalid(
            "keyManager",
            format!("no key manager named '{name}' is configured"),
        )),
    }
}

/// One of the caller's application's key mappings (another's, or none: "not found").
async fn own_key(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_mapping_id: &str,
) -> OpResult<(ApplicationRow, KeyMappingRow, OAuthClientRow)> {
    actor.require_any(SUBSCRIBE_APP)?;
    let app = own_application(services, actor, application_id).await?;
    let not_found = || OpError::NotFound(format!("key mapping {key_mapping_id}"));
    let mapping = services
        .store
        .key_mappings_of(&app.id)
        .await?
        .into_iter()
        .find(|m| m.id == key_mapping_id)
        .ok_or_else(not_found)?;
    let client = services
        .store
        .oauth_client(&mapping.consumer_key)
        .await?
        .ok_or_else(not_found)?;
    Ok((app, mapping, client))
}

/// The client must be the resident key manager's: another key manager's clients are changed,
/// and get tokens, there.
fn resident(mapping: &KeyMappingRow) -> OpResult<()> {
    if mapping.key_manager != RESIDENT_KEY_MANAGER {
        return Err(OpError::NotAllowed(format!(
            "These keys belong to the key manager '{}': manage them, and get tokens, there",
            mapping.key_manager
        )));
    }
    Ok(())
}

/// `generate-keys`: a new client at the resident key manager for the application's keys of one
/// type; the secret is in the answer, and only there.
pub async fn generate(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    request: KeyRequest,
) -> OpResult<AppKey> {
    actor.require_any(SUBSCRIBE_APP)?;
    let app = own_application(services, actor, application_id).await?;
    approved(&app)?;
    let key_type = request.key_type;
    let key_manager =
        key_manager_named(services, &app.tenant, request.key_manager.as_deref()).await?;
    if key_manager.name != RESIDENT_KEY_MANAGER {
        return Err(OpError::invalid(
            "keyManager",
            format!(
                "'{}' is an external key manager: register the client there and map its keys (map-keys)",
                key_manager.name
            ),
        ));
    }
    let grants = grant_types("grantTypesToBeSupported", &request.grant_types)?;
    let validity = parse_validity(
        request.additional_properties.as_ref(),
        ClientValidity::default(),
    )?;
    let (mut client, secret) = new_client(
        &app.tenant,
        &app.owner,
        &format!("{}_{}_{}", app.owner, app.name, key_type.as_str()),
        grants,
        request.callback_url.as_deref().unwrap_or(""),
    );
    client.token_type = app.token_type;
    client.validity = validity;
    let mapping = new_mapping(
        &app,
        &client.consumer_key,
        key_type,
        key_manager.name,
        KeyMappingMode::Created,
    );
    let mut tx = services.store.begin().await?;
    tx.apply(&Change::CreateKeyMapping {
        client: client.clone(),
        mapping: mapping.clone(),
    })
    .await?;
    tx.commit().await?;
    Ok(AppKey {
        mapping,
        client,
        secret: Some(secret),
    })
}

/// `map-keys`: keys of a client registered elsewhere become the application's, once the caller
/// proves it holds them: with the resident key manager, by its secret; with an external one, by
/// that key manager's token endpoint granting the client a token.
pub async fn map(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    request: MapRequest,
    source: Option<std::net::IpAddr>,
) -> OpResult<AppKey> {
    actor.require_any(SUBSCRIBE_APP)?;
    let app = own_application(services, actor, application_id).await?;
    approved(&app)?;
    let key_type = request.key_type;
    let key_manager =
        key_manager_named(services, &app.tenant, request.key_manager.as_deref()).await?;
    let secret_refused = |err| match err {
        KeyManagerError::InvalidClient => OpError::invalid(
            "consumerSecret",
            "the consumer key and secret do not match a registered client",
        ),
        other => other.into(),
    };
    let (client, external) = if key_manager.name == RESIDENT_KEY_MANAGER {
        let client = services
            .key_manager
            .authenticate_client(&request.consumer_key, &request.consumer_secret, source)
            .await
            .map_err(secret_refused)?;
        (client, false)
    } else {
        if request.consumer_key.is_empty()
            || request.consumer_key.len() > 255
            || request.consumer_key.chars().any(char::is_control)
        {
            return Err(OpError::invalid(
                "consumerKey",
                "must be 1 to 255 characters, none of them control characters",
            ));
        }
        let Some(token_endpoint) = key_manager.settings["tokenEndpoint"].as_str() else {
            return Err(OpError::invalid(
                "keyManager",
                format!(
                    "'{}' has no tokenEndpoint to prove the client's credentials with",
                    key_manager.name
                ),
            ));
        };
        services
            .key_manager
            .check_remote_client(
                token_endpoint,
                &request.consumer_key,
                &request.consumer_secret,
            )
            .await
            .map_err(secret_refused)?;
        // The client is recorded (without a secret: the other key manager keeps it) so the
        // mapping names a known client; the resident key manager never authenticates it.
        let client = OAuthClientRow {
            consumer_key: request.consumer_key.clone(),
            tenant: app.tenant.clone(),
            consumer_secret: String::new(),
            client_name: format!("{}_{}_{}", app.owner, app.name, key_type.as_str()),
            owner: app.owner.clone(),
            grant_types: Vec::new(),
            callback_url: String::new(),
            created_time: tollgate_model::now_millis(),
            token_type: TokenType::Jwt,
            validity: ClientValidity::default(),
            key_manager: key_manager.name.clone(),
        };
        (client, true)
    };
    if services
        .store
        .key_mapping_by_consumer_key(&request.consumer_key)
        .await?
        .is_some()
    {
        return Err(OpError::Conflict(format!(
            "Consumer key {} is mapped to an application already",
            request.consumer_key
        )));
    }
    let mapping = new_mapping(
        &app,
        &request.consumer_key,
        key_type,
        key_manager.name,
        KeyMappingMode::Mapped,
    );
    let mut tx = services.store.begin().await?;
    if external {
        tx.apply(&Change::CreateKeyMapping {
            client: client.clone(),
            mapping: mapping.clone(),
        })
        .await?;
    } else {
        tx.apply(&Change::MapKeys(mapping.clone())).await?;
    }
    tx.commit().await?;
    Ok(AppKey {
        mapping,
        client,
        secret: None,
    })
}

/// The application's key sets.
pub async fn list(
    services: &Services,
    actor: &Actor,
    application_id: &str,
) -> OpResult<Vec<AppKey>> {
    actor.require_any(SUBSCRIBE_APP)?;
    let app = own_application(services, actor, application_id).await?;
    let mut keys = Vec::new();
    for mapping in services.store.key_mappings_of(&app.id).await? {
        if let Some(client) = services.store.oauth_client(&mapping.consumer_key).await? {
            keys.push(AppKey {
                mapping,
                client,
                secret: None,
            });
        }
    }
    Ok(keys)
}

pub async fn get(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_mapping_id: &str,
) -> OpResult<AppKey> {
    let (_, mapping, client) = own_key(services, actor, application_id, key_mapping_id).await?;
    Ok(AppKey {
        mapping,
        client,
        secret: None,
    })
}

/// WSO2's older key paths name a key set by its type: the id of the application's mapping of
/// that type at the resident key manager.
pub async fn mapping_of_type(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_type: KeyType,
) -> OpResult<String> {
    actor.require_any(SUBSCRIBE_APP)?;
    let app = own_application(services, actor, application_id).await?;
    services
        .store
        .key_mappings_of(&app.id)
        .await?
        .into_iter()
        .find(|m| m.key_type == key_type && m.key_manager == RESIDENT_KEY_MANAGER)
        .map(|m| m.id)
        .ok_or_else(|| {
            OpError::NotFound(format!(
                "{} keys of application {application_id}",
                key_type.as_str()
            ))
        })
}

/// Changes the grant types, callback URL and token lifetimes of resident keys.
pub async fn update(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_mapping_id: &str,
    change: KeyUpdate,
) -> OpResult<AppKey> {
    let (_, mapping, mut client) = own_key(services, actor, application_id, key_mapping_id).await?;
    resident(&mapping)?;
    if let Some(grants) = &change.grant_types {
        client.grant_types = grant_types("supportedGrantTypes", grants)?;
    }
    if let Some(url) = change.callback_url {
        if url.chars().any(|c| c.is_ascii_control()) {
            return Err(OpError::invalid(
                "callbackUrl",
                "must not hold control characters",
            ));
        }
        client.callback_url = url;
    }
    client.validity = parse_validity(change.additional_properties.as_ref(), client.validity)?;
    let mut tx = services.store.begin().await?;
    tx.update_oauth_client(&client).await?;
    tx.commit().await?;
    Ok(AppKey {
        mapping,
        client,
        secret: None,
    })
}

/// A new consumer secret; the old one stops working at once, and the refresh tokens issued
/// under it are revoked. Returns the consumer key and the new secret.
pub async fn regenerate_secret(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_mapping_id: &str,
) -> OpResult<(String, String)> {
    let (_, mapping, client) = own_key(services, actor, application_id, key_mapping_id).await?;
    resident(&mapping)?;
    let secret = services.key_manager.regenerate_secret(&client).await?;
    Ok((client.consumer_key, secret))
}

/// A client-credentials token for the keys, through the key manager's own grant code.
pub async fn generate_token(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_mapping_id: &str,
    order: TokenOrder,
    source: Option<std::net::IpAddr>,
) -> OpResult<AppToken> {
    let (_, mapping, client) = own_key(services, actor, application_id, key_mapping_id).await?;
    resident(&mapping)?;
    // The owner is signed in already; a secret, when sent, must still be the right one.
    if let Some(secret) = order.consumer_secret.as_deref().filter(|s| !s.is_empty()) {
        services
            .key_manager
            .authenticate_client(&client.consumer_key, secret, source)
            .await
            .map_err(|err| match err {
                KeyManagerError::InvalidClient => OpError::invalid(
                    "consumerSecret",
                    "does not match the application's consumer secret",
                ),
                other => other.into(),
            })?;
    }
    match order.grant_type {
        None | Some(GrantType::ClientCredentials) => {}
        Some(other) => {
            return Err(OpError::invalid(
                "grantType",
                format!("'{other}' is not supported; use CLIENT_CREDENTIALS"),
            ))
        }
    }
    let validity_period = match order.validity_period {
        None | Some(-1) | Some(0) => None,
        Some(v) if v > 0 => Some(v),
        Some(v) => {
            return Err(OpError::invalid(
                "validityPeriod",
                format!("must be a positive number of seconds (or -1 for the default), not {v}"),
            ))
        }
    };
    let previous = order.revoke_token.as_deref().filter(|t| !t.is_empty());
    if previous.is_some_and(|t| t.len() > 8192 || t.chars().any(char::is_control)) {
        return Err(OpError::invalid("revokeToken", "is not a token"));
    }
    let request = TokenRequest {
        grant: Grant::ClientCredentials {
            scope: order.scopes,
        },
        validity_period,
    };
    let token = services
        .key_manager
        .grant(&client, request, source)
        .await
        .map_err(|err| match err {
            KeyManagerError::UnauthorizedClient(_) => OpError::NotAllowed(
                "The application's keys do not support the client_credentials grant; add it to their grant types".into(),
            ),
            KeyManagerError::InvalidRequest(m) => OpError::invalid("validityPeriod", m),
            other => other.into(),
        })?;
    // The previous token goes once the new one exists, so a refused request revokes nothing.
    // As RFC 7009: a token that is not this client's (or not a token) is ignored.
    if let Some(previous) = previous {
        services
            .key_manager
            .revoke(&client.consumer_key, previous)
            .await?;
    }
    Ok(AppToken {
        access_token: token.access_token,
        scopes: token.scopes,
        expires_in: token.expires_in,
    })
}

/// Removes an application's keys of one type: the consumer key stops working on every gateway.
pub async fn clean_up(
    services: &Services,
    actor: &Actor,
    application_id: &str,
    key_mapping_id: &str,
) -> OpResult<()> {
    let (_, mapping, _) = own_key(services, actor, application_id, key_mapping_id).await?;
    let mut tx = services.store.begin().await?;
    tx.revoke_refresh_tokens_of(&mapping.consumer_key).await?;
    tx.apply(&Change::RemoveKeyMapping(mapping)).await?;
    tx.commit().await?;
    Ok(())
}
