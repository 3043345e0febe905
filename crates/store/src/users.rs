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
}

impl Store {
    pub async fn find_user(&self, tenant: &str, username: &str) -> Result<Option<UserRow>> {
        let Some(row) = sqlx::query(
            "SELECT user_id, tenant, username, password_hash FROM um_user WHERE tenant = $1 AND username = $2",
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
        }))
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
