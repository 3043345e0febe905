use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_keymanager::{new_client, Grant, KeyManagerError, TokenRequest, RESIDENT_KEY_MANAGER};
use tollgate_model::{GrantType, KeyType};
use tollgate_restcore::{check_line, ApiError, Ctx, JsonBody, Principal};
use tollgate_store::{Change, ClientValidity, KeyManagerRow, KeyMappingRow, OAuthClientRow};

use crate::{approved, own_application, SUBSCRIBE_APP};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyGenerateInput {
    key_type: String,
    grant_types_to_be_supported: Vec<String>,
    #[serde(default)]
    key_manager: Option<String>,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    additional_properties: Option<Value>,
}

/// WSO2's per-application token lifetimes in `additionalProperties`, seconds; `-1`, `"N/A"` or
/// absence mean the configured default.
const VALIDITY_PROPERTIES: [&str; 4] = [
    "application_access_token_expiry_time",
    "user_access_token_expiry_time",
    "refresh_token_expiry_time",
    "id_token_expiry_time",
];

fn parse_validity(
    properties: Option<&Value>,
    mut validity: ClientValidity,
) -> Result<ClientValidity, ApiError> {
    let Some(properties) = properties else {
        return Ok(validity);
    };
    let Some(properties) = properties.as_object() else {
        return Err(ApiError::bad_field(
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
                return Err(ApiError::bad_field(
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

/// The longest lifetime an application may set for its tokens: a year.
const MAX_CLIENT_VALIDITY: i64 = 365 * 86_400;

fn validity_json(validity: &ClientValidity) -> Value {
    let show = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "N/A".into());
    json!({
        "application_access_token_expiry_time": show(validity.application_access_token),
        "user_access_token_expiry_time": show(validity.user_access_token),
        "refresh_token_expiry_time": show(validity.refresh_token),
        "id_token_expiry_time": show(validity.id_token),
    })
}

/// Grant types named in a request, each one WSO2 knows.
fn grant_types(field: &str, names: &[String]) -> Result<Vec<String>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::bad_field(
            field,
            "must list at least one grant type",
        ));
    }
    for name in names {
        if GrantType::parse(name).is_none() {
            return Err(ApiError::bad_field(
                field,
                format!("unknown grant type '{name}'; known: {}", GrantType::names()),
            ));
        }
    }
    Ok(names.to_vec())
}

/// A key's JSON; the secret only when it was just made (it is stored hashed).
fn key_json(
    mapping: &KeyMappingRow,
    client: &OAuthClientRow,
    secret: Option<&str>,
    mode: &str,
) -> Value {
    let mut key = json!({
        "keyMappingId": mapping.id,
        "keyManager": mapping.key_manager,
        "consumerKey": client.consumer_key,
        "supportedGrantTypes": client.grant_types,
        "callbackUrl": client.callback_url,
        "keyState": "COMPLETED",
        "keyType": mapping.key_type.as_str(),
        "mode": mode,
        "additionalProperties": validity_json(&client.validity),
    });
    if let Some(secret) = secret {
        key["consumerSecret"] = secret.into();
    }
    key
}

pub(crate) async fn keys_json(ctx: &Ctx, application_id: &str) -> Result<Vec<Value>, ApiError> {
    let mut keys = Vec::new();
    for mapping in ctx.store.key_mappings_of(application_id).await? {
        if let Some(client) = ctx.store.oauth_client(&mapping.consumer_key).await? {
            keys.push(key_json(&mapping, &client, None, "CREATED"));
        }
    }
    Ok(keys)
}

/// One of the application's key mappings, or 404.
async fn own_key_mapping(
    ctx: &Ctx,
    application_id: &str,
    key_mapping_id: &str,
) -> Result<KeyMappingRow, ApiError> {
    ctx.store
        .key_mappings_of(application_id)
        .await?
        .into_iter()
        .find(|m| m.id == key_mapping_id)
        .ok_or_else(|| {
            ApiError::not_found(format!("Requested key mapping {key_mapping_id} not found"))
        })
}

/// The OAuth client behind one of the application's key mappings.
async fn mapped_client(ctx: &Ctx, mapping: &KeyMappingRow) -> Result<OAuthClientRow, ApiError> {
    ctx.store
        .oauth_client(&mapping.consumer_key)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Requested key mapping {} not found", mapping.id))
        })
}

fn key_type_of(text: &str) -> Result<KeyType, ApiError> {
    KeyType::parse(text).ok_or_else(|| {
        ApiError::bad_field(
            "keyType",
            format!("'{text}' is not one of PRODUCTION, SANDBOX"),
        )
    })
}

