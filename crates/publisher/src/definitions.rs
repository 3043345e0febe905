//! API definitions: validate, import, read and replace an API's OpenAPI document.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::publisher::definitions::{self as ops, DefinitionSource, Validation};
use tollgate_restcore::{ApiError, Ctx, Form, Principal, QueryParams};

use crate::wire::{api_json, etag};

pub(crate) use tollgate_restcore::upload_limit;

/// The definition a form carries, in one of the fields WSO2's clients use.
fn source(form: &Form, inline_field: &str) -> Result<DefinitionSource, ApiError> {
    if let Some(file) = form.bytes("file") {
        return Ok(DefinitionSource::Inline(file.to_vec()));
    }
    if let Some(inline) = form.bytes(inline_field) {
        return Ok(DefinitionSource::Inline(inline.to_vec()));
    }
    if let Some(url) = form.text("url")? {
        return Ok(DefinitionSource::Url(url.trim().to_string()));
    }
    Err(ApiError::bad_field(
        "file",
        format!("a definition is required: send 'file', 'url' or '{inline_field}'"),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidateQuery {
    #[serde(default)]
    return_content: bool,
}

/// WSO2's answer: 200 with `isValid` and, when invalid, every problem with its location.
pub(crate) async fn validate(
    principal: Principal,
    QueryParams(q): QueryParams<ValidateQuery>,
    form: Form,
) -> Result<Json<Value>, ApiError> {
    let source = source(&form, "inlineAPIDefinition")?;
    Ok(Json(
        match ops::validate_definition(&principal, &source).await? {
            Validation::Valid { document, summary } => {
                let mut body = json!({
                    "isValid": true,
                    "info": {
                        "name": summary.title,
                        "version": summary.version,
                        "context": summary.context.unwrap_or_default(),
                        "description": summary.description.unwrap_or_default(),
                        "openAPIVersion": document.declared_version,
                        "endpoints": summary.endpoints,
                    },
                    "errors": [],
                });
                if q.return_content {
                    body["content"] = json!(document.value.to_string());
                }
                body
            }
            Validation::Invalid(problems) => json!({
                "isValid": false,
                "errors": problems.iter().map(|p| json!({
                    "code": "400",
                    "message": p.field,
                    "description": p.message,
                })).collect::<Vec<_>>(),
            }),
        },
    ))
}

pub(crate) async fn import(
    State(ctx): State<Ctx>,
    principal: Principal,
    form: Form,
) -> Result<Response, ApiError> {
    let source = source(&form, "inlineAPIDefinition")?;
    let additional = form.json("additionalProperties")?;
    let api = ops::import_definition(&ctx, &principal, &source, additional).await?;
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
) -> Result<Json<Value>, ApiError> {
    Ok(Json(ops::get_definition(&ctx, &principal, &api_id).await?))
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    headers: HeaderMap,
    form: Form,
) -> Result<Json<Value>, ApiError> {
    let expected = crate::apis::if_match(&headers)?;
    let source = source(&form, "apiDefinition")?;
    let document = ops::update_definition(&ctx, &principal, &api_id, &source, expected).await?;
    Ok(Json(document))
}
