use sqlx::any::AnyRow;
use tollgate_model::{PolicyLevel, ThrottlePolicy};

use crate::db::{col, name_col};
use crate::{ApimTx, Result, Store, StoreError};

/// What uses a throttling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyUsers {
    /// Subscriptions (subscription tiers) or applications (application tiers) under it.
    pub holders: i64,
    /// APIs whose definitions name it.
    pub apis: i64,
}

const POLICY_COLUMNS: &str =
    "policy_id, tenant, level, name, display_name, description, request_count, unit_time, time_unit";

/// Every policy of every level and tenant.
pub(crate) async fn all_policies(conn: &mut sqlx::AnyConnection) -> Result<Vec<ThrottlePolicy>> {
    sqlx::query(&format!("SELECT {POLICY_COLUMNS} FROM am_policy"))
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| policy_from(row, name_col(row, "level")?))
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
        time_unit: name_col(row, "time_unit")?,
    })
}

async fn policy_by_id_in(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    level: PolicyLevel,
    policy_id: &str,
) -> Result<ThrottlePolicy> {
    let row = sqlx::query(&format!(
        "SELECT {POLICY_COLUMNS} FROM am_policy WHERE tenant = $1 AND level = $2 AND policy_id = $3"
    ))
    .bind(tenant)
    .bind(level.as_str())
    .bind(policy_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("{} policy {policy_id}", level.as_str())))?;
    policy_from(&row, level)
}

impl Store {
    /// A policy by id (a read; no write transaction).
    pub async fn policy_by_id(
        &self,
        tenant: &str,
        level: PolicyLevel,
        policy_id: &str,
    ) -> Result<ThrottlePolicy> {
        let mut conn = self.apim().acquire().await?;
        policy_by_id_in(&mut conn, tenant, level, policy_id).await
    }

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

impl ApimTx {
    pub(crate) async fn insert_policy(&mut self, policy: &ThrottlePolicy) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_policy ({POLICY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&policy.id)
        .bind(&policy.tenant)
        .bind(policy.level.as_str())
        .bind(&policy.name)
        .bind(&policy.display_name)
        .bind(&policy.description)
        .bind(policy.request_count)
        .bind(policy.unit_time)
        .bind(policy.time_unit.as_str())
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!(
                    "A {} policy named '{}' already exists",
                    policy.level.as_str(),
                    policy.name
                )
            })
        })?;
        Ok(())
    }

    pub(crate) async fn update_policy(&mut self, policy: &ThrottlePolicy) -> Result<()> {
        sqlx::query(
            "UPDATE am_policy SET display_name = $1, description = $2, request_count = $3, unit_time = $4, time_unit = $5 WHERE policy_id = $6",
        )
        .bind(&policy.display_name)
        .bind(&policy.description)
        .bind(policy.request_count)
        .bind(policy.unit_time)
        .bind(policy.time_unit.as_str())
        .bind(&policy.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn policy_by_id(
        &mut self,
        tenant: &str,
        level: PolicyLevel,
        policy_id: &str,
    ) -> Result<ThrottlePolicy> {
        policy_by_id_in(self.conn(), tenant, level, policy_id).await
    }

    /// What uses the policy, so that it cannot be deleted: subscriptions under a subscription
    /// tier and the APIs offering it; applications under an application tier; APIs applying
    /// an API-level tier (to the whole API or to a resource).
    pub async fn policy_users(&mut self, policy: &ThrottlePolicy) -> Result<PolicyUsers> {
        let rows = match policy.level {
            PolicyLevel::Subscription => Some(
                "SELECT COUNT(*) AS n FROM am_subscription WHERE tenant = $1 AND throttling_policy = $2",
            ),
            PolicyLevel::Application => Some(
                "SELECT COUNT(*) AS n FROM am_application WHERE tenant = $1 AND throttling_policy = $2",
            ),
            PolicyLevel::Api => None,
        };
        let holders = match rows {
            Some(query) => col(
                &sqlx::query(query)
                    .bind(&policy.tenant)
                    .bind(&policy.name)
                    .fetch_one(self.conn())
                    .await?,
                "n",
            )?,
            None => 0,
        };
        let apis = match policy.level {
            PolicyLevel::Application => 0,
            level => {
                self.apis_naming_policy(&policy.tenant, level, &policy.name)
                    .await?
            }
        };
        Ok(PolicyUsers { holders, apis })
    }

    /// How many of the tenant's APIs name the tier in their definition: among the tiers they
    /// offer (subscription level), or as the API's or a resource's limit (API level).
    async fn apis_naming_policy(
        &mut self,
        tenant: &str,
        level: PolicyLevel,
        name: &str,
    ) -> Result<i64> {
        // The quoted name narrows the rows in SQL; the definition decides.
        let quoted = serde_json::Value::from(name).to_string();
        let rows = sqlx::query(
            "SELECT definition FROM am_api WHERE tenant = $1 AND definition LIKE $2 ESCAPE '\\'",
        )
        .bind(tenant)
        .bind(format!("%{}%", crate::apis::escape_like(&quoted)))
        .fetch_all(self.conn())
        .await?;
        let mut count = 0;
        for row in rows {
            let definition: serde_json::Value =
                serde_json::from_str(&col::<String>(&row, "definition")?)?;
            let names = |value: &serde_json::Value| value.as_str() == Some(name);
            let uses = match level {
                PolicyLevel::Subscription => definition["policies"]
                    .as_array()
                    .is_some_and(|tiers| tiers.iter().any(names)),
                _ => {
                    names(&definition["apiThrottlingPolicy"])
                        || definition["operations"]
                            .as_array()
                            .is_some_and(|ops| ops.iter().any(|op| names(&op["throttlingPolicy"])))
                }
            };
            count += i64::from(uses);
        }
        Ok(count)
    }

    pub(crate) async fn delete_policy(&mut self, policy_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_policy WHERE policy_id = $1")
            .bind(policy_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
