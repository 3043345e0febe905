//! The resident key manager: an OAuth2 authorization server after WSO2's.
//!
//! It owns the token signing keys (RSA, rotated by events so gateways learn the public half),
//! OAuth clients (dynamic client registration and applications' key pairs), the token endpoint
//! (password and client-credentials grants, RS256 JWT access tokens) and the users' passwords.
//! It never serves API traffic: gateways verify its tokens themselves with the published keys.

mod http;
mod logins;
mod passwords;
mod tokens;
mod vault;

pub use http::{basic_credentials, router};
pub use logins::{LockPolicy, Logins};
pub use passwords::Passwords;
pub use tokens::{AccessToken, Claims};
pub use vault::Vault;

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use tollgate_store::{OAuthClientRow, SigningKeyRow, Store, StoreError, UserRow};

/// The name WSO2 gives its built-in key manager, shown in key mappings.
pub const RESIDENT_KEY_MANAGER: &str = "Resident Key Manager";

/// Default lifetime of an access token, in seconds (WSO2's default).
pub const DEFAULT_TOKEN_VALIDITY_SECS: i64 = 3600;
/// The longest lifetime a token may be asked for: a year.
pub const MAX_TOKEN_VALIDITY_SECS: i64 = 365 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum KeyManagerError {
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(String),
    #[error("grant type {0} is not supported")]
    UnsupportedGrantType(String),
    #[error("grant type {0} is not allowed for this client")]
    UnauthorizedClient(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("key material error: {0}")]
    Crypto(String),
    /// Every password-hashing worker stayed busy for the whole queue timeout.
    #[error("the server is busy checking credentials; retry shortly")]
    Busy,
    /// WSO2's account locking: too many failed logins for this user.
    #[error("the account is locked after too many failed logins")]
    AccountLocked {
        /// `None`: until an administrator unlocks it.
        retry_after_secs: Option<u64>,
    },
    /// Too many failed credential checks from this client address.
    #[error("too many failed attempts from this address")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T> = std::result::Result<T, KeyManagerError>;

/// A user who proved who they are, with their roles.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser {
    pub tenant: String,
    pub username: String,
    pub roles: Vec<String>,
}

/// Encrypts a private key for storage, off the async threads (argon2 key derivation).
async fn seal(vault: &Vault, kid: &str, pem: &str) -> Result<String> {
    let (vault, kid, pem) = (vault.clone(), kid.to_string(), pem.to_string());
    tokio::task::spawn_blocking(move || vault.seal(&kid, &pem))
        .await
        .map_err(|e| KeyManagerError::Crypto(e.to_string()))?
}

impl From<UserRow> for AuthenticatedUser {
    fn from(user: UserRow) -> Self {
        AuthenticatedUser {
            tenant: user.tenant,
            username: user.username,
            roles: user.roles,
        }
    }
}

pub struct KeyManager {
    store: Store,
    issuer: String,
    signer: tokens::Signer,
    logins: Logins,
}

/// How a key manager checks tokens and credentials.
pub struct KeyManagerSettings {
    pub rules: tollgate_jwt::TokenRules,
    pub vault: Vault,
    pub logins: Logins,
}

impl KeyManager {
    /// Loads the active signing key (re-encrypting it if it is stored in plain text or under the
    /// previous keystore password), creating and announcing one on first start.
    pub async fn start(
        store: Store,
        issuer: String,
        settings: KeyManagerSettings,
    ) -> Result<Arc<KeyManager>> {
        let vault = settings.vault;
        let keys = store.signing_keys().await?;
        let key = match keys.into_iter().next() {
            Some(mut key) => {
                let (kid, stored) = (key.kid.clone(), key.private_key_pem.clone());
                let vault_for_open = vault.clone();
                let opened =
                    tokio::task::spawn_blocking(move || vault_for_open.open(&kid, &stored))
                        .await
                        .map_err(|e| KeyManagerError::Crypto(e.to_string()))??;
                key.private_key_pem = match opened {
                    vault::Opened::Current(pem) => pem,
                    vault::Opened::Stale(pem) => {
                        let sealed = seal(&vault, &key.kid, &pem).await?;
                        let mut tx = store.begin().await?;
                        tx.set_signing_key_private(&key.kid, &sealed).await?;
                        tx.commit().await?;
                        tracing::info!(kid = %key.kid, "signing key re-encrypted under the current keystore password");
                        pem
                    }
                };
                key
            }
            None => {
                let key = tokio::task::spawn_blocking({
                    let issuer = issuer.clone();
                    move || tokens::generate_signing_key(&issuer)
                })
                .await
                .map_err(|e| KeyManagerError::Crypto(e.to_string()))??;
                let mut stored = key.clone();
                stored.private_key_pem = seal(&vault, &key.kid, &key.private_key_pem).await?;
                let mut tx = store.begin().await?;
                tx.apply(&tollgate_store::Change::AddSigningKey {
                    tenant: tollgate_model::SUPER_TENANT.to_string(),
                    public: key.to_model(),
                    stored,
                })
                .await?;
                tx.commit().await?;
                tracing::info!(kid = %key.kid, "generated token signing key");
                key
            }
        };
        let signer = tokens::Signer::new(&key, settings.rules)?;
        // Deriving the keystore key took argon2's memory; glibc would keep it.
        tollgate_guard::release_freed_memory();
        Ok(Arc::new(KeyManager {
            store,
            issuer,
            signer,
            logins: settings.logins,
        }))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Checks a user's password; `None` when the user is unknown or the password is wrong.
    /// `source` is the client's address, for per-source failure limits (see [`Logins`]).
    pub async fn authenticate_user(
        &self,
        username: &str,
        password: &str,
        source: Option<IpAddr>,
    ) -> Result<Option<AuthenticatedUser>> {
        self.logins
            .authenticate(&self.store, username, password, source)
            .await
            .map(|user| user.map(Into::into))
    }

    /// The roles of a known user (for tokens, which carry only the subject).
    pub async fn user(&self, username: &str) -> Result<Option<AuthenticatedUser>> {
        let (tenant, name) = split_tenant(username);
        Ok(self.store.find_user(tenant, name).await?.map(Into::into))
    }

    /// Checks a client's id and secret; failures count against `source` like failed logins.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        client_secret: &str,
        source: Option<IpAddr>,
    ) -> Result<OAuthClientRow> {
        self.logins.admit_source(source).await?;
        let client = if client_id.chars().any(|c| c.is_ascii_control()) {
            None
        } else {
            self.store.oauth_client(client_id).await?
        };
        match client {
            Some(client) if constant_time_eq(&client.consumer_secret, client_secret) => Ok(client),
            _ => {
                self.logins.source_failed(source);
                Err(KeyManagerError::InvalidClient)
            }
        }
    }

