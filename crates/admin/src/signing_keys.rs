//! `/signing-keys` (Tollgate's own): the token signing key set and its rotation.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use tollgate_operations::admin::signing_keys::{self, SigningKeyInfo};
use tollgate_restcore::{ApiError, Ctx, Principal};

fn key_json(key: &SigningKeyInfo) -> Value {
    json!({
        "kid": key.kid,
        "algorithm": key.algorithm,
        "createdTime": key.created_time,
        "retireAfter": key.retire_after.map(|s| s * 1000),
        "signing": key.retire_after.is_none(),
    })
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let keys = signing_keys::list(&ctx, &principal).await?;
    let list: Vec<Value> = keys.iter().map(key_json).collect();
    Ok(Json(json!({"count": list.len(), "list": list})))
}

pub(crate) async fn rotate(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let key = signing_keys::rotate(&ctx, &principal).await?;
    Ok(Json(key_json(&key)))
}
