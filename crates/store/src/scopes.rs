use std::collections::HashMap;

use sqlx::any::AnyRow;

use crate::db::col;
use crate::{ApiRow, ApimTx, Result, Store, StoreError};

/// A scope: shared (`api_id` is `None`) or local to one API; granted to holders of its roles.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeRow {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// Role names; a scope bound to no role is granted to anyone who asks.
    pub bindings: Vec<String>,
    pub api_id: Option<String>,
}

/// An API resource that requires a scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeUse {
    pub api_id: String,
    pub api_name: String,
    pub api_context: String,
    pub api_version: String,
    pub api_provider: String,
    pub verb: String,
    pub target: String,
}

const SCOPE_COLUMNS: &str = "scope_id, tenant, name, display_name, description, bindings, api_id";

fn scope_from(row: &AnyRow) -> Result<ScopeRow> {
    Ok(ScopeRow {
        id: col(row, "scope_id")?,
        tenant: col(row, "tenant")?,
        name: col(row, "name")?,
        display_name: col(row, "display_name")?,
        description: col(row, "description")?,
        bindings: serde_json::from_str(&col::<String>(row, "bindings")?)?,
        api_id: col(row, "api_id")?,
    })
}

fn taken(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("A scope named '{name}' already exists (shared, or local to an API)")
}

impl ApimTx {
    pub async fn insert_scope(&mut self, scope: &ScopeRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_scope ({SCOPE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&scope.id)
        .bind(&scope.tenant)
        .bind(&scope.name)
        .bind(&scope.display_name)
        .bind(&scope.description)
        .bind(serde_json::to_string(&scope.bindings)?)
        .bind(&scope.api_id)
        .execute(self.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, taken(&scope.name)))?;
        Ok(())
    }

