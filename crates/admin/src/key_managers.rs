//! `/key-managers`: the resident key manager and external authorization servers whose tokens
//! gateways accept (WSO2's `KeyManager` shape).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tollgate_operations::key_managers::{self as ops, KeyManagerInput, ENDPOINT_FIELDS};
use tollgate_restcore::{list_body, ApiError, Ctx, Form, JsonBody, Principal};
use tollgate_store::KeyManagerRow;

/// WSO2's other `KeyManager` fields, kept as given.
const KEPT_FIELDS: [&str; 11] = [
    "availableGrantTypes",
    "enableTokenGeneration",
    "enableTokenEncryption",
    "enableTokenHashing",
    "enableMapOAuthConsumerApps",
    "enableOAuthAppCreation",
    "enableSelfValidationJWT",
    "claimMapping",
    "tokenValidation",
    "additionalProperties",
    "tokenType",
];

/// WSO2's `KeyManager`: the typed fields, then what is kept as given.
pub fn key_manager_json(km: &KeyManagerRow) -> Value {
    let mut body = json!({
        "id": km.id,
        "name": km.name,
        "displayName": km.display_name,
        "type": km.kind,
        "description": km.description,
        "issuer": km.issuer,
        "certificates": {"type": "JWKS", "value": km.jwks_endpoint},
        "consumerKeyClaim": km.consumer_key_claim,
        "scopesClaim": km.scopes_claim,
        "enabled": km.enabled,
        "tokenType": "DIRECT",
        "enableSelfValidationJWT": true,
        "additionalProperties": {},
    });
    if let (Some(body), Some(settings)) = (body.as_object_mut(), km.settings.as_object()) {
        for (field, value) in settings {
            body.insert(field.clone(), value.clone());
        }
    }
    body
}

/// WSO2's `KeyManagerInfo` (list entries).
fn key_manager_info(km: &KeyManagerRow) -> Value {
    json!({
        "id": km.id,
        "name": km.name,
        "type": km.kind,
        "description": km.description,
        "enabled": km.enabled,
        "tokenType": km.settings.get("tokenType").cloned().unwrap_or(json!("DIRECT")),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyManagerBody {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    certificates: Option<Certificates>,
    #[serde(default)]
    consumer_key_claim: Option<String>,
    #[serde(default)]
    scopes_claim: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
struct Certificates {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

fn input_of(body: KeyManagerBody) -> Result<KeyManagerInput, ApiError> {
    let mut endpoints = Vec::new();
    let mut settings = Map::new();
    for (field, value) in body.rest {
        if ENDPOINT_FIELDS.contains(&field.as_str()) {
            match value {
                Value::String(url) => endpoints.push((field, url)),
                Value::Null => {}
                _ => return Err(ApiError::bad_field(field, "must be a string")),
            }
        } else if KEPT_FIELDS.contains(&field.as_str()) {
            settings.insert(field, value);
        }
    }
    let (certificate_type, certificate_value) = body
        .certificates
        .map(|c| (c.kind, c.value))
        .unwrap_or_default();
    Ok(KeyManagerInput {
        name: body.name,
        display_name: body.display_name,
        kind: body.kind,
        description: body.description,
        issuer: body.issuer,
        certificate_type,
        certificate_value,
        consumer_key_claim: body.consumer_key_claim,
        scopes_claim: body.scopes_claim,
        enabled: body.enabled,
        endpoints,
        settings,
    })
}

/// `POST /key-managers/discover` (multipart `url`, `type`): WSO2's `KeyManagerWellKnownResponse`.
pub(crate) async fn discover(
    State(ctx): State<Ctx>,
    principal: Principal,
    form: Form,
) -> Result<Json<Value>, ApiError> {
    let url = form
        .text("url")?
        .ok_or_else(|| ApiError::bad_field("url", "is required: the well-known endpoint"))?
        .to_string();
    let kind = form.text("type")?.unwrap_or("custom").to_string();
    let found = ops::discover(&ctx, &principal, &url, &kind).await?;
    Ok(Json(match found {
        None => json!({"valid": false}),
        Some(input) => {
            let mut value = json!({
                "type": input.kind,
                "issuer": input.issuer,
                "certificates": {"type": "JWKS", "value": input.certificate_value},
                "consumerKeyClaim": input.consumer_key_claim,
                "scopesClaim": input.scopes_claim,
                "enabled": true,
            });
            for (field, url) in input.endpoints {
                value[field] = json!(url);
            }
            for (field, setting) in input.settings {
                value[field] = setting;
            }
            json!({"valid": true, "value": value})
        }
    }))
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let all = ops::list_managed(&ctx, &principal).await?;
    Ok(list_body(all.iter().map(key_manager_info).collect(), None))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let km = ops::get(&ctx, &principal, &id).await?;
    Ok(Json(key_manager_json(&km)))
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(body): JsonBody<KeyManagerBody>,
) -> Result<Response, ApiError> {
    let km = ops::create(&ctx, &principal, input_of(body)?).await?;
    let location = format!("/api/am/admin/v4/key-managers/{}", km.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(key_manager_json(&km)),
    )
        .into_response())
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<KeyManagerBody>,
) -> Result<Json<Value>, ApiError> {
    let km = ops::update(&ctx, &principal, &id, input_of(body)?).await?;
    Ok(Json(key_manager_json(&km)))
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete(&ctx, &principal, &id).await?;
    Ok(StatusCode::OK)
}
