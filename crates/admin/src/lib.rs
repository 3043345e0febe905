//! The Admin REST API (`/api/am/admin/v4`), after WSO2's: throttling tiers (subscription and
//! application levels) — list, read, create, change, delete — gateway environments, key
//! managers, the signing keys and approval workflows. The
//! handlers are thin edges over `tollgate_operations::admin` and `::environments`.

mod environments;
pub mod key_managers;
mod signing_keys;
mod workflows;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::{PolicyLevel, ThrottlePolicy};
use tollgate_operations::admin::tiers::{self, TierInput};
use tollgate_restcore::{list_body, ApiError, Ctx, JsonBody, Principal, Routes};

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
        .route(
            "/key-managers",
            "GET POST",
            get(key_managers::list).post(key_managers::create),
        )
        .route(
            "/key-managers/discover",
            "POST",
            axum::routing::post(key_managers::discover),
        )
        .route(
            "/key-managers/{key_manager_id}",
            "GET PUT DELETE",
            get(key_managers::get)
                .put(key_managers::update)
                .delete(key_managers::delete),
        )
        .route("/workflows", "GET", get(workflows::list))
        .route(
            "/workflows/update-workflow-status",
            "POST",
            axum::routing::post(workflows::decide),
        )
        .route("/workflows/{workflow_id}", "GET", get(workflows::get))
        .route("/signing-keys", "GET", get(signing_keys::list))
        .route(
            "/signing-keys/rotate",
            "POST",
            axum::routing::post(signing_keys::rotate),
        )
}

/// The Admin API's router.
pub fn router(ctx: Ctx) -> Router {
    routes().into_router(ctx)
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
        "type": policy.level.policy_type(),
        "defaultLimit": {
            "type": tollgate_model::LimitType::RequestCount,
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
    kind: tollgate_model::LimitType,
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

impl From<PolicyInput> for TierInput {
    fn from(input: PolicyInput) -> Self {
        TierInput {
            name: input.policy_name,
            display_name: input.display_name,
            description: input.description,
            limit_type: input.default_limit.kind,
            request_count: input
                .default_limit
                .request_count
                .map(|r| (r.request_count, r.unit_time, r.time_unit)),
        }
    }
}

async fn list(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
) -> Result<Json<Value>, ApiError> {
    let tiers = tiers::list_tiers(ctx, principal, level).await?;
    Ok(list_body(tiers.iter().map(policy_json).collect(), None))
}

async fn get_one(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
    policy_id: &str,
) -> Result<Json<Value>, ApiError> {
    let policy = tiers::get_tier(ctx, principal, level, policy_id).await?;
    Ok(Json(policy_json(&policy)))
}

async fn create(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
    input: PolicyInput,
) -> Result<Response, ApiError> {
    let policy = tiers::create_tier(ctx, principal, level, input.into()).await?;
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
    let policy = tiers::update_tier(ctx, principal, level, policy_id, input.into()).await?;
    Ok(Json(policy_json(&policy)))
}

async fn delete(
    ctx: &Ctx,
    principal: &Principal,
    level: PolicyLevel,
    policy_id: &str,
) -> Result<StatusCode, ApiError> {
    tiers::delete_tier(ctx, principal, level, policy_id).await?;
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
