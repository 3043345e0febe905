//! `/apis/{apiId}/documents`: an API's documents and their content.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::{DocumentSource, DocumentType, DocumentVisibility};
use tollgate_operations::publisher::documents::{self as ops, DocumentContent, DocumentInput};
use tollgate_restcore::Paged;
use tollgate_restcore::{
    listed_body, served_content, ApiError, Ctx, Form, JsonBody, Principal, QueryParams,
};
use tollgate_store::{DocumentFile, DocumentRow};

/// WSO2's `Document`, as clients send it (server-owned fields ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DocumentBody {
    pub(crate) name: String,
    #[serde(rename = "type")]
    doc_type: DocumentType,
    #[serde(default)]
    other_type_name: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    pub(crate) source_type: DocumentSource,
    #[serde(default)]
    pub(crate) source_url: Option<String>,
    #[serde(default)]
    visibility: Option<DocumentVisibility>,
    #[serde(default)]
    inline_content: Option<String>,
}

impl From<DocumentBody> for DocumentInput {
    fn from(body: DocumentBody) -> Self {
        DocumentInput {
            name: body.name,
            doc_type: body.doc_type,
            other_type_name: body.other_type_name,
            summary: body.summary,
            source_type: body.source_type,
            source_url: body.source_url,
            visibility: body.visibility,
            inline_content: body.inline_content,
        }
    }
}

pub(crate) fn document_json(doc: &DocumentRow) -> Value {
    json!({
        "documentId": doc.id,
        "name": doc.name,
        "type": doc.doc_type,
        "summary": doc.summary,
        "sourceType": doc.source_type,
        "sourceUrl": doc.source_url.clone().unwrap_or_default(),
        "fileName": doc.file_name.clone().unwrap_or_default(),
        "inlineContent": doc.inline_content,
        "otherTypeName": doc.other_type_name.clone().unwrap_or_default(),
        "visibility": doc.visibility,
        "createdTime": doc.created_time.to_string(),
        "createdBy": doc.created_by,
        "lastUpdatedTime": doc.updated_time.to_string(),
        "lastUpdatedBy": doc.updated_by,
    })
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let listed = ops::list_documents(&ctx, &principal, &api_id, page).await?;
    Ok(listed_body(&listed, document_json))
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    JsonBody(body): JsonBody<DocumentBody>,
) -> Result<Response, ApiError> {
    let doc = ops::create_document(&ctx, &principal, &api_id, body.into()).await?;
    let location = format!("/api/am/publisher/v4/apis/{api_id}/documents/{}", doc.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(document_json(&doc)),
    )
        .into_response())
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let doc = ops::get_document(&ctx, &principal, &api_id, &document_id).await?;
    Ok(Json(document_json(&doc)))
}

pub(crate) async fn update(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((api_id, document_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<DocumentBody>,
) -> Result<Json<Value>, ApiError> {
    let doc = ops::update_document(&ctx, &principal, &api_id, &document_id, body.into()).await?;
    Ok(Json(document_json(&doc)))
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    ops::delete_document(&ctx, &principal, &api_id, &document_id).await?;
    Ok(StatusCode::OK)
}

/// Uploads content: `file` for a file document, `inlineContent` for an inline or Markdown one.
pub(crate) async fn set_content(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((api_id, document_id)): Path<(String, String)>,
    form: Form,
) -> Result<Json<Value>, ApiError> {
    let content =
        match form.file("file") {
            Some((name, content_type, bytes)) => DocumentContent::File(DocumentFile {
                name: name.unwrap_or_else(|| "document".into()),
                content_type: content_type.unwrap_or_else(|| "application/octet-stream".into()),
                content: bytes.to_vec(),
            }),
            None => match form.text("inlineContent")? {
                Some(text) => DocumentContent::Text(text.to_string()),
                None => return Err(ApiError::bad_field(
                    "file",
                    "send 'file' (a file document) or 'inlineContent' (an inline or Markdown one)",
                )),
            },
        };
    let doc = ops::set_document_content(&ctx, &principal, &api_id, &document_id, content).await?;
    Ok(Json(document_json(&doc)))
}

pub(crate) async fn content(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    served_content(ops::document_content(&ctx, &principal, &api_id, &document_id).await?)
}

#[derive(Deserialize)]
pub(crate) struct ValidateQuery {
    name: Option<String>,
}

pub(crate) async fn validate(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    QueryParams(q): QueryParams<ValidateQuery>,
) -> Result<StatusCode, ApiError> {
    let name = q.name.unwrap_or_default();
    if ops::document_exists(&ctx, &principal, &api_id, &name).await? {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::not_found(format!("No document named '{name}'")))
    }
}
