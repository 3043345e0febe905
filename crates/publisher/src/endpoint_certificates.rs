//! `/endpoint-certificates`: certificates gateways trust for a backend endpoint's TLS.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tollgate_operations::publisher::endpoint_certificates::{self as ops, CertificateUpload};
use tollgate_operations::Listed;
use tollgate_restcore::{pagination, rfc3339, ApiError, Ctx, Form, Paged, Principal, QueryParams};
use tollgate_store::EndpointCertificateRow;

fn metadata_json(certificate: &EndpointCertificateRow) -> Value {
    json!({"alias": certificate.alias, "endpoint": certificate.endpoint})
}

fn location(alias: &str) -> String {
    format!("/api/am/publisher/v4/endpoint-certificates/{alias}")
}

#[derive(serde::Deserialize)]
pub(crate) struct Filter {
    alias: Option<String>,
    endpoint: Option<String>,
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Paged(page): Paged,
    QueryParams(filter): QueryParams<Filter>,
) -> Result<Json<Value>, ApiError> {
    let all = ops::list(
        &ctx,
        &principal,
        filter.alias.as_deref().filter(|a| !a.is_empty()),
        filter.endpoint.as_deref().filter(|e| !e.is_empty()),
    )
    .await?;
    let listed = Listed::page_of(all, page);
    Ok(Json(json!({
        "count": listed.items.len(),
        "certificates": listed.items.iter().map(metadata_json).collect::<Vec<_>>(),
        "pagination": pagination(listed.page, listed.total),
    })))
}

/// `multipart/form-data` with `alias`, `endpoint` and the `certificate` file.
pub(crate) async fn add(
    State(ctx): State<Ctx>,
    principal: Principal,
    form: Form,
) -> Result<Response, ApiError> {
    let upload = CertificateUpload {
        alias: form.text("alias")?.unwrap_or_default().to_string(),
        endpoint: form.text("endpoint")?.unwrap_or_default().to_string(),
        certificate: form.bytes("certificate").unwrap_or_default().to_vec(),
    };
    let added = ops::add(&ctx, &principal, upload).await?;
    Ok((
        StatusCode::OK,
        [(header::LOCATION, location(&added.alias))],
        Json(metadata_json(&added)),
    )
        .into_response())
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(alias): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (_, details) = ops::get(&ctx, &principal, &alias).await?;
    let now = tollgate_model::now_millis() / 1000;
    Ok(Json(json!({
        "status": details.status(now),
        "validity": {
            "from": rfc3339(details.not_before * 1000),
            "to": rfc3339(details.not_after * 1000),
        },
        "version": details.version,
        "subject": details.subject,
    })))
}

/// `multipart/form-data` with the new `certificate` file.
pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(alias): Path<String>,
    form: Form,
) -> Result<Response, ApiError> {
    let certificate = form.bytes("certificate").unwrap_or_default();
    let updated = ops::update(&ctx, &principal, &alias, certificate).await?;
    Ok((
        StatusCode::OK,
        [(header::LOCATION, location(&updated.alias))],
        Json(metadata_json(&updated)),
    )
        .into_response())
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(alias): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete(&ctx, &principal, &alias).await?;
    Ok(StatusCode::OK)
}

/// The certificate file (PEM).
pub(crate) async fn content(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(alias): Path<String>,
) -> Result<Response, ApiError> {
    let (row, _) = ops::get(&ctx, &principal, &alias).await?;
    // The alias is a header value only when it is plain; any other falls back to a fixed name.
    let file_name = if row
        .alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        row.alias.clone()
    } else {
        "certificate".to_string()
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-pem-file".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}.pem\""),
            ),
        ],
        format!("{}\n", row.certificate),
    )
        .into_response())
}

/// The APIs with an endpoint on the certificate's origin, as WSO2's `APIMetadataList`.
pub(crate) async fn usage(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(alias): Path<String>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let apis = ops::usage(&ctx, &principal, &alias).await?;
    let listed = Listed::page_of(apis, page);
    let list: Vec<Value> = listed
        .items
        .iter()
        .map(|api| {
            json!({"id": api.id, "name": api.name, "context": api.context,
                   "version": api.version, "provider": api.provider})
        })
        .collect();
    Ok(Json(json!({
        "count": list.len(),
        "list": list,
        "pagination": pagination(listed.page, listed.total),
    })))
}
