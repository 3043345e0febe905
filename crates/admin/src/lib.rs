//! The Admin REST API (`/api/am/admin/v4`), after WSO2's. For now it lists the throttling
//! tiers; creating and changing them comes with the throttling work.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tollgate_model::{PolicyLevel, ThrottlePolicy};
use tollgate_restcore::{list_body, ApiError, Ctx, Principal};

const TIER_VIEW: &[&str] = &["apim:admin", "apim:tier_view"];

/// The Admin API's routes, relative to `/api/am/admin/v4`.
pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route(
            "/throttling/policies/subscription",
            get(subscription_policies),
        )
        .route(
            "/throttling/policies/application",
            get(application_policies),
        )
        .route("/throttling/policies/advanced", get(advanced_policies))
        .with_state(ctx)
}

fn limit_json(policy: &ThrottlePolicy) -> Value {
    match policy.request_count {
        Some(count) => json!({
            "type": "REQUESTCOUNTLIMIT",
            "requestCount": {"timeUnit": policy.time_unit, "unitTime": policy.unit_time, "requestCount": count}
        }),
        // WSO2 models "Unlimited" as a very large count; say it plainly instead.
        None => json!({
            "type": "REQUESTCOUNTLIMIT",
            "requestCount": {"timeUnit": policy.time_unit, "unitTime": policy.unit_time, "requestCount": i32::MAX}
        }),
    }
}

fn policy_json(policy: &ThrottlePolicy) -> Value {
    let kind = match policy.level {
        PolicyLevel::Subscription => "SubscriptionThrottlePolicy",
        PolicyLevel::Application => "ApplicationThrottlePolicy",
        PolicyLevel::Api => "AdvancedThrottlePolicy",
    };
    json!({
        "policyId": policy.id,
        "policyName": policy.name,
        "displayName": policy.display_name,
        "description": policy.description,
        "isDeployed": true,
        "type": kind,
        "defaultLimit": limit_json(policy),
        "stopOnQuotaReach": true,
        "billingPlan": "FREE",
    })
}

async fn list(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(TIER_VIEW)?;
    let list: Vec<Value> = ctx
        .store
        .policies(&principal.tenant, level)
        .await?
        .iter()
        .map(policy_json)
        .collect();
    Ok(list_body(list, None))
}

async fn subscription_policies(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    list(&ctx, &principal, PolicyLevel::Subscription).await
}

async fn application_policies(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    list(&ctx, &principal, PolicyLevel::Application).await
}

async fn advanced_policies(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    list(&ctx, &principal, PolicyLevel::Api).await
}
