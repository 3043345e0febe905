use base64::Engine;
use sqlx::any::AnyRow;
use tollgate_model::{DocumentSource, DocumentType, DocumentVisibility};

use crate::db::{col, name_col};
use crate::{ApimTx, Result, Store, StoreError};

/// A document of an API (its content aside when it is a file).
#[derive(Debug, Clone)]
pub struct DocumentRow {
    pub id: String,
    pub tenant: String,
    pub api_id: String,
    pub name: String,
    pub doc_type: DocumentType,
    pub other_type_name: Option<String>,
    pub summary: String,
    pub source_type: DocumentSource,
    pub source_url: Option<String>,
    pub visibility: DocumentVisibility,
    pub inline_content: Option<String>,
    pub file_name: Option<String>,
    pub file_content_type: Option<String>,
    pub created_time: i64,
    pub created_by: String,
    pub updated_time: i64,
    pub updated_by: String,
}

/// A document's file.
#[derive(Debug, Clone)]
pub struct DocumentFile {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

pub(crate) const DOCUMENT_COLUMNS: &str = "document_id, tenant, api_id, name, doc_type, other_type_name, summary, source_type, source_url, visibility, inline_content, file_name, file_content_type, created_time, created_by, updated_time, updated_by";

pub(crate) fn document_from(row: &AnyRow) -> Result<DocumentRow> {
    Ok(DocumentRow {
        id: col(row, "document_id")?,
        tenant: col(row, "tenant")?,
        api_id: col(row, "api_id")?,
        name: col(row, "name")?,
        doc_type: name_col(row, "doc_type")?,
        other_type_name: col(row, "other_type_name")?,
        summary: col(row, "summary")?,
        source_type: name_col(row, "source_type")?,
        source_url: col(row, "source_url")?,
        visibility: name_col(row, "visibility")?,
        inline_content: col(row, "inline_content")?,
        file_name: col(row, "file_name")?,
        file_content_type: col(row, "file_content_type")?,
        created_time: col(row, "created_time")?,
        created_by: col(row, "created_by")?,
        updated_time: col(row, "updated_time")?,
        updated_by: col(row, "updated_by")?,
    })
}

impl ApimTx {
    pub async fn insert_document(&mut self, doc: &DocumentRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_api_document ({DOCUMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(&doc.id)
        .bind(&doc.tenant)
        .bind(&doc.api_id)
        .bind(&doc.name)
        .bind(doc.doc_type.as_str())
        .bind(&doc.other_type_name)
        .bind(&doc.summary)
        .bind(doc.source_type.as_str())
        .bind(&doc.source_url)
        .bind(doc.visibility.as_str())
        .bind(&doc.inline_content)
        .bind(&doc.file_name)
        .bind(&doc.file_content_type)
        .bind(doc.created_time)
        .bind(&doc.created_by)
        .bind(doc.updated_time)
        .bind(&doc.updated_by)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("The API already has a document named '{}'", doc.name)
            })
        })?;
        Ok(())
    }

    /// Writes a document's fields (its file, if any, stays).
    pub async fn update_document(&mut self, doc: &DocumentRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_api_document SET name = $1, doc_type = $2, other_type_name = $3, summary = $4, source_type = $5, source_url = $6, visibility = $7, inline_content = $8, updated_time = $9, updated_by = $10 WHERE document_id = $11",
        )
        .bind(&doc.name)
        .bind(doc.doc_type.as_str())
        .bind(&doc.other_type_name)
        .bind(&doc.summary)
        .bind(doc.source_type.as_str())
        .bind(&doc.source_url)
        .bind(doc.visibility.as_str())
        .bind(&doc.inline_content)
        .bind(doc.updated_time)
        .bind(&doc.updated_by)
        .bind(&doc.id)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("The API already has a document named '{}'", doc.name)
            })
        })?;
        Ok(())
    }

    pub async fn set_document_file(
        &mut self,
        document_id: &str,
        file: &DocumentFile,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE am_api_document SET file_name = $1, file_content_type = $2, file_content = $3 WHERE document_id = $4",
        )
        .bind(&file.name)
        .bind(&file.content_type)
        .bind(base64::engine::general_purpose::STANDARD.encode(&file.content))
        .bind(document_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_document(&mut self, document_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_api_document WHERE document_id = $1")
            .bind(document_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn document(&mut self, api_id: &str, document_id: &str) -> Result<DocumentRow> {
        document_in(self.conn(), api_id, document_id).await
    }

    /// Copies every document of one API to another (a new version), files included.
    pub async fn copy_documents(&mut self, from_api: &str, to_api: &str) -> Result<()> {
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS}, file_content FROM am_api_document WHERE api_id = $1"
        ))
        .bind(from_api)
        .fetch_all(self.conn())
        .await?;
        for row in rows {
            let mut doc = document_from(&row)?;
            let content: Option<String> = col(&row, "file_content")?;
            doc.id = uuid::Uuid::new_v4().to_string();
            doc.api_id = to_api.to_string();
            self.insert_document(&doc).await?;
            if let Some(content) = content {
                sqlx::query("UPDATE am_api_document SET file_content = $1 WHERE document_id = $2")
                    .bind(content)
                    .bind(&doc.id)
                    .execute(self.conn())
                    .await?;
            }
        }
        Ok(())
    }
}

