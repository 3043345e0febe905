//! `/environments`: gateway environments APIs can be deployed to.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tollgate_operations::environments::{self as ops, Environment, EnvironmentInput};
use tollgate_restcore::{list_body, ApiError, Ctx, JsonBody, Principal};

/// WSO2's `Environment` (the Admin API's shape).
pub(crate) fn environment_json(env: &Environment) -> Value {
    json!({
        "id": env.id,
        "name": env.name,
        "displayName": env.display_name,
        "description": env.description,
        "provider": env.provider,
        "isReadOnly": env.read_only,
        "vhosts": env.vhosts,
        "endpointURIs": [],
        "additionalProperties": [],
    })
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let environments = ops::list_environments(&ctx, &principal).await?;
    Ok(list_body(
        environments.iter().map(environment_json).collect(),
        None,
    ))
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<EnvironmentInput>,
) -> Result<Response, ApiError> {
    let env = ops::create_environment(&ctx, &principal, input).await?;
    let location = format!("/api/am/admin/v4/environments/{}", env.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(environment_json(&env)),
    )
        .into_response())
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(environment_id): Path<String>,
    JsonBody(input): JsonBody<EnvironmentInput>,
) -> Result<Json<Value>, ApiError> {
    let env = ops::update_environment(&ctx, &principal, &environment_id, input).await?;
    Ok(Json(environment_json(&env)))
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(environment_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete_environment(&ctx, &principal, &environment_id).await?;
    Ok(StatusCode::OK)
}
