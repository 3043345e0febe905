use sqlx::Row;

use crate::db::col;
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub tenant: String,
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    /// Consecutive failed logins since the last success or lock.
    pub failed_logins: i64,
    /// Milliseconds since the Unix epoch until which the account is locked; `i64::MAX` until an
    /// administrator unlocks it; 0 when not locked.
    pub locked_until: i64,
    /// Profile claims (SCIM's `name`, `emails`, …) as JSON.
    pub claims: serde_json::Value,
    pub created_time: i64,
    pub updated_time: i64,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub tenant: String,
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub claims: serde_json::Value,
}

/// How a user list is filtered by username (SCIM's `eq`, `sw`, `co`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserMatch {
    Any,
    Equals(String),
    StartsWith(String),
    Contains(String),
}

const USER_COLUMNS: &str =
    "user_id, tenant, username, password_hash, failed_logins, locked_until, claims, created_time, updated_time";

fn user_from(row: &sqlx::any::AnyRow, roles: Vec<String>) -> Result<UserRow> {
    Ok(UserRow {
        id: col(row, "user_id")?,
        tenant: col(row, "tenant")?,
        username: col(row, "username")?,
        password_hash: col(row, "password_hash")?,
        roles,
        failed_logins: col(row, "failed_logins")?,
        locked_until: col(row, "locked_until")?,
        claims: serde_json::from_str(&col::<String>(row, "claims")?)?,
        created_time: col(row, "created_time")?,
        updated_time: col(row, "updated_time")?,
    })
}

impl Store {
    pub async fn find_user(&self, tenant: &str, username: &str) -> Result<Option<UserRow>> {
        self.user_where(tenant, "username = $2", username).await
    }

    /// The tenant's user with this id.
    pub async fn user_by_id(&self, tenant: &str, user_id: &str) -> Result<Option<UserRow>> {
        self.user_where(tenant, "user_id = $2", user_id).await
    }