    pub async fn update_scope(&mut self, scope: &ScopeRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_scope SET display_name = $1, description = $2, bindings = $3 WHERE scope_id = $4",
        )
        .bind(&scope.display_name)
        .bind(&scope.description)
        .bind(serde_json::to_string(&scope.bindings)?)
        .bind(&scope.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_scope(&mut self, scope_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_scope WHERE scope_id = $1")
            .bind(scope_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Makes `scopes` the API's local scopes (replacing the ones it had).
    /// Sets the local scopes of `api`. The versions of an API (same tenant and name) share their
    /// local scopes, as in WSO2: a scope one version already holds is updated in place (its
    /// roles are the family's), a new one is added for `api`, and one `api` drops while another
    /// version still exists passes to that version rather than disappearing under it.
    pub async fn replace_local_scopes(&mut self, api: &ApiRow, scopes: &[ScopeRow]) -> Result<()> {
        let family = self.api_versions(&api.tenant, &api.name, &api.id).await?;
        // Every version's local scopes (this one included), in one query.
        let held = sqlx::query(&format!(
            "SELECT {SCOPE_COLUMNS} FROM am_scope WHERE api_id IN \
             (SELECT api_id FROM am_api WHERE tenant = $1 AND name = $2)"
        ))
        .bind(&api.tenant)
        .bind(&api.name)
        .fetch_all(self.conn())
        .await?
        .iter()
        .map(scope_from)
        .collect::<Result<Vec<ScopeRow>>>()?;
        // Scopes of `api` it no longer lists: to another version, or gone with the last one.
        for dropped in held
            .iter()
            .filter(|h| h.api_id.as_deref() == Some(api.id.as_str()))
            .filter(|h| !scopes.iter().any(|s| s.name == h.name))
        {
            match family.first() {
                Some(sibling) => {
                    sqlx::query("UPDATE am_scope SET api_id = $1 WHERE scope_id = $2")
                        .bind(sibling)
                        .bind(&dropped.id)
                        .execute(self.conn())
                        .await?;
                }
                None => {
                    sqlx::query("DELETE FROM am_scope WHERE scope_id = $1")
                        .bind(&dropped.id)
                        .execute(self.conn())
                        .await?;
                }
            }
        }
        for scope in scopes {
            match held.iter().find(|h| h.name == scope.name) {
                Some(existing) => {
                    self.update_scope(&ScopeRow {
                        id: existing.id.clone(),
                        api_id: existing.api_id.clone(),
                        ..scope.clone()
                    })
                    .await?;
                }
                None => self.insert_scope(scope).await?,
            }
        }
        Ok(())
    }

    /// Gives `from`'s local scopes to `to` (another version of the same API).
    pub(crate) async fn hand_over_scopes(&mut self, from: &str, to: &str) -> Result<()> {
        sqlx::query("UPDATE am_scope SET api_id = $1 WHERE api_id = $2")
            .bind(to)
            .bind(from)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The other versions of an API (same tenant and name), oldest first.
    pub async fn api_versions(
        &mut self,
        tenant: &str,
        name: &str,
        except: &str,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT api_id FROM am_api WHERE tenant = $1 AND name = $2 AND api_id <> $3 ORDER BY created_time, api_id",
        )
        .bind(tenant)
        .bind(name)
        .bind(except)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|row| col(row, "api_id")).collect()
    }

    /// Records which scopes each of the API's resources requires: (verb, target, scope).
    pub async fn replace_resource_scopes(
        &mut self,
        tenant: &str,
        api_id: &str,
        uses: &[(String, String, String)],
    ) -> Result<()> {
        sqlx::query("DELETE FROM am_api_resource_scope WHERE api_id = $1")
            .bind(api_id)
            .execute(self.conn())
            .await?;
        let mut uses: Vec<&(String, String, String)> = uses.iter().collect();
        uses.sort();
        uses.dedup();
        for (verb, target, scope) in uses {
            sqlx::query(
                "INSERT INTO am_api_resource_scope (api_id, tenant, verb, target, scope) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(api_id)
            .bind(tenant)
            .bind(verb)
            .bind(target)
            .bind(scope)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    pub async fn scope(&mut self, tenant: &str, scope_id: &str) -> Result<ScopeRow> {
        scope_in(self.conn(), tenant, scope_id).await
    }

    /// How many resources (of any API) require the scope named `name`.
    pub async fn scope_use_count(&mut self, tenant: &str, name: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM am_api_resource_scope WHERE tenant = $1 AND scope = $2",
        )
        .bind(tenant)
        .bind(name)
        .fetch_one(self.conn())
        .await?;
        col(&row, "n")
    }
}

async fn scope_in(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    scope_id: &str,
) -> Result<ScopeRow> {
    let row = sqlx::query(&format!(
        "SELECT {SCOPE_COLUMNS} FROM am_scope WHERE tenant = $1 AND scope_id = $2 AND api_id IS NULL"
    ))
    .bind(tenant)
    .bind(scope_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("shared scope {scope_id}")))?;
    scope_from(&row)
}

impl Store {
    /// A shared scope.
    pub async fn shared_scope(&self, tenant: &str, scope_id: &str) -> Result<ScopeRow> {
        let mut conn = self.apim().acquire().await?;
        scope_in(&mut conn, tenant, scope_id).await
    }

    /// A page of the tenant's shared scopes, by name, and how many there are.
    pub async fn shared_scopes(
        &self,
        tenant: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ScopeRow>, i64)> {
        let count =
            sqlx::query("SELECT COUNT(*) AS n FROM am_scope WHERE tenant = $1 AND api_id IS NULL")
                .bind(tenant)
                .fetch_one(self.apim())
                .await?;
        let scopes = sqlx::query(&format!(
            "SELECT {SCOPE_COLUMNS} FROM am_scope WHERE tenant = $1 AND api_id IS NULL ORDER BY name LIMIT $2 OFFSET $3"
        ))
        .bind(tenant)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(scope_from)
        .collect::<Result<Vec<_>>>()?;
        Ok((scopes, col(&count, "n")?))
    }

    /// The tenant's scopes (shared or local) among `names`.
    pub async fn scopes_named(&self, tenant: &str, names: &[&str]) -> Result<Vec<ScopeRow>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = self.apim_sql();
        let tenant_at = sql.bind(tenant);
        let text = format!(
            "SELECT {SCOPE_COLUMNS} FROM am_scope WHERE tenant = {tenant_at} AND name IN ({})",
            sql.bind_list(names)
        );
        sql.query(&text)
            .fetch_all(self.apim())
            .await?
            .iter()
            .map(scope_from)
            .collect()
    }

    /// The roles each of `names` is bound to (scopes that do not exist are left out).
    pub async fn scope_bindings(
        &self,
        tenant: &str,
        names: &[&str],
    ) -> Result<HashMap<String, Vec<String>>> {
        Ok(self
            .scopes_named(tenant, names)
            .await?
            .into_iter()
            .map(|s| (s.name, s.bindings))
            .collect())
    }

    /// The API's local scopes.
    pub async fn local_scopes(&self, api_id: &str) -> Result<Vec<ScopeRow>> {
        sqlx::query(&format!(
            "SELECT {SCOPE_COLUMNS} FROM am_scope WHERE api_id = $1 ORDER BY name"
        ))
        .bind(api_id)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(scope_from)
        .collect()
    }

    /// Every resource that requires the scope named `name`, with its API.
    pub async fn scope_uses(&self, tenant: &str, name: &str) -> Result<Vec<ScopeUse>> {
        sqlx::query(
            "SELECT u.api_id, a.name, a.context, a.version, a.provider, u.verb, u.target
             FROM am_api_resource_scope u JOIN am_api a ON a.api_id = u.api_id
             WHERE u.tenant = $1 AND u.scope = $2 ORDER BY a.name, a.version, u.target, u.verb",
        )
        .bind(tenant)
        .bind(name)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(|row| {
            Ok(ScopeUse {
                api_id: col(row, "api_id")?,
                api_name: col(row, "name")?,
                api_context: col(row, "context")?,
                api_version: col(row, "version")?,
                api_provider: col(row, "provider")?,
                verb: col(row, "verb")?,
                target: col(row, "target")?,
            })
        })
        .collect()
    }

    /// How many API resources require each of `names` (names no resource requires are absent).
    pub async fn scope_use_counts(
        &self,
        tenant: &str,
        names: &[&str],
    ) -> Result<HashMap<String, i64>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = self.apim_sql();
        let tenant_at = sql.bind(tenant);
        let text = format!(
            "SELECT scope, COUNT(*) AS n FROM am_api_resource_scope WHERE tenant = {tenant_at} AND scope IN ({}) GROUP BY scope",
            sql.bind_list(names)
        );
        sql.query(&text)
            .fetch_all(self.apim())
            .await?
            .iter()
            .map(|row| Ok((col(row, "scope")?, col(row, "n")?)))
            .collect()
    }

    /// Whether a scope (shared or local) named `name` exists.
    pub async fn scope_name_exists(&self, tenant: &str, name: &str) -> Result<bool> {
        Ok(!self.scopes_named(tenant, &[name]).await?.is_empty())
    }
}
