use sqlx::any::AnyRow;

use tollgate_model::{ApiSortBy, LifecycleState, SortOrder};

use crate::db::{col, name_col, SqlBuilder};
use crate::{ApimTx, Result, Store, StoreError};

/// An API as the publisher stores it: indexed columns plus WSO2's full API object.
#[derive(Debug, Clone)]
pub struct ApiRow {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub context: String,
    pub version: String,
    pub provider: String,
    pub lifecycle_status: LifecycleState,
    pub api_type: String,
    pub description: String,
    pub is_default_version: bool,
    pub tags: Vec<String>,
    /// The API object as WSO2's Publisher API describes it, with unknown fields kept.
    pub definition: serde_json::Value,
    pub created_time: i64,
    pub updated_time: i64,
    /// Counts the API's writes: its ETag, and what an update checks to lose nothing.
    pub row_version: i64,
    /// Read only: set by [`ApimTx::set_thumbnail`].
    pub has_thumbnail: bool,
}

/// An API's thumbnail image.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub content_type: String,
    pub content: Vec<u8>,
}

/// One entry of an API's lifecycle history.
#[derive(Debug, Clone)]
pub struct LifecycleEventRow {
    pub previous_state: Option<LifecycleState>,
    pub new_state: LifecycleState,
    pub username: String,
    pub time: i64,
}

/// Which APIs to list, and in what order.
#[derive(Debug, Clone)]
pub struct ApiSearch {
    /// All must hold.
    pub filters: Vec<ApiFilter>,
    /// Only APIs in one of these states, when given.
    pub states: Option<Vec<LifecycleState>>,
    pub sort_by: ApiSortBy,
    pub order: SortOrder,
}

impl Default for ApiSearch {
    fn default() -> Self {
        ApiSearch {
            filters: Vec::new(),
            states: None,
            sort_by: ApiSortBy::CreatedTime,
            order: SortOrder::Desc,
        }
    }
}

/// One condition on an API's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFilter {
    Name(TextMatch),
    Context(TextMatch),
    Version(TextMatch),
    Provider(TextMatch),
    Description(TextMatch),
    /// Any of the API's tags.
    Tag(TextMatch),
    Status(LifecycleState),
    /// The name, summary or text of one of its documents visible at the API's level.
    Document(TextMatch),
    Id(String),
    /// APIs the developer portal shows this finder (see [`crate::Finder`]).
    FindableBy(crate::Finder),
}

/// How a field is compared: containing the text, or equal to it (both ignoring case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    Contains(String),
    Exactly(String),
}

impl ApiFilter {
    fn sql(&self, sql: &mut SqlBuilder) -> String {
        let (column, text) = match self {
            ApiFilter::Status(state) => {
                return format!("lifecycle_status = {}", sql.bind(state.as_str()))
            }
            ApiFilter::Id(id) => return format!("am_api.api_id = {}", sql.bind(id)),
            ApiFilter::FindableBy(finder) => return finder.sql(sql),
            ApiFilter::Document(t) => {
                let pattern = match t {
                    TextMatch::Contains(text) => format!("%{}%", escape_like(&text.to_lowercase())),
                    TextMatch::Exactly(text) => escape_like(&text.to_lowercase()),
                };
                let at = sql.bind(&pattern);
                return format!(
                    "EXISTS (SELECT 1 FROM am_api_document d WHERE d.api_id = am_api.api_id AND d.visibility = 'API_LEVEL' AND (LOWER(d.name) LIKE {at} ESCAPE '\\' OR LOWER(d.summary) LIKE {at} ESCAPE '\\' OR LOWER(COALESCE(d.inline_content, '')) LIKE {at} ESCAPE '\\'))"
                );
            }
            ApiFilter::Name(t) => ("name", t),
            ApiFilter::Context(t) => ("context", t),
            ApiFilter::Version(t) => ("version", t),
            ApiFilter::Provider(t) => ("provider", t),
            ApiFilter::Description(t) => ("description", t),
            ApiFilter::Tag(t) => ("t.tag", t),
        };
        let comparison = match text {
            TextMatch::Contains(text) => format!(
                "LOWER({column}) LIKE {} ESCAPE '\\'",
                sql.bind(&format!("%{}%", escape_like(&text.to_lowercase())))
            ),
            TextMatch::Exactly(text) => {
                format!("LOWER({column}) = {}", sql.bind(&text.to_lowercase()))
            }
        };
        if matches!(self, ApiFilter::Tag(_)) {
            format!("EXISTS (SELECT 1 FROM am_api_tag t WHERE t.api_id = am_api.api_id AND {comparison})")
        } else {
            comparison
        }
    }
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone)]
pub struct RevisionRow {
    pub id: String,
    pub api_id: String,
    pub number: i64,
    pub description: String,
    pub definition: serde_json::Value,
    /// The gateway's view of this revision, a serialised [`tollgate_model::RuntimeApi`].
    pub runtime: serde_json::Value,
    pub created_time: i64,
}