    /// Verifies a token this key manager issued (signature, expiry, issuer, not-before).
    pub fn verify(&self, token: &str) -> Result<Claims> {
        self.signer.verify(token)
    }

    /// The requested scopes a holder of `roles` may have: REST API scopes by WSO2's role table,
    /// `default` and `openid` always, and API scopes (shared or local) when one of the roles
    /// is bound to them (or they are bound to none).
    pub async fn grant_scopes(
        &self,
        tenant: &str,
        roles: &[String],
        requested: &[&str],
    ) -> Result<Vec<String>> {
        let mut granted = tollgate_model::scopes::grantable(roles, requested);
        let rest: Vec<&str> = requested
            .iter()
            .copied()
            .filter(|s| !granted.iter().any(|g| g == s))
            .collect();
        let bindings = self.store.scope_bindings(tenant, &rest).await?;
        for name in rest {
            if let Some(bound) = bindings.get(name) {
                let allowed = bound.is_empty()
                    || bound.iter().any(|b| {
                        let b = b.strip_prefix("Internal/").unwrap_or(b);
                        roles.iter().any(|r| r.eq_ignore_ascii_case(b))
                    });
                if allowed && !granted.iter().any(|g| g == name) {
                    granted.push(name.to_string());
                }
            }
        }
        Ok(granted)
    }

    /// Signs an access token for `client`.
    pub fn issue(
        &self,
        client_id: &str,
        subject: &str,
        user_token: bool,
        scopes: &[String],
        validity_secs: i64,
    ) -> Result<AccessToken> {
        self.signer.issue(
            &self.issuer,
            client_id,
            subject,
            user_token,
            scopes,
            validity_secs,
        )
    }

    /// RFC 7662: the claims of a token this key manager issued that is still valid (signature,
    /// issuer, `exp`, `nbf`) and not revoked; `None` for any other token.
    pub async fn introspect(&self, token: &str) -> Result<Option<Claims>> {
        let Ok(claims) = self.signer.verify(token) else {
            return Ok(None);
        };
        if self.store.is_revoked(&claims.jti).await? {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// The URL the OAuth2 endpoints live under (the issuer without `/oauth2/token`).
    pub fn base_url(&self) -> &str {
        self.issuer
            .strip_suffix("/oauth2/token")
            .unwrap_or(&self.issuer)
    }

    /// Revokes a token issued to `client_id`: recorded, and announced to gateways. Tokens that are
    /// not ours, not the client's, or expired already are ignored.
    pub async fn revoke(&self, client_id: &str, token: &str) -> Result<()> {
        let Ok(claims) = self.signer.verify(token) else {
            return Ok(());
        };
        if claims.azp != client_id {
            return Ok(());
        }
        let revoked = tollgate_model::RevokedToken {
            jti: claims.jti.clone(),
            expires_at: claims.exp,
        };
        let (tenant, _) = split_tenant(&claims.sub);
        let mut tx = self.store.begin().await?;
        tx.apply(&tollgate_store::Change::RevokeToken {
            tenant: tenant.to_string(),
            token: revoked,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(jti = %claims.jti, "token revoked");
        Ok(())
    }

    /// The public keys in JWKS form.
    pub fn jwks(&self) -> serde_json::Value {
        self.signer.jwks()
    }
}

/// A fresh OAuth client: random id and secret in WSO2's shape (URL-safe, no padding).
pub fn new_client(
    tenant: &str,
    owner: &str,
    client_name: &str,
    grant_types: Vec<String>,
    callback_url: &str,
) -> OAuthClientRow {
    OAuthClientRow {
        consumer_key: random_token(21),
        tenant: tenant.to_string(),
        consumer_secret: random_token(21),
        client_name: client_name.to_string(),
        owner: owner.to_string(),
        grant_types,
        callback_url: callback_url.to_string(),
        created_time: tollgate_model::now_millis(),
    }
}

/// `user@tenant` → (tenant, user), the super tenant when none is given.
pub fn split_tenant(username: &str) -> (&str, &str) {
    match username.rsplit_once('@') {
        Some((name, tenant)) if tenant.contains('.') => (tenant, name),
        _ => (tollgate_model::SUPER_TENANT, username),
    }
}

fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[doc(hidden)]
pub fn _signing_key_for_tests(issuer: &str) -> Result<SigningKeyRow> {
    tokens::generate_signing_key(issuer)
}
