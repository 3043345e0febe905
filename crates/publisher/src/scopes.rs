//! `/scopes`: shared scopes.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tollgate_operations::publisher::definition::ScopeDefinition;
use tollgate_operations::publisher::scopes::{self as ops, SharedScope};
use tollgate_restcore::Paged;
use tollgate_restcore::{listed_body, ApiError, Ctx, JsonBody, Principal};
use tollgate_store::ScopeRow;

fn scope_json(scope: &ScopeRow, usage_count: Option<i64>) -> Value {
    let mut body = json!({
        "id": scope.id,
        "name": scope.name,
        "displayName": scope.display_name,
        "description": scope.description,
        "bindings": scope.bindings,
    });
    if let Some(count) = usage_count {
        body["usageCount"] = json!(count);
    }
    body
}

fn shared_json(shared: &SharedScope) -> Value {
    scope_json(&shared.scope, Some(shared.usage_count))
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let listed = ops::list_shared_scopes(&ctx, &principal, page).await?;
    Ok(listed_body(&listed, shared_json))
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<ScopeDefinition>,
) -> Result<Response, ApiError> {
    let scope = ops::create_shared_scope(&ctx, &principal, input).await?;
    let location = format!("/api/am/publisher/v4/scopes/{}", scope.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(scope_json(&scope, Some(0))),
    )
        .into_response())
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(scope_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let shared = ops::get_shared_scope(&ctx, &principal, &scope_id).await?;
    Ok(Json(shared_json(&shared)))
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(scope_id): Path<String>,
    JsonBody(input): JsonBody<ScopeDefinition>,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::update_shared_scope(&ctx, &principal, &scope_id, input).await?;
    Ok(Json(scope_json(&scope, None)))
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(scope_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete_shared_scope(&ctx, &principal, &scope_id).await?;
    Ok(StatusCode::OK)
}

/// `HEAD /scopes/{name}`: WSO2's clients send the name base64url-encoded; a plain name is
/// taken as it is.
pub(crate) async fn exists(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(encoded): Path<String>,
) -> Result<StatusCode, ApiError> {
    let found = match crate::wire::decode_name(&encoded) {
        Some(name) if ops::scope_exists(&ctx, &principal, &name).await? => true,
        _ => ops::scope_exists(&ctx, &principal, &encoded).await?,
    };
    Ok(if found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

pub(crate) async fn usage(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(scope_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (scope, uses) = ops::shared_scope_usage(&ctx, &principal, &scope_id).await?;
    let mut apis: Vec<Value> = Vec::new();
    for use_ in &uses {
        let resource = json!({"target": use_.target, "verb": use_.verb});
        match apis.iter_mut().find(|a| a["id"] == use_.api_id.as_str()) {
            Some(api) => {
                if let Some(list) = api["usedResourceList"].as_array_mut() {
                    list.push(resource);
                }
            }
            None => apis.push(json!({
                "id": use_.api_id,
                "name": use_.api_name,
                "context": use_.api_context,
                "version": use_.api_version,
                "provider": use_.api_provider,
                "usedResourceList": [resource],
            })),
        }
    }
    // `id` was only for grouping; WSO2's SharedScopeUsedAPIInfo has none.
    for api in &mut apis {
        if let Some(object) = api.as_object_mut() {
            object.remove("id");
        }
    }
    Ok(Json(json!({
        "id": scope.id,
        "name": scope.name,
        "usedApiList": apis,
    })))
}
