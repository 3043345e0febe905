use sqlx::any::AnyRow;
use tollgate_model::{PolicyLevel, ThrottlePolicy};

use crate::db::col;
use crate::{Result, Store};

const POLICY_COLUMNS: &str =
    "policy_id, tenant, level, name, display_name, description, request_count, unit_time, time_unit";

fn policy_from(row: &AnyRow, level: PolicyLevel) -> Result<ThrottlePolicy> {
    Ok(ThrottlePolicy {
        id: col(row, "policy_id")?,
        tenant: col(row, "tenant")?,
        level,
        name: col(row, "name")?,
        display_name: col(row, "display_name")?,
        description: col(row, "description")?,
        request_count: col(row, "request_count")?,
        unit_time: col(row, "unit_time")?,
        time_unit: col(row, "time_unit")?,
    })
}

impl Store {
    pub async fn policies(&self, tenant: &str, level: PolicyLevel) -> Result<Vec<ThrottlePolicy>> {
        sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM am_policy WHERE tenant = $1 AND level = $2 ORDER BY request_count DESC, name"
        ))
        .bind(tenant)
        .bind(level.as_str())
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(|row| policy_from(row, level))
        .collect()
    }

    pub async fn policy(
        &self,
        tenant: &str,
        level: PolicyLevel,
        name: &str,
    ) -> Result<Option<ThrottlePolicy>> {
        sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM am_policy WHERE tenant = $1 AND level = $2 AND name = $3"
        ))
        .bind(tenant)
        .bind(level.as_str())
        .bind(name)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(|row| policy_from(row, level))
        .transpose()
    }
}
