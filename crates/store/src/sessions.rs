//! Web portal sessions, in the shared database so that every control plane node knows them.

use crate::db::col;
use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSessionRow {
    /// Hash of the cookie's value.
    pub session_hash: String,
    pub tenant: String,
    pub username: String,
    pub csrf_token: String,
    pub created_time: i64,
    pub last_seen: i64,
    pub expires_time: i64,
}

const SESSION_COLUMNS: &str =
    "session_hash, tenant, username, csrf_token, created_time, last_seen, expires_time";

impl Store {
    pub async fn insert_portal_session(&self, session: &PortalSessionRow) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        sqlx::query(&format!(
            "INSERT INTO am_portal_session ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&session.session_hash)
        .bind(&session.tenant)
        .bind(&session.username)
        .bind(&session.csrf_token)
        .bind(session.created_time)
        .bind(session.last_seen)
        .bind(session.expires_time)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session of a cookie hash, if it has not expired (`idle_millis` since it was last
    /// seen, or its absolute expiry).
    pub async fn portal_session(
        &self,
        session_hash: &str,
        now: i64,
        idle_millis: i64,
    ) -> Result<Option<PortalSessionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM am_portal_session WHERE session_hash = $1 AND expires_time > $2 AND last_seen > $3"
        ))
        .bind(session_hash)
        .bind(now)
        .bind(now.saturating_sub(idle_millis))
        .fetch_optional(self.shared())
        .await?;
        row.map(|row| {
            Ok(PortalSessionRow {
                session_hash: col(&row, "session_hash")?,
                tenant: col(&row, "tenant")?,
                username: col(&row, "username")?,
                csrf_token: col(&row, "csrf_token")?,
                created_time: col(&row, "created_time")?,
                last_seen: col(&row, "last_seen")?,
                expires_time: col(&row, "expires_time")?,
            })
        })
        .transpose()
    }

    /// Marks a session used now (callers do it at most once a minute).
    pub async fn touch_portal_session(&self, session_hash: &str, now: i64) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        sqlx::query("UPDATE am_portal_session SET last_seen = $1 WHERE session_hash = $2")
            .bind(now)
            .bind(session_hash)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a session (sign-out); also drops every session that has expired by `now`.
    /// Ends every portal session of a user (a new password, a locked account).
    pub async fn delete_user_portal_sessions(&self, tenant: &str, username: &str) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        sqlx::query("DELETE FROM am_portal_session WHERE tenant = $1 AND username = $2")
            .bind(tenant)
            .bind(username)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_portal_session(
        &self,
        session_hash: &str,
        now: i64,
        idle_millis: i64,
    ) -> Result<()> {
        let mut tx = self.begin_shared().await?;
        sqlx::query("DELETE FROM am_portal_session WHERE session_hash = $1 OR expires_time <= $2 OR last_seen <= $3")
            .bind(session_hash)
            .bind(now)
            .bind(now.saturating_sub(idle_millis))
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
