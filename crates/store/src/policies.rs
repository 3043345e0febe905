use sqlx::any::AnyRow;
use tollgate_model::{PolicyLevel, ThrottlePolicy};

use crate::db::col;
use crate::{Result, Store};

const POLICY_COLUMNS: &str =
    "policy_id, tenant, level, name, display_name, description, request_count, unit_time, time_unit";

fn level_of(name: &str) -> Result<PolicyLevel> {
    match name {
        "subscription" => Ok(PolicyLevel::Subscription),
        "application" => Ok(PolicyLevel::Application),
        "api" => Ok(PolicyLevel::Api),
        other => Err(crate::StoreError::Corrupt(format!("policy level {other}"))),
    }
}

/// Every policy of every level and tenant.
pub(crate) async fn all_policies(conn: &mut sqlx::AnyConnection) -> Result<Vec<ThrottlePolicy>> {
    sqlx::query(&format!("SELECT {POLICY_COLUMNS} FROM am_policy"))
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| policy_from(row, level_of(&col::<String>(row, "level")?)?))
        .collect()
}

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
    /// Every policy, for the traffic manager's limits.
    pub async fn all_policies(&self) -> Result<Vec<ThrottlePolicy>> {
        let mut conn = self.apim().acquire().await?;
        all_policies(&mut conn).await
    }

    pub async fn policies(&self, tenant: &str, level: PolicyLevel) -> Result<Vec<ThrottlePolicy>> {
        sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM am_policy WHERE tenant = $1 AND level = $2 ORDER BY CASE WHEN request_count IS NULL THEN 1 ELSE 0 END, request_count DESC, name"
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
