//! `POST /applications/{id}/api-keys/{keyType}/generate` and `/revoke`: WSO2's API keys.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::devportal::api_keys::{self as ops, ApiKeyRequest};
use tollgate_restcore::{parse_json, parse_name, ApiError, Ctx, Principal};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GenerateInput {
    #[serde(default)]
    validity_period: Option<i64>,
    /// WSO2 carries `permittedIP` and `permittedReferer` here.
    #[serde(default)]
    additional_properties: Option<Restrictions>,
}

#[derive(Deserialize, Default)]
struct Restrictions {
    #[serde(default, rename = "permittedIP")]
    permitted_ip: Option<String>,
    #[serde(default, rename = "permittedReferer")]
    permitted_referer: Option<String>,
}

#[derive(Deserialize)]
struct RevokeInput {
    apikey: String,
}

/// WSO2's body is optional: none means a key that never expires, usable from anywhere.
pub(crate) async fn generate(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_type)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let input: GenerateInput = if body.iter().all(u8::is_ascii_whitespace) {
        GenerateInput::default()
    } else {
        parse_json(&body)?
    };
    let restrictions = input.additional_properties.unwrap_or_default();
    let request = ApiKeyRequest {
        validity_period: input.validity_period,
        permitted_ip: restrictions.permitted_ip,
        permitted_referer: restrictions.permitted_referer,
    };
    let issued = ops::generate(
        &ctx,
        &principal,
        &application_id,
        parse_name("keyType", &key_type)?,
        &request,
    )
    .await?;
    Ok(Json(json!({
        "apikey": issued.api_key,
        "validityTime": issued.validity_time,
    })))
}

pub(crate) async fn revoke(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((application_id, key_type)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let input: RevokeInput = parse_json(&body)?;
    ops::revoke(
        &ctx,
        &principal,
        &application_id,
        parse_name("keyType", &key_type)?,
        &input.apikey,
    )
    .await?;
    Ok(Json(json!({})))
}
