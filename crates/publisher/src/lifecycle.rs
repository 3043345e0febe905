//! The API lifecycle: change it, read its state and history.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::LifecycleAction;
use tollgate_operations::publisher::lifecycle::{self as ops, Checklist};
use tollgate_restcore::{named_param, required, ApiError, Ctx, Principal, QueryParams};

use crate::wire::{lifecycle_history_json, lifecycle_state_json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeQuery {
    api_id: Option<String>,
    action: Option<String>,
    lifecycle_checklist: Option<String>,
}

pub(crate) async fn change(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ChangeQuery>,
) -> Result<Json<Value>, ApiError> {
    let api_id = required("apiId", q.api_id)?;
    let action: LifecycleAction = named_param("action", q.action.as_deref())?
        .ok_or_else(|| ApiError::bad_field("action", "is required"))?;
    let checklist = Checklist::parse(q.lifecycle_checklist.as_deref().unwrap_or(""))?;
    let state = ops::change_lifecycle(&ctx, &principal, &api_id, action, checklist).await?;
    Ok(Json(json!({
        "workflowStatus": "APPROVED",
        "jsonPayload": "",
        "lifecycleState": lifecycle_state_json(state),
    })))
}

pub(crate) async fn state(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = ops::lifecycle_state(&ctx, &principal, &api_id).await?;
    Ok(Json(lifecycle_state_json(state)))
}

pub(crate) async fn history(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let history = ops::lifecycle_history(&ctx, &principal, &api_id).await?;
    Ok(Json(lifecycle_history_json(&history)))
}
