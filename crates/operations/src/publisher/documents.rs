//! An API's documents: how-tos, samples, forums, …, with inline, Markdown, URL or file content.

use tollgate_model::{DocumentSource, DocumentType, DocumentVisibility};
use tollgate_store::{DocumentFile, DocumentRow};

use crate::{Actor, Listed, OpError, OpResult, Page, Problems, Services};

const MANAGE: &[&str] = &[
    "apim:api_create",
    "apim:api_manage",
    "apim:document_create",
    "apim:document_manage",
];
const VIEW: &[&str] = &[
    "apim:api_view",
    "apim:api_manage",
    "apim:document_manage",
    "apim:api_publish",
];

/// The largest document file or inline content accepted.
pub const MAX_CONTENT_BYTES: usize = 10 * 1024 * 1024;

/// A document's fields as a client gives them.
#[derive(Debug, Clone)]
pub struct DocumentInput {
    pub name: String,
    pub doc_type: DocumentType,
    pub other_type_name: Option<String>,
    pub summary: Option<String>,
    pub source_type: DocumentSource,
    pub source_url: Option<String>,
    pub visibility: Option<DocumentVisibility>,
    pub inline_content: Option<String>,
}

/// New content for a document: text (inline or Markdown) or a file.
#[derive(Debug, Clone)]
pub enum DocumentContent {
    Text(String),
    File(DocumentFile),
}

pub(crate) fn checked(input: DocumentInput) -> OpResult<DocumentInput> {
    let mut problems = Problems::default();
    let mut input = input;
    input.name = input.name.trim().to_string();
    let length = input.name.chars().count();
    if !(1..=60).contains(&length) || input.name.chars().any(char::is_control) {
        problems.add(
            "name",
            "must have 1 to 60 characters, none of them control characters",
        );
    }
    if input
        .summary
        .as_ref()
        .is_some_and(|s| s.chars().count() > 32766)
    {
        problems.add("summary", "must have at most 32766 characters");
    }
    if input.doc_type == DocumentType::Other
        && input
            .other_type_name
            .as_deref()
            .is_none_or(|t| t.trim().is_empty())
    {
        problems.add("otherTypeName", "is required when type is OTHER");
    }
    match input.source_type {
        DocumentSource::Url => match input.source_url.as_deref().map(str::trim) {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {}
            _ => problems.add(
                "sourceUrl",
                "must be an http:// or https:// URL when sourceType is URL",
            ),
        },
        _ => input.source_url = None,
    }
    if !matches!(
        input.source_type,
        DocumentSource::Inline | DocumentSource::Markdown
    ) {
        input.inline_content = None;
    }
    if input
        .inline_content
        .as_ref()
        .is_some_and(|c| c.len() > MAX_CONTENT_BYTES)
    {
        problems.add(
            "inlineContent",
            format!("must be at most {MAX_CONTENT_BYTES} bytes"),
        );
    }
    problems.into_result(input)
}

