//! `/settings`, `/throttling-policies/{policyLevel}` and API thumbnails.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::PolicyLevel;
use tollgate_operations::publisher::settings as ops;
use tollgate_operations::Listed;
use tollgate_restcore::Paged;
use tollgate_restcore::{listed_body, tier_json, ApiError, Ctx, Form, Principal, QueryParams};

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

pub(crate) async fn throttling_policies(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(level): Path<String>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let level = tollgate_restcore::parse_name("policyLevel", &level)?;
    let policies = ops::throttling_policies(&ctx, &principal, level).await?;
    Ok(listed_body(&Listed::page_of(policies, page), |policy| {
        tier_json(policy, level)
    }))
}

pub(crate) async fn thumbnail(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Response, ApiError> {
    let image = ops::thumbnail(&ctx, &principal, &api_id).await?;
    Ok(tollgate_restcore::served_image(
        image.content_type,
        image.content,
    ))
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

pub(crate) async fn subscription_policies(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let policies = ops::api_subscription_policies(&ctx, &principal, &api_id).await?;
    Ok(Json(Value::Array(
        policies
            .iter()
            .map(|p| tier_json(p, PolicyLevel::Subscription))
            .collect(),
    )))
}

pub(crate) async fn resource_paths(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let paths: Vec<(usize, (String, String))> = ops::resource_paths(&ctx, &principal, &api_id)
        .await?
        .into_iter()
        .enumerate()
        .collect();
    Ok(listed_body(
        &Listed::page_of(paths, page),
        |(i, (verb, path))| json!({"id": i + 1, "resourcePath": path, "httpVerb": verb}),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EndpointQuery {
    endpoint_url: Option<String>,
}

pub(crate) async fn validate_endpoint(
    principal: Principal,
    QueryParams(q): QueryParams<EndpointQuery>,
) -> Result<Json<Value>, ApiError> {
    let url = tollgate_restcore::required("endpointUrl", q.endpoint_url)?;
    let probe = ops::validate_endpoint(&principal, url.trim()).await?;
    let mut body = json!({"statusCode": probe.status, "statusMessage": probe.message});
    if let Some(error) = probe.error {
        body["error"] = json!(error);
    }
    Ok(Json(body))
}

/// The key managers APIs can trust: the resident one and the enabled external ones.
pub(crate) async fn key_managers(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let all = tollgate_operations::key_managers::list(&ctx, &principal).await?;
    let list: Vec<Value> = all
        .iter()
        .filter(|km| km.enabled)
        .map(|km| {
            json!({
                "id": km.id,
                "name": km.name,
                "displayName": km.display_name,
                "type": km.kind,
                "description": km.description,
                "enabled": km.enabled,
                "additionalProperties": [],
            })
        })
        .collect();
    Ok(Json(json!({"count": list.len(), "list": list})))
}

/// `HEAD /roles/{role}` (the name base64url-encoded, as WSO2's clients send it): whether the
/// role exists; `HEAD /me/roles/{role}`: whether the caller has it.
pub(crate) async fn role_exists(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(encoded): Path<String>,
) -> Result<StatusCode, ApiError> {
    let known =
        tollgate_operations::users::role_exists(&ctx, &principal, &decode_role(&encoded)).await?;
    Ok(found(known))
}

pub(crate) async fn has_role(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(encoded): Path<String>,
) -> Result<StatusCode, ApiError> {
    let held =
        tollgate_operations::users::holds_role(&ctx, &principal, &decode_role(&encoded)).await?;
    Ok(found(held))
}

fn found(yes: bool) -> StatusCode {
    if yes {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// A role name as WSO2's clients send it (base64url).
fn decode_role(encoded: &str) -> String {
    crate::wire::decode_name(encoded).unwrap_or_else(|| encoded.to_string())
}
