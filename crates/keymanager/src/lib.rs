//! The resident key manager: an OAuth2 authorization server after WSO2's.
//!
//! It owns the token signing key set (RSA; rotation adds a key that gateways learn of by event),
//! OAuth clients (dynamic client registration and applications' key pairs, secrets stored
//! hashed), the grants of the token endpoint ([`grants`]), the authorization page
//! ([`authorize`]), introspection, revocation, userinfo and the users' passwords. It never
//! serves API traffic: gateways verify its tokens themselves with the published keys.

mod authorize;
mod clients;
mod external;
mod grants;
mod http;
mod logins;
mod passwords;
mod secrets;
mod tokens;
mod vault;

pub use clients::{grant_types, ClientRegistration, RegisteredClient, DEFAULT_GRANT_TYPES};
pub use grants::{Grant, TokenRequest, TokenResponse};
pub use http::{basic_credentials, router};
pub use logins::{LockPolicy, Logins};
pub use passwords::Passwords;
pub use secrets::{hash_secret, random_token, secret_matches};
pub use tokens::Claims;
pub use vault::Vault;

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tollgate_store::{ClientValidity, OAuthClientRow, SigningKeyRow, Store, StoreError, UserRow};

/// The name WSO2 gives its built-in key manager, shown in key mappings.
pub use tollgate_model::RESIDENT_KEY_MANAGER;

/// Token lifetimes and which grants are on: `[oauth.token_validation]` and
/// `[oauth.grant_type.password]` of `deployment.toml`. Seconds throughout.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// Client-credentials tokens (WSO2's `app_access_token_validity`, 3600).
    pub app_access_token_validity: i64,
    /// Tokens of user grants (`user_access_token_validity`, 3600).
    pub user_access_token_validity: i64,
    /// `refresh_token_validity`, 86400.
    pub refresh_token_validity: i64,
    /// `id_token_validity`, 3600.
    pub id_token_validity: i64,
    /// How long an authorization code may wait for its exchange (300, as in WSO2).
    pub authorization_code_validity: i64,
    /// The longest an access or ID token may live, whatever is asked; a replaced signing key
    /// stays published this long (plus the clock leeway). Tollgate's key; a year by default.
    pub max_token_validity: i64,
    /// The resource owner password grant (RFC 9700 deprecates it; WSO2 keeps it on).
    pub password_grant: bool,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            app_access_token_validity: 3600,
            user_access_token_validity: 3600,
            refresh_token_validity: 86_400,
            id_token_validity: 3600,
            authorization_code_validity: 300,
            max_token_validity: 365 * 86_400,
            password_grant: true,
        }
    }
}

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
    /// The caller may not do this (another user's client, say).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidScope(String),
    /// A bearer token lacks the scope an endpoint needs (RFC 6750 §3.1).
    #[error("{0}")]
    InsufficientScope(String),
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
    /// Another authorization server could not be reached or answered unexpectedly.
    #[error("the key manager at {0}")]
    Upstream(String),
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
    keys: ArcSwap<tokens::KeySet>,
    vault: Vault,
    rules: tollgate_jwt::TokenRules,
    logins: Logins,
    settings: TokenSettings,
    external: external::ExternalIssuers,
}

/// How a key manager checks tokens and credentials.
pub struct KeyManagerSettings {
    pub rules: tollgate_jwt::TokenRules,
    pub vault: Vault,
    pub logins: Logins,
    pub tokens: TokenSettings,
}

/// Opens a stored private key; a key stored in plain text or under the previous keystore
/// password is re-encrypted under the current one.
async fn open_key(store: &Store, vault: &Vault, mut key: SigningKeyRow) -> Result<SigningKeyRow> {
    let (kid, stored) = (key.kid.clone(), key.private_key_pem.clone());
    let vault_for_open = vault.clone();
    let opened = tokio::task::spawn_blocking(move || vault_for_open.open(&kid, &stored))
        .await
        .map_err(|e| KeyManagerError::Crypto(e.to_string()))??;
    key.private_key_pem = match opened {
        vault::Opened::Current(pem) => pem,
        vault::Opened::Stale(pem) => {
            let sealed = seal(vault, &key.kid, &pem).await?;
            let mut tx = store.begin().await?;
            tx.set_signing_key_private(&key.kid, &sealed).await?;
            tx.commit().await?;
            tracing::info!(kid = %key.kid, "signing key re-encrypted under the current keystore password");
            pem
        }
    };
    Ok(key)
}

