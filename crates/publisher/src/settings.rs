//! `/settings`, `/throttling-policies/{policyLevel}` and API thumbnails.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::PolicyLevel;
use tollgate_operations::publisher::settings as ops;
use tollgate_operations::Page;
use tollgate_restcore::{list_body, ApiError, Ctx, Form, Paging, Principal, QueryParams};

pub(crate) async fn settings(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let settings = ops::settings(&ctx, &principal).await?;
    let environments: Vec<Value> = settings
        .environments
        .iter()
        .map(|env| {
            let vhost = env.vhosts.first();
            let server_url = vhost
                .map(|v| match v.https_port {
                    Some(port) => format!("https://{}:{port}/", v.host),
                    None => format!("https://{}/", v.host),
                })
                .unwrap_or_default();
            json!({
                "id": env.id,
                "name": env.name,
                "displayName": env.display_name,
                "type": "hybrid",
                "serverUrl": server_url,
                "provider": env.provider,
                "showInApiConsole": true,
                "vhosts": env.vhosts,
                "endpointURIs": [],
                "additionalProperties": [],
            })
        })
        .collect();
    Ok(Json(json!({
        "devportalUrl": settings.devportal_url,
        "environment": environments,
        "scopes": settings.scopes,
        "monetizationAttributes": [],
        "securityAuditProperties": {},
        "externalStoresEnabled": false,
        "docVisibilityEnabled": false,
        "crossTenantSubscriptionEnabled": false,
        "defaultAdvancePolicy": "Unlimited",
        "defaultSubscriptionPolicy": "Unlimited",
        "authorizationHeader": "Authorization",
    })))
}

#[derive(Deserialize)]
pub(crate) struct PolicyQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

pub(crate) async fn throttling_policies(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(level): Path<String>,
    QueryParams(q): QueryParams<PolicyQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let level = match level.as_str() {
        "api" => PolicyLevel::Api,
        // WSO2's spec spells it "subcription"; its clients send both.
        "subscription" | "subcription" => PolicyLevel::Subscription,
        "application" => PolicyLevel::Application,
        other => {
            return Err(ApiError::bad_field(
                "policyLevel",
                format!("'{other}' is not one of api, subscription"),
            ))
        }
    };
    let policies = ops::throttling_policies(&ctx, &principal, level).await?;
    let total = policies.len() as i64;
    let list: Vec<Value> = policies
        .iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .map(|policy| {
            json!({
                "name": policy.name,
                "description": policy.description,
                "policyLevel": level.as_str(),
                "displayName": policy.display_name,
                "attributes": {},
                // WSO2 writes "unlimited" as the largest 32-bit count.
                "requestCount": policy.request_count.unwrap_or(i32::MAX as i64),
                "unitTime": policy.unit_time,
                "timeUnit": policy.time_unit,
                "rateLimitCount": 0,
                "quotaPolicyType": "REQUESTCOUNT",
                "tierPlan": "FREE",
                "stopOnQuotaReach": true,
                "monetizationProperties": {},
            })
        })
        .collect();
    Ok(list_body(
        list,
        Some((
            Paging {
                limit: page.limit,
                offset: page.offset,
            },
            total,
        )),
    ))
}

pub(crate) async fn thumbnail(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Response, ApiError> {
    let image = ops::thumbnail(&ctx, &principal, &api_id).await?;
    Ok(([(header::CONTENT_TYPE, image.content_type)], image.content).into_response())
}

pub(crate) async fn set_thumbnail(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    form: Form,
) -> Result<Json<Value>, ApiError> {
    let content = form
        .bytes("file")
        .ok_or_else(|| ApiError::bad_field("file", "is required"))?
        .to_vec();
    let image = ops::set_thumbnail(&ctx, &principal, &api_id, content).await?;
    Ok(Json(json!({
        "relativePath": format!("apis/{api_id}/thumbnail"),
        "mediaType": image.content_type,
    })))
}
