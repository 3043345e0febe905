use sqlx::any::AnyRow;

use crate::db::col;
use crate::{ApimTx, Result, Store, StoreError};

/// An external key manager added through the Admin API.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyManagerRow {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub display_name: String,
    /// WSO2's `type` (`WSO2-IS`, `Okta`, `Keycloak`, `custom`, …): informational here.
    pub kind: String,
    pub description: String,
    pub issuer: String,
    pub jwks_endpoint: String,
    pub consumer_key_claim: String,
    pub scopes_claim: String,
    pub enabled: bool,
    /// WSO2's other fields, as given.
    pub settings: serde_json::Value,
    pub created_time: i64,
}

impl KeyManagerRow {
    pub fn to_model(&self) -> tollgate_model::ExternalKeyManager {
        tollgate_model::ExternalKeyManager {
            id: self.id.clone(),
            tenant: self.tenant.clone(),
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            jwks_endpoint: self.jwks_endpoint.clone(),
            consumer_key_claim: self.consumer_key_claim.clone(),
            scopes_claim: self.scopes_claim.clone(),
            enabled: self.enabled,
        }
    }
}

pub(crate) const KEY_MANAGER_COLUMNS: &str =
    "key_manager_id, tenant, name, display_name, type, description, issuer, \
     jwks_endpoint, consumer_key_claim, scopes_claim, enabled, settings, created_time";

pub(crate) fn key_manager_from(row: &AnyRow) -> Result<KeyManagerRow> {
    Ok(KeyManagerRow {
        id: col(row, "key_manager_id")?,
        tenant: col(row, "tenant")?,
        name: col(row, "name")?,
        display_name: col(row, "display_name")?,
        kind: col(row, "type")?,
        description: col(row, "description")?,
        issuer: col(row, "issuer")?,
        jwks_endpoint: col(row, "jwks_endpoint")?,
        consumer_key_claim: col(row, "consumer_key_claim")?,
        scopes_claim: col(row, "scopes_claim")?,
        enabled: col::<i64>(row, "enabled")? != 0,
        settings: serde_json::from_str(&col::<String>(row, "settings")?)?,
        created_time: col(row, "created_time")?,
    })
}

fn unique_conflict(key_manager: &KeyManagerRow) -> impl FnOnce() -> String + '_ {
    move || {
        format!(
            "A key manager named '{}' or with issuer '{}' exists already",
            key_manager.name, key_manager.issuer
        )
    }
}

impl ApimTx {
    pub(crate) async fn insert_key_manager(&mut self, km: &KeyManagerRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_key_manager ({KEY_MANAGER_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&km.id)
        .bind(&km.tenant)
        .bind(&km.name)
        .bind(&km.display_name)
        .bind(&km.kind)
        .bind(&km.description)
        .bind(&km.issuer)
        .bind(&km.jwks_endpoint)
        .bind(&km.consumer_key_claim)
        .bind(&km.scopes_claim)
        .bind(km.enabled as i64)
        .bind(km.settings.to_string())
        .bind(km.created_time)
        .execute(self.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, unique_conflict(km)))?;
        Ok(())
    }

    pub(crate) async fn update_key_manager(&mut self, km: &KeyManagerRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_key_manager SET display_name = $1, type = $2, description = $3, issuer = $4, \
             jwks_endpoint = $5, consumer_key_claim = $6, scopes_claim = $7, enabled = $8, settings = $9 \
             WHERE key_manager_id = $10",
        )
        .bind(&km.display_name)
        .bind(&km.kind)
        .bind(&km.description)
        .bind(&km.issuer)
        .bind(&km.jwks_endpoint)
        .bind(&km.consumer_key_claim)
        .bind(&km.scopes_claim)
        .bind(km.enabled as i64)
        .bind(km.settings.to_string())
        .bind(&km.id)
        .execute(self.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, unique_conflict(km)))?;
        Ok(())
    }

    pub(crate) async fn delete_key_manager(&mut self, key_manager_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_key_manager WHERE key_manager_id = $1")
            .bind(key_manager_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn key_manager(
        &mut self,
        tenant: &str,
        key_manager_id: &str,
    ) -> Result<KeyManagerRow> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_MANAGER_COLUMNS} FROM am_key_manager WHERE tenant = $1 AND key_manager_id = $2"
        ))
        .bind(tenant)
        .bind(key_manager_id)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("key manager {key_manager_id}")))?;
        key_manager_from(&row)
    }

    /// How many application keys are mapped through the key manager.
    pub async fn key_manager_mapping_count(&mut self, tenant: &str, name: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM am_key_mapping WHERE tenant = $1 AND key_manager = $2",
        )
        .bind(tenant)
        .bind(name)
        .fetch_one(self.conn())
        .await?;
        col(&row, "n")
    }
}

impl Store {
    /// The tenant's external key managers, by name.
    pub async fn key_managers(&self, tenant: &str) -> Result<Vec<KeyManagerRow>> {
        sqlx::query(&format!(
            "SELECT {KEY_MANAGER_COLUMNS} FROM am_key_manager WHERE tenant = $1 ORDER BY name"
        ))
        .bind(tenant)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(key_manager_from)
        .collect()
    }

    /// The tenant's key manager named `name`, if there is one.
    pub async fn key_manager_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<KeyManagerRow>> {
        self.key_manager_where(tenant, "name = $2", name).await
    }

    /// The tenant's enabled key manager whose tokens carry `issuer`, if there is one.
    pub async fn key_manager_by_issuer(
        &self,
        tenant: &str,
        issuer: &str,
    ) -> Result<Option<KeyManagerRow>> {
        self.key_manager_where(tenant, "issuer = $2 AND enabled = 1", issuer)
            .await
    }

    async fn key_manager_where(
        &self,
        tenant: &str,
        condition: &'static str,
        value: &str,
    ) -> Result<Option<KeyManagerRow>> {
        sqlx::query(&format!(
            "SELECT {KEY_MANAGER_COLUMNS} FROM am_key_manager WHERE tenant = $1 AND {condition}"
        ))
        .bind(tenant)
        .bind(value)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(key_manager_from)
        .transpose()
    }
}
