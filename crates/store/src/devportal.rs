//! What the developer portal keeps besides APIs and applications: who may find an API (its
//! visibility, copied from the definition into columns a search can filter on), ratings, and
//! comments with replies.

use sqlx::any::AnyRow;

use crate::db::{col, SqlBuilder};
use crate::{ApiRow, ApimTx, Result, Store, StoreError};

/// Who is looking, for [`crate::ApiFilter::FindableBy`]: an anonymous visitor sees PUBLIC APIs;
/// a signed-in user also PRIVATE ones (WSO2: "visible to my domain") and RESTRICTED ones
/// naming one of their roles; the subscriber of a Deprecated API still finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finder {
    Anonymous,
    User {
        username: String,
        /// Normalised with [`visible_role`].
        roles: Vec<String>,
    },
}

/// A role as visibility compares it: lower case, without WSO2's `Internal/` prefix.
pub fn visible_role(role: &str) -> String {
    let role = role.trim();
    role.strip_prefix("Internal/")
        .or_else(|| role.strip_prefix("internal/"))
        .unwrap_or(role)
        .to_lowercase()
}

impl Finder {
    /// The condition on `am_api` rows.
    pub(crate) fn sql(&self, sql: &mut SqlBuilder) -> String {
        match self {
            Finder::Anonymous => {
                "(am_api.lifecycle_status IN ('PUBLISHED', 'PROTOTYPED') AND am_api.visibility = 'PUBLIC')".into()
            }
            Finder::User { username, roles } => {
                let owner = sql.bind(username);
                let restricted = if roles.is_empty() {
                    String::new()
                } else {
                    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
                    format!(
                        " OR (am_api.visibility = 'RESTRICTED' AND EXISTS (SELECT 1 FROM am_api_visible_role r WHERE r.api_id = am_api.api_id AND r.role IN ({})))",
                        sql.bind_list(&roles)
                    )
                };
                format!(
                    "((am_api.lifecycle_status IN ('PUBLISHED', 'PROTOTYPED') OR (am_api.lifecycle_status = 'DEPRECATED' AND EXISTS (SELECT 1 FROM am_subscription s JOIN am_application a ON a.application_id = s.application_id WHERE s.api_id = am_api.api_id AND a.owner = {owner}))) AND (am_api.visibility IN ('PUBLIC', 'PRIVATE'){restricted}))"
                )
            }
        }
    }
}

/// The visibility an API's definition states, and its roles (normalised).
fn visibility_of(api: &ApiRow) -> (String, Vec<String>) {
    let visibility = api.definition["visibility"]
        .as_str()
        .unwrap_or("PUBLIC")
        .to_string();
    let mut roles: Vec<String> = api.definition["visibleRoles"]
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .filter_map(|r| r.as_str())
                .map(visible_role)
                .filter(|r| !r.is_empty())
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    (visibility, roles)
}

#[derive(Debug, Clone)]
pub struct RatingRow {
    pub id: String,
    pub api_id: String,
    pub username: String,
    pub rating: i64,
    pub rated_time: i64,
}

/// An API's ratings in sum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RatingSummary {
    pub count: i64,
    /// 0 when there are none.
    pub average: f64,
}

#[derive(Debug, Clone)]
pub struct CommentRow {
    pub id: String,
    pub tenant: String,
    pub api_id: String,
    pub parent_id: Option<String>,
    pub content: String,
    pub category: String,
    /// `devPortal` or `publisher`.
    pub entry_point: String,
    pub created_by: String,
    pub created_time: i64,
    pub updated_time: i64,
}

const COMMENT_COLUMNS: &str = "comment_id, tenant, api_id, parent_id, content, category, entry_point, created_by, created_time, updated_time";

fn comment_from(row: &AnyRow) -> Result<CommentRow> {
    Ok(CommentRow {
        id: col(row, "comment_id")?,
        tenant: col(row, "tenant")?,
        api_id: col(row, "api_id")?,
        parent_id: col(row, "parent_id")?,
        content: col(row, "content")?,
        category: col(row, "category")?,
        entry_point: col(row, "entry_point")?,
        created_by: col(row, "created_by")?,
        created_time: col(row, "created_time")?,
        updated_time: col(row, "updated_time")?,
    })
}

fn rating_from(row: &AnyRow) -> Result<RatingRow> {
    Ok(RatingRow {
        id: col(row, "rating_id")?,
        api_id: col(row, "api_id")?,
        username: col(row, "username")?,
        rating: col(row, "rating")?,
        rated_time: col(row, "rated_time")?,
    })
}

