use sqlx::any::AnyRow;

use tollgate_model::{ApplicationStatus, SubscriptionStatus, TokenType};

use crate::db::{col, name_col};
use crate::{ApimTx, Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct ApplicationRow {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub owner: String,
    pub throttling_policy: String,
    pub description: String,
    pub token_type: TokenType,
    pub status: ApplicationStatus,
    pub attributes: serde_json::Value,
    pub created_time: i64,
    pub updated_time: i64,
}

#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    pub id: String,
    pub tenant: String,
    pub application_id: String,
    pub api_id: String,
    pub throttling_policy: String,
    pub status: SubscriptionStatus,
    pub created_time: i64,
}

const APPLICATION_COLUMNS: &str = "application_id, tenant, name, owner, throttling_policy, description, token_type, status, attributes, created_time, updated_time";
const SUBSCRIPTION_COLUMNS: &str =
    "subscription_id, tenant, application_id, api_id, throttling_policy, status, created_time";

pub(crate) fn application_from(row: &AnyRow) -> Result<ApplicationRow> {
    Ok(ApplicationRow {
        id: col(row, "application_id")?,
        tenant: col(row, "tenant")?,
        name: col(row, "name")?,
        owner: col(row, "owner")?,
        throttling_policy: col(row, "throttling_policy")?,
        description: col(row, "description")?,
        token_type: name_col(row, "token_type")?,
        status: name_col(row, "status")?,
        attributes: serde_json::from_str(&col::<String>(row, "attributes")?)?,
        created_time: col(row, "created_time")?,
        updated_time: col(row, "updated_time")?,
    })
}

pub(crate) fn subscription_from(row: &AnyRow) -> Result<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: col(row, "subscription_id")?,
        tenant: col(row, "tenant")?,
        application_id: col(row, "application_id")?,
        api_id: col(row, "api_id")?,
        throttling_policy: col(row, "throttling_policy")?,
        status: name_col(row, "status")?,
        created_time: col(row, "created_time")?,
    })
}

impl ApplicationRow {
    pub fn to_model(&self) -> tollgate_model::Application {
        tollgate_model::Application {
            id: self.id.clone(),
            tenant: self.tenant.clone(),
            name: self.name.clone(),
            owner: self.owner.clone(),
            throttling_policy: self.throttling_policy.clone(),
            status: self.status,
        }
    }
}

impl SubscriptionRow {
    pub fn to_model(&self) -> tollgate_model::Subscription {
        tollgate_model::Subscription {
            id: self.id.clone(),
            tenant: self.tenant.clone(),
            application_id: self.application_id.clone(),
            api_id: self.api_id.clone(),
            throttling_policy: self.throttling_policy.clone(),
            status: self.status,
        }
    }
}

/// One subscription, read in a transaction or from the pool.
async fn subscription_in<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    tenant: &str,
    subscription_id: &str,
    lock: &str,
) -> Result<SubscriptionRow> {
    let row = sqlx::query(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM am_subscription WHERE tenant = $1 AND subscription_id = $2{lock}"
    ))
    .bind(tenant)
    .bind(subscription_id)
    .fetch_optional(executor)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("subscription {subscription_id}")))?;
    subscription_from(&row)
}

impl ApimTx {
    pub(crate) async fn insert_application(&mut self, app: &ApplicationRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_application ({APPLICATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&app.id)
        .bind(&app.tenant)
        .bind(&app.name)
        .bind(&app.owner)
        .bind(&app.throttling_policy)
        .bind(&app.description)
        .bind(app.token_type.as_str())
        .bind(app.status.as_str())
        .bind(app.attributes.to_string())
        .bind(app.created_time)
        .bind(app.updated_time)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("An application with name '{}' already exists", app.name)
            })
        })?;
        Ok(())
    }

    pub(crate) async fn insert_subscription(&mut self, sub: &SubscriptionRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_subscription ({SUBSCRIPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&sub.id)
        .bind(&sub.tenant)
        .bind(&sub.application_id)
        .bind(&sub.api_id)
        .bind(&sub.throttling_policy)
        .bind(sub.status.as_str())
        .bind(sub.created_time)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!(
                    "Application {} is already subscribed to API {}",
                    sub.application_id, sub.api_id
                )
            })
        })?;
        Ok(())
    }
}

impl ApimTx {
    /// Sets an application's status alone (an approval decision), so an owner's concurrent
    /// edit of its other fields never undoes it.
    pub async fn set_application_status(
        &mut self,
        application_id: &str,
        status: ApplicationStatus,
    ) -> Result<()> {
        sqlx::query("UPDATE am_application SET status = $1 WHERE application_id = $2")
            .bind(status.as_str())
            .bind(application_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub(crate) async fn update_application(&mut self, app: &ApplicationRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_application SET name = $1, throttling_policy = $2, description = $3, token_type = $4, attributes = $5, updated_time = $6
             WHERE application_id = $7",
        )
        .bind(&app.name)
        .bind(&app.throttling_policy)
        .bind(&app.description)
        .bind(app.token_type.as_str())
        .bind(app.attributes.to_string())
        .bind(app.updated_time)
        .bind(&app.id)
        .execute(self.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, || format!("An application with name '{}' already exists", app.name)))?;
        Ok(())
    }

