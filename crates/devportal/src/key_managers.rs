//! `/key-managers`: the key managers applications can get keys from (enabled ones only).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use tollgate_operations::key_managers;
use tollgate_restcore::{list_body, ApiError, Ctx, Principal};
use tollgate_store::KeyManagerRow;

/// WSO2's Developer Portal `KeyManagerInfo`.
fn key_manager_info(km: &KeyManagerRow) -> Value {
    let setting = |field: &str| km.settings.get(field).cloned();
    json!({
        "id": km.id,
        "name": km.name,
        "type": km.kind,
        "displayName": km.display_name,
        "description": km.description,
        "enabled": km.enabled,
        "availableGrantTypes": setting("availableGrantTypes").unwrap_or(json!([])),
        "tokenEndpoint": setting("tokenEndpoint").unwrap_or(json!("")),
        "revokeEndpoint": setting("revokeEndpoint").unwrap_or(json!("")),
        "userInfoEndpoint": setting("userInfoEndpoint").unwrap_or(json!("")),
        "enableTokenGeneration": setting("enableTokenGeneration").unwrap_or(json!(true)),
        "enableTokenEncryption": false,
        "enableTokenHashing": false,
        "enableOAuthAppCreation": setting("enableOAuthAppCreation").unwrap_or(json!(false)),
        "enableMapOAuthConsumerApps": setting("enableMapOAuthConsumerApps").unwrap_or(json!(true)),
        "applicationConfiguration": [],
        "alias": setting("alias").unwrap_or(json!("")),
        "additionalProperties": {},
        "tokenType": setting("tokenType").unwrap_or(json!("DIRECT")),
    })
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let all = key_managers::list(&ctx, &principal).await?;
    Ok(list_body(
        all.iter()
            .filter(|km| km.enabled)
            .map(key_manager_info)
            .collect(),
        None,
    ))
}
