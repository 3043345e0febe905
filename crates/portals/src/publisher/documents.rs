//! An API's documents in the publisher: list, add (Markdown written with a preview, inline
//! text, an uploaded file or a link), edit, view and delete — over the document operations.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_model::{DocumentSource, DocumentType, DocumentVisibility};
use tollgate_operations::publisher::apis;
use tollgate_operations::publisher::documents::{self, DocumentContent, DocumentInput};
use tollgate_operations::{OpError, Page};
use tollgate_restcore::{Ctx, Form};
use tollgate_store::{DocumentFile, DocumentRow};

use super::ApiHead;
use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Publisher;

/// A document's form as filled in (or as the document is).
pub(crate) struct DocumentForm {
    pub name: String,
    pub doc_type: String,
    pub other_type: String,
    pub summary: String,
    pub source: String,
    pub url: String,
    pub content: String,
    pub visibility: String,
    pub file_name: String,
}

impl DocumentForm {
    fn blank() -> DocumentForm {
        DocumentForm {
            name: String::new(),
            doc_type: DocumentType::HowTo.as_str().into(),
            other_type: String::new(),
            summary: String::new(),
            source: DocumentSource::Markdown.as_str().into(),
            url: String::new(),
            content: String::new(),
            visibility: DocumentVisibility::ApiLevel.as_str().into(),
            file_name: String::new(),
        }
    }

    fn of(doc: &DocumentRow) -> DocumentForm {
        DocumentForm {
            name: doc.name.clone(),
            doc_type: doc.doc_type.as_str().into(),
            other_type: doc.other_type_name.clone().unwrap_or_default(),
            summary: doc.summary.clone(),
            source: doc.source_type.as_str().into(),
            url: doc.source_url.clone().unwrap_or_default(),
            content: doc.inline_content.clone().unwrap_or_default(),
            visibility: doc.visibility.as_str().into(),
            file_name: doc.file_name.clone().unwrap_or_default(),
        }
    }

    fn read(upload: &Form) -> Result<DocumentForm, PageError> {
        let text = |name: &str| -> Result<String, PageError> {
            Ok(upload.text(name)?.unwrap_or_default().to_string())
        };
        Ok(DocumentForm {
            name: text("name")?,
            doc_type: text("type")?,
            other_type: text("other_type")?,
            summary: text("summary")?,
            source: text("source")?,
            url: text("url")?,
            content: text("content")?,
            visibility: text("visibility")?,
            file_name: String::new(),
        })
    }

    /// The operation's input, or the field at fault.
    fn input(&self) -> Result<DocumentInput, OpError> {
        let doc_type = DocumentType::parse(&self.doc_type)
            .ok_or_else(|| OpError::invalid("type", "choose a type"))?;
        let source_type = DocumentSource::parse(&self.source)
            .ok_or_else(|| OpError::invalid("sourceType", "choose a source"))?;
        let text = matches!(
            source_type,
            DocumentSource::Markdown | DocumentSource::Inline
        );
        Ok(DocumentInput {
            name: self.name.clone(),
            doc_type,
            other_type_name: Some(self.other_type.clone()).filter(|t| !t.trim().is_empty()),
            summary: Some(self.summary.clone()),
            source_type,
            source_url: Some(self.url.trim().to_string()).filter(|u| !u.is_empty()),
            visibility: DocumentVisibility::parse(&self.visibility),
            inline_content: Some(self.content.clone()).filter(|_| text),
        })
    }
}

/// A document as the list shows it.
pub(crate) struct DocumentLine {
    pub id: String,
    pub name: String,
    pub doc_type: String,
    pub source: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "publisher_documents.html")]
struct DocumentsPage {
    page: Chrome,
    head: ApiHead,
    documents: Vec<DocumentLine>,
    /// The add form, or the document being edited (`editing` is its id).
    form: DocumentForm,
    editing: Option<String>,
    preview: Option<String>,
    errors: FormErrors,
    types: Vec<&'static str>,
    sources: Vec<&'static str>,
    visibilities: Vec<&'static str>,
}

impl DocumentsPage {
    fn action(&self) -> String {
        match &self.editing {
            Some(id) => format!("/publisher/apis/{}/documents/{id}", self.head.row.id),
            None => format!("/publisher/apis/{}/documents", self.head.row.id),
        }
    }
}

const DOCUMENT_FIELDS: &[&str] = &[
    "name",
    "type",
    "otherTypeName",
    "summary",
    "sourceType",
    "sourceUrl",
    "inlineContent",
    "file",
];

async fn documents_view(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    form: DocumentForm,
    editing: Option<String>,
    preview: Option<String>,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = publisher.actor();
    let api = apis::get_api(ctx, actor, api_id).await?;
    let listed =
        documents::list_documents(ctx, actor, api_id, Page::new(Some(200), Some(0))?).await?;
    Ok(render_form(
        &DocumentsPage {
            page: publisher.chrome(format!("{} · Documents", api.name)),
            head: ApiHead::new(&api, "/documents"),
            documents: listed
                .items
                .into_iter()
                .map(|d| DocumentLine {
                    id: d.id,
                    name: d.name,
                    doc_type: d.doc_type.as_str().into(),
                    source: d.source_type.as_str().into(),
                    summary: d.summary,
                })
                .collect(),
            form,
            editing,
            preview,
            errors: errors.clone(),
            types: DocumentType::ALL.iter().map(|t| t.as_str()).collect(),
            sources: [
                DocumentSource::Markdown,
                DocumentSource::Inline,
                DocumentSource::Url,
                DocumentSource::File,
            ]
            .iter()
            .map(|s| s.as_str())
            .collect(),
            visibilities: DocumentVisibility::ALL.iter().map(|v| v.as_str()).collect(),
        },
        &errors,
    ))
}