pub async fn list_documents(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    page: Page,
) -> OpResult<Listed<DocumentRow>> {
    actor.require_any(VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    let (items, total) = services
        .store
        .documents(&api.id, page.limit, page.offset)
        .await?;
    Ok(Listed { items, page, total })
}

pub async fn get_document(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    document_id: &str,
) -> OpResult<DocumentRow> {
    actor.require_any(VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    Ok(services.store.document(&api.id, document_id).await?)
}

pub async fn create_document(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    input: DocumentInput,
) -> OpResult<DocumentRow> {
    actor.require_any(MANAGE)?;
    let input = checked(input)?;
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let doc = new_document(&api, input, &actor.username);
    tx.insert_document(&doc).await?;
    tx.commit().await?;
    Ok(doc)
}

/// A new document of `api`, written by `username` now (its input checked).
pub(crate) fn new_document(
    api: &tollgate_store::ApiRow,
    input: DocumentInput,
    username: &str,
) -> DocumentRow {
    let now = tollgate_model::now_millis();
    DocumentRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: api.tenant.clone(),
        api_id: api.id.clone(),
        name: input.name,
        doc_type: input.doc_type,
        other_type_name: input.other_type_name,
        summary: input.summary.unwrap_or_default(),
        source_type: input.source_type,
        source_url: input.source_url,
        visibility: input.visibility.unwrap_or(DocumentVisibility::ApiLevel),
        inline_content: input.inline_content,
        file_name: None,
        file_content_type: None,
        created_time: now,
        created_by: username.to_string(),
        updated_time: now,
        updated_by: username.to_string(),
    }
}

pub async fn update_document(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    document_id: &str,
    input: DocumentInput,
) -> OpResult<DocumentRow> {
    actor.require_any(MANAGE)?;
    let input = checked(input)?;
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let mut doc = tx.document(&api.id, document_id).await?;
    doc.name = input.name;
    doc.doc_type = input.doc_type;
    doc.other_type_name = input.other_type_name;
    doc.summary = input.summary.unwrap_or(doc.summary);
    doc.source_type = input.source_type;
    doc.source_url = input.source_url;
    if let Some(visibility) = input.visibility {
        doc.visibility = visibility;
    }
    if input.inline_content.is_some() {
        doc.inline_content = input.inline_content;
    }
    doc.updated_time = tollgate_model::now_millis();
    doc.updated_by = actor.username.clone();
    tx.update_document(&doc).await?;
    tx.commit().await?;
    Ok(doc)
}

pub async fn delete_document(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    document_id: &str,
) -> OpResult<()> {
    actor.require_any(MANAGE)?;
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let doc = tx.document(&api.id, document_id).await?;
    tx.delete_document(&doc.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a document's content: text for an inline or Markdown document, a file for a file one.
pub async fn set_document_content(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    document_id: &str,
    content: DocumentContent,
) -> OpResult<DocumentRow> {
    actor.require_any(MANAGE)?;
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let mut doc = tx.document(&api.id, document_id).await?;
    match (doc.source_type, content) {
        (DocumentSource::Inline | DocumentSource::Markdown, DocumentContent::Text(text)) => {
            if text.len() > MAX_CONTENT_BYTES {
                return Err(OpError::invalid(
                    "inlineContent",
                    format!("must be at most {MAX_CONTENT_BYTES} bytes"),
                ));
            }
            doc.inline_content = Some(text);
        }
        (DocumentSource::File, DocumentContent::File(file)) => {
            if file.content.len() > MAX_CONTENT_BYTES {
                return Err(OpError::invalid(
                    "file",
                    format!("must be at most {MAX_CONTENT_BYTES} bytes"),
                ));
            }
            tx.set_document_file(&doc.id, &file).await?;
            doc.file_name = Some(file.name);
            doc.file_content_type = Some(file.content_type);
        }
        (DocumentSource::File, DocumentContent::Text(_)) => {
            return Err(OpError::invalid(
                "file",
                "is required: the document's sourceType is FILE",
            ))
        }
        (DocumentSource::Url, _) => {
            return Err(OpError::invalid(
                "sourceType",
                "a URL document has no content to upload; change its sourceUrl",
            ))
        }
        (_, DocumentContent::File(_)) => {
            return Err(OpError::invalid(
                "inlineContent",
                format!(
                    "is required: the document's sourceType is {}",
                    doc.source_type
                ),
            ))
        }
    }
    doc.updated_time = tollgate_model::now_millis();
    doc.updated_by = actor.username.clone();
    tx.update_document(&doc).await?;
    tx.commit().await?;
    Ok(doc)
}

/// A document's content as served: text, a file, or where it lives.
pub enum ServedContent {
    Text { markdown: bool, text: String },
    File(DocumentFile),
    Redirect(String),
}

pub async fn document_content(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    document_id: &str,
) -> OpResult<ServedContent> {
    let doc = get_document(services, actor, api_id, document_id).await?;
    content_of(services, doc).await
}

/// What serving a document's content returns: its text, its file, or where it is.
pub(crate) async fn content_of(services: &Services, doc: DocumentRow) -> OpResult<ServedContent> {
    let document_id = doc.id.clone();
    match doc.source_type {
        DocumentSource::Inline | DocumentSource::Markdown => Ok(ServedContent::Text {
            markdown: doc.source_type == DocumentSource::Markdown,
            text: doc.inline_content.unwrap_or_default(),
        }),
        DocumentSource::Url => Ok(ServedContent::Redirect(doc.source_url.unwrap_or_default())),
        DocumentSource::File => services
            .store
            .document_file(&doc.id)
            .await?
            .map(ServedContent::File)
            .ok_or_else(|| OpError::NotFound(format!("content of document {document_id}"))),
    }
}

/// Whether the API has a document named `name`.
pub async fn document_exists(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    name: &str,
) -> OpResult<bool> {
    actor.require_any(VIEW)?;
    if name.trim().is_empty() {
        return Err(OpError::invalid("name", "is required"));
    }
    let api = services.store.api(&actor.tenant, api_id).await?;
    Ok(services
        .store
        .document_name_exists(&api.id, name.trim())
        .await?)
}