impl KeyManager {
    /// Loads the signing key set (creating and announcing a first key on first start) and
    /// hashes client secrets stored before secrets were hashed.
    pub async fn start(
        store: Store,
        issuer: String,
        settings: KeyManagerSettings,
    ) -> Result<Arc<KeyManager>> {
        let vault = settings.vault;
        if store.signing_keys().await?.is_empty() {
            Self::add_signing_key(&store, &vault, &issuer, None).await?;
        }
        let keys = Self::load_keys(&store, &vault, settings.rules).await?;
        hash_stored_secrets(&store).await?;
        // Deriving the keystore key took argon2's memory; glibc would keep it.
        tollgate_guard::release_freed_memory();
        Ok(Arc::new(KeyManager {
            store,
            issuer,
            keys: ArcSwap::from_pointee(keys),
            vault,
            rules: settings.rules,
            logins: settings.logins,
            settings: settings.tokens,
            external: external::ExternalIssuers::new(),
        }))
    }

    /// Generates a key, stores it sealed and announces it; `retire_previous_after` marks the
    /// keys it replaces.
    async fn add_signing_key(
        store: &Store,
        vault: &Vault,
        issuer: &str,
        retire_previous_after: Option<i64>,
    ) -> Result<tollgate_model::SigningKey> {
        let key = tokio::task::spawn_blocking({
            let issuer = issuer.to_string();
            move || tokens::generate_signing_key(&issuer)
        })
        .await
        .map_err(|e| KeyManagerError::Crypto(e.to_string()))??;
        let mut stored = key.clone();
        stored.private_key_pem = seal(vault, &key.kid, &key.private_key_pem).await?;
        let mut tx = store.begin().await?;
        tx.apply(&tollgate_store::Change::AddSigningKey {
            tenant: tollgate_model::SUPER_TENANT.to_string(),
            public: key.to_model(),
            stored,
            retire_previous_after,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(kid = %key.kid, "generated token signing key");
        Ok(key.to_model())
    }

    /// The published keys from the store; the newest signs.
    async fn load_keys(
        store: &Store,
        vault: &Vault,
        rules: tollgate_jwt::TokenRules,
    ) -> Result<tokens::KeySet> {
        let published = store.signing_keys().await?;
        let newest = published
            .first()
            .cloned()
            .ok_or_else(|| KeyManagerError::Crypto("no signing key is stored".into()))?;
        let current = open_key(store, vault, newest).await?;
        tokens::KeySet::new(&current, &published, rules)
    }

    /// Picks up keys added or retired elsewhere (another control plane, `tollgate keys
    /// rotate`); `true` when the set changed.
    pub async fn refresh_keys(&self) -> Result<bool> {
        let stored: Vec<String> = self
            .store
            .signing_keys()
            .await?
            .into_iter()
            .map(|k| k.kid)
            .collect();
        let unchanged = {
            let keys = self.keys.load();
            keys.kids().eq(stored.iter().map(String::as_str))
        };
        if unchanged {
            return Ok(false);
        }
        let keys = Self::load_keys(&self.store, &self.vault, self.rules).await?;
        self.keys.store(Arc::new(keys));
        tollgate_guard::release_freed_memory();
        tracing::info!(keys = stored.len(), "signing key set reloaded");
        Ok(true)
    }

    /// Adds a signing key that signs from now on; the keys it replaces stay published until
    /// every token they signed has expired.
    pub async fn rotate_keys(&self) -> Result<tollgate_model::SigningKey> {
        let retire_after =
            grants::now_secs() + self.settings.max_token_validity + self.rules.leeway_secs as i64;
        let key = Self::add_signing_key(&self.store, &self.vault, &self.issuer, Some(retire_after))
            .await?;
        self.refresh_keys().await?;
        Ok(key)
    }

    /// Rotates the signing key of the key manager whose store this is, without a running
    /// key manager (the `tollgate keys rotate` command); running ones pick it up shortly.
    pub async fn rotate_stored_keys(
        store: &Store,
        vault: &Vault,
        issuer: &str,
        settings: &TokenSettings,
        rules: tollgate_jwt::TokenRules,
    ) -> Result<tollgate_model::SigningKey> {
        let retire_after =
            grants::now_secs() + settings.max_token_validity + rules.leeway_secs as i64;
        Self::add_signing_key(store, vault, issuer, Some(retire_after)).await
    }

    /// Forgets codes, refresh tokens, opaque tokens and revocations past their expiry.
    pub async fn purge_expired(&self) -> Result<u64> {
        let mut tx = self.store.begin().await?;
        let purged = tx.purge_expired_tokens(grants::now_secs()).await?;
        tx.commit().await?;
        Ok(purged)
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
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
            // Another key manager's clients (mapped keys) authenticate there, never here.
            Some(client)
                if client.key_manager == RESIDENT_KEY_MANAGER
                    && secret_matches(&client.consumer_secret, client_secret) =>
            {
                Ok(client)
            }
            _ => {
                self.logins.source_failed(source);
                Err(KeyManagerError::InvalidClient)
            }
        }
    }

    /// Verifies a JWT access token this key manager issued (signature, expiry, issuer,
    /// not-before), for the REST APIs.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        self.keys.load().verify(token)
    }

