//! `/settings`, `/settings/application-attributes` and `/throttling-policies/{policyLevel}`:
//! what a portal reads to set itself up.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::devportal::discovery as ops;
use tollgate_operations::Listed;
use tollgate_restcore::Paged;
use tollgate_restcore::{
    listed_body, parse_name, tier_json, ApiError, Ctx, MaybePrincipal, Principal,
};

use crate::discovery::viewer;

/// WSO2's Developer Portal `Settings` (open to visitors: a portal reads it before sign-in).
pub(crate) async fn settings(State(ctx): State<Ctx>) -> Json<Value> {
    let settings = tollgate_operations::devportal::settings::settings(&ctx);
    Json(json!({
        "grantTypes": settings.grant_types,
        "scopes": settings.scopes,
        "applicationSharingEnabled": false,
        "mapExistingAuthApps": true,
        "apiGatewayEndpoint": settings.gateway_endpoint,
        "monetizationEnabled": false,
        "recommendationEnabled": false,
        "IsUnlimitedTierPaid": false,
        "identityProvider": {"external": false},
        "IsAnonymousModeEnabled": settings.anonymous_mode,
        "IsPasswordChangeEnabled": true,
        "userStorePasswordPattern": "",
        "passwordPolicyPattern": "",
        "passwordPolicyMinLength": settings.min_password_length,
        "passwordPolicyMaxLength": settings.max_password_length,
    }))
}

/// The attributes applications carry, as configured.
pub(crate) async fn application_attributes(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let attributes =
        tollgate_operations::devportal::settings::application_attributes(&ctx, &principal)?;
    let list: Vec<Value> = attributes
        .iter()
        .map(|a| {
            json!({
                "attribute": a.name,
                "description": a.description,
                "type": "text",
                "tooltip": a.tooltip,
                "required": a.required.to_string(),
                "hidden": a.hidden.to_string(),
            })
        })
        .collect();
    Ok(Json(json!({"count": list.len(), "list": list})))
}

pub(crate) async fn tiers(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path(level): Path<String>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let level = parse_name("policyLevel", &level)?;
    let tiers = ops::tiers(&ctx, &viewer, level).await?;
    Ok(listed_body(&Listed::page_of(tiers, page), |tier| {
        tier_json(tier, level)
    }))
}

pub(crate) async fn tier(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path((level, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let level = parse_name("policyLevel", &level)?;
    let tiers = ops::tiers(&ctx, &viewer, level).await?;
    tiers
        .iter()
        .find(|t| t.name == name)
        .map(|t| Json(tier_json(t, level)))
        .ok_or_else(|| ApiError::not_found(format!("Requested tier {name} not found")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /me/change-password`.
pub(crate) async fn change_password(
    State(ctx): State<Ctx>,
    client_addr: Option<axum::Extension<tollgate_guard::ClientAddr>>,
    principal: Principal,
    tollgate_restcore::JsonBody(input): tollgate_restcore::JsonBody<PasswordChange>,
) -> Result<Json<Value>, ApiError> {
    tollgate_operations::users::change_own_password(
        &ctx,
        &principal,
        &input.current_password,
        &input.new_password,
        client_addr.map(|axum::Extension(addr)| addr.0.ip()),
    )
    .await?;
    Ok(Json(json!({})))
}
