use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_keymanager::{new_client, RESIDENT_KEY_MANAGER};
use tollgate_model::KeyType;
use tollgate_restcore::{ApiError, Ctx, JsonBody, Principal};
use tollgate_store::{Change, KeyMappingRow, OAuthClientRow};

use crate::{own_application, SUBSCRIBE_APP};

const GRANT_TYPES: &[&str] = &[
    "client_credentials",
    "password",
    "refresh_token",
    "authorization_code",
    "implicit",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:device_code",
    "iwa:ntlm",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyGenerateInput {
    key_type: String,
    grant_types_to_be_supported: Vec<String>,
    #[serde(default)]
    key_manager: Option<String>,
    #[serde(default)]
    callback_url: Option<String>,
}

fn key_json(mapping: &KeyMappingRow, client: &OAuthClientRow) -> Value {
    json!({
        "keyMappingId": mapping.id,
        "keyManager": mapping.key_manager,
        "consumerKey": client.consumer_key,
        "consumerSecret": client.consumer_secret,
        "supportedGrantTypes": client.grant_types,
        "callbackUrl": client.callback_url,
        "keyState": "COMPLETED",
        "keyType": mapping.key_type.as_str(),
        "mode": "CREATED",
        "additionalProperties": {},
    })
}

pub(crate) async fn keys_json(ctx: &Ctx, application_id: &str) -> Result<Vec<Value>, ApiError> {
    let mut keys = Vec::new();
    for mapping in ctx.store.key_mappings_of(application_id).await? {
        if let Some(client) = ctx.store.oauth_client(&mapping.consumer_key).await? {
            keys.push(key_json(&mapping, &client));
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

pub(crate) async fn generate_keys(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
    JsonBody(input): JsonBody<KeyGenerateInput>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let key_type = KeyType::parse(&input.key_type).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Field 'keyType': '{}' is not one of PRODUCTION, SANDBOX",
            input.key_type
        ))
    })?;
    let key_manager = input
        .key_manager
        .filter(|k| !k.is_empty() && k != "Default")
        .unwrap_or_else(|| RESIDENT_KEY_MANAGER.into());
    if key_manager != RESIDENT_KEY_MANAGER {
        return Err(ApiError::bad_request(format!(
            "Field 'keyManager': key manager '{key_manager}' is not configured; only '{RESIDENT_KEY_MANAGER}' is"
        )));
    }
    if input.grant_types_to_be_supported.is_empty() {
        return Err(ApiError::bad_request(
            "Field 'grantTypesToBeSupported' must list at least one grant type",
        ));
    }
    if let Some(unknown) = input
        .grant_types_to_be_supported
        .iter()
        .find(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "Field 'grantTypesToBeSupported': unknown grant type '{unknown}'"
        )));
    }
    let client = new_client(
        &app.tenant,
        &app.owner,
        &format!("{}_{}_{}", app.owner, app.name, key_type.as_str()),
        input.grant_types_to_be_supported,
        input.callback_url.as_deref().unwrap_or(""),
    );
    let mapping = KeyMappingRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: app.tenant.clone(),
        application_id: app.id.clone(),
        consumer_key: client.consumer_key.clone(),
        key_type,
        key_manager,
        created_time: tollgate_model::now_millis(),
    };
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::CreateKeyMapping {
        client: client.clone(),
        mapping: mapping.clone(),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(key_json(&mapping, &client)))
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
}

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
    let client = ctx
        .store
        .oauth_client(&mapping.consumer_key)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Requested key mapping {key_mapping_id} not found"))
        })?;
    if let Some(secret) = input.consumer_secret.as_deref().filter(|s| !s.is_empty()) {
        ctx.key_manager
            .authenticate_client(
                &client.consumer_key,
                secret,
                client_addr.map(|axum::Extension(addr)| addr.0.ip()),
            )
            .await
            .map_err(|err| match err {
                tollgate_keymanager::KeyManagerError::InvalidClient => ApiError::bad_request(
                    "Field 'consumerSecret' does not match the application's consumer secret",
                ),
                other => other.into(),
            })?;
    }
    match input.grant_type.as_deref() {
        None | Some("CLIENT_CREDENTIALS") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Field 'grantType': '{other}' is not supported; use CLIENT_CREDENTIALS"
            )))
        }
    }
    if !client.grant_types.iter().any(|g| g == "client_credentials") {
        return Err(ApiError::bad_request(
            "The application's keys do not support the client_credentials grant; regenerate them with it",
        ));
    }
    let validity = match input.validity_period {
        None | Some(-1) | Some(0) => tollgate_keymanager::DEFAULT_TOKEN_VALIDITY_SECS,
        Some(v) if (1..=tollgate_keymanager::MAX_TOKEN_VALIDITY_SECS).contains(&v) => v,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
            "Field 'validityPeriod' must be from 1 to {} seconds (or -1 for the default), not {v}",
            tollgate_keymanager::MAX_TOKEN_VALIDITY_SECS
        )))
        }
    };
    let owner_roles = ctx
        .key_manager
        .user(&app.owner)
        .await?
        .map(|u| u.roles)
        .unwrap_or_default();
    let requested: Vec<String> = input.scopes.unwrap_or_default();
    let requested: Vec<&str> = requested.iter().map(String::as_str).collect();
    let granted = ctx
        .key_manager
        .grant_scopes(&app.tenant, &owner_roles, &requested)
        .await?;
    let token =
        ctx.key_manager
            .issue(&client.consumer_key, &app.owner, false, &granted, validity)?;
    Ok(Json(json!({
        "accessToken": token.token,
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
    tx.apply(&Change::RemoveKeyMapping(mapping)).await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::OK)
}
