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
}

impl Store {
    pub async fn find_user(&self, tenant: &str, username: &str) -> Result<Option<UserRow>> {
        let Some(row) = sqlx::query(
            "SELECT user_id, tenant, username, password_hash, failed_logins, locked_until FROM um_user WHERE tenant = $1 AND username = $2",
        )
        .bind(tenant)
        .bind(username)
        .fetch_optional(self.shared())
        .await?
        else {
            return Ok(None);
        };
        let id: String = col(&row, "user_id")?;
        let roles =
            sqlx::query("SELECT role_name FROM um_user_role WHERE user_id = $1 ORDER BY role_name")
                .bind(&id)
                .fetch_all(self.shared())
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>("role_name"))
                .collect::<std::result::Result<_, _>>()?;
        Ok(Some(UserRow {
            id,
            tenant: col(&row, "tenant")?,
            username: col(&row, "username")?,
            password_hash: col(&row, "password_hash")?,
            roles,
            failed_logins: col(&row, "failed_logins")?,
            locked_until: col(&row, "locked_until")?,
        }))
    }

    /// Counts a failed login of `user_id`; when it reaches `lock_after`, locks the account until
    /// `lock_until` (milliseconds) and starts the count afresh. Returns the count and the lock.
    pub async fn record_failed_login(
        &self,
        user_id: &str,
        lock_after: i64,
        lock_until: i64,
    ) -> Result<(i64, i64)> {
        // One statement, so concurrent failures are all counted.
        let row = sqlx::query(
            "UPDATE um_user SET
                failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END,
                locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END
             WHERE user_id = $3
             RETURNING failed_logins, locked_until",
        )
        .bind(lock_after)
        .bind(lock_until)
        .bind(user_id)
        .fetch_optional(self.shared())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
        Ok((col(&row, "failed_logins")?, col(&row, "locked_until")?))
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

    /// Creates a user with the given roles, or replaces the password and roles of an existing one.
    pub async fn upsert_user(
        &self,
        tenant: &str,
        username: &str,
        password_hash: &str,
        roles: &[&str],
    ) -> Result<()> {
        let mut tx = self.shared().begin().await?;
        let existing =
            sqlx::query("SELECT user_id FROM um_user WHERE tenant = $1 AND username = $2")
                .bind(tenant)
                .bind(username)
                .fetch_optional(&mut *tx)
                .await?;
        let user_id = match existing {
            Some(row) => {
                let id: String = col(&row, "user_id")?;
                sqlx::query("UPDATE um_user SET password_hash = $1 WHERE user_id = $2")
                    .bind(password_hash)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM um_user_role WHERE user_id = $1")
                    .bind(&id)
                    .execute(&mut *tx)
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
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_on_unique(e, || format!("user {username} exists")))?;
                id
            }
        };
        for role in roles {
            sqlx::query("INSERT INTO um_user_role (user_id, role_name) VALUES ($1, $2)")
                .bind(&user_id)
                .bind(*role)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