#[derive(Debug, Clone)]
pub struct DeploymentRow {
    pub api_id: String,
    pub environment: String,
    pub revision_id: String,
    pub vhost: String,
    pub display_on_devportal: bool,
    pub deployed_time: i64,
    /// The outbox position of the event that deployed it (0 before it is written).
    pub event_seq: i64,
}

const API_COLUMNS: &str = "api_id, tenant, name, context, version, provider, lifecycle_status, api_type, description, is_default_version, definition, created_time, updated_time, row_version";
/// What a read of an API selects: its columns and whether it has a thumbnail.
pub(crate) const API_SELECT: &str = "api_id, tenant, name, context, version, provider, lifecycle_status, api_type, description, is_default_version, definition, created_time, updated_time, row_version, CAST(CASE WHEN thumbnail_type IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_thumbnail";
const REVISION_COLUMNS: &str =
    "revision_id, api_id, revision_number, description, definition, runtime, created_time";
const DEPLOYMENT_COLUMNS: &str =
    "api_id, environment, revision_id, vhost, display_on_devportal, deployed_time, event_seq";

pub(crate) fn api_from(row: &AnyRow) -> Result<ApiRow> {
    let mut api = api_columns(row)?;
    // The tag index is written from the definition, which stays the source of truth.
    api.tags = api.definition["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(api)
}

fn api_columns(row: &AnyRow) -> Result<ApiRow> {
    Ok(ApiRow {
        id: col(row, "api_id")?,
        tenant: col(row, "tenant")?,
        name: col(row, "name")?,
        context: col(row, "context")?,
        version: col(row, "version")?,
        provider: col(row, "provider")?,
        lifecycle_status: name_col(row, "lifecycle_status")?,
        api_type: col(row, "api_type")?,
        description: col(row, "description")?,
        is_default_version: col::<i64>(row, "is_default_version")? != 0,
        tags: Vec::new(),
        definition: serde_json::from_str::<serde_json::Value>(&col::<String>(row, "definition")?)?,
        created_time: col(row, "created_time")?,
        updated_time: col(row, "updated_time")?,
        row_version: col(row, "row_version")?,
        has_thumbnail: col::<i64>(row, "has_thumbnail")? != 0,
    })
}

fn revision_from(row: &AnyRow) -> Result<RevisionRow> {
    Ok(RevisionRow {
        id: col(row, "revision_id")?,
        api_id: col(row, "api_id")?,
        number: col(row, "revision_number")?,
        description: col(row, "description")?,
        definition: serde_json::from_str(&col::<String>(row, "definition")?)?,
        runtime: serde_json::from_str(&col::<String>(row, "runtime")?)?,
        created_time: col(row, "created_time")?,
    })
}

pub(crate) fn deployment_from(row: &AnyRow) -> Result<DeploymentRow> {
    Ok(DeploymentRow {
        api_id: col(row, "api_id")?,
        environment: col(row, "environment")?,
        revision_id: col(row, "revision_id")?,
        vhost: col(row, "vhost")?,
        display_on_devportal: col::<i64>(row, "display_on_devportal")? != 0,
        deployed_time: col(row, "deployed_time")?,
        event_seq: col(row, "event_seq")?,
    })
}

impl ApimTx {
    /// The name of an API of the tenant (other than those named `name`) whose context is
    /// `context`, if there is one: a context belongs to one API's versions.
    pub async fn context_taken_by(
        &mut self,
        tenant: &str,
        context: &str,
        name: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT name FROM am_api WHERE tenant = $1 AND context = $2 AND name <> $3 LIMIT 1",
        )
        .bind(tenant)
        .bind(context)
        .bind(name)
        .fetch_optional(self.conn())
        .await?;
        row.map(|row| col(&row, "name")).transpose()
    }

    pub async fn insert_api(&mut self, api: &ApiRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_api ({API_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&api.id)
        .bind(&api.tenant)
        .bind(&api.name)
        .bind(&api.context)
        .bind(&api.version)
        .bind(&api.provider)
        .bind(api.lifecycle_status.as_str())
        .bind(&api.api_type)
        .bind(&api.description)
        .bind(api.is_default_version as i64)
        .bind(api.definition.to_string())
        .bind(api.created_time)
        .bind(api.updated_time)
        .bind(api.row_version)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!(
                    "An API with name '{}' or context '{}' and version '{}' already exists",
                    api.name, api.context, api.version
                )
            })
        })?;
        self.write_tags(api).await?;
        self.write_visibility(api).await?;
        Ok(())
    }

    async fn write_tags(&mut self, api: &ApiRow) -> Result<()> {
        sqlx::query("DELETE FROM am_api_tag WHERE api_id = $1")
            .bind(&api.id)
            .execute(self.conn())
            .await?;
        let mut tags: Vec<&String> = api.tags.iter().collect();
        tags.sort();
        tags.dedup();
        for tag in tags {
            sqlx::query("INSERT INTO am_api_tag (api_id, tenant, tag) VALUES ($1, $2, $3)")
                .bind(&api.id)
                .bind(&api.tenant)
                .bind(tag)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Records a lifecycle state change in the API's history.
    pub async fn record_lifecycle_event(
        &mut self,
        api: &ApiRow,
        previous: Option<LifecycleState>,
        username: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO am_api_lifecycle_event (event_id, tenant, api_id, previous_state, new_state, username, event_time) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&api.tenant)
        .bind(&api.id)
        .bind(previous.map(LifecycleState::as_str))
        .bind(api.lifecycle_status.as_str())
        .bind(username)
        .bind(api.updated_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Loads an API for update inside this transaction.
    pub async fn api(&mut self, tenant: &str, api_id: &str) -> Result<ApiRow> {
        let row = sqlx::query(&format!(
            "SELECT {API_SELECT} FROM am_api WHERE tenant = $1 AND api_id = $2"
        ))
        .bind(tenant)
        .bind(api_id)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("API {api_id}")))?;
        api_from(&row)
    }

    /// Writes the API's definition if its stored version is still `api.row_version`, and
    /// counts the write; [`StoreError::Stale`] when someone else wrote it first.
    pub async fn update_api(&mut self, api: &mut ApiRow) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE am_api SET definition = $1, description = $2, is_default_version = $3, updated_time = $4, row_version = row_version + 1 WHERE api_id = $5 AND row_version = $6",
        )
        .bind(api.definition.to_string())
        .bind(&api.description)
        .bind(api.is_default_version as i64)
        .bind(api.updated_time)
        .bind(&api.id)
        .bind(api.row_version)
        .execute(self.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Stale(format!(
                "API {} was changed by someone else; read it again",
                api.id
            )));
        }
        api.row_version += 1;
        self.write_tags(api).await?;
        self.write_visibility(api).await
    }

    /// Writes the API's default-version mark; when set, the name's other versions lose theirs.
    pub(crate) async fn set_default_version(&mut self, api: &ApiRow) -> Result<()> {
        sqlx::query("UPDATE am_api SET is_default_version = $1 WHERE api_id = $2")
            .bind(api.is_default_version as i64)
            .bind(&api.id)
            .execute(self.conn())
            .await?;
        if api.is_default_version {
            sqlx::query(
                "UPDATE am_api SET is_default_version = 0, row_version = row_version + 1 WHERE tenant = $1 AND name = $2 AND api_id <> $3 AND is_default_version <> 0",
            )
            .bind(&api.tenant)
            .bind(&api.name)
            .bind(&api.id)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn delete_api(&mut self, api_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_api WHERE api_id = $1")
            .bind(api_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// How many subscriptions an API has (of any state).
    pub async fn subscription_count(&mut self, api_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM am_subscription WHERE api_id = $1")
            .bind(api_id)
            .fetch_one(self.conn())
            .await?;
        col(&row, "n")
    }

    /// Writes the API's lifecycle state and its definition saying so.
    pub(crate) async fn set_lifecycle_status(&mut self, api: &ApiRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_api SET lifecycle_status = $1, definition = $2, updated_time = $3, row_version = row_version + 1 WHERE api_id = $4",
        )
        .bind(api.lifecycle_status.as_str())
        .bind(api.definition.to_string())
        .bind(api.updated_time)
        .bind(&api.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Adds the API's next revision (numbered after the highest so far).
    pub async fn insert_revision(
        &mut self,
        tenant: &str,
        revision_id: &str,
        api_id: &str,
        description: &str,
        definition: &serde_json::Value,
        runtime: &serde_json::Value,
    ) -> Result<RevisionRow> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(revision_number), 0) + 1 AS n FROM am_api_revision WHERE api_id = $1",
        )
        .bind(api_id)
        .fetch_one(self.conn())
        .await?;
        let revision = RevisionRow {
            id: revision_id.to_string(),
            api_id: api_id.to_string(),
            number: col(&row, "n")?,
            description: description.to_string(),
            definition: definition.clone(),
            runtime: runtime.clone(),
            created_time: tollgate_model::now_millis(),
        };
        sqlx::query(&format!(
            "INSERT INTO am_api_revision (tenant, {REVISION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(tenant)
        .bind(&revision.id)
        .bind(&revision.api_id)
        .bind(revision.number)
        .bind(&revision.description)
        .bind(revision.definition.to_string())
        .bind(revision.runtime.to_string())
        .bind(revision.created_time)
        .execute(self.conn())
        .await?;
        // The revision freezes the definition document with the API object.
        sqlx::query(
            "UPDATE am_api_revision SET openapi = (SELECT openapi FROM am_api WHERE api_id = $1) WHERE revision_id = $2",
        )
        .bind(api_id)
        .bind(revision_id)
        .execute(self.conn())
        .await?;
        Ok(revision)
    }

    pub async fn set_thumbnail(&mut self, api_id: &str, image: &Thumbnail) -> Result<()> {
        use base64::Engine;
        sqlx::query("UPDATE am_api SET thumbnail_type = $1, thumbnail = $2 WHERE api_id = $3")
            .bind(&image.content_type)
            .bind(base64::engine::general_purpose::STANDARD.encode(&image.content))
            .bind(api_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Stores (or, with `None`, forgets) the API's definition document.
    pub async fn set_api_openapi(
        &mut self,
        api_id: &str,
        document: Option<&serde_json::Value>,
    ) -> Result<()> {
        sqlx::query("UPDATE am_api SET openapi = $1 WHERE api_id = $2")
            .bind(document.map(|d| d.to_string()))
            .bind(api_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The API's definition document, if it has one.
    pub async fn api_openapi(&mut self, api_id: &str) -> Result<Option<serde_json::Value>> {
        openapi_of(self.conn(), "am_api", "api_id", api_id).await
    }

    /// A revision's definition document (frozen with it), if the API had one.
    pub async fn revision_openapi(
        &mut self,
        revision_id: &str,
    ) -> Result<Option<serde_json::Value>> {
        openapi_of(self.conn(), "am_api_revision", "revision_id", revision_id).await
    }

    /// How many revisions the API has.
    pub async fn revision_count(&mut self, api_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM am_api_revision WHERE api_id = $1")
            .bind(api_id)
            .fetch_one(self.conn())
            .await?;
        col(&row, "n")
    }

    /// Records the outbox position of the event that deployed the API to `environment`.
    pub(crate) async fn set_deployment_seq(
        &mut self,
        api_id: &str,
        environment: &str,
        seq: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE am_api_deployment SET event_seq = $1 WHERE api_id = $2 AND environment = $3",
        )
        .bind(seq)
        .bind(api_id)
        .bind(environment)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Removes a revision (the caller has checked it is not deployed).
    pub async fn delete_revision(&mut self, revision_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_api_revision WHERE revision_id = $1")
            .bind(revision_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The API's deployments, read in this transaction.
    pub async fn deployments_of(&mut self, api_id: &str) -> Result<Vec<DeploymentRow>> {
        sqlx::query(&format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM am_api_deployment WHERE api_id = $1 ORDER BY environment"
        ))
        .bind(api_id)
        .fetch_all(self.conn())
        .await?
        .iter()
        .map(deployment_from)
        .collect()
    }

    /// The API's revisions, oldest first, read in this transaction.
    pub async fn revisions_of(&mut self, api_id: &str) -> Result<Vec<RevisionRow>> {
        sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM am_api_revision WHERE api_id = $1 ORDER BY revision_number"
        ))
        .bind(api_id)
        .fetch_all(self.conn())
        .await?
        .iter()
        .map(revision_from)
        .collect()
    }

    /// Every version of the API named `name` in the tenant.
    pub async fn versions_of(&mut self, tenant: &str, name: &str) -> Result<Vec<ApiRow>> {
        sqlx::query(&format!(
            "SELECT {API_SELECT} FROM am_api WHERE tenant = $1 AND name = $2 ORDER BY created_time"
        ))
        .bind(tenant)
        .bind(name)
        .fetch_all(self.conn())
        .await?
        .iter()
        .map(api_from)
        .collect()
    }

    pub async fn revision(&mut self, api_id: &str, revision_id: &str) -> Result<RevisionRow> {
        let row = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM am_api_revision WHERE api_id = $1 AND revision_id = $2"
        ))
        .bind(api_id)
        .bind(revision_id)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("revision {revision_id}")))?;
        revision_from(&row)
    }

    /// Removes the deployment of `revision_id` from `environment`; false if it was not deployed there.
    pub(crate) async fn delete_deployment(
        &mut self,
        api_id: &str,
        environment: &str,
        revision_id: &str,
    ) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM am_api_deployment WHERE api_id = $1 AND environment = $2 AND revision_id = $3")
            .bind(api_id)
            .bind(environment)
            .bind(revision_id)
            .execute(self.conn())
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    /// Deploys a revision to an environment, replacing what was deployed there.
    pub(crate) async fn upsert_deployment(
        &mut self,
        tenant: &str,
        deployment: &DeploymentRow,
    ) -> Result<()> {
        sqlx::query("DELETE FROM am_api_deployment WHERE api_id = $1 AND environment = $2")
            .bind(&deployment.api_id)
            .bind(&deployment.environment)
            .execute(self.conn())
            .await?;
        sqlx::query(&format!(
            "INSERT INTO am_api_deployment (tenant, {DEPLOYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(tenant)
        .bind(&deployment.api_id)
        .bind(&deployment.environment)
        .bind(&deployment.revision_id)
        .bind(&deployment.vhost)
        .bind(deployment.display_on_devportal as i64)
        .bind(deployment.deployed_time)
        .bind(deployment.event_seq)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

/// The `openapi` column of one row of `table` (a fixed name, never input).
async fn openapi_of(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    key: &str,
    id: &str,
) -> Result<Option<serde_json::Value>> {
    let row = sqlx::query(&format!("SELECT openapi FROM {table} WHERE {key} = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    match row {
        Some(row) => col::<Option<String>>(&row, "openapi")?
            .map(|text| serde_json::from_str(&text).map_err(StoreError::from))
            .transpose(),
        None => Ok(None),
    }
}

impl Store {
    /// The API's thumbnail, if it has one.
    pub async fn thumbnail(&self, api_id: &str) -> Result<Option<Thumbnail>> {
        use base64::Engine;
        let row = sqlx::query("SELECT thumbnail_type, thumbnail FROM am_api WHERE api_id = $1")
            .bind(api_id)
            .fetch_optional(self.apim())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (Some(content_type), Some(content)) = (
            col::<Option<String>>(&row, "thumbnail_type")?,
            col::<Option<String>>(&row, "thumbnail")?,
        ) else {
            return Ok(None);
        };
        let content = base64::engine::general_purpose::STANDARD
            .decode(content)
            .map_err(|e| StoreError::Corrupt(format!("thumbnail: {e}")))?;
        Ok(Some(Thumbnail {
            content_type,
            content,
        }))
    }

    /// A revision's definition document, if its API had one.
    pub async fn revision_openapi(&self, revision_id: &str) -> Result<Option<serde_json::Value>> {
        let mut conn = self.apim().acquire().await?;
        openapi_of(&mut conn, "am_api_revision", "revision_id", revision_id).await
    }

    /// The API's definition document, if it has one.
    pub async fn api_openapi(&self, api_id: &str) -> Result<Option<serde_json::Value>> {
        let mut conn = self.apim().acquire().await?;
        openapi_of(&mut conn, "am_api", "api_id", api_id).await
    }

    pub async fn api(&self, tenant: &str, api_id: &str) -> Result<ApiRow> {
        let row = sqlx::query(&format!(
            "SELECT {API_SELECT} FROM am_api WHERE tenant = $1 AND api_id = $2"
        ))
        .bind(tenant)
        .bind(api_id)
        .fetch_optional(self.apim())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("API {api_id}")))?;
        api_from(&row)
    }

    /// A page of the APIs that pass every filter of `search`, sorted as it says, and how many
    /// pass in all. Filtering, sorting and paging all happen in the database.
    pub async fn search_apis(
        &self,
        tenant: &str,
        search: &ApiSearch,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ApiRow>, i64)> {
        let mut sql = self.apim_sql();
        let tenant_at = sql.bind(tenant);
        let mut filter = format!("tenant = {tenant_at}");
        for condition in &search.filters {
            filter.push_str(" AND ");
            filter.push_str(&condition.sql(&mut sql));
        }
        if let Some(states) = &search.states {
            if states.is_empty() {
                return Ok((Vec::new(), 0));
            }
            let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
            filter.push_str(&format!(
                " AND lifecycle_status IN ({})",
                sql.bind_list(&names)
            ));
        }
        let count_sql = format!("SELECT COUNT(*) AS n FROM am_api WHERE {filter}");
        let total: i64 = col(&sql.query(&count_sql).fetch_one(self.apim()).await?, "n")?;
        let column = match search.sort_by {
            ApiSortBy::ApiName => "LOWER(name)",
            ApiSortBy::Version => "version",
            ApiSortBy::CreatedTime => "created_time",
            ApiSortBy::Status => "lifecycle_status",
        };
        let order = match search.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let page_sql = format!(
            "SELECT {API_SELECT} FROM am_api WHERE {filter} ORDER BY {column} {order}, api_id {order} LIMIT {} OFFSET {}",
            limit.max(0),
            offset.max(0)
        );
        let rows = sql.query(&page_sql).fetch_all(self.apim()).await?;
        let apis = rows.iter().map(api_from).collect::<Result<Vec<_>>>()?;
        Ok((apis, total))
    }

    /// The tenant's APIs among `ids` (in one query).
    pub async fn apis_by_ids(&self, tenant: &str, ids: &[&str]) -> Result<Vec<ApiRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = self.apim_sql();
        let tenant_at = sql.bind(tenant);
        let text = format!(
            "SELECT {API_SELECT} FROM am_api WHERE tenant = {tenant_at} AND api_id IN ({})",
            sql.bind_list(ids)
        );
        sql.query(&text)
            .fetch_all(self.apim())
            .await?
            .iter()
            .map(api_from)
            .collect()
    }

    /// The API's lifecycle history, oldest first.
    pub async fn lifecycle_history(&self, api_id: &str) -> Result<Vec<LifecycleEventRow>> {
        sqlx::query(
            "SELECT previous_state, new_state, username, event_time FROM am_api_lifecycle_event WHERE api_id = $1 ORDER BY event_time, event_id",
        )
        .bind(api_id)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(|row| {
            let previous: Option<String> = col(row, "previous_state")?;
            Ok(LifecycleEventRow {
                previous_state: previous
                    .map(|p| {
                        p.parse()
                            .map_err(|e| StoreError::Corrupt(format!("previous_state: {e}")))
                    })
                    .transpose()?,
                new_state: name_col(row, "new_state")?,
                username: col(row, "username")?,
                time: col(row, "event_time")?,
            })
        })
        .collect()
    }

    pub async fn revisions(&self, api_id: &str) -> Result<Vec<RevisionRow>> {
        sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM am_api_revision WHERE api_id = $1 ORDER BY revision_number"
        ))
        .bind(api_id)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(revision_from)
        .collect()
    }

    pub async fn deployments(&self, api_id: &str) -> Result<Vec<DeploymentRow>> {
        sqlx::query(&format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM am_api_deployment WHERE api_id = $1 ORDER BY environment"
        ))
        .bind(api_id)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(deployment_from)
        .collect()
    }
}
