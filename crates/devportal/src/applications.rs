use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::PolicyLevel;
use tollgate_restcore::{list_body, ApiError, Ctx, JsonBody, Principal};
use tollgate_store::ApplicationRow;
use tollgate_store::Change;

use crate::{own_application, SUBSCRIBE_APP};

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

/// Checks an application body; returns it with the name trimmed and the token type defaulted.
async fn validated(
    ctx: &Ctx,
    principal: &Principal,
    mut input: ApplicationInput,
) -> Result<ApplicationInput, ApiError> {
    input.name = input.name.trim().to_string();
    tollgate_restcore::check_line("name", &input.name)?;
    if input.name.is_empty() || input.name.len() > 70 {
        return Err(ApiError::bad_request(
            "Field 'name' must have 1 to 70 characters",
        ));
    }
    let token_type = input.token_type.get_or_insert_with(|| "JWT".into());
    if token_type != "JWT" && token_type != "OAUTH" {
        return Err(ApiError::bad_request(format!(
            "Field 'tokenType': '{token_type}' is not one of JWT, OAUTH"
        )));
    }
    if ctx
        .store
        .policy(
            &principal.tenant,
            PolicyLevel::Application,
            &input.throttling_policy,
        )
        .await?
        .is_none()
    {
        return Err(ApiError::bad_request(format!(
            "Field 'throttlingPolicy': application throttling policy '{}' does not exist",
            input.throttling_policy
        )));
    }
    Ok(input)
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
    JsonBody(input): JsonBody<ApplicationInput>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let mut app = own_application(&ctx, &principal, &application_id).await?;
    let input = validated(&ctx, &principal, input).await?;
    app.name = input.name;
    app.throttling_policy = input.throttling_policy;
    app.description = input.description.unwrap_or_default();
    app.token_type = input.token_type.unwrap_or_default();
    if let Some(attributes) = input.attributes {
        app.attributes = Value::Object(attributes);
    }
    app.updated_time = tollgate_model::now_millis();
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::UpdateApplication(app.clone())).await?;
    tx.commit().await?;
    let subscriptions = ctx.store.subscriptions_of_application(&app.id).await?.len();
    let keys = crate::keys::keys_json(&ctx, &app.id).await?;
    Ok(Json(application_json(&app, subscriptions, keys)))
}

/// Deletes an application with its subscriptions and keys; gateways forget all three.
pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    principal.require_any(&[
        "apim:subscribe",
        "apim:app_manage",
        "apim:app_import_export",
    ])?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::DeleteApplication(app)).await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::OK)
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<ApplicationInput>,
) -> Result<Response, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let input = validated(&ctx, &principal, input).await?;
    let now = tollgate_model::now_millis();
    let app = ApplicationRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: principal.tenant.clone(),
        name: input.name,
        owner: principal.username.clone(),
        throttling_policy: input.throttling_policy,
        description: input.description.unwrap_or_default(),
        token_type: input.token_type.unwrap_or_default(),
        status: "APPROVED".into(),
        attributes: Value::Object(input.attributes.unwrap_or_default()),
        created_time: now,
        updated_time: now,
    };
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::CreateApplication(app.clone())).await?;
    tx.commit().await?;
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
    principal.require_any(&[
        "apim:subscribe",
        "apim:app_manage",
        "apim:app_import_export",
    ])?;
    let apps = ctx
        .store
        .applications_of(&principal.tenant, &principal.username)
        .await?;
    let mut list = Vec::with_capacity(apps.len());
    for app in &apps {
        let subscriptions = ctx.store.subscriptions_of_application(&app.id).await?.len();
        list.push(application_json(app, subscriptions, vec![]));
    }
    Ok(list_body(list, None))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(application_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE_APP)?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let subscriptions = ctx.store.subscriptions_of_application(&app.id).await?.len();
    let keys = crate::keys::keys_json(&ctx, &app.id).await?;
    Ok(Json(application_json(&app, subscriptions, keys)))
}
