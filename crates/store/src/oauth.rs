//! The key manager's token state: rotating refresh tokens, authorization codes and opaque access
//! tokens. Only hashes of the tokens are stored. Expiry times are in seconds.

use sqlx::any::AnyRow;

use crate::db::col;
use crate::{ApimTx, Result, Store};

/// A refresh token's place in its family: only the newest of a family is `ACTIVE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    Active,
    /// Exchanged already; presenting it again means it leaked.
    Used,
    Revoked,
}

impl RefreshState {
    fn as_str(self) -> &'static str {
        match self {
            RefreshState::Active => "ACTIVE",
            RefreshState::Used => "USED",
            RefreshState::Revoked => "REVOKED",
        }
    }

    fn parse(text: &str) -> RefreshState {
        match text {
            "ACTIVE" => RefreshState::Active,
            "USED" => RefreshState::Used,
            _ => RefreshState::Revoked,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub family_id: String,
    pub tenant: String,
    pub consumer_key: String,
    pub subject: String,
    pub scope: String,
    /// The access token issued together with this refresh token.
    pub access_jti: String,
    pub access_expires_at: i64,
    pub expires_at: i64,
    pub state: RefreshState,
    pub created_time: i64,
}

#[derive(Debug, Clone)]
pub struct AuthorizationCodeRow {
    pub code_hash: String,
    pub tenant: String,
    pub consumer_key: String,
    pub subject: String,
    pub scope: String,
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub expires_at: i64,
    pub used: bool,
    /// What the code was exchanged for, so that a replay can revoke it.
    pub family_id: Option<String>,
    pub access_jti: Option<String>,
    pub access_expires_at: Option<i64>,
}

/// An opaque access token (applications whose token type is `OAUTH`).
#[derive(Debug, Clone)]
pub struct AccessTokenRow {
    pub token_hash: String,
    pub jti: String,
    pub tenant: String,
    pub consumer_key: String,
    pub subject: String,
    /// `APPLICATION` or `APPLICATION_USER`.
    pub aut: String,
    pub scope: String,
    pub key_type: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A token to revoke: its id and when it would have expired anyway.
pub type IssuedToken = (String, i64);

const REFRESH_COLUMNS: &str = "token_hash, family_id, tenant, consumer_key, subject, scope, \
    access_jti, access_expires_at, expires_at, state, created_time";
const CODE_COLUMNS: &str = "code_hash, tenant, consumer_key, subject, scope, redirect_uri, \
    code_challenge, nonce, auth_time, expires_at, used, family_id, access_jti, access_expires_at";
const ACCESS_COLUMNS: &str =
    "token_hash, jti, tenant, consumer_key, subject, aut, scope, key_type, issued_at, expires_at";

fn refresh_from(row: &AnyRow) -> Result<RefreshTokenRow> {
    Ok(RefreshTokenRow {
        token_hash: col(row, "token_hash")?,
        family_id: col(row, "family_id")?,
        tenant: col(row, "tenant")?,
        consumer_key: col(row, "consumer_key")?,
        subject: col(row, "subject")?,
        scope: col(row, "scope")?,
        access_jti: col(row, "access_jti")?,
        access_expires_at: col(row, "access_expires_at")?,
        expires_at: col(row, "expires_at")?,
        state: RefreshState::parse(&col::<String>(row, "state")?),
        created_time: col(row, "created_time")?,
    })
}

fn code_from(row: &AnyRow) -> Result<AuthorizationCodeRow> {
    Ok(AuthorizationCodeRow {
        code_hash: col(row, "code_hash")?,
        tenant: col(row, "tenant")?,
        consumer_key: col(row, "consumer_key")?,
        subject: col(row, "subject")?,
        scope: col(row, "scope")?,
        redirect_uri: col(row, "redirect_uri")?,
        code_challenge: col(row, "code_challenge")?,
        nonce: col(row, "nonce")?,
        auth_time: col(row, "auth_time")?,
        expires_at: col(row, "expires_at")?,
        used: col::<i64>(row, "used")? != 0,
        family_id: col(row, "family_id")?,
        access_jti: col(row, "access_jti")?,
        access_expires_at: col(row, "access_expires_at")?,
    })
}

fn access_from(row: &AnyRow) -> Result<AccessTokenRow> {
    Ok(AccessTokenRow {
        token_hash: col(row, "token_hash")?,
        jti: col(row, "jti")?,
        tenant: col(row, "tenant")?,
        consumer_key: col(row, "consumer_key")?,
        subject: col(row, "subject")?,
        aut: col(row, "aut")?,
        scope: col(row, "scope")?,
        key_type: col(row, "key_type")?,
        issued_at: col(row, "issued_at")?,
        expires_at: col(row, "expires_at")?,
    })
}

impl ApimTx {
    pub async fn insert_refresh_token(&mut self, token: &RefreshTokenRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_refresh_token ({REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&token.token_hash)
        .bind(&token.family_id)
        .bind(&token.tenant)
        .bind(&token.consumer_key)
        .bind(&token.subject)
        .bind(&token.scope)
        .bind(&token.access_jti)
        .bind(token.access_expires_at)
        .bind(token.expires_at)
        .bind(token.state.as_str())
        .bind(token.created_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks an active refresh token used; `false` when it was not active any more (a
    /// concurrent exchange won, or it was used or revoked before).
    pub async fn use_refresh_token(&mut self, token_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE am_refresh_token SET state = 'USED' WHERE token_hash = $1 AND state = 'ACTIVE'",
        )
        .bind(token_hash)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every refresh token of a family; returns the access tokens issued with them
    /// that have not expired yet.
    pub async fn revoke_refresh_family(&mut self, family_id: &str) -> Result<Vec<IssuedToken>> {
        self.revoke_refresh_where("family_id", family_id).await
    }

    /// Revokes every refresh token of a client (a new secret, keys removed).
    pub async fn revoke_refresh_tokens_of(
        &mut self,
        consumer_key: &str,
    ) -> Result<Vec<IssuedToken>> {
        self.revoke_refresh_where("consumer_key", consumer_key)
            .await
    }

    /// Revokes every refresh token of a user (`subject`); returns the access tokens issued with
    /// them that have not expired.
    pub async fn revoke_refresh_tokens_of_subject(
        &mut self,
        subject: &str,
    ) -> Result<Vec<IssuedToken>> {
        self.revoke_refresh_where("subject", subject).await
    }

    async fn revoke_refresh_where(
        &mut self,
        column: &'static str,
        value: &str,
    ) -> Result<Vec<IssuedToken>> {
        let now = tollgate_model::now_millis() / 1000;
        let issued = sqlx::query(&format!(
            "SELECT access_jti, access_expires_at FROM am_refresh_token WHERE {column} = $1 AND access_expires_at > $2"
        ))
        .bind(value)
        .bind(now)
        .fetch_all(self.conn())
        .await?
        .iter()
        .map(|r| Ok((col(r, "access_jti")?, col(r, "access_expires_at")?)))
        .collect::<Result<Vec<_>>>()?;
        sqlx::query(&format!(
            "UPDATE am_refresh_token SET state = 'REVOKED' WHERE {column} = $1"
        ))
        .bind(value)
        .execute(self.conn())
        .await?;
        Ok(issued)
    }

    pub async fn insert_authorization_code(&mut self, code: &AuthorizationCodeRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_authorization_code ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, NULL, NULL, NULL)"
        ))
        .bind(&code.code_hash)
        .bind(&code.tenant)
        .bind(&code.consumer_key)
        .bind(&code.subject)
        .bind(&code.scope)
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(&code.nonce)
        .bind(code.auth_time)
        .bind(code.expires_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks a code used; `false` when it was used before (a replay).
    pub async fn use_authorization_code(&mut self, code_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE am_authorization_code SET used = 1 WHERE code_hash = $1 AND used = 0",
        )
        .bind(code_hash)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records what a code was exchanged for.
    pub async fn set_code_tokens(
        &mut self,
        code_hash: &str,
        family_id: Option<&str>,
        access: &IssuedToken,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE am_authorization_code SET family_id = $1, access_jti = $2, access_expires_at = $3 WHERE code_hash = $4",
        )
        .bind(family_id)
        .bind(&access.0)
        .bind(access.1)
        .bind(code_hash)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn insert_access_token(&mut self, token: &AccessTokenRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_access_token ({ACCESS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&token.token_hash)
        .bind(&token.jti)
        .bind(&token.tenant)
        .bind(&token.consumer_key)
        .bind(&token.subject)
        .bind(&token.aut)
        .bind(&token.scope)
        .bind(&token.key_type)
        .bind(token.issued_at)
        .bind(token.expires_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub(crate) async fn revoke_consumer_key(
        &mut self,
        tenant: &str,
        revocation: &tollgate_model::ConsumerKeyRevocation,
    ) -> Result<()> {
        sqlx::query("DELETE FROM am_consumer_key_revocation WHERE consumer_key = $1")
            .bind(&revocation.consumer_key)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO am_consumer_key_revocation (consumer_key, tenant, revoked_before, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&revocation.consumer_key)
        .bind(tenant)
        .bind(revocation.revoked_before)
        .bind(revocation.expires_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Forgets token state that can no longer be used: expired codes, refresh tokens and
    /// opaque tokens. Returns how many rows went.
    pub async fn purge_expired_tokens(&mut self, now_secs: i64) -> Result<u64> {
        let mut purged = 0;
        let revocation_horizon = now_secs - tollgate_model::REVOCATION_GRACE_SECS;
        for (table, before) in [
            ("am_refresh_token", now_secs),
            ("am_authorization_code", now_secs),
            ("am_access_token", now_secs),
            ("am_revoked_token", revocation_horizon),
            ("am_consumer_key_revocation", revocation_horizon),
        ] {
            purged += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                .bind(before)
                .execute(self.conn())
                .await?
                .rows_affected();
        }
        Ok(purged)
    }
}

impl Store {
    pub async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
        sqlx::query(&format!(
            "SELECT {REFRESH_COLUMNS} FROM am_refresh_token WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(refresh_from)
        .transpose()
    }

    pub async fn authorization_code(
        &self,
        code_hash: &str,
    ) -> Result<Option<AuthorizationCodeRow>> {
        sqlx::query(&format!(
            "SELECT {CODE_COLUMNS} FROM am_authorization_code WHERE code_hash = $1"
        ))
        .bind(code_hash)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(code_from)
        .transpose()
    }

    pub async fn access_token(&self, token_hash: &str) -> Result<Option<AccessTokenRow>> {
        sqlx::query(&format!(
            "SELECT {ACCESS_COLUMNS} FROM am_access_token WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(access_from)
        .transpose()
    }

    /// The moment before which a consumer key's tokens are revoked, if one is in force.
    pub async fn consumer_key_revoked_before(&self, consumer_key: &str) -> Result<Option<i64>> {
        sqlx::query(
            "SELECT revoked_before FROM am_consumer_key_revocation WHERE consumer_key = $1 AND expires_at >= $2",
        )
        .bind(consumer_key)
        .bind(tollgate_model::now_millis() / 1000)
        .fetch_optional(self.apim())
        .await?
        .map(|r| col(&r, "revoked_before"))
        .transpose()
    }

    /// Every client secret as stored, for re-hashing values stored before hashing.
    pub async fn client_secrets(&self) -> Result<Vec<(String, String)>> {
        sqlx::query("SELECT consumer_key, consumer_secret FROM am_oauth_client")
            .fetch_all(self.apim())
            .await?
            .iter()
            .map(|r| Ok((col(r, "consumer_key")?, col(r, "consumer_secret")?)))
            .collect()
    }
}
