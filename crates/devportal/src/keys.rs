//! The application keys of WSO2's Developer Portal API: `generate-keys`, `map-keys`,
//! `oauth-keys` (and WSO2's older `keys/{keyType}` paths), `regenerate-secret`, `clean-up` and
//! `generate-token` — thin edges over `tollgate_operations::devportal::keys`.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::{GrantType, KeyType};
use tollgate_operations::devportal::keys::{
    self as ops, AppKey, KeyRequest, KeyUpdate, MapRequest, TokenOrder,
};
use tollgate_restcore::{ApiError, Ctx, JsonBody, Principal};
use tollgate_store::ClientValidity;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyGenerateInput {
    key_type: KeyType,
    grant_types_to_be_supported: Vec<GrantType>,
    #[serde(default)]
    key_manager: Option<String>,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    additional_properties: Option<Value>,
}

fn validity_json(validity: &ClientValidity) -> Value {
    let show = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "N/A".into());
    json!({
        "application_access_token_expiry_time": show(validity.application_access_token),
        "user_access_token_expiry_time": show(validity.user_access_token),
        "refresh_token_expiry_time": show(validity.refresh_token),
        "id_token_expiry_time": show(validity.id_token),
    })
}

/// WSO2's `ApplicationKey`; the secret only when it was just made (it is stored hashed).
fn key_json(key: &AppKey) -> Value {
    let mut body = json!({
        "keyMappingId": key.mapping.id,
        "keyManager": key.mapping.key_manager,
        "consumerKey": key.client.consumer_key,
        "supportedGrantTypes": key.client.grant_types,
        "callbackUrl": key.client.callback_url,
        "keyState": "COMPLETED",
        "keyType": key.mapping.key_type.as_str(),
        "mode": key.mapping.mode,
        "additionalProperties": validity_json(&key.client.validity),
    });
    if let Some(secret) = &key.secret {
        body["consumerSecret"] = secret.as_str().into();
    }
    body
}

/// The caller's address, for the key manager's failure limits on secrets.
fn source(
    client_addr: &Option<axum::Extension<tollgate_guard::ClientAddr>>,
) -> Option<std::net::IpAddr> {
    client_addr
        .as_ref()
        .map(|axum::Extension(addr)| addr.0.ip())
}

