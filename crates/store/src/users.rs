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