pub(crate) async fn documents_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    documents_view(
        &ctx,
        &publisher,
        &api_id,
        DocumentForm::blank(),
        None,
        None,
        FormErrors::default(),
    )
    .await
}

pub(crate) async fn edit_document_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let doc = documents::get_document(&ctx, publisher.actor(), &api_id, &document_id).await?;
    documents_view(
        &ctx,
        &publisher,
        &api_id,
        DocumentForm::of(&doc),
        Some(document_id),
        None,
        FormErrors::default(),
    )
    .await
}

/// The uploaded file of a FILE document, if one was chosen.
fn uploaded_file(upload: &Form) -> Option<DocumentFile> {
    upload
        .file("file")
        .map(|(name, content_type, bytes)| DocumentFile {
            name: name.unwrap_or_else(|| "document".into()),
            content_type: content_type.unwrap_or_else(|| "application/octet-stream".into()),
            content: bytes.to_vec(),
        })
}

/// Whether the form asked for a preview rather than a save.
fn wants_preview(upload: &Form) -> Result<bool, PageError> {
    Ok(upload.text("action")?.is_some_and(|a| a == "preview"))
}

/// The documents page with the form as sent and its Markdown rendered, nothing saved.
async fn preview(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    form: DocumentForm,
    editing: Option<String>,
) -> Result<Response, PageError> {
    let html = crate::markdown::to_html(&form.content);
    documents_view(
        ctx,
        publisher,
        api_id,
        form,
        editing,
        Some(html),
        FormErrors::default(),
    )
    .await
}

pub(crate) async fn create_document(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    upload: Form,
) -> Result<Response, PageError> {
    publisher.check_upload(&upload)?;
    let form = DocumentForm::read(&upload)?;
    if wants_preview(&upload)? {
        return preview(&ctx, &publisher, &api_id, form, None).await;
    }
    let file = uploaded_file(&upload);
    let result = async {
        let input = form.input()?;
        if input.source_type == DocumentSource::File && file.is_none() {
            return Err(OpError::invalid("file", "choose the document's file"));
        }
        let doc = documents::create_document(&ctx, publisher.actor(), &api_id, input).await?;
        if let Some(file) = file.filter(|_| doc.source_type == DocumentSource::File) {
            let stored = documents::set_document_content(
                &ctx,
                publisher.actor(),
                &api_id,
                &doc.id,
                DocumentContent::File(file),
            )
            .await;
            if let Err(err) = stored {
                // No document without its file: take the new one back (and say why it failed).
                if let Err(undo) =
                    documents::delete_document(&ctx, publisher.actor(), &api_id, &doc.id).await
                {
                    tracing::warn!(error = %undo, document = %doc.id, "a document without its file could not be removed");
                }
                return Err(err);
            }
        }
        Ok(doc)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/publisher/apis/{api_id}/documents")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, DOCUMENT_FIELDS)?;
            documents_view(&ctx, &publisher, &api_id, form, None, None, errors).await
        }
    }
}

pub(crate) async fn update_document(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path((api_id, document_id)): Path<(String, String)>,
    upload: Form,
) -> Result<Response, PageError> {
    publisher.check_upload(&upload)?;
    let form = DocumentForm::read(&upload)?;
    let editing = Some(document_id.clone());
    if wants_preview(&upload)? {
        return preview(&ctx, &publisher, &api_id, form, editing).await;
    }
    let file = uploaded_file(&upload);
    let result = async {
        let input = form.input()?;
        let doc = documents::update_document(&ctx, publisher.actor(), &api_id, &document_id, input)
            .await?;
        if let Some(file) = file.filter(|_| doc.source_type == DocumentSource::File) {
            documents::set_document_content(
                &ctx,
                publisher.actor(),
                &api_id,
                &doc.id,
                DocumentContent::File(file),
            )
            .await?;
        }
        Ok::<_, OpError>(doc)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/publisher/apis/{api_id}/documents")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, DOCUMENT_FIELDS)?;
            documents_view(&ctx, &publisher, &api_id, form, editing, None, errors).await
        }
    }
}

pub(crate) async fn delete_document(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path((api_id, document_id)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    documents::delete_document(&ctx, publisher.actor(), &api_id, &document_id).await?;
    Ok(Redirect::to(&format!("/publisher/apis/{api_id}/documents")).into_response())
}

pub(crate) async fn document_content(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let doc = documents::get_document(&ctx, publisher.actor(), &api_id, &document_id).await?;
    let content =
        documents::document_content(&ctx, publisher.actor(), &api_id, &document_id).await?;
    Ok(crate::pages::show_document(
        publisher.chrome(doc.name.clone()),
        format!("/publisher/apis/{api_id}/documents"),
        &doc,
        content,
    ))
}