/// A fresh mapping of `consumer_key` to the application's keys of `key_type`.
fn new_mapping(
    app: &tollgate_store::ApplicationRow,
    consumer_key: &str,
    key_type: KeyType,
    key_manager: String,
) -> KeyMappingRow {
    KeyMappingRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: app.tenant.clone(),
        application_id: app.id.clone(),
        consumer_key: consumer_key.to_string(),
        key_type,
        key_manager,
        created_time: tollgate_model::now_millis(),
    }
}

/// The key manager `name` names (none: the resident one), which must be enabled.
async fn key_manager_named(
    ctx: &Ctx,
    tenant: &str,
    name: Option<&str>,
) -> Result<KeyManagerRow, ApiError> {
    let name = name.unwrap_or_default();
    match tollgate_operations::key_managers::by_name(ctx, tenant, name).await? {
        Some(km) if km.enabled => Ok(km),
        Some(km) => Err(ApiError::bad_field(
            "keyManager",
            format!("key manager '{}' is disabled", km.name),
        )),
        None => Err(ApiError::bad_field(
            "keyManager",
            format!("no key manager named '{name}' is configured"),
        )),
    }
}

/// The mapping's client, which must be the resident key manager's: another key manager's
/// clients are changed, and get tokens, there.
async fn resident_client(ctx: &Ctx, mapping: &KeyMappingRow) -> Result<OAuthClientRow, ApiError> {
    if mapping.key_manager != RESIDENT_KEY_MANAGER {
        return Err(ApiError::bad_request(format!(
            "These keys belong to the key manager '{}': manage them, and get tokens, there",
            mapping.key_manager
        )));
    }
    mapped_client(ctx, mapping).await
}

pub(crate) async fn generate_keys(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
    JsonBody(input): JsonBody<KeyGenerateInput>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    approved(&app)?;
    let key_type = key_type_of(&input.key_type)?;
    let key_manager = key_manager_named(&ctx, &app.tenant, input.key_manager.as_deref()).await?;
    if key_manager.name != RESIDENT_KEY_MANAGER {
        return Err(ApiError::bad_field(
            "keyManager",
            format!(
                "'{}' is an external key manager: register the client there and map its keys (map-keys)",
                key_manager.name
            ),
        ));
    }
    let grants = grant_types(
        "grantTypesToBeSupported",
        &input.grant_types_to_be_supported,
    )?;
    let validity = parse_validity(
        input.additional_properties.as_ref(),
        ClientValidity::default(),
    )?;
    let (mut client, secret) = new_client(
        &app.tenant,
        &app.owner,
        &format!("{}_{}_{}", app.owner, app.name, key_type.as_str()),
        grants,
        input.callback_url.as_deref().unwrap_or(""),
    );
    client.token_type = app.token_type.clone();
    client.validity = validity;
    let mapping = new_mapping(&app, &client.consumer_key, key_type, key_manager.name);
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::CreateKeyMapping {
        client: client.clone(),
        mapping: mapping.clone(),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(key_json(&mapping, &client, Some(&secret), "CREATED")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MapKeysInput {
    consumer_key: String,
    consumer_secret: String,
    key_type: String,
    #[serde(default)]
    key_manager: Option<String>,
}

/// `map-keys`: keys of a client registered elsewhere become the application's, once the caller
/// proves it holds them: with the resident key manager, by its secret; with an external one, by
/// that key manager's token endpoint granting the client a token.
pub(crate) async fn map_keys(
    State(ctx): State<Ctx>,
    client_addr: Option<axum::Extension<tollgate_guard::ClientAddr>>,
    principal: Principal,
    Path(application_id): Path<String>,
    JsonBody(input): JsonBody<MapKeysInput>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    approved(&app)?;
    let key_type = key_type_of(&input.key_type)?;
    let key_manager = key_manager_named(&ctx, &app.tenant, input.key_manager.as_deref()).await?;
    let secret_refused = |err| match err {
        KeyManagerError::InvalidClient => ApiError::bad_field(
            "consumerSecret",
            "the consumer key and secret do not match a registered client",
        ),
        other => other.into(),
    };
    let (client, external) = if key_manager.name == RESIDENT_KEY_MANAGER {
        let client = ctx
            .key_manager
            .authenticate_client(
                &input.consumer_key,
                &input.consumer_secret,
                source(&client_addr),
            )
            .await
            .map_err(secret_refused)?;
        (client, false)
    } else {
        check_line("consumerKey", &input.consumer_key)?;
        let Some(token_endpoint) = key_manager.settings["tokenEndpoint"].as_str() else {
            return Err(ApiError::bad_field(
                "keyManager",
                format!(
                    "'{}' has no tokenEndpoint to prove the client's credentials with",
                    key_manager.name
                ),
            ));
        };
        ctx.key_manager
            .check_remote_client(token_endpoint, &input.consumer_key, &input.consumer_secret)
            .await
            .map_err(secret_refused)?;
        // The client is recorded (without a secret: the other key manager keeps it) so the
        // mapping names a known client; the resident key manager never authenticates it.
        let client = OAuthClientRow {
            consumer_key: input.consumer_key.clone(),
            tenant: app.tenant.clone(),
            consumer_secret: String::new(),
            client_name: format!("{}_{}_{}", app.owner, app.name, key_type.as_str()),
            owner: app.owner.clone(),
            grant_types: Vec::new(),
            callback_url: String::new(),
            created_time: tollgate_model::now_millis(),
            token_type: "JWT".into(),
            validity: ClientValidity::default(),
            key_manager: key_manager.name.clone(),
        };
        (client, true)
    };
    if ctx
        .store
        .key_mapping_by_consumer_key(&input.consumer_key)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "Consumer key {} is mapped to an application already",
            input.consumer_key
        )));
    }
    let mapping = new_mapping(&app, &input.consumer_key, key_type, key_manager.name);
    let mut tx = ctx.store.begin().await?;
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
    Ok(Json(key_json(&mapping, &client, None, "MAPPED")))
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let keys = keys_json(&ctx, &app.id).await?;
    Ok(Json(json!({"count": keys.len(), "list": keys})))
}

