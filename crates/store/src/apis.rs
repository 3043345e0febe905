use sqlx::any::AnyRow;

use crate::db::col;
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
    pub lifecycle_status: String,
    pub api_type: String,
    /// The API object as WSO2's Publisher API describes it, with unknown fields kept.
    pub definition: serde_json::Value,
    pub created_time: i64,
    pub updated_time: i64,
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
}

const API_COLUMNS: &str = "api_id, tenant, name, context, version, provider, lifecycle_status, api_type, definition, created_time, updated_time";
const REVISION_COLUMNS: &str =
    "revision_id, api_id, revision_number, description, definition, runtime, created_time";
const DEPLOYMENT_COLUMNS: &str =
    "api_id, environment, revision_id, vhost, display_on_devportal, deployed_time";

fn api_from(row: &AnyRow) -> Result<ApiRow> {
    Ok(ApiRow {
        id: col(row, "api_id")?,
        tenant: col(row, "tenant")?,
        name: col(row, "name")?,
        context: col(row, "context")?,
        version: col(row, "version")?,
        provider: col(row, "provider")?,
        lifecycle_status: col(row, "lifecycle_status")?,
        api_type: col(row, "api_type")?,
        definition: serde_json::from_str(&col::<String>(row, "definition")?)?,
        created_time: col(row, "created_time")?,
        updated_time: col(row, "updated_time")?,
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
    })
}

impl ApimTx {
    pub async fn insert_api(&mut self, api: &ApiRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_api ({API_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&api.id)
        .bind(&api.tenant)
        .bind(&api.name)
        .bind(&api.context)
        .bind(&api.version)
        .bind(&api.provider)
        .bind(&api.lifecycle_status)
        .bind(&api.api_type)
        .bind(api.definition.to_string())
        .bind(api.created_time)
        .bind(api.updated_time)
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
        Ok(())
    }

    /// Loads an API for update inside this transaction.
    pub async fn api(&mut self, tenant: &str, api_id: &str) -> Result<ApiRow> {
        let row = sqlx::query(&format!(
            "SELECT {API_COLUMNS} FROM am_api WHERE tenant = $1 AND api_id = $2"
        ))
        .bind(tenant)
        .bind(api_id)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("API {api_id}")))?;
        api_from(&row)
    }

    pub async fn update_api_definition(&mut self, api: &ApiRow) -> Result<()> {
        sqlx::query("UPDATE am_api SET definition = $1, updated_time = $2 WHERE api_id = $3")
            .bind(api.definition.to_string())
            .bind(api.updated_time)
            .bind(&api.id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn set_lifecycle_status(
        &mut self,
        api_id: &str,
        status: &str,
        definition: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE am_api SET lifecycle_status = $1, definition = $2, updated_time = $3 WHERE api_id = $4",
        )
        .bind(status)
        .bind(definition.to_string())
        .bind(tollgate_model::now_millis())
        .bind(api_id)
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
        Ok(revision)
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
    pub async fn delete_deployment(
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
    pub async fn upsert_deployment(
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
            "INSERT INTO am_api_deployment (tenant, {DEPLOYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(tenant)
        .bind(&deployment.api_id)
        .bind(&deployment.environment)
        .bind(&deployment.revision_id)
        .bind(&deployment.vhost)
        .bind(deployment.display_on_devportal as i64)
        .bind(deployment.deployed_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    pub async fn api(&self, tenant: &str, api_id: &str) -> Result<ApiRow> {
        let row = sqlx::query(&format!(
            "SELECT {API_COLUMNS} FROM am_api WHERE tenant = $1 AND api_id = $2"
        ))
        .bind(tenant)
        .bind(api_id)
        .fetch_optional(self.apim())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("API {api_id}")))?;
        api_from(&row)
    }

    /// A page of APIs, newest first, and the total count. `status` filters by lifecycle state.
    pub async fn apis(
        &self,
        tenant: &str,
        statuses: Option<&[&str]>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ApiRow>, i64)> {
        // `lifecycle_status IN ($2, $3, …)` when filtering; paging happens in the database.
        let statuses = statuses.unwrap_or_default();
        let filter = if statuses.is_empty() {
            String::new()
        } else {
            let placeholders: Vec<String> =
                (0..statuses.len()).map(|i| format!("${}", i + 2)).collect();
            format!(" AND lifecycle_status IN ({})", placeholders.join(", "))
        };
        let count_sql = format!("SELECT COUNT(*) AS n FROM am_api WHERE tenant = $1{filter}");
        let mut count = sqlx::query(&count_sql).bind(tenant);
        for status in statuses {
            count = count.bind(*status);
        }
        let total: i64 = col(&count.fetch_one(self.apim()).await?, "n")?;
        let (limit_at, offset_at) = (statuses.len() + 2, statuses.len() + 3);
        let page_sql = format!(
            "SELECT {API_COLUMNS} FROM am_api WHERE tenant = $1{filter} ORDER BY created_time DESC, api_id LIMIT ${limit_at} OFFSET ${offset_at}"
        );
        let mut page = sqlx::query(&page_sql).bind(tenant);
        for status in statuses {
            page = page.bind(*status);
        }
        let rows = page
            .bind(limit.max(0))
            .bind(offset.max(0))
            .fetch_all(self.apim())
            .await?;
        let apis = rows.iter().map(api_from).collect::<Result<Vec<_>>>()?;
        Ok((apis, total))
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
