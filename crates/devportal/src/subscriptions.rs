use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::SubscriptionStatus;
use tollgate_restcore::{list_body, ApiError, Ctx, JsonBody, Paging, Principal, QueryParams};
use tollgate_store::{ApiRow, ApplicationRow, Change, SubscriptionRow};

use crate::apis::api_info;
use crate::own_application;

const SUBSCRIBE: &[&str] = &["apim:subscribe", "apim:sub_manage"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SubscriptionInput {
    application_id: String,
    api_id: String,
    throttling_policy: String,
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

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(input): JsonBody<SubscriptionInput>,
) -> Result<Response, ApiError> {
    principal.require_any(SUBSCRIBE)?;
    let app = own_application(&ctx, &principal, &input.application_id).await?;
    let api = ctx
        .store
        .api(&principal.tenant, &input.api_id)
        .await
        .ok()
        .filter(|api| api.lifecycle_status.is_visible_to_consumers())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Requested API {} not found (or not published)",
                input.api_id
            ))
        })?;
    if !api.lifecycle_status.accepts_subscriptions() {
        return Err(ApiError::bad_field(
            "apiId",
            format!(
                "API {} is {} and takes no new subscriptions",
                api.name,
                api.lifecycle_status.display_name()
            ),
        ));
    }
    let offered: Vec<&str> = api
        .definition
        .get("policies")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !offered.contains(&input.throttling_policy.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Field 'throttlingPolicy': API {} does not offer tier '{}'; it offers: {}",
            api.name,
            input.throttling_policy,
            offered.join(", ")
        )));
    }
    let sub = SubscriptionRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: principal.tenant.clone(),
        application_id: app.id.clone(),
        api_id: api.id.clone(),
        throttling_policy: input.throttling_policy,
        status: SubscriptionStatus::Unblocked,
        created_time: tollgate_model::now_millis(),
    };
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::CreateSubscription(sub.clone())).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(subscription_json(&sub, Some(&api), &app)),
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(rename = "applicationId")]
    application_id: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE)?;
    let application_id = q
        .application_id
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::bad_request("Query parameter 'applicationId' is required"))?;
    let app = own_application(&ctx, &principal, &application_id).await?;
    let paging = Paging {
        limit: q.limit.unwrap_or(Paging::default_limit()),
        offset: q.offset.unwrap_or(0),
    }
    .validate()?;
    let (subscriptions, total) = ctx
        .store
        .subscriptions(
            &principal.tenant,
            Some(&app.id),
            None,
            paging.limit,
            paging.offset,
        )
        .await?;
    // The subscribed APIs in one query, not one per subscription.
    let ids: Vec<&str> = subscriptions.iter().map(|s| s.api_id.as_str()).collect();
    let apis = ctx.store.apis_by_ids(&principal.tenant, &ids).await?;
    let list = subscriptions
        .iter()
        .map(|sub| {
            let api = apis.iter().find(|a| a.id == sub.api_id);
            subscription_json(sub, api, &app)
        })
        .collect();
    Ok(list_body(list, Some((paging, total))))
}

/// The caller's subscription (through its application), or 404.
async fn own_subscription(
    ctx: &Ctx,
    principal: &Principal,
    subscription_id: &str,
) -> Result<(SubscriptionRow, ApplicationRow), ApiError> {
    let sub = ctx
        .store
        .subscription(&principal.tenant, subscription_id)
        .await?;
    let app = own_application(ctx, principal, &sub.application_id)
        .await
        .map_err(|_| {
            ApiError::not_found(format!(
                "Requested subscription {subscription_id} not found"
            ))
        })?;
    Ok((sub, app))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    axum::extract::Path(subscription_id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(SUBSCRIBE)?;
    let (sub, app) = own_subscription(&ctx, &principal, &subscription_id).await?;
    let api = ctx.store.api(&principal.tenant, &sub.api_id).await.ok();
    Ok(Json(subscription_json(&sub, api.as_ref(), &app)))
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    axum::extract::Path(subscription_id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_any(SUBSCRIBE)?;
    let (sub, _) = own_subscription(&ctx, &principal, &subscription_id).await?;
    let mut tx = ctx.store.begin().await?;
    tx.apply(&Change::DeleteSubscription(sub)).await?;
    tx.commit().await?;
    Ok(StatusCode::OK)
}
