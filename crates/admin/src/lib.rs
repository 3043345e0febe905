//! The Admin REST API (`/api/am/admin/v4`), after WSO2's: throttling tiers (subscription and
//! application levels) — list, read, create, change, delete. Each change is an event, so gateways
//! and traffic managers apply new limits without a restart.

mod environments;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::{PolicyLevel, ThrottlePolicy, TimeUnit, MAX_REQUEST_COUNT, MAX_WINDOW_MILLIS};
use tollgate_restcore::{check_line, list_body, ApiError, Ctx, JsonBody, Principal, Routes};
use tollgate_store::Change;

const TIER_VIEW: &[&str] = &["apim:admin", "apim:tier_view"];
const TIER_MANAGE: &[&str] = &["apim:admin", "apim:tier_manage"];
/// WSO2's column sizes for a policy's display name and description.
const MAX_DISPLAY_NAME: usize = 512;
const MAX_DESCRIPTION: usize = 1024;

/// The Admin API's routes, relative to `/api/am/admin/v4`.
pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/throttling/policies/subscription",
            "GET POST",
            get(list_subscription).post(create_subscription),
        )
        .route(
            "/throttling/policies/subscription/{policy_id}",
            "GET PUT DELETE",
            get(get_subscription)
                .put(update_subscription)
                .delete(delete_subscription),
        )
        .route(
            "/throttling/policies/application",
            "GET POST",
            get(list_application).post(create_application),
        )
        .route(
            "/throttling/policies/application/{policy_id}",
            "GET PUT DELETE",
            get(get_application)
                .put(update_application)
                .delete(delete_application),
        )
        .route("/throttling/policies/advanced", "GET", get(list_advanced))
        .route(
            "/environments",
            "GET POST",
            get(environments::list).post(environments::create),
        )
        .route(
            "/environments/{environment_id}",
            "PUT DELETE",
            axum::routing::put(environments::update).delete(environments::delete),
        )
}

/// The Admin API's router.
pub fn router(ctx: Ctx) -> Router {
    routes().into_router(ctx)
}

fn kind(level: PolicyLevel) -> &'static str {
    match level {
        PolicyLevel::Subscription => "SubscriptionThrottlePolicy",
        PolicyLevel::Application => "ApplicationThrottlePolicy",
        PolicyLevel::Api => "AdvancedThrottlePolicy",
    }
}

fn policy_json(policy: &ThrottlePolicy) -> Value {
    // WSO2 models "Unlimited" as a very large count.
    let count = policy.request_count.unwrap_or(i32::MAX as i64);
    json!({
        "policyId": policy.id,
        "policyName": policy.name,
        "displayName": policy.display_name,
        "description": policy.description,
        "isDeployed": true,
        "type": kind(policy.level),
        "defaultLimit": {
            "type": "REQUESTCOUNTLIMIT",
            "requestCount": {"timeUnit": policy.time_unit, "unitTime": policy.unit_time, "requestCount": count}
        },
        "stopOnQuotaReach": true,
        "billingPlan": "FREE",
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyInput {
    policy_name: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    default_limit: LimitInput,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LimitInput {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    request_count: Option<RequestCountInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestCountInput {
    time_unit: String,
    unit_time: i64,
    request_count: i64,
}

/// Checks a policy body and returns the policy it describes (id and tenant to be filled in).
/// Every number is bounded: the window's arithmetic runs on the request path.
fn validated(input: PolicyInput, level: PolicyLevel) -> Result<ThrottlePolicy, ApiError> {
    let name = input.policy_name.trim().to_string();
    check_line("policyName", &name)?;
    if name.is_empty() || name.len() > 60 || name.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(ApiError::bad_request(
            "Field 'policyName' must have 1 to 60 characters without spaces or '/'",
        ));
    }
    let display_name = input.display_name.filter(|d| !d.is_empty());
    if let Some(display_name) = &display_name {
        check_line("displayName", display_name)?;
        if display_name.chars().count() > MAX_DISPLAY_NAME {
            return Err(ApiError::bad_request(format!(
                "Field 'displayName' must have at most {MAX_DISPLAY_NAME} characters"
            )));
        }
    }
    let description = input.description.unwrap_or_default();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::bad_request(format!(
            "Field 'description' must have at most {MAX_DESCRIPTION} characters"
        )));
    }
    if input.default_limit.kind != "REQUESTCOUNTLIMIT" {
        return Err(ApiError::bad_request(format!(
            "Field 'defaultLimit.type': '{}' is not supported yet; use REQUESTCOUNTLIMIT",
            input.default_limit.kind
        )));
    }
    let limit = input.default_limit.request_count.ok_or_else(|| {
        ApiError::bad_request("Field 'defaultLimit.requestCount' is required for REQUESTCOUNTLIMIT")
    })?;
    if !(1..=MAX_REQUEST_COUNT).contains(&limit.request_count) {
        return Err(ApiError::bad_request(format!(
            "Field 'defaultLimit.requestCount.requestCount' must be from 1 to {MAX_REQUEST_COUNT}, not {}",
            limit.request_count
        )));
    }
    let unit = TimeUnit::parse(limit.time_unit.trim()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Field 'defaultLimit.requestCount.timeUnit': '{}' is not one of {}",
            limit.time_unit,
            TimeUnit::names()
        ))
    })?;
    let longest = MAX_WINDOW_MILLIS / unit.millis();
    if !(1..=longest).contains(&limit.unit_time) {
        return Err(ApiError::bad_request(format!(
            "Field 'defaultLimit.requestCount.unitTime' must be from 1 to {longest} for unit '{}' (windows are at most 366 days), not {}",
            unit.as_str(),
            limit.unit_time
        )));
    }
    Ok(ThrottlePolicy {
        id: String::new(),
        tenant: String::new(),
        level,
        display_name: display_name.unwrap_or_else(|| name.clone()),
        name,
        description,
        request_count: Some(limit.request_count),
        unit_time: limit.unit_time,
        time_unit: unit,
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

async fn get_one(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
    policy_id: &str,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(TIER_VIEW)?;
    let mut tx = ctx.store.begin().await?;
    let policy = tx.policy_by_id(&principal.tenant, level, policy_id).await?;
    Ok(Json(policy_json(&policy)))
}

async fn create(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
    input: PolicyInput,
) -> Result<Response, ApiError> {
    principal.require_any(TIER_MANAGE)?;
    let mut policy = validated(input, level)?;
    policy.id = uuid::Uuid::new_v4().to_string();
    policy.tenant = principal.tenant.clone();
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::CreatePolicy(policy.clone())).await?;
    tx.commit().await?;
    let location = format!(
        "/api/am/admin/v4/throttling/policies/{}/{}",
        level.as_str(),
        policy.id
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(policy_json(&policy)),
    )
        .into_response())
}

