//! `/apis`: list, create, get, update, delete, validate, copy.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use tollgate_model::{ApiSortBy, SortOrder};
use tollgate_operations::publisher::apis::{self as ops, ApiListing};
use tollgate_operations::publisher::ApiDefinition;
use tollgate_restcore::Paged;
use tollgate_restcore::{
    listed_body, named_param, required, ApiError, Ctx, JsonBody, Principal, QueryParams,
};

use crate::wire::{api_info_json, api_json, etag};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    sort_by: Option<String>,
    sort_order: Option<String>,
    query: Option<String>,
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ListQuery>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let listing = ApiListing {
        query: q.query.filter(|q| !q.trim().is_empty()),
        sort_by: named_param("sortBy", q.sort_by.as_deref())?.unwrap_or(ApiSortBy::CreatedTime),
        order: named_param("sortOrder", q.sort_order.as_deref())?.unwrap_or(SortOrder::Desc),
    };
    let listed = ops::list_apis(&ctx, &principal, &listing, page).await?;
    Ok(listed_body(&listed, api_info_json))
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let definition = ApiDefinition::from_json(body)?;
    let api = ops::create_api(&ctx, &principal, definition).await?;
    let location = format!("/api/am/publisher/v4/apis/{}", api.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location), (header::ETAG, etag(&api))],
        Json(api_json(&api)),
    )
        .into_response())
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Response, ApiError> {
    let api = ops::get_api(&ctx, &principal, &api_id).await?;
    Ok(([(header::ETAG, etag(&api))], Json(api_json(&api))).into_response())
}

/// The write count an `If-Match` header names (`"3"`, `W/"3"`); `*` or none means any. An
/// `If-Match` that is not one of this server's ETags can never match.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::bad_field("If-Match", "must be an ETag"))?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.trim_start_matches("W/").trim_matches('"');
    // -1 matches no stored version, so the write is refused as stale.
    Ok(Some(tag.parse().unwrap_or(-1)))
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let expected = if_match(&headers)?;
    let definition = ApiDefinition::from_json(body)?;
    let api = ops::update_api(&ctx, &principal, &api_id, definition, expected).await?;
    Ok(([(header::ETAG, etag(&api))], Json(api_json(&api))).into_response())
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let expected = if_match(&headers)?;
    ops::delete_api(&ctx, &principal, &api_id, expected).await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
pub(crate) struct ValidateQuery {
    query: Option<String>,
}

/// 200 when an API matching the query exists, 404 when none does (WSO2's answer).
pub(crate) async fn validate(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ValidateQuery>,
) -> Result<StatusCode, ApiError> {
    let query = q.query.unwrap_or_default();
    if ops::api_exists(&ctx, &principal, &query).await? {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::not_found(format!("No API matches '{query}'")))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CopyQuery {
    api_id: Option<String>,
    new_version: Option<String>,
    default_version: Option<bool>,
}

pub(crate) async fn copy(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<CopyQuery>,
) -> Result<Response, ApiError> {
    let api_id = required("apiId", q.api_id)?;
    let new_version = required("newVersion", q.new_version)?;
    let api = ops::copy_api(
        &ctx,
        &principal,
        &api_id,
        &new_version,
        q.default_version.unwrap_or(false),
    )
    .await?;
    let location = format!("/api/am/publisher/v4/apis/{}", api.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location), (header::ETAG, etag(&api))],
        Json(api_json(&api)),
    )
        .into_response())
}
