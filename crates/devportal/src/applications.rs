use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::devportal::applications as ops;
use tollgate_restcore::{list_body, ApiError, Ctx, JsonBody, Principal};
use tollgate_store::ApplicationRow;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationInput {
    name: String,
    throttling_policy: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    attributes: Option<serde_json::Map<String, Value>>,
}

pub(crate) fn application_json(
    app: &ApplicationRow,
    subscription_count: usize,
    keys: Vec<Value>,
) -> Value {
    json!({
        "applicationId": app.id,
        "name": app.name,
        "throttlingPolicy": app.throttling_policy,
        "description": app.description,
        "tokenType": app.token_type,
        "status": app.status,
        "groups": [],
        "subscriptionCount": subscription_count,
        "keys": keys,
        "attributes": app.attributes,
        "subscriptionScopes": [],
        "owner": app.owner,
        "hashEnabled": false,
    })
}

impl From<ApplicationInput> for ops::ApplicationInput {
    fn from(input: ApplicationInput) -> Self {
        ops::ApplicationInput {
            name: input.name,
            throttling_policy: input.throttling_policy,
            description: input.description,
            token_type: input.token_type,
            attributes: input.attributes,
        }
    }
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
    JsonBody(input): JsonBody<ApplicationInput>,
) -> Result<Json<Value>, ApiError> {
    ops::update(&ctx, &principal, &application_id, input.into()).await?;
    get(State(ctx), principal, Path(application_id)).await
}

/// Deletes an application with its subscriptions and keys; gateways forget all three.
pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete(&ctx, &principal, &application_id).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<ApplicationInput>,
) -> Result<Response, ApiError> {
    let app = ops::create(&ctx, &principal, input.into()).await?;
    let location = format!("/api/am/devportal/v3/applications/{}", app.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(application_json(&app, 0, vec![])),
    )
        .into_response())
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let views = ops::list(&ctx, &principal).await?;
    Ok(list_body(
        views
            .iter()
            .map(|v| application_json(&v.application, v.subscription_count, vec![]))
            .collect(),
        None,
    ))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = ops::get(&ctx, &principal, &application_id).await?;
    let keys = crate::keys::keys_json(&ctx, &principal, &view.application.id).await?;
    Ok(Json(application_json(
        &view.application,
        view.subscription_count,
        keys,
    )))
}