pub(crate) async fn generate_keys(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
    JsonBody(input): JsonBody<KeyGenerateInput>,
) -> Result<Json<Value>, ApiError> {
    let request = KeyRequest {
        key_type: input.key_type,
        key_manager: input.key_manager,
        grant_types: input.grant_types_to_be_supported,
        callback_url: input.callback_url,
        additional_properties: input.additional_properties,
    };
    let key = ops::generate(&ctx, &principal, &application_id, request).await?;
    Ok(Json(key_json(&key)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MapKeysInput {
    consumer_key: String,
    consumer_secret: String,
    key_type: KeyType,
    #[serde(default)]
    key_manager: Option<String>,
}

/// `map-keys`: keys of a client registered elsewhere become the application's.
pub(crate) async fn map_keys(
    State(ctx): State<Ctx>,
    client_addr: Option<axum::Extension<tollgate_guard::ClientAddr>>,
    principal: Principal,
    Path(application_id): Path<String>,
    JsonBody(input): JsonBody<MapKeysInput>,
) -> Result<Json<Value>, ApiError> {
    let request = MapRequest {
        consumer_key: input.consumer_key,
        consumer_secret: input.consumer_secret,
        key_type: input.key_type,
        key_manager: input.key_manager,
    };
    let key = ops::map(
        &ctx,
        &principal,
        &application_id,
        request,
        source(&client_addr),
    )
    .await?;
    Ok(Json(key_json(&key)))
}

/// The application's keys as WSO2's `ApplicationKey`s (for its `keys` field).
pub(crate) async fn keys_json(
    ctx: &Ctx,
    principal: &Principal,
    application_id: &str,
) -> Result<Vec<Value>, ApiError> {
    Ok(ops::list(ctx, principal, application_id)
        .await?
        .iter()
        .map(key_json)
        .collect())
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let keys: Vec<Value> = ops::list(&ctx, &principal, &application_id)
        .await?
        .iter()
        .map(key_json)
        .collect();
    Ok(Json(json!({"count": keys.len(), "list": keys})))
}

pub(crate) async fn get_key(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let key = ops::get(&ctx, &principal, &application_id, &key_mapping_id).await?;
    Ok(Json(key_json(&key)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyUpdateInput {
    #[serde(default)]
    supported_grant_types: Option<Vec<GrantType>>,
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
    let change = KeyUpdate {
        grant_types: input.supported_grant_types,
        callback_url: input.callback_url,
        additional_properties: input.additional_properties,
    };
    let key = ops::update(&ctx, &principal, &application_id, &key_mapping_id, change).await?;
    Ok(Json(key_json(&key)))
}

/// `regenerate-secret`: a new consumer secret; the old one stops working at once.
pub(crate) async fn regenerate_secret(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (consumer_key, secret) =
        ops::regenerate_secret(&ctx, &principal, &application_id, &key_mapping_id).await?;
    Ok(Json(json!({
        "consumerKey": consumer_key,
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
    grant_type: Option<GrantType>,
    /// A token of these keys to revoke first (WSO2's `revokeToken`).
    #[serde(default)]
    revoke_token: Option<String>,
}

/// `generate-token`: a client-credentials token.
pub(crate) async fn generate_token(
    State(ctx): State<Ctx>,
    client_addr: Option<axum::Extension<tollgate_guard::ClientAddr>>,
    principal: Principal,
    Path((application_id, key_mapping_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<TokenInput>,
) -> Result<Json<Value>, ApiError> {
    let order = TokenOrder {
        consumer_secret: input.consumer_secret,
        validity_period: input.validity_period,
        scopes: input.scopes.unwrap_or_default(),
        grant_type: input.grant_type,
        revoke_token: input.revoke_token,
    };
    let token = ops::generate_token(
        &ctx,
        &principal,
        &application_id,
        &key_mapping_id,
        order,
        source(&client_addr),
    )
    .await?;
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
    ops::clean_up(&ctx, &principal, &application_id, &key_mapping_id).await?;
    Ok(axum::http::StatusCode::OK)
}

pub(crate) mod by_type {
    //! `/applications/{id}/keys/{keyType}`, `…/regenerate-secret`, `…/clean-up`,
    //! `…/generate-token`: WSO2's older paths, naming a key set by its type (the resident key
    //! manager's); the same operations as the `oauth-keys/{keyMappingId}` paths.
    use super::*;

    async fn mapping(
        ctx: &Ctx,
        principal: &Principal,
        application_id: &str,
        key_type: &str,
    ) -> Result<(String, String), ApiError> {
        let key_type = tollgate_restcore::parse_name("keyType", key_type)?;
        let id = ops::mapping_of_type(ctx, principal, application_id, key_type).await?;
        Ok((application_id.to_string(), id))
    }

    pub(crate) async fn get(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping(&ctx, &principal, &application_id, &key_type).await?;
        get_key(State(ctx), principal, Path(ids)).await
    }

    pub(crate) async fn update(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
        body: JsonBody<KeyUpdateInput>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping(&ctx, &principal, &application_id, &key_type).await?;
        update_key(State(ctx), principal, Path(ids), body).await
    }

    pub(crate) async fn regenerate(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping(&ctx, &principal, &application_id, &key_type).await?;
        regenerate_secret(State(ctx), principal, Path(ids)).await
    }

    pub(crate) async fn clean(
        State(ctx): State<Ctx>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
    ) -> Result<axum::http::StatusCode, ApiError> {
        let ids = mapping(&ctx, &principal, &application_id, &key_type).await?;
        clean_up(State(ctx), principal, Path(ids)).await
    }

    pub(crate) async fn token(
        State(ctx): State<Ctx>,
        client_addr: Option<axum::Extension<tollgate_guard::ClientAddr>>,
        principal: Principal,
        Path((application_id, key_type)): Path<(String, String)>,
        body: JsonBody<TokenInput>,
    ) -> Result<Json<Value>, ApiError> {
        let ids = mapping(&ctx, &principal, &application_id, &key_type).await?;
        generate_token(State(ctx), client_addr, principal, Path(ids), body).await
    }
}
