use sqlx::any::AnyRow;

use crate::db::col;
use crate::{ApimTx, Result, Store, StoreError};

/// A gateway environment added through the Admin API.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentRow {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub provider: String,
    /// WSO2's `VHost` objects, as JSON.
    pub vhosts: serde_json::Value,
    pub created_time: i64,
}

const ENVIRONMENT_COLUMNS: &str =
    "environment_id, tenant, name, display_name, description, provider, vhosts, created_time";

fn environment_from(row: &AnyRow) -> Result<EnvironmentRow> {
    Ok(EnvironmentRow {
        id: col(row, "environment_id")?,
        tenant: col(row, "tenant")?,
        name: col(row, "name")?,
        display_name: col(row, "display_name")?,
        description: col(row, "description")?,
        provider: col(row, "provider")?,
        vhosts: serde_json::from_str(&col::<String>(row, "vhosts")?)?,
        created_time: col(row, "created_time")?,
    })
}

impl ApimTx {
    pub async fn insert_environment(&mut self, env: &EnvironmentRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_gateway_environment ({ENVIRONMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&env.id)
        .bind(&env.tenant)
        .bind(&env.name)
        .bind(&env.display_name)
        .bind(&env.description)
        .bind(&env.provider)
        .bind(env.vhosts.to_string())
        .bind(env.created_time)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("A gateway environment named '{}' already exists", env.name)
            })
        })?;
        Ok(())
    }

    pub async fn update_environment(&mut self, env: &EnvironmentRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_gateway_environment SET display_name = $1, description = $2, provider = $3, vhosts = $4 WHERE environment_id = $5",
        )
        .bind(&env.display_name)
        .bind(&env.description)
        .bind(&env.provider)
        .bind(env.vhosts.to_string())
        .bind(&env.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_environment(&mut self, environment_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_gateway_environment WHERE environment_id = $1")
            .bind(environment_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn environment(
        &mut self,
        tenant: &str,
        environment_id: &str,
    ) -> Result<EnvironmentRow> {
        let row = sqlx::query(&format!(
            "SELECT {ENVIRONMENT_COLUMNS} FROM am_gateway_environment WHERE tenant = $1 AND environment_id = $2"
        ))
        .bind(tenant)
        .bind(environment_id)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("gateway environment {environment_id}")))?;
        environment_from(&row)
    }

    /// How many APIs have a revision deployed to the environment.
    pub async fn deployment_count(&mut self, tenant: &str, environment: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM am_api_deployment WHERE tenant = $1 AND environment = $2",
        )
        .bind(tenant)
        .bind(environment)
        .fetch_one(self.conn())
        .await?;
        col(&row, "n")
    }
}

impl Store {
    /// The tenant's environments added through the Admin API, by name.
    pub async fn environments(&self, tenant: &str) -> Result<Vec<EnvironmentRow>> {
        sqlx::query(&format!(
            "SELECT {ENVIRONMENT_COLUMNS} FROM am_gateway_environment WHERE tenant = $1 ORDER BY name"
        ))
        .bind(tenant)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(environment_from)
        .collect()
    }
}