    /// Deletes an application with its subscriptions, key mappings and OAuth clients.
    pub(crate) async fn delete_application(&mut self, application_id: &str) -> Result<()> {
        let keys: Vec<String> =
            sqlx::query("SELECT consumer_key FROM am_key_mapping WHERE application_id = $1")
                .bind(application_id)
                .fetch_all(self.conn())
                .await?
                .iter()
                .map(|r| col(r, "consumer_key"))
                .collect::<Result<_>>()?;
        for table in ["am_subscription", "am_key_mapping", "am_application"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE application_id = $1"))
                .bind(application_id)
                .execute(self.conn())
                .await?;
        }
        for key in keys {
            sqlx::query("DELETE FROM am_oauth_client WHERE consumer_key = $1")
                .bind(key)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn delete_subscription(&mut self, subscription_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_subscription WHERE subscription_id = $1")
            .bind(subscription_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn subscription(
        &mut self,
        tenant: &str,
        subscription_id: &str,
    ) -> Result<SubscriptionRow> {
        let lock = self.lock_clause();
        subscription_in(self.conn(), tenant, subscription_id, lock).await
    }

    /// An application, read (and on PostgreSQL locked) for a change in this transaction.
    pub async fn application(
        &mut self,
        tenant: &str,
        application_id: &str,
    ) -> Result<ApplicationRow> {
        let lock = self.lock_clause();
        let row = sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM am_application WHERE tenant = $1 AND application_id = $2{lock}"
        ))
        .bind(tenant)
        .bind(application_id)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("application {application_id}")))?;
        application_from(&row)
    }

    /// Writes a subscription's state and tier; false if it no longer exists.
    pub(crate) async fn update_subscription(&mut self, sub: &SubscriptionRow) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE am_subscription SET status = $1, throttling_policy = $2 WHERE subscription_id = $3",
        )
        .bind(sub.status.as_str())
        .bind(&sub.throttling_policy)
        .bind(&sub.id)
        .execute(self.conn())
        .await?;
        Ok(updated.rows_affected() > 0)
    }
}

impl Store {
    pub async fn subscription(
        &self,
        tenant: &str,
        subscription_id: &str,
    ) -> Result<SubscriptionRow> {
        subscription_in(self.apim(), tenant, subscription_id, "").await
    }

    pub async fn application(&self, tenant: &str, application_id: &str) -> Result<ApplicationRow> {
        let row = sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM am_application WHERE tenant = $1 AND application_id = $2"
        ))
        .bind(tenant)
        .bind(application_id)
        .fetch_optional(self.apim())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("application {application_id}")))?;
        application_from(&row)
    }

    pub async fn applications_of(&self, tenant: &str, owner: &str) -> Result<Vec<ApplicationRow>> {
        sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM am_application WHERE tenant = $1 AND owner = $2 ORDER BY name"
        ))
        .bind(tenant)
        .bind(owner)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(application_from)
        .collect()
    }

    pub async fn subscriptions_of_application(
        &self,
        application_id: &str,
    ) -> Result<Vec<SubscriptionRow>> {
        sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM am_subscription WHERE application_id = $1 ORDER BY created_time"
        ))
        .bind(application_id)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(subscription_from)
        .collect()
    }

    /// A page of subscriptions, oldest first, of one application and/or one API, and how many
    /// there are in all.
    pub async fn subscriptions(
        &self,
        tenant: &str,
        application_id: Option<&str>,
        api_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<SubscriptionRow>, i64)> {
        let filter =
            "tenant = $1 AND ($2 = '' OR application_id = $2) AND ($3 = '' OR api_id = $3)";
        let count = sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM am_subscription WHERE {filter}"
        ))
        .bind(tenant)
        .bind(application_id.unwrap_or(""))
        .bind(api_id.unwrap_or(""))
        .fetch_one(self.apim())
        .await?;
        let total: i64 = col(&count, "n")?;
        let rows = sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM am_subscription WHERE {filter} ORDER BY created_time, subscription_id LIMIT $4 OFFSET $5"
        ))
        .bind(tenant)
        .bind(application_id.unwrap_or(""))
        .bind(api_id.unwrap_or(""))
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(self.apim())
        .await?;
        let subscriptions = rows
            .iter()
            .map(subscription_from)
            .collect::<Result<Vec<_>>>()?;
        Ok((subscriptions, total))
    }

    /// A page of `owner`'s subscriptions (through their applications) to one API, oldest
    /// first, and how many there are in all.
    pub async fn subscriptions_of_owner_to_api(
        &self,
        tenant: &str,
        owner: &str,
        api_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<SubscriptionRow>, i64)> {
        let from =
            "FROM am_subscription s JOIN am_application a ON a.application_id = s.application_id \
                    WHERE s.tenant = $1 AND a.owner = $2 AND s.api_id = $3";
        let total: i64 = col(
            &sqlx::query(&format!("SELECT COUNT(*) AS n {from}"))
                .bind(tenant)
                .bind(owner)
                .bind(api_id)
                .fetch_one(self.apim())
                .await?,
            "n",
        )?;
        let columns = SUBSCRIPTION_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns} {from} ORDER BY s.created_time, s.subscription_id LIMIT $4 OFFSET $5"
        ))
        .bind(tenant)
        .bind(owner)
        .bind(api_id)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(self.apim())
        .await?;
        let subscriptions = rows.iter().map(subscription_from).collect::<Result<_>>()?;
        Ok((subscriptions, total))
    }

    /// The tenant's applications among `ids` (in one query).
    pub async fn applications_by_ids(
        &self,
        tenant: &str,
        ids: &[&str],
    ) -> Result<Vec<ApplicationRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = self.apim_sql();
        let tenant_at = sql.bind(tenant);
        let text = format!(
            "SELECT {APPLICATION_COLUMNS} FROM am_application WHERE tenant = {tenant_at} AND application_id IN ({})",
            sql.bind_list(ids)
        );
        sql.query(&text)
            .fetch_all(self.apim())
            .await?
            .iter()
            .map(application_from)
            .collect()
    }
}