    async fn user_where(
        &self,
        tenant: &str,
        condition: &'static str,
        value: &str,
    ) -> Result<Option<UserRow>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM um_user WHERE tenant = $1 AND deleted_time = 0 AND {condition}"
        ))
        .bind(tenant)
        .bind(value)
        .fetch_optional(self.shared())
        .await?
        else {
            return Ok(None);
        };
        let id: String = col(&row, "user_id")?;
        let roles = self
            .roles_of(&[id.as_str()])
            .await?
            .remove(&id)
            .unwrap_or_default();
        user_from(&row, roles).map(Some)
    }

    /// Each user's roles, by user id.
    async fn roles_of(
        &self,
        user_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Vec<String>>> {
        let mut roles: std::collections::HashMap<String, Vec<String>> = Default::default();
        if user_ids.is_empty() {
            return Ok(roles);
        }
        let mut sql = self.shared_sql();
        let list = sql.bind_list(user_ids);
        for row in sql
            .query(&format!(
                "SELECT user_id, role_name FROM um_user_role WHERE user_id IN ({list}) ORDER BY role_name"
            ))
            .fetch_all(self.shared())
            .await?
        {
            roles
                .entry(col(&row, "user_id")?)
                .or_default()
                .push(row.try_get::<String, _>("role_name")?);
        }
        Ok(roles)
    }

    /// A page of the tenant's users by username, and how many match in all.
    pub async fn list_users(
        &self,
        tenant: &str,
        filter: &UserMatch,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<UserRow>, i64)> {
        let mut sql = self.shared_sql();
        let tenant_param = sql.bind(tenant);
        let condition = match filter {
            UserMatch::Any => String::new(),
            UserMatch::Equals(name) => format!(" AND username = {}", sql.bind(name)),
            UserMatch::StartsWith(prefix) => format!(
                " AND LOWER(username) LIKE LOWER({}) ESCAPE '\\'",
                sql.bind(&format!("{}%", crate::apis::escape_like(prefix)))
            ),
            UserMatch::Contains(part) => format!(
                " AND LOWER(username) LIKE LOWER({}) ESCAPE '\\'",
                sql.bind(&format!("%{}%", crate::apis::escape_like(part)))
            ),
        };
        let total: i64 = col(
            &sql.query(&format!(
                "SELECT COUNT(*) AS n FROM um_user WHERE tenant = {tenant_param} AND deleted_time = 0{condition}"
            ))
            .fetch_one(self.shared())
            .await?,
            "n",
        )?;
        let rows = sql
            .query(&format!(
                "SELECT {USER_COLUMNS} FROM um_user WHERE tenant = {tenant_param} AND deleted_time = 0{condition} \
                 ORDER BY username LIMIT {} OFFSET {}",
                limit.max(0),
                offset.max(0)
            ))
            .fetch_all(self.shared())
            .await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| col::<String>(r, "user_id"))
            .collect::<Result<_>>()?;
        let mut roles = self
            .roles_of(&ids.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        let users = rows
            .iter()
            .zip(&ids)
            .map(|(row, id)| user_from(row, roles.remove(id).unwrap_or_default()))
            .collect::<Result<_>>()?;
        Ok((users, total))
    }

    /// Creates a user; `Conflict` when the username is taken, `NotFound` for an unknown role.
    pub async fn create_user(&self, user: &NewUser) -> Result<UserRow> {
        let mut tx = self.begin_shared().await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = tollgate_model::now_millis();
        sqlx::query(
            "INSERT INTO um_user (user_id, tenant, username, password_hash, created_time, claims, updated_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $5)",
        )
        .bind(&id)
        .bind(&user.tenant)
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(now)
        .bind(user.claims.to_string())
        .execute(tx.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("The username '{}' is taken (now or before)", user.username)
            })
        })?;
        for role in &user.roles {
            add_role(tx.conn(), &user.tenant, &id, role).await?;
        }
        tx.commit().await?;
        self.user_by_id(&user.tenant, &id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))
    }

    /// Changes a user's password hash and/or claims.
    pub async fn update_user(
        &self,
        tenant: &str,
        user_id: &str,
        password_hash: Option<&str>,
        claims: Option<&serde_json::Value>,
    ) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        let now = tollgate_model::now_millis();
        if let Some(hash) = password_hash {
            sqlx::query("UPDATE um_user SET password_hash = $1, updated_time = $2 WHERE tenant = $3 AND user_id = $4")
                .bind(hash)
                .bind(now)
                .bind(tenant)
                .bind(user_id)
                .execute(tx.conn())
                .await?;
        }
        if let Some(claims) = claims {
            sqlx::query("UPDATE um_user SET claims = $1, updated_time = $2 WHERE tenant = $3 AND user_id = $4")
                .bind(claims.to_string())
                .bind(now)
                .bind(tenant)
                .bind(user_id)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a user: their roles and password go, the name stays taken (applications and
    /// tokens are tied to names, so nobody may inherit them). Whether there was one.
    pub async fn delete_user(&self, tenant: &str, user_id: &str) -> Result<bool> {
        let mut tx = self.begin_shared().await?;
        let done = sqlx::query(
            "UPDATE um_user SET deleted_time = $1, password_hash = '', claims = '{}' \
             WHERE tenant = $2 AND user_id = $3 AND deleted_time = 0",
        )
        .bind(tollgate_model::now_millis())
        .bind(tenant)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
        sqlx::query("DELETE FROM um_user_role WHERE user_id = $1")
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The tenant's roles, by name.
    pub async fn roles(&self, tenant: &str) -> Result<Vec<String>> {
        sqlx::query("SELECT role_name FROM um_role WHERE tenant = $1 ORDER BY role_name")
            .bind(tenant)
            .fetch_all(self.shared())
            .await?
            .iter()
            .map(|r| col(r, "role_name"))
            .collect()
    }

    /// Creates a role; `Conflict` when it exists.
    pub async fn create_role(&self, tenant: &str, role: &str) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        sqlx::query("INSERT INTO um_role (tenant, role_name) VALUES ($1, $2)")
            .bind(tenant)
            .bind(role)
            .execute(tx.conn())
            .await
            .map_err(|e| {
                StoreError::conflict_on_unique(e, || {
                    format!("A role named '{role}' exists already")
                })
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a role and every membership of it; whether there was one.
    pub async fn delete_role(&self, tenant: &str, role: &str) -> Result<bool> {
        let mut tx = self.begin_shared().await?;
        sqlx::query(
            "DELETE FROM um_user_role WHERE role_name = $1 AND user_id IN (SELECT user_id FROM um_user WHERE tenant = $2)",
        )
        .bind(role)
        .bind(tenant)
        .execute(tx.conn())
        .await?;
        let done = sqlx::query("DELETE FROM um_role WHERE tenant = $1 AND role_name = $2")
            .bind(tenant)
            .bind(role)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The role's members: (user id, username), by username.
    pub async fn role_members(&self, tenant: &str, role: &str) -> Result<Vec<(String, String)>> {
        sqlx::query(
            "SELECT u.user_id, u.username FROM um_user u JOIN um_user_role r ON r.user_id = u.user_id \
             WHERE u.tenant = $1 AND r.role_name = $2 ORDER BY u.username",
        )
        .bind(tenant)
        .bind(role)
        .fetch_all(self.shared())
        .await?
        .iter()
        .map(|r| Ok((col(r, "user_id")?, col(r, "username")?)))
        .collect()
    }

    /// Adds and removes members of a role in one transaction; `NotFound` names an unknown user.
    pub async fn change_role_members(
        &self,
        tenant: &str,
        role: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        for user_id in remove {
            sqlx::query(
                "DELETE FROM um_user_role WHERE user_id = $1 AND role_name = $2 \
                 AND user_id IN (SELECT user_id FROM um_user WHERE tenant = $3)",
            )
            .bind(user_id)
            .bind(role)
            .bind(tenant)
            .execute(tx.conn())
            .await?;
        }
        for user_id in add {
            // Write first (no read that would have to become a write), and only for a live
            // user of the tenant; an existing membership is left as it is.
            let added = sqlx::query(
                "INSERT INTO um_user_role (user_id, role_name) SELECT $1, $2 \
                 WHERE EXISTS (SELECT 1 FROM um_user WHERE tenant = $3 AND user_id = $1 AND deleted_time = 0) \
                 ON CONFLICT (user_id, role_name) DO NOTHING",
            )
            .bind(user_id)
            .bind(role)
            .bind(tenant)
            .execute(tx.conn())
            .await?;
            if added.rows_affected() == 0 {
                let known = sqlx::query(
                    "SELECT user_id FROM um_user WHERE tenant = $1 AND user_id = $2 AND deleted_time = 0",
                )
                .bind(tenant)
                .bind(user_id)
                .fetch_optional(tx.conn())
                .await?;
                if known.is_none() {
                    return Err(StoreError::NotFound(format!("user {user_id}")));
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Reserves one login attempt for `user_id`: counted as a failure until settled, so
    /// however many checks run at once, at most `allowed` can be under way or failed between
    /// two successes. `None` when the account is locked at `now` or its attempts are all taken;
    /// otherwise the attempt's number (1 to `allowed`).
    pub async fn reserve_login_attempt(
        &self,
        user_id: &str,
        allowed: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "UPDATE um_user SET failed_logins = failed_logins + 1
             WHERE user_id = $1 AND locked_until <= $2 AND failed_logins < $3
             RETURNING failed_logins",
        )
        .bind(user_id)
        .bind(now)
        .bind(allowed)
        .fetch_optional(self.shared())
        .await?;
        row.map(|row| col(&row, "failed_logins")).transpose()
    }

    /// Settles a successful login: the count starts afresh — unless the account was locked
    /// meanwhile (a concurrent failure used the last attempt), then `false`.
    pub async fn settle_login_success(&self, user_id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE um_user SET failed_logins = 0, locked_until = 0
             WHERE user_id = $1 AND locked_until <= $2",
        )
        .bind(user_id)
        .bind(now)
        .execute(self.shared())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Gives back a reserved attempt whose check could not run (the server was busy).
    pub async fn release_login_attempt(&self, user_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE um_user SET failed_logins = failed_logins - 1 WHERE user_id = $1 AND failed_logins > 0",
        )
        .bind(user_id)
        .execute(self.shared())
        .await?;
        Ok(())
    }

    /// Locks an account until `until` (milliseconds; `i64::MAX`: until unlocked).
    pub async fn lock_user(&self, user_id: &str, until: i64) -> Result<()> {
        sqlx::query("UPDATE um_user SET failed_logins = 0, locked_until = $1 WHERE user_id = $2")
            .bind(until)
            .bind(user_id)
            .execute(self.shared())
            .await?;
        Ok(())
    }

    /// Forgets a user's failed logins and lifts any lock (a successful login, or an
    /// administrator's unlock). Returns whether the user exists.
    pub async fn clear_failed_logins(&self, tenant: &str, username: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE um_user SET failed_logins = 0, locked_until = 0 WHERE tenant = $1 AND username = $2",
        )
        .bind(tenant)
        .bind(username)
        .execute(self.shared())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Creates a user with the given roles, or replaces the password and roles of an existing one
    /// (the configured administrator at start).
    pub async fn upsert_user(
        &self,
        tenant: &str,
        username: &str,
        password_hash: &str,
        roles: &[&str],
    ) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        let existing =
            sqlx::query("SELECT user_id FROM um_user WHERE tenant = $1 AND username = $2")
                .bind(tenant)
                .bind(username)
                .fetch_optional(tx.conn())
                .await?;
        let user_id = match existing {
            Some(row) => {
                let id: String = col(&row, "user_id")?;
                sqlx::query("UPDATE um_user SET password_hash = $1 WHERE user_id = $2")
                    .bind(password_hash)
                    .bind(&id)
                    .execute(tx.conn())
                    .await?;
                sqlx::query("DELETE FROM um_user_role WHERE user_id = $1")
                    .bind(&id)
                    .execute(tx.conn())
                    .await?;
                id
            }
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO um_user (user_id, tenant, username, password_hash, created_time) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&id)
                .bind(tenant)
                .bind(username)
                .bind(password_hash)
                .bind(tollgate_model::now_millis())
                .execute(tx.conn())
                .await
                .map_err(|e| StoreError::conflict_on_unique(e, || format!("user {username} exists")))?;
                id
            }
        };
        for role in roles {
            sqlx::query("INSERT INTO um_user_role (user_id, role_name) VALUES ($1, $2)")
                .bind(&user_id)
                .bind(*role)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Gives a user a role of their tenant; `NotFound` when the tenant has no such role.
async fn add_role(
    tx: &mut sqlx::AnyConnection,
    tenant: &str,
    user_id: &str,
    role: &str,
) -> Result<()> {
    let known = sqlx::query("SELECT role_name FROM um_role WHERE tenant = $1 AND role_name = $2")
        .bind(tenant)
        .bind(role)
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        return Err(StoreError::NotFound(format!("role {role}")));
    }
    sqlx::query("INSERT INTO um_user_role (user_id, role_name) VALUES ($1, $2)")
        .bind(user_id)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
