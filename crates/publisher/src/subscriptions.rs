//! Blocking and unblocking subscriptions, as an API's publisher does in WSO2.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::SubscriptionStatus;
use tollgate_operations::publisher::subscriptions as ops;
use tollgate_restcore::Paged;
use tollgate_restcore::{listed_body, named_param, ApiError, Ctx, Principal, QueryParams};

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    api_id: Option<String>,
}

/// `GET /subscriptions?apiId=`: who subscribes to an API, at which tier, in which state.
pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ListQuery>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let api_id = q.api_id.filter(|a| !a.is_empty());
    let listed = ops::list_subscriptions(&ctx, &principal, api_id.as_deref(), page).await?;
    Ok(listed_body(&listed, |item| {
        let sub = &item.subscription;
        let app = item.application.as_ref();
        json!({
            "subscriptionId": sub.id,
            "applicationInfo": {
                "applicationId": sub.application_id,
                "name": app.map(|a| a.name.as_str()),
                "subscriber": app.map(|a| a.owner.as_str()),
                "description": app.map(|a| a.description.as_str()),
            },
            "throttlingPolicy": sub.throttling_policy,
            "requestedThrottlingPolicy": sub.throttling_policy,
            "subscriptionStatus": sub.status,
        })
    }))
}
