//! `multipart/form-data` bodies (file uploads), read whole into named fields, with errors in
//! WSO2's body naming the field.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};

use crate::ApiError;

/// The body limit of routes taking uploads (definitions, documents, thumbnails): the largest
/// definition accepted plus the form's framing. The REST APIs and the portals both use it.
pub fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(
        tollgate_operations::publisher::openapi::MAX_DEFINITION_BYTES + 64 * 1024,
    )
}

/// A multipart form's fields by name: the bytes of each (a file's content, or a text value).
#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, Vec<u8>>,
    /// A file field's name and content type, as the client sent them.
    files: HashMap<String, (Option<String>, Option<String>)>,
}

impl Form {
    /// The field's bytes, if it was sent (and not empty).
    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .get(name)
            .map(Vec::as_slice)
            .filter(|b| !b.is_empty())
    }

    /// A file field: its file name, content type and bytes.
    pub fn file(&self, name: &str) -> Option<(Option<String>, Option<String>, &[u8])> {
        let bytes = self.bytes(name)?;
        let (file_name, content_type) = self.files.get(name).cloned().unwrap_or_default();
        Some((file_name, content_type, bytes))
    }

    /// The field as UTF-8 text, if it was sent.
    pub fn text(&self, name: &str) -> Result<Option<&str>, ApiError> {
        self.bytes(name)
            .map(|b| {
                std::str::from_utf8(b).map_err(|_| ApiError::bad_field(name, "must be UTF-8 text"))
            })
            .transpose()
    }

    /// The field as JSON, if it was sent.
    pub fn json(&self, name: &str) -> Result<Option<serde_json::Value>, ApiError> {
        self.bytes(name)
            .map(|b| {
                serde_json::from_slice(b)
                    .map_err(|e| ApiError::bad_field(name, format!("is not valid JSON: {e}")))
            })
            .transpose()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut multipart = Multipart::from_request(req, state).await.map_err(|e| {
            ApiError::new(
                e.status(),
                format!("The body must be multipart/form-data: {}", e.body_text()),
            )
        })?;
        let mut form = Form::default();
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            ApiError::new(
                e.status(),
                format!("Malformed multipart body: {}", e.body_text()),
            )
        })? {
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().map(str::to_string);
            let content_type = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| {
                ApiError::new(
                    e.status(),
                    format!("Field '{name}' could not be read: {}", e.body_text()),
                )
            })?;
            if file_name.is_some() {
                form.files.insert(name.clone(), (file_name, content_type));
            }
            form.fields.insert(name, bytes.to_vec());
        }
        Ok(form)
    }
}