pub(crate) async fn get_key(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let mapping = own_key_mapping(&ctx, &app.id, &key_mapping_id).await?;
    let client = mapped_client(&ctx, &mapping).await?;
    Ok(Json(key_json(&mapping, &client, None, "CREATED")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyUpdateInput {
    #[serde(default)]
    supported_grant_types: Option<Vec<String>>,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    additional_properties: Option<Value>,
}

/// `PUT oauth-keys/{keyMappingId}`: the grant types, callback URL and token lifetimes.
pub(crate) async fn update_key(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<KeyUpdateInput>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let mapping = own_key_mapping(&ctx, &app.id, &key_mapping_id).await?;
    let mut client = resident_client(&ctx, &mapping).await?;
    if let Some(names) = &input.supported_grant_types {
        client.grant_types = grant_types("supportedGrantTypes", names)?;
    }
    if let Some(url) = input.callback_url {
        if url.chars().any(|c| c.is_ascii_control()) {
            return Err(ApiError::bad_field(
                "callbackUrl",
                "must not hold control characters",
            ));
        }
        client.callback_url = url;
    }
    client.validity = parse_validity(input.additional_properties.as_ref(), client.validity)?;
    let mut tx = ctx.store.begin().await?;
    tx.update_oauth_client(&client).await?;
    tx.commit().await?;
    Ok(Json(key_json(&mapping, &client, None, "CREATED")))
}

/// `regenerate-secret`: a new consumer secret; the old one stops working at once, and the
/// refresh tokens issued under it are revoked.
pub(crate) async fn regenerate_secret(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let mapping = own_key_mapping(&ctx, &app.id, &key_mapping_id).await?;
    let client = resident_client(&ctx, &mapping).await?;
    let secret = ctx.key_manager.regenerate_secret(&client).await?;
    Ok(Json(json!({
        "consumerKey": client.consumer_key,
        "consumerSecret": secret,
    })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenInput {
    #[serde(default)]
    consumer_secret: Option<String>,
    #[serde(default)]
    validity_period: Option<i64>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    grant_type: Option<String>,
    /// A token of these keys to revoke first (WSO2's `revokeToken`).
    #[serde(default)]
    revoke_token: Option<String>,
}

fn source(
    client_addr: &Option<axum::Extension<tollgate_guard::ClientAddr>>,
) -> Option<std::net::IpAddr> {
    client_addr
        .as_ref()
        .map(|axum::Extension(addr)| addr.0.ip())
}

/// `generate-token`: a client-credentials token through the key manager's own grant code.
pub(crate) async fn generate_token(
    State(ctx): State<Ctx>,
    client_addr: Option<axum::Extension<tollgate_guard::ClientAddr>>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<TokenInput>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let mapping = own_key_mapping(&ctx, &app.id, &key_mapping_id).await?;
    let client = resident_client(&ctx, &mapping).await?;
    // The owner is signed in already; a secret, when sent, must still be the right one.
    if let Some(secret) = input.consumer_secret.as_deref().filter(|s| !s.is_empty()) {
        ctx.key_manager
            .authenticate_client(&client.consumer_key, secret, source(&client_addr))
            .await
            .map_err(|err| match err {
                KeyManagerError::InvalidClient => ApiError::bad_field(
                    "consumerSecret",
                    "does not match the application's consumer secret",
                ),
                other => other.into(),
            })?;
    }
    match input.grant_type.as_deref() {
        None | Some("CLIENT_CREDENTIALS") | Some("client_credentials") => {}
        Some(other) => {
            return Err(ApiError::bad_field(
                "grantType",
                format!("'{other}' is not supported; use CLIENT_CREDENTIALS"),
            ))
        }
    }
    let validity_period = match input.validity_period {
        None | Some(-1) | Some(0) => None,
        Some(v) if v > 0 => Some(v),
        Some(v) => {
            return Err(ApiError::bad_field(
                "validityPeriod",
                format!("must be a positive number of seconds (or -1 for the default), not {v}"),
            ))
        }
    };
    if let Some(previous) = input.revoke_token.as_deref().filter(|t| !t.is_empty()) {
        check_line("revokeToken", previous)?;
        // As RFC 7009: a token that is not this client's (or not a token) is ignored.
        ctx.key_manager
            .revoke(&client.consumer_key, previous)
            .await?;
    }
    let request = TokenRequest {
        grant: Grant::ClientCredentials {
            scope: input.scopes.unwrap_or_default(),
        },
        validity_period,
    };
    let token = ctx
        .key_manager
        .grant(&client, request, source(&client_addr))
        .await
        .map_err(|err| match err {
            KeyManagerError::UnauthorizedClient(_) => ApiError::bad_request(
                "The application's keys do not support the client_credentials grant; add it to their grant types",
            ),
            KeyManagerError::InvalidRequest(m) => ApiError::bad_field("validityPeriod", &m),
            other => other.into(),
        })?;
    Ok(Json(json!({
        "accessToken": token.access_token,
        "tokenScopes": token.scopes,
        "validityTime": token.expires_in,
    })))
}

/// Removes an application's keys of one type: the consumer key stops working on every gateway.
pub(crate) async fn clean_up(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
) -> Result<axum::http::StatusCode, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let mapping = own_key_mapping(&ctx, &app.id, &key_mapping_id).await?;
    let mut tx = ctx.store.begin().await?;
    tx.revoke_refresh_tokens_of(&mapping.consumer_key).await?;
    tx.apply(&Change::RemoveKeyMapping(mapping)).await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::OK)
}

/// WSO2's older key paths name a key set by its type (`/applications/{id}/keys/{keyType}…`):
/// the application's key mapping of that type at the resident key manager.
async fn mapping_of_type(
    ctx: &Ctx,
    principal: &Principal,
    application_id: &str,
    key_type: &str,
) -> Result<(String, String), ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(ctx, principal, application_id).await?;
    let key_type = key_type_of(key_type)?;
    let mapping = ctx
        .store
        .key_mappings_of(&app.id)
        .await?
        .into_iter()
        .find(|m| m.key_type == key_type && m.key_manager == RESIDENT_KEY_MANAGER)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Requested {} keys of application {application_id} not found",
                key_type.as_str()
            ))
        })?;
    Ok((app.id, mapping.id))
}

