use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::devportal::subscriptions::{
    self as ops, SubscriptionRequest, SubscriptionView,
};
use tollgate_restcore::{list_body, ApiError, Ctx, JsonBody, Paged, Principal, QueryParams};
use tollgate_store::{ApiRow, ApplicationRow, SubscriptionRow};

use crate::discovery::api_info;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SubscriptionInput {
    application_id: String,
    api_id: String,
    throttling_policy: String,
    /// WSO2's field for the tier asked for in a change (`throttlingPolicy` being the current).
    #[serde(default)]
    requested_throttling_policy: Option<String>,
}

fn subscription_json(sub: &SubscriptionRow, api: Option<&ApiRow>, app: &ApplicationRow) -> Value {
    json!({
        "subscriptionId": sub.id,
        "applicationId": sub.application_id,
        "apiId": sub.api_id,
        "apiInfo": api.map(api_info),
        "applicationInfo": {
            "applicationId": app.id,
            "name": app.name,
            "throttlingPolicy": app.throttling_policy,
            "description": app.description,
            "status": app.status,
            "owner": app.owner,
        },
        "throttlingPolicy": sub.throttling_policy,
        "requestedThrottlingPolicy": sub.throttling_policy,
        "status": sub.status,
        "redirectionParams": "",
    })
}

impl From<SubscriptionInput> for SubscriptionRequest {
    fn from(input: SubscriptionInput) -> Self {
        SubscriptionRequest {
            application_id: input.application_id,
            api_id: input.api_id,
            throttling_policy: input.throttling_policy,
        }
    }
}

fn view_json(view: &SubscriptionView) -> Value {
    subscription_json(&view.subscription, view.api.as_ref(), &view.application)
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<SubscriptionInput>,
) -> Result<Response, ApiError> {
    let view = ops::subscribe(&ctx, &principal, input.into()).await?;
    Ok((StatusCode::CREATED, Json(view_json(&view))).into_response())
}

/// `POST /subscriptions/multiple`: all of them, or none (each problem named by its position).
pub(crate) async fn create_multiple(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(inputs): JsonBody<Vec<SubscriptionInput>>,
) -> Result<Json<Value>, ApiError> {
    let requests = inputs.into_iter().map(Into::into).collect();
    let views = ops::subscribe_many(&ctx, &principal, requests, true).await?;
    Ok(Json(Value::Array(views.iter().map(view_json).collect())))
}

/// `PUT /subscriptions/{id}`: a change of tier.
pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    axum::extract::Path(subscription_id): axum::extract::Path<String>,
    JsonBody(input): JsonBody<SubscriptionInput>,
) -> Result<Json<Value>, ApiError> {
    let update = ops::SubscriptionUpdate {
        application_id: input.application_id,
        api_id: input.api_id,
        throttling_policy: input.throttling_policy,
        requested_throttling_policy: input.requested_throttling_policy,
    };
    let view = ops::update(&ctx, &principal, &subscription_id, update).await?;
    Ok(Json(view_json(&view)))
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(rename = "applicationId")]
    application_id: Option<String>,
    #[serde(rename = "apiId")]
    api_id: Option<String>,
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ListQuery>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let (views, total) = ops::list(
        &ctx,
        &principal,
        q.application_id.as_deref().filter(|a| !a.is_empty()),
        q.api_id.as_deref().filter(|a| !a.is_empty()),
        page,
    )
    .await?;
    Ok(list_body(
        views.iter().map(view_json).collect(),
        Some((page, total)),
    ))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    axum::extract::Path(subscription_id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = ops::get(&ctx, &principal, &subscription_id).await?;
    Ok(Json(view_json(&view)))
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    axum::extract::Path(subscription_id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete(&ctx, &principal, &subscription_id).await?;
    Ok(StatusCode::OK)
}

/// `GET /subscriptions/{id}/invocation` (Tollgate's): what the consumer needs to call the API —
/// its gateway URLs, the tier, the application's keys and ready-made `curl` commands (see
/// `tollgate_operations::devportal::invocation`).
pub(crate) async fn invocation(
    State(ctx): State<Ctx>,
    principal: Principal,
    axum::extract::Path(subscription_id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    use tollgate_operations::devportal::invocation;
    let found = invocation::invocation(&ctx, &principal, &subscription_id).await?;
    let subscription = &found.subscription.subscription;
    let api = found.subscription.api.as_ref();
    Ok(Json(json!({
        "subscriptionId": subscription.id,
        "apiId": subscription.api_id,
        "apiName": api.map(|a| a.name.clone()),
        "apiVersion": api.map(|a| a.version.clone()),
        "applicationId": found.subscription.application.id,
        "applicationName": found.subscription.application.name,
        "throttlingPolicy": subscription.throttling_policy,
        "status": subscription.status,
        "endpointURLs": found.urls.iter().map(|u| json!({
            "environmentName": u.environment,
            "environmentDisplayName": u.display_name,
            "URLs": crate::discovery::without_nulls(json!({"http": u.http, "https": u.https})),
        })).collect::<Vec<_>>(),
        "keys": found.keys.iter().map(|k| json!({
            "keyType": k.key_type,
            "consumerKey": k.consumer_key,
            "keyManager": k.key_manager,
        })).collect::<Vec<_>>(),
        "commands": found.commands.iter().map(|c| crate::discovery::without_nulls(json!({
            "name": c.name,
            "keyType": c.key_type,
            "curl": c.curl,
        }))).collect::<Vec<_>>(),
        "variables": {
            "CONSUMER_SECRET": "the application's consumer secret (shown once, when the keys were made)",
            "ACCESS_TOKEN": "the access_token the token command returns",
            "API_KEY": "an API key from POST /applications/{applicationId}/api-keys/{keyType}/generate",
        },
    })))
}