async fn document_in(
    conn: &mut sqlx::AnyConnection,
    api_id: &str,
    document_id: &str,
) -> Result<DocumentRow> {
    let row = sqlx::query(&format!(
        "SELECT {DOCUMENT_COLUMNS} FROM am_api_document WHERE api_id = $1 AND document_id = $2"
    ))
    .bind(api_id)
    .bind(document_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("document {document_id}")))?;
    document_from(&row)
}

impl Store {
    pub async fn document(&self, api_id: &str, document_id: &str) -> Result<DocumentRow> {
        let mut conn = self.apim().acquire().await?;
        document_in(&mut conn, api_id, document_id).await
    }

    /// A page of the API's documents, by name, and how many there are.
    pub async fn documents(
        &self,
        api_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<DocumentRow>, i64)> {
        let count = sqlx::query("SELECT COUNT(*) AS n FROM am_api_document WHERE api_id = $1")
            .bind(api_id)
            .fetch_one(self.apim())
            .await?;
        let total: i64 = col(&count, "n")?;
        let documents = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM am_api_document WHERE api_id = $1 ORDER BY name, document_id LIMIT $2 OFFSET $3"
        ))
        .bind(api_id)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(document_from)
        .collect::<Result<Vec<_>>>()?;
        Ok((documents, total))
    }

    /// Whether the API has a document named `name`.
    pub async fn document_name_exists(&self, api_id: &str, name: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM am_api_document WHERE api_id = $1 AND name = $2",
        )
        .bind(api_id)
        .bind(name)
        .fetch_one(self.apim())
        .await?;
        Ok(col::<i64>(&row, "n")? > 0)
    }

    /// A document's file, if one was uploaded.
    pub async fn document_file(&self, document_id: &str) -> Result<Option<DocumentFile>> {
        let row = sqlx::query(
            "SELECT file_name, file_content_type, file_content FROM am_api_document WHERE document_id = $1",
        )
        .bind(document_id)
        .fetch_optional(self.apim())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let content: Option<String> = col(&row, "file_content")?;
        let Some(content) = content else {
            return Ok(None);
        };
        let content = base64::engine::general_purpose::STANDARD
            .decode(content)
            .map_err(|e| StoreError::Corrupt(format!("document file: {e}")))?;
        Ok(Some(DocumentFile {
            name: col::<Option<String>>(&row, "file_name")?.unwrap_or_default(),
            content_type: col::<Option<String>>(&row, "file_content_type")?
                .unwrap_or_else(|| "application/octet-stream".into()),
            content,
        }))
    }
}
