//! Blocking and unblocking subscriptions, as an API's publisher does in WSO2.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tollgate_model::SubscriptionStatus;
use tollgate_operations::publisher::subscriptions as ops;
use tollgate_restcore::{named_param, ApiError, Ctx, Principal, QueryParams};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BlockQuery {
    subscription_id: Option<String>,
    block_state: Option<String>,
}

pub(crate) async fn block(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<BlockQuery>,
) -> Result<StatusCode, ApiError> {
    let state: SubscriptionStatus = named_param("blockState", q.block_state.as_deref())?
        .ok_or_else(|| ApiError::bad_field("blockState", "is required"))?;
    if state == SubscriptionStatus::Unblocked {
        return Err(ApiError::bad_field(
            "blockState",
            "must be BLOCKED or PROD_ONLY_BLOCKED",
        ));
    }
    let id = q.subscription_id.unwrap_or_default();
    ops::set_subscription_state(&ctx, &principal, &id, state).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn unblock(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<BlockQuery>,
) -> Result<StatusCode, ApiError> {
    let id = q.subscription_id.unwrap_or_default();
    ops::set_subscription_state(&ctx, &principal, &id, SubscriptionStatus::Unblocked).await?;
    Ok(StatusCode::OK)
}