    /// Signs an API key with the current signing key. It is a JWT of `typ` `JWT`, not `at+jwt`,
    /// and has no `azp`, so nothing that takes access tokens accepts it.
    pub fn sign_api_key(&self, claims: &tollgate_model::ApiKeyClaims) -> Result<String> {
        self.keys.load().signer().sign("JWT", claims)
    }

    /// An API key this key manager signed (see [`Self::sign_api_key`]); `None` once expired.
    pub fn verify_api_key(&self, token: &str) -> Result<Option<tollgate_model::ApiKeyClaims>> {
        self.keys.load().verify_api_key(token)
    }

    /// Revokes an API key: gateways refuse it from the event on.
    pub async fn revoke_api_key(
        &self,
        tenant: &str,
        claims: &tollgate_model::ApiKeyClaims,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        grants::revoke_all(&mut tx, tenant, vec![(claims.jti.clone(), claims.exp)]).await?;
        tx.commit().await?;
        tracing::info!(jti = %claims.jti, application = %claims.application.uuid, "API key revoked");
        Ok(())
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
        // `apim:` scopes come from the role table alone, whatever an API declares.
        let rest: Vec<&str> = requested
            .iter()
            .copied()
            .filter(|s| !s.starts_with("apim:") && !granted.iter().any(|g| g == s))
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

    /// RFC 7662: the claims of an access token this key manager issued (a JWT, or an opaque
    /// token it recorded) that is still valid and not revoked; `None` for any other token.
    pub async fn introspect(&self, token: &str) -> Result<Option<Claims>> {
        let claims = if token.contains('.') {
            match self.keys.load().verify::<Claims>(token) {
                Ok(claims) => claims,
                Err(_) => return Ok(None),
            }
        } else {
            match self.store.access_token(&hash_secret(token)).await? {
                Some(row) if row.expires_at > grants::now_secs() => Claims {
                    sub: row.subject,
                    aut: row.aut,
                    aud: row.consumer_key.clone(),
                    nbf: row.issued_at,
                    azp: row.consumer_key.clone(),
                    scope: row.scope,
                    iss: self.issuer.clone(),
                    exp: row.expires_at,
                    iat: row.issued_at,
                    jti: row.jti,
                    client_id: row.consumer_key,
                    keytype: row.key_type,
                },
                _ => return Ok(None),
            }
        };
        if self.store.is_revoked(&claims.jti).await? {
            return Ok(None);
        }
        if let Some(before) = self.store.consumer_key_revoked_before(&claims.azp).await? {
            if claims.iat < before {
                return Ok(None);
            }
        }
        Ok(Some(claims))
    }

    /// What a gateway needs of an active opaque token (JWTs gateways verify themselves);
    /// `None` when it is unknown, expired or revoked.
    pub async fn introspect_for_gateway(
        &self,
        token: &str,
    ) -> Result<Option<tollgate_model::wire::IntrospectedToken>> {
        if token.contains('.') {
            return Ok(None);
        }
        Ok(self
            .introspect(token)
            .await?
            .map(|claims| tollgate_model::wire::IntrospectedToken {
                client_id: claims.azp,
                scope: claims.scope,
                jti: claims.jti,
                exp: claims.exp,
                iat: claims.iat,
            }))
    }

    /// A new secret for a client: the old one stops working at once, and every token issued
    /// to the client so far is revoked (refresh tokens here, access tokens on every gateway).
    /// Returns the secret, which is shown once.
    pub async fn regenerate_secret(&self, client: &OAuthClientRow) -> Result<String> {
        let (secret, hash) = new_secret();
        let revoked_before = grants::now_secs() + 1;
        let mut tx = self.store.begin().await?;
        tx.set_client_secret(&client.consumer_key, &hash).await?;
        let issued = tx.revoke_refresh_tokens_of(&client.consumer_key).await?;
        grants::revoke_all(&mut tx, &client.tenant, issued).await?;
        tx.apply(&tollgate_store::Change::RevokeConsumerKey {
            tenant: client.tenant.clone(),
            revocation: tollgate_model::ConsumerKeyRevocation {
                consumer_key: client.consumer_key.clone(),
                revoked_before,
                expires_at: revoked_before
                    + self.settings.max_token_validity
                    + self.rules.leeway_secs as i64,
            },
        })
        .await?;
        tx.commit().await?;
        tracing::info!(client = %client.consumer_key, "consumer secret regenerated; earlier tokens revoked");
        Ok(secret)
    }

    /// OIDC userinfo for an access token granted the `openid` scope.
    pub async fn userinfo(&self, token: &str) -> Result<serde_json::Value> {
        let claims = self
            .introspect(token)
            .await?
            .ok_or_else(|| KeyManagerError::InvalidToken("the access token is not valid".into()))?;
        if !claims.scopes().any(|s| s == "openid") {
            return Err(KeyManagerError::InsufficientScope(
                "the access token was not granted the openid scope".into(),
            ));
        }
        if claims.aut != "APPLICATION_USER" {
            return Err(KeyManagerError::InsufficientScope(
                "the access token does not stand for a user".into(),
            ));
        }
        let user = self
            .user(&claims.sub)
            .await?
            .ok_or_else(|| KeyManagerError::InvalidToken("the user no longer exists".into()))?;
        Ok(serde_json::json!({
            "sub": claims.sub,
            "preferred_username": user.username,
            "groups": user.roles,
        }))
    }

    /// Proves the caller holds the credentials of a client registered at another key manager:
    /// that key manager's token endpoint grants them a token.
    pub async fn check_remote_client(
        &self,
        token_endpoint: &str,
        consumer_key: &str,
        consumer_secret: &str,
    ) -> Result<()> {
        self.external
            .check_client(token_endpoint, consumer_key, consumer_secret)
            .await
    }

    /// Another authorization server's discovery document (`.well-known/openid-configuration`
    /// or `oauth-authorization-server`).
    pub async fn discover_remote(&self, url: &str) -> Result<serde_json::Value> {
        self.external.discover(url).await
    }

    /// Revokes a user's refresh tokens and the access tokens issued with them (announced to
    /// gateways): their password changed, their roles shrank, or they were deleted.
    pub async fn revoke_user_tokens(&self, tenant: &str, username: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let issued = tx
            .revoke_refresh_tokens_of_subject(&qualify_username(tenant, username))
            .await?;
        grants::revoke_all(&mut tx, tenant, issued).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new password's stored form (argon2, on the bounded pool).
    pub async fn hash_password(&self, password: &str) -> Result<String> {
        self.logins.hash_password(password).await
    }

    /// The grant types `/oauth2/token` accepts, by their RFC names.
    pub fn supported_grants(&self) -> Vec<&'static str> {
        let mut grants = vec![
            tollgate_model::GrantType::AuthorizationCode,
            tollgate_model::GrantType::ClientCredentials,
            tollgate_model::GrantType::RefreshToken,
            tollgate_model::GrantType::JwtBearer,
        ];
        if self.settings().password_grant {
            grants.push(tollgate_model::GrantType::Password);
        }
        grants
            .into_iter()
            .map(tollgate_model::GrantType::as_str)
            .collect()
    }

    /// The URL the OAuth2 endpoints live under (the issuer without `/oauth2/token`).
    pub fn base_url(&self) -> &str {
        self.issuer
            .strip_suffix("/oauth2/token")
            .unwrap_or(&self.issuer)
    }

    /// RFC 7009: revokes an access token (JWT or opaque) or a refresh token (with its family
    /// and the access tokens issued with it) issued to `client_id`, announced to gateways.
    /// Tokens that are not ours, not the client's, or expired already are ignored.
    pub async fn revoke(&self, client_id: &str, token: &str) -> Result<()> {
        let hash = hash_secret(token);
        if let Some(refresh) = self.store.refresh_token(&hash).await? {
            if refresh.consumer_key == client_id {
                self.revoke_family(&refresh.tenant, &refresh.family_id)
                    .await?;
                tracing::info!(family = %refresh.family_id, "refresh token revoked");
            }
            return Ok(());
        }
        let Some(claims) = self.introspect(token).await? else {
            return Ok(());
        };
        if claims.azp != client_id {
            return Ok(());
        }
        let (tenant, _) = split_tenant(&claims.sub);
        let mut tx = self.store.begin().await?;
        grants::revoke_all(&mut tx, tenant, vec![(claims.jti.clone(), claims.exp)]).await?;
        tx.commit().await?;
        tracing::info!(jti = %claims.jti, "token revoked");
        Ok(())
    }

    /// The public keys in JWKS form.
    pub fn jwks(&self) -> serde_json::Value {
        self.keys.load().jwks()
    }
}

/// Hashes client secrets that were stored before secrets were hashed.
async fn hash_stored_secrets(store: &Store) -> Result<()> {
    let plain: Vec<_> = store
        .client_secrets()
        .await?
        .into_iter()
        .filter(|(_, stored)| !secrets::is_hashed(stored))
        .collect();
    if plain.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    for (consumer_key, secret) in &plain {
        tx.set_client_secret(consumer_key, &hash_secret(secret))
            .await?;
    }
    tx.commit().await?;
    tracing::info!(
        clients = plain.len(),
        "client secrets stored before hashing are hashed now"
    );
    Ok(())
}

/// A fresh OAuth client: random id and secret in WSO2's shape (URL-safe, no padding). Returns
/// the row (holding the secret's hash) and the secret, which is shown once.
pub fn new_client(
    tenant: &str,
    owner: &str,
    client_name: &str,
    grant_types: Vec<tollgate_model::GrantType>,
    callback_url: &str,
) -> (OAuthClientRow, String) {
    let secret = secrets::random_token(21);
    let row = OAuthClientRow {
        consumer_key: secrets::random_token(21),
        tenant: tenant.to_string(),
        consumer_secret: hash_secret(&secret),
        client_name: client_name.to_string(),
        owner: owner.to_string(),
        grant_types,
        callback_url: callback_url.to_string(),
        created_time: tollgate_model::now_millis(),
        token_type: tollgate_model::TokenType::Jwt,
        validity: ClientValidity::default(),
        key_manager: RESIDENT_KEY_MANAGER.into(),
    };
    (row, secret)
}

/// A new secret for a client (the old one stops working at once); returns it, shown once.
pub fn new_secret() -> (String, String) {
    let secret = secrets::random_token(21);
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// `user@tenant` → (tenant, user), the super tenant when none is given.
/// A username as token subjects carry it: the super tenant's bare, other tenants' with
/// `@tenant` (the inverse of [`split_tenant`]).
pub fn qualify_username(tenant: &str, username: &str) -> String {
    if tenant == tollgate_model::SUPER_TENANT {
        username.to_string()
    } else {
        format!("{username}@{tenant}")
    }
}

pub fn split_tenant(username: &str) -> (&str, &str) {
    match username.rsplit_once('@') {
        Some((name, tenant)) if tenant.contains('.') => (tenant, name),
        _ => (tollgate_model::SUPER_TENANT, username),
    }
}

#[doc(hidden)]
pub fn _signing_key_for_tests(issuer: &str) -> Result<SigningKeyRow> {
    tokens::generate_signing_key(issuer)
}