impl ApimTx {
    /// Copies the API's visibility and roles from its definition (with every write of it).
    pub(crate) async fn write_visibility(&mut self, api: &ApiRow) -> Result<()> {
        let (visibility, roles) = visibility_of(api);
        sqlx::query("UPDATE am_api SET visibility = $1 WHERE api_id = $2")
            .bind(&visibility)
            .bind(&api.id)
            .execute(self.conn())
            .await?;
        sqlx::query("DELETE FROM am_api_visible_role WHERE api_id = $1")
            .bind(&api.id)
            .execute(self.conn())
            .await?;
        for role in roles {
            sqlx::query(
                "INSERT INTO am_api_visible_role (api_id, tenant, role) VALUES ($1, $2, $3)",
            )
            .bind(&api.id)
            .bind(&api.tenant)
            .bind(role)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Sets the user's rating of an API (a new one, or a change of theirs).
    pub async fn rate_api(
        &mut self,
        tenant: &str,
        api_id: &str,
        username: &str,
        rating: i64,
    ) -> Result<RatingRow> {
        // One statement, so two first ratings at once cannot collide.
        sqlx::query(
            "INSERT INTO am_api_rating (rating_id, tenant, api_id, username, rating, rated_time) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (api_id, username) DO UPDATE SET rating = excluded.rating, rated_time = excluded.rated_time",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(tenant)
        .bind(api_id)
        .bind(username)
        .bind(rating)
        .bind(tollgate_model::now_millis())
        .execute(self.conn())
        .await?;
        let row = sqlx::query(
            "SELECT rating_id, api_id, username, rating, rated_time FROM am_api_rating WHERE api_id = $1 AND username = $2",
        )
        .bind(api_id)
        .bind(username)
        .fetch_one(self.conn())
        .await?;
        rating_from(&row)
    }

    /// Removes the user's rating of an API; whether there was one.
    pub async fn delete_rating(&mut self, api_id: &str, username: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM am_api_rating WHERE api_id = $1 AND username = $2")
            .bind(api_id)
            .bind(username)
            .execute(self.conn())
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    pub async fn insert_comment(&mut self, comment: &CommentRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_api_comment ({COMMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&comment.id)
        .bind(&comment.tenant)
        .bind(&comment.api_id)
        .bind(comment.parent_id.as_deref())
        .bind(&comment.content)
        .bind(&comment.category)
        .bind(&comment.entry_point)
        .bind(&comment.created_by)
        .bind(comment.created_time)
        .bind(comment.updated_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn update_comment(&mut self, comment: &CommentRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_api_comment SET content = $1, category = $2, updated_time = $3 WHERE comment_id = $4",
        )
        .bind(&comment.content)
        .bind(&comment.category)
        .bind(comment.updated_time)
        .bind(&comment.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Deletes a comment and its replies.
    pub async fn delete_comment(&mut self, comment_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_api_comment WHERE parent_id = $1")
            .bind(comment_id)
            .execute(self.conn())
            .await?;
        sqlx::query("DELETE FROM am_api_comment WHERE comment_id = $1")
            .bind(comment_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Copies visibility into the columns for APIs written before they existed (once, at the
    /// control plane's start; nothing to do afterwards).
    pub async fn backfill_visibility(&self) -> Result<u64> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM am_api WHERE visibility IS NULL",
            crate::apis::API_SELECT
        ))
        .fetch_all(self.apim())
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        for row in &rows {
            tx.write_visibility(&crate::apis::api_from(row)?).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Tags of the APIs `finder` may find, with how many such APIs carry each, by tag.
    pub async fn findable_tags(
        &self,
        tenant: &str,
        finder: &Finder,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<(String, i64)>, i64)> {
        let mut sql = self.apim_sql();
        let tenant_at = sql.bind(tenant);
        let filter = format!("am_api.tenant = {tenant_at} AND {}", finder.sql(&mut sql));
        let grouped = format!(
            "SELECT t.tag AS tag, COUNT(*) AS n FROM am_api_tag t JOIN am_api ON am_api.api_id = t.api_id WHERE {filter} GROUP BY t.tag"
        );
        let total: i64 = col(
            &sql.query(&format!("SELECT COUNT(*) AS n FROM ({grouped}) g"))
                .fetch_one(self.apim())
                .await?,
            "n",
        )?;
        let rows = sql
            .query(&format!(
                "{grouped} ORDER BY t.tag LIMIT {} OFFSET {}",
                limit.max(0),
                offset.max(0)
            ))
            .fetch_all(self.apim())
            .await?;
        let tags = rows
            .iter()
            .map(|row| Ok((col::<String>(row, "tag")?, col::<i64>(row, "n")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok((tags, total))
    }

    /// Documents (visible at their API's level) of APIs `finder` may find whose name, summary
    /// or text contains every one of `words`, with their APIs; at most `limit`.
    pub async fn search_documents(
        &self,
        tenant: &str,
        finder: &Finder,
        words: &[String],
        limit: i64,
    ) -> Result<Vec<(crate::DocumentRow, ApiRow)>> {
        let mut sql = self.apim_sql();
        let tenant_at = sql.bind(tenant);
        let mut filter = format!(
            "am_api.tenant = {tenant_at} AND d.visibility = 'API_LEVEL' AND {}",
            finder.sql(&mut sql)
        );
        for word in words {
            let at = sql.bind(&format!(
                "%{}%",
                crate::apis::escape_like(&word.to_lowercase())
            ));
            filter.push_str(&format!(
                " AND (LOWER(d.name) LIKE {at} ESCAPE '\\' OR LOWER(d.summary) LIKE {at} ESCAPE '\\' OR LOWER(COALESCE(d.inline_content, '')) LIKE {at} ESCAPE '\\')"
            ));
        }
        let columns: Vec<String> = crate::documents::DOCUMENT_COLUMNS
            .split(',')
            .map(|c| format!("d.{}", c.trim()))
            .collect();
        let rows = sql
            .query(&format!(
                "SELECT {} FROM am_api_document d JOIN am_api ON am_api.api_id = d.api_id WHERE {filter} ORDER BY d.name, d.document_id LIMIT {}",
                columns.join(", "),
                limit.max(0)
            ))
            .fetch_all(self.apim())
            .await?;
        let mut documents = Vec::with_capacity(rows.len());
        for row in &rows {
            documents.push(crate::documents::document_from(row)?);
        }
        let ids: Vec<&str> = documents.iter().map(|d| d.api_id.as_str()).collect();
        let apis = self.apis_by_ids(tenant, &ids).await?;
        Ok(documents
            .into_iter()
            .filter_map(|d| {
                let api = apis.iter().find(|a| a.id == d.api_id)?.clone();
                Some((d, api))
            })
            .collect())
    }

    pub async fn ratings(
        &self,
        api_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RatingRow>, RatingSummary)> {
        let summary = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(rating), 0) AS BIGINT) AS total FROM am_api_rating WHERE api_id = $1",
        )
        .bind(api_id)
        .fetch_one(self.apim())
        .await?;
        let count: i64 = col(&summary, "n")?;
        let sum: i64 = col(&summary, "total")?;
        let rows = sqlx::query(
            "SELECT rating_id, api_id, username, rating, rated_time FROM am_api_rating WHERE api_id = $1 ORDER BY rated_time DESC, rating_id LIMIT $2 OFFSET $3",
        )
        .bind(api_id)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(rating_from)
        .collect::<Result<Vec<_>>>()?;
        let average = if count > 0 {
            sum as f64 / count as f64
        } else {
            0.0
        };
        Ok((rows, RatingSummary { count, average }))
    }

    pub async fn user_rating(&self, api_id: &str, username: &str) -> Result<Option<RatingRow>> {
        sqlx::query(
            "SELECT rating_id, api_id, username, rating, rated_time FROM am_api_rating WHERE api_id = $1 AND username = $2",
        )
        .bind(api_id)
        .bind(username)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(rating_from)
        .transpose()
    }

    /// Average ratings of `api_ids` (those with ratings), for lists.
    pub async fn average_ratings(&self, api_ids: &[&str]) -> Result<Vec<(String, f64)>> {
        if api_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = self.apim_sql();
        let ids = sql.bind_list(api_ids);
        let rows = sql
            .query(&format!(
                "SELECT api_id, COUNT(*) AS n, CAST(SUM(rating) AS BIGINT) AS total FROM am_api_rating WHERE api_id IN ({ids}) GROUP BY api_id"
            ))
            .fetch_all(self.apim())
            .await?;
        rows.iter()
            .map(|row| {
                let n: i64 = col(row, "n")?;
                let total: i64 = col(row, "total")?;
                Ok((
                    col::<String>(row, "api_id")?,
                    total as f64 / n.max(1) as f64,
                ))
            })
            .collect()
    }

    pub async fn comment(&self, api_id: &str, comment_id: &str) -> Result<CommentRow> {
        let row = sqlx::query(&format!(
            "SELECT {COMMENT_COLUMNS} FROM am_api_comment WHERE api_id = $1 AND comment_id = $2"
        ))
        .bind(api_id)
        .bind(comment_id)
        .fetch_optional(self.apim())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("comment {comment_id}")))?;
        comment_from(&row)
    }

    /// An API's comments (`parent`: `None`) or one comment's replies, oldest first.
    pub async fn comments(
        &self,
        api_id: &str,
        parent: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<CommentRow>, i64)> {
        let (filter, parent) = match parent {
            Some(parent) => ("api_id = $1 AND parent_id = $2", parent),
            None => ("api_id = $1 AND parent_id IS NULL AND $2 = ''", ""),
        };
        let total: i64 = col(
            &sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM am_api_comment WHERE {filter}"
            ))
            .bind(api_id)
            .bind(parent)
            .fetch_one(self.apim())
            .await?,
            "n",
        )?;
        let comments = sqlx::query(&format!(
            "SELECT {COMMENT_COLUMNS} FROM am_api_comment WHERE {filter} ORDER BY created_time, comment_id LIMIT $3 OFFSET $4"
        ))
        .bind(api_id)
        .bind(parent)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(comment_from)
        .collect::<Result<Vec<_>>>()?;
        Ok((comments, total))
    }
}
