//! Blocking and unblocking subscriptions, as an API's publisher does in WSO2.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tollgate_model::{subscription_status, Event};
use tollgate_restcore::{ApiError, Ctx, Principal, QueryParams};

const BLOCK: &[&str] = &["apim:subscription_block", "apim:subscription_manage"];

#[derive(Deserialize)]
pub(crate) struct BlockQuery {
    #[serde(rename = "subscriptionId")]
    subscription_id: Option<String>,
    #[serde(rename = "blockState")]
    block_state: Option<String>,
}

pub(crate) async fn block(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<BlockQuery>,
) -> Result<StatusCode, ApiError> {
    let state = q
        .block_state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Query parameter 'blockState' is required"))?;
    if state != subscription_status::BLOCKED && state != subscription_status::PROD_ONLY_BLOCKED {
        return Err(ApiError::bad_request(format!(
            "Query parameter 'blockState': '{state}' is not one of BLOCKED, PROD_ONLY_BLOCKED"
        )));
    }
    set_status(&ctx, &principal, q.subscription_id, &state).await
}

pub(crate) async fn unblock(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<BlockQuery>,
) -> Result<StatusCode, ApiError> {
    set_status(
        &ctx,
        &principal,
        q.subscription_id,
        subscription_status::UNBLOCKED,
    )
    .await
}

async fn set_status(
    ctx: &Ctx,
    principal: &Principal,
    subscription_id: Option<String>,
    status: &str,
) -> Result<StatusCode, ApiError> {
    principal.require_any(BLOCK)?;
    let subscription_id = subscription_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Query parameter 'subscriptionId' is required"))?;
    let mut tx = ctx.store.begin().await?;
    let mut subscription = tx.subscription(&principal.tenant, &subscription_id).await?;
    tx.set_subscription_status(&subscription.id, status).await?;
    subscription.status = status.to_string();
    tx.emit(
        &principal.tenant,
        &Event::SubscriptionUpdate(subscription.to_model()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(subscription = %subscription_id, status, "subscription state changed");
    Ok(StatusCode::OK)
}