async fn update(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
    policy_id: &str,
    input: PolicyInput,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(TIER_MANAGE)?;
    let changed = validated(input, level)?;
    let mut tx = ctx.store.begin().await?;
    let mut policy = tx.policy_by_id(&principal.tenant, level, policy_id).await?;
    if changed.name != policy.name {
        return Err(ApiError::bad_request(format!(
            "Field 'policyName' cannot be changed ('{}' → '{}')",
            policy.name, changed.name
        )));
    }
    policy.display_name = changed.display_name;
    policy.description = changed.description;
    policy.request_count = changed.request_count;
    policy.unit_time = changed.unit_time;
    policy.time_unit = changed.time_unit;
    tx.apply(&Change::UpdatePolicy(policy.clone())).await?;
    tx.commit().await?;
    Ok(Json(policy_json(&policy)))
}

async fn delete(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
    policy_id: &str,
) -> Result<StatusCode, ApiError> {
    principal.require_any(TIER_MANAGE)?;
    let mut tx = ctx.store.begin().await?;
    let policy = tx.policy_by_id(&principal.tenant, level, policy_id).await?;
    let users = tx.policy_users(&policy).await?;
    if users > 0 {
        return Err(ApiError::conflict(format!(
            "Policy '{}' is in use by {users} {}; it cannot be deleted",
            policy.name,
            if level == PolicyLevel::Subscription {
                "subscription(s)"
            } else {
                "application(s)"
            }
        )));
    }
    tx.apply(&Change::DeletePolicy(policy)).await?;
    tx.commit().await?;
    Ok(StatusCode::OK)
}

async fn list_subscription(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    list(&ctx, &principal, PolicyLevel::Subscription).await
}
async fn get_subscription(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    get_one(&ctx, &principal, PolicyLevel::Subscription, &id).await
}
async fn create_subscription(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<PolicyInput>,
) -> Result<Response, ApiError> {
    create(&ctx, &principal, PolicyLevel::Subscription, input).await
}
async fn update_subscription(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PolicyInput>,
) -> Result<Json<Value>, ApiError> {
    update(&ctx, &principal, PolicyLevel::Subscription, &id, input).await
}
async fn delete_subscription(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete(&ctx, &principal, PolicyLevel::Subscription, &id).await
}
async fn list_application(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    list(&ctx, &principal, PolicyLevel::Application).await
}
async fn get_application(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    get_one(&ctx, &principal, PolicyLevel::Application, &id).await
}
async fn create_application(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<PolicyInput>,
) -> Result<Response, ApiError> {
    create(&ctx, &principal, PolicyLevel::Application, input).await
}
async fn update_application(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PolicyInput>,
) -> Result<Json<Value>, ApiError> {
    update(&ctx, &principal, PolicyLevel::Application, &id, input).await
}
async fn delete_application(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete(&ctx, &principal, PolicyLevel::Application, &id).await
}
async fn list_advanced(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    list(&ctx, &principal, PolicyLevel::Api).await
}