pub(crate) mod by_type {
    //! `/applications/{id}/keys/{keyType}`, `…/regenerate-secret`, `…/clean-up`,
    //! `…/generate-token`: the same operations as the `oauth-keys/{keyMappingId}` paths.
    use super::*;

    pub(crate) async fn get(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping_of_type(&ctx, &principal, &application_id, &key_type).await?;
        get_key(State(ctx), principal, Path(ids)).await
    }

    pub(crate) async fn update(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
        body: JsonBody<KeyUpdateInput>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping_of_type(&ctx, &principal, &application_id, &key_type).await?;
        update_key(State(ctx), principal, Path(ids), body).await
    }

    pub(crate) async fn regenerate(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping_of_type(&ctx, &principal, &application_id, &key_type).await?;
        regenerate_secret(State(ctx), principal, Path(ids)).await
    }

    pub(crate) async fn clean(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
    ) -> Result<axum::http::StatusCode, ApiError> {
        let ids = mapping_of_type(&ctx, &principal, &application_id, &key_type).await?;
        clean_up(State(ctx), principal, Path(ids)).await
    }

    pub(crate) async fn token(
        State(ctx): State<Ctx>,
        client_addr: Option<axum::Extension<tollgate_guard::ClientAddr>>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
        body: JsonBody<TokenInput>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping_of_type(&ctx, &principal, &application_id, &key_type).await?;
        generate_token(State(ctx), client_addr, principal, Path(ids), body).await
    }
}
