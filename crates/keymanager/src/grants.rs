//! The token endpoint's rules: a [`TokenRequest`] parsed from the form (or built by the developer
//! portal), dispatched by [`KeyManager::grant`] to the grant's own checks, and the issuing of
//! access, refresh and ID tokens that every grant shares.

use std::collections::HashMap;
use std::net::IpAddr;

use tollgate_model::{GrantType, TokenType};
use tollgate_store::{
    ApimTx, AuthorizationCodeRow, Change, IssuedToken, OAuthClientRow, RefreshState,
    RefreshTokenRow,
};

use crate::secrets::{hash_secret, random_token};
use crate::tokens::{at_hash, Claims, IdTokenClaims};
use crate::{split_tenant, KeyManager, KeyManagerError, Result};

/// The longest an assertion of the JWT bearer grant may be valid for (RFC 7523 §3: the
/// server may refuse far-off expiries).
const MAX_ASSERTION_LIFETIME_SECS: i64 = 3600;

/// What a client asks the token endpoint for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub grant: Grant,
    /// WSO2's `validity_period` (seconds); `None` for the client's or configured default.
    pub validity_period: Option<i64>,
}

/// A grant with the parameters it needs, each checked for presence when parsed.
#[derive(Clone)]
pub enum Grant {
    ClientCredentials {
        scope: Vec<String>,
    },
    Password {
        username: String,
        password: String,
        scope: Vec<String>,
    },
    RefreshToken {
        refresh_token: String,
        /// `None`: the scopes of the original grant.
        scope: Option<Vec<String>>,
    },
    AuthorizationCode {
        code: String,
        /// Required only when the authorization request carried one (RFC 6749 §4.1.3).
        redirect_uri: Option<String>,
        code_verifier: String,
    },
    /// RFC 7523: a JWT an external key manager signed for this server, exchanged for a token
    /// of its subject.
    JwtBearer {
        assertion: String,
        scope: Vec<String>,
    },
}

impl std::fmt::Debug for Grant {
    // Never prints passwords, codes or tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.grant_type().as_str())
    }
}

impl Grant {
    pub fn grant_type(&self) -> GrantType {
        match self {
            Grant::ClientCredentials { .. } => GrantType::ClientCredentials,
            Grant::Password { .. } => GrantType::Password,
            Grant::RefreshToken { .. } => GrantType::RefreshToken,
            Grant::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Grant::JwtBearer { .. } => GrantType::JwtBearer,
        }
    }
}

/// What the token endpoint answers.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: String,
    pub scopes: Vec<String>,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

impl TokenResponse {
    /// RFC 6749 §5.1's body.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "access_token": self.access_token,
            "scope": self.scopes.join(" "),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        });
        if let Some(refresh) = &self.refresh_token {
            body["refresh_token"] = refresh.clone().into();
        }
        if let Some(id) = &self.id_token {
            body["id_token"] = id.clone().into();
        }
        body
    }
}

/// The most scopes one request may name: far more than any client needs (WSO2's REST APIs
/// have about 70 between them), few enough that checking them stays cheap.
pub const MAX_REQUESTED_SCOPES: usize = 256;

/// A `scope` parameter's scopes (RFC 6749 §3.3), bounded by [`MAX_REQUESTED_SCOPES`].
pub(crate) fn scope_list(text: Option<&String>) -> Result<Vec<String>> {
    let scopes: Vec<String> = text
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    if scopes.len() > MAX_REQUESTED_SCOPES {
        return Err(KeyManagerError::InvalidScope(format!(
            "scope names {} scopes; at most {MAX_REQUESTED_SCOPES} may be requested at once",
            scopes.len()
        )));
    }
    Ok(scopes)
}

fn required(form: &HashMap<String, String>, name: &str) -> Result<String> {
    form.get(name)
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| KeyManagerError::InvalidRequest(format!("{name} is required")))
}

impl TokenRequest {
    /// Parses the token endpoint's form (RFC 6749 §4). An unknown or unsupported `grant_type`
    /// is `unsupported_grant_type`; a missing parameter `invalid_request`, naming it.
    pub fn from_form(form: &HashMap<String, String>) -> Result<TokenRequest> {
        let grant_type = required(form, "grant_type")?;
        let grant = match GrantType::parse(&grant_type) {
            Some(GrantType::ClientCredentials) => Grant::ClientCredentials {
                scope: scope_list(form.get("scope"))?,
            },
            Some(GrantType::Password) => Grant::Password {
                username: required(form, "username")?,
                password: required(form, "password")?,
                scope: scope_list(form.get("scope"))?,
            },
            Some(GrantType::RefreshToken) => Grant::RefreshToken {
                refresh_token: required(form, "refresh_token")?,
                scope: match form.get("scope") {
                    Some(text) => Some(scope_list(Some(text))?),
                    None => None,
                },
            },
            Some(GrantType::AuthorizationCode) => Grant::AuthorizationCode {
                code: required(form, "code")?,
                redirect_uri: form.get("redirect_uri").filter(|u| !u.is_empty()).cloned(),
                code_verifier: required(form, "code_verifier")?,
            },
            Some(GrantType::JwtBearer) => Grant::JwtBearer {
                assertion: required(form, "assertion")?,
                scope: scope_list(form.get("scope"))?,
            },
            _ => return Err(KeyManagerError::UnsupportedGrantType(grant_type)),
        };
        let validity_period = match form.get("validity_period") {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(v) if v > 0 => Some(v),
                Ok(-1) => None,
                _ => {
                    return Err(KeyManagerError::InvalidRequest(format!(
                        "validity_period must be a positive number of seconds, not '{text}'"
                    )))
                }
            },
        };
        Ok(TokenRequest {
            grant,
            validity_period,
        })
    }
}

/// Whether a refresh token is issued with the access token.
enum Refresh {
    No,
    /// A new family (first grant).
    New,
    /// The next token of a family (rotation).
    Continue(String),
}

/// Everything one issue of tokens needs.
struct Issue<'a> {
    client: &'a OAuthClientRow,
    subject: String,
    user_token: bool,
    scopes: Vec<String>,
    validity_period: Option<i64>,
    refresh: Refresh,
    /// `Some((nonce, auth_time))` when an ID token is due.
    openid: Option<(Option<String>, i64)>,
}

/// What was issued, for records that must point at it (codes, families).
struct Issued {
    response: TokenResponse,
    access: IssuedToken,
    family: Option<String>,
}

impl KeyManager {
    /// Runs a grant for an authenticated client: checks the client may use it, then the
    /// grant's own rules, then issues tokens.
    pub async fn grant(
        &self,
        client: &OAuthClientRow,
        request: TokenRequest,
        source: Option<IpAddr>,
    ) -> Result<TokenResponse> {
        let grant_type = request.grant.grant_type();
        if grant_type == GrantType::Password && !self.settings.password_grant {
            return Err(KeyManagerError::UnsupportedGrantType(
                grant_type.as_str().into(),
            ));
        }
        if !client.grant_types.contains(&grant_type) {
            return Err(KeyManagerError::UnauthorizedClient(
                grant_type.as_str().into(),
            ));
        }
        if let Some(v) = request.validity_period {
            if v > self.settings.max_token_validity {
                return Err(KeyManagerError::InvalidRequest(format!(
                    "validity_period must be at most {} seconds",
                    self.settings.max_token_validity
                )));
            }
        }
        let validity_period = request.validity_period;
        match request.grant {
            Grant::ClientCredentials { scope } => {
                // Client credentials act as the client's owner, as in WSO2.
                let roles = self
                    .user(&client.owner)
                    .await?
                    .map(|u| u.roles)
                    .unwrap_or_default();
                let scopes = self.scopes_for(&client.owner, &roles, &scope).await?;
                let issued = self
                    .issue(Issue {
                        client,
                        subject: client.owner.clone(),
                        user_token: false,
                        scopes,
                        validity_period,
                        refresh: Refresh::No,
                        openid: None,
                    })
                    .await?;
                Ok(issued.response)
            }
            Grant::Password {
                username,
                password,
                scope,
            } => {
                let user = self
                    .authenticate_user(&username, &password, source)
                    .await?
                    .ok_or_else(|| {
                        KeyManagerError::InvalidGrant("Authentication failed for the user".into())
                    })?;
                let scopes = self.scopes_for(&user.username, &user.roles, &scope).await?;
                let openid = scopes
                    .iter()
                    .any(|s| s == "openid")
                    .then(|| (None, now_secs()));
                let issued = self
                    .issue(Issue {
                        client,
                        subject: user.username,
                        user_token: true,
                        scopes,
                        validity_period,
                        refresh: self.refresh_for(client, Refresh::New),
                        openid,
                    })
                    .await?;
                Ok(issued.response)
            }
            Grant::RefreshToken {
                refresh_token,
                scope,
            } => {
                self.refresh(client, &refresh_token, scope, validity_period)
                    .await
            }
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.exchange_code(
                    client,
                    &code,
                    redirect_uri.as_deref(),
                    &code_verifier,
                    validity_period,
                )
                .await
            }
            Grant::JwtBearer { assertion, scope } => {
                self.exchange_assertion(client, &assertion, &scope, validity_period)
                    .await
            }
        }
    }

    /// RFC 7523 §2.1: the assertion's issuer must be an enabled external key manager of the
    /// client's tenant, its audience this server, its lifetime short. The token is for its
    /// `sub` as a federated user of that key manager, with the requested scopes no role guards.
    async fn exchange_assertion(
        &self,
        client: &OAuthClientRow,
        assertion: &str,
        scope: &[String],
        validity_period: Option<i64>,
    ) -> Result<TokenResponse> {
        let issuer = tollgate_jwt::unverified_issuer(assertion)
            .map_err(|e| KeyManagerError::InvalidGrant(format!("the assertion: {e}")))?;
        let key_manager = self
            .store
            .key_manager_by_issuer(&client.tenant, &issuer)
            .await?
            .ok_or_else(|| {
                KeyManagerError::InvalidGrant(format!(
                    "the assertion's issuer '{issuer}' is not a trusted key manager"
                ))
            })?;
        let claims = self
            .external
            .verify_assertion(&key_manager, assertion, std::slice::from_ref(&self.issuer))
            .await?;
        let remote_subject = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control))
            .ok_or_else(|| KeyManagerError::InvalidGrant("the assertion has no 'sub'".into()))?;
        let expires = claims
            .get("exp")
            .and_then(|e| e.as_i64())
            .unwrap_or(i64::MAX);
        if expires > now_secs() + MAX_ASSERTION_LIFETIME_SECS {
            return Err(KeyManagerError::InvalidGrant(format!(
                "the assertion must expire within {MAX_ASSERTION_LIFETIME_SECS} seconds"
            )));
        }
        // The subject is the other key manager's user, never a local one of the same name: it
        // is named in that key manager's domain (`Partner/alice`, '@' escaped so that no
        // tenant can be smuggled in), lives in the client's tenant, and holds no local roles —
        // so only scopes bound to no role are granted.
        let federated = format!("{}/{}", key_manager.name, remote_subject).replace('@', "%40");
        let subject = crate::qualify_username(&client.tenant, &federated);
        let scopes = self.scopes_for(&subject, &[], scope).await?;
        let issued = self
            .issue(Issue {
                client,
                subject,
                user_token: true,
                scopes,
                validity_period,
                refresh: Refresh::No,
                openid: None,
            })
            .await?;
        tracing::info!(key_manager = %key_manager.name, "assertion exchanged for a token");
        Ok(issued.response)
    }

    /// Issues tokens in a transaction of their own.
    async fn issue(&self, issue: Issue<'_>) -> Result<Issued> {
        let mut tx = self.store.begin().await?;
        let issued = self.issue_in(&mut tx, issue).await?;
        tx.commit().await?;
        Ok(issued)
    }

    /// The scopes of a token for `subject` holding `roles`: what they asked for and may have.
    async fn scopes_for(
        &self,
        subject: &str,
        roles: &[String],
        requested: &[String],
    ) -> Result<Vec<String>> {
        let (tenant, _) = split_tenant(subject);
        let requested: Vec<&str> = requested.iter().map(String::as_str).collect();
        self.grant_scopes(tenant, roles, &requested).await
    }

    fn refresh_for(&self, client: &OAuthClientRow, wanted: Refresh) -> Refresh {
        if client.grant_types.contains(&GrantType::RefreshToken) {
            wanted
        } else {
            Refresh::No
        }
    }

    /// RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the presented token is used up and a new one
    /// of the same family issued; presenting a used one again revokes the whole family.
    async fn refresh(
        &self,
        client: &OAuthClientRow,
        refresh_token: &str,
        scope: Option<Vec<String>>,
        validity_period: Option<i64>,
    ) -> Result<TokenResponse> {
        let hash = hash_secret(refresh_token);
        let invalid = || KeyManagerError::InvalidGrant("the refresh token is invalid".into());
        let row = self.store.refresh_token(&hash).await?.ok_or_else(invalid)?;
        if !tollgate_guard::constant_time_eq(
            row.consumer_key.as_bytes(),
            client.consumer_key.as_bytes(),
        ) {
            return Err(invalid());
        }
        match row.state {
            RefreshState::Revoked => return Err(invalid()),
            RefreshState::Used => {
                self.revoke_family(&row.tenant, &row.family_id).await?;
                tracing::warn!(client = %client.consumer_key, family = %row.family_id,
                    "a used refresh token was presented again; its family is revoked");
                return Err(KeyManagerError::InvalidGrant(
                    "the refresh token was used already; every token of its grant is revoked"
                        .into(),
                ));
            }
            RefreshState::Active => {}
        }
        if row.expires_at <= now_secs() {
            return Err(KeyManagerError::InvalidGrant(
                "the refresh token has expired".into(),
            ));
        }
        let original: Vec<String> = row.scope.split_whitespace().map(str::to_string).collect();
        let requested = match scope {
            None => original.clone(),
            Some(asked) => {
                if let Some(extra) = asked.iter().find(|s| !original.contains(s)) {
                    return Err(KeyManagerError::InvalidScope(format!(
                        "scope '{extra}' was not part of the original grant"
                    )));
                }
                asked
            }
        };
        let user = self
            .user(&row.subject)
            .await?
            .ok_or_else(|| KeyManagerError::InvalidGrant("the user no longer exists".into()))?;
        // The user's roles may have changed since: grant again what they still allow.
        let scopes = self
            .scopes_for(&row.subject, &user.roles, &requested)
            .await?;
        let openid = scopes
            .iter()
            .any(|s| s == "openid")
            .then(|| (None, now_secs()));
        let mut tx = self.store.begin().await?;
        if !tx.use_refresh_token(&hash).await? {
            // A concurrent exchange of the same token won: this one is a replay.
            tx.rollback().await?;
            self.revoke_family(&row.tenant, &row.family_id).await?;
            return Err(KeyManagerError::InvalidGrant(
                "the refresh token was used already; every token of its grant is revoked".into(),
            ));
        }
        let issued = self
            .issue_in(
                &mut tx,
                Issue {
                    client,
                    subject: row.subject.clone(),
                    user_token: true,
                    scopes,
                    validity_period,
                    refresh: Refresh::Continue(row.family_id.clone()),
                    openid,
                },
            )
            .await?;
        tx.commit().await?;
        Ok(issued.response)
    }

    /// RFC 6749 §4.1.3 with PKCE (RFC 7636, S256 only): single use; the redirect URI the
    /// authorization request carried, exactly — or, when it carried none (the registered one was
    /// used), none or the registered one.
    async fn exchange_code(
        &self,
        client: &OAuthClientRow,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: &str,
        validity_period: Option<i64>,
    ) -> Result<TokenResponse> {
        let hash = hash_secret(code);
        let invalid = || KeyManagerError::InvalidGrant("the authorization code is invalid".into());
        let row = self
            .store
            .authorization_code(&hash)
            .await?
            .ok_or_else(invalid)?;
        if row.consumer_key != client.consumer_key {
            return Err(invalid());
        }
        let mut tx = self.store.begin().await?;
        if !tx.use_authorization_code(&hash).await? {
            tx.rollback().await?;
            self.revoke_code_tokens(&row).await?;
            tracing::warn!(client = %client.consumer_key,
                "an authorization code was presented again; the tokens issued from it are revoked");
            return Err(KeyManagerError::InvalidGrant(
                "the authorization code was used already".into(),
            ));
        }
        if row.expires_at <= now_secs() {
            tx.commit().await?;
            return Err(KeyManagerError::InvalidGrant(
                "the authorization code has expired".into(),
            ));
        }
        let redirect_problem = match (row.redirect_uri.as_str(), redirect_uri) {
            ("", None) => None,
            ("", Some(given)) if given == client.callback_url => None,
            ("", Some(_)) => Some("redirect_uri is not the one registered for this application"),
            (_, None) => Some("redirect_uri is required: the authorization request carried one"),
            (carried, Some(given)) if carried == given => None,
            (_, Some(_)) => {
                Some("redirect_uri does not match the one of the authorization request")
            }
        };
        if let Some(problem) = redirect_problem {
            tx.commit().await?;
            return Err(KeyManagerError::InvalidGrant(problem.into()));
        }
        if !crate::authorize::verifier_matches(code_verifier, &row.code_challenge) {
            tx.commit().await?;
            return Err(KeyManagerError::InvalidGrant(
                "code_verifier does not match the code challenge".into(),
            ));
        }
        let scopes: Vec<String> = row.scope.split_whitespace().map(str::to_string).collect();
        let openid = scopes
            .iter()
            .any(|s| s == "openid")
            .then(|| (row.nonce.clone(), row.auth_time));
        let issued = self
            .issue_in(
                &mut tx,
                Issue {
                    client,
                    subject: row.subject.clone(),
                    user_token: true,
                    scopes,
                    validity_period,
                    refresh: self.refresh_for(client, Refresh::New),
                    openid,
                },
            )
            .await?;
        tx.set_code_tokens(&hash, issued.family.as_deref(), &issued.access)
            .await?;
        tx.commit().await?;
        Ok(issued.response)
    }

    /// Signs (or, for `OAUTH` clients, records) an access token, with a refresh token and an
    /// ID token when due, in the caller's transaction.
    async fn issue_in(&self, tx: &mut ApimTx, issue: Issue<'_>) -> Result<Issued> {
        let client = issue.client;
        let settings = &self.settings;
        let default_validity = if issue.user_token {
            client
                .validity
                .user_access_token
                .unwrap_or(settings.user_access_token_validity)
        } else {
            client
                .validity
                .application_access_token
                .unwrap_or(settings.app_access_token_validity)
        };
        let validity = issue
            .validity_period
            .unwrap_or(default_validity)
            .clamp(1, settings.max_token_validity);
        let scopes = if issue.scopes.is_empty() {
            vec!["default".to_string()]
        } else {
            issue.scopes
        };
        let key_type = self
            .store
            .key_mapping_by_consumer_key(&client.consumer_key)
            .await?
            .map(|m| m.key_type.as_str().to_string());
        let now = now_secs();
        // After a revocation of the client's tokens "before T" (in whole seconds), a token
        // issued within that same second must not count as before it.
        let issued_at = match self
            .store
            .consumer_key_revoked_before(&client.consumer_key)
            .await?
        {
            Some(before) => now.max(before),
            None => now,
        };
        let (tenant, _) = split_tenant(&issue.subject);
        let claims = Claims {
            sub: issue.subject.clone(),
            aut: if issue.user_token {
                "APPLICATION_USER"
            } else {
                "APPLICATION"
            }
            .to_string(),
            aud: client.consumer_key.clone(),
            nbf: now,
            azp: client.consumer_key.clone(),
            scope: scopes.join(" "),
            iss: self.issuer.clone(),
            exp: now + validity,
            iat: issued_at,
            jti: uuid::Uuid::new_v4().to_string(),
            client_id: client.consumer_key.clone(),
            keytype: key_type,
        };
        let keys = self.keys.load();
        let access_token = if client.token_type == TokenType::Oauth {
            let token = random_token(32);
            tx.insert_access_token(&tollgate_store::AccessTokenRow {
                token_hash: hash_secret(&token),
                jti: claims.jti.clone(),
                tenant: tenant.to_string(),
                consumer_key: client.consumer_key.clone(),
                subject: claims.sub.clone(),
                aut: claims.aut.clone(),
                scope: claims.scope.clone(),
                key_type: claims.keytype.clone(),
                issued_at,
                expires_at: claims.exp,
            })
            .await?;
            token
        } else {
            keys.signer()
                .sign(tollgate_jwt::ACCESS_TOKEN_TYP, &claims)?
        };
        let access = (claims.jti.clone(), claims.exp);
        let family = match issue.refresh {
            Refresh::No => None,
            Refresh::New => Some(uuid::Uuid::new_v4().to_string()),
            Refresh::Continue(family) => Some(family),
        };
        let refresh_token = match &family {
            None => None,
            Some(family) => {
                let token = random_token(32);
                let validity = client
                    .validity
                    .refresh_token
                    .unwrap_or(settings.refresh_token_validity);
                tx.insert_refresh_token(&RefreshTokenRow {
                    token_hash: hash_secret(&token),
                    family_id: family.clone(),
                    tenant: tenant.to_string(),
                    consumer_key: client.consumer_key.clone(),
                    subject: claims.sub.clone(),
                    scope: claims.scope.clone(),
                    access_jti: claims.jti.clone(),
                    access_expires_at: claims.exp,
                    expires_at: now + validity,
                    state: RefreshState::Active,
                    created_time: tollgate_model::now_millis(),
                })
                .await?;
                Some(token)
            }
        };
        let id_token = match issue.openid {
            None => None,
            Some((nonce, auth_time)) => {
                let validity = client
                    .validity
                    .id_token
                    .unwrap_or(settings.id_token_validity)
                    .clamp(1, settings.max_token_validity);
                let id = IdTokenClaims {
                    iss: self.issuer.clone(),
                    sub: claims.sub.clone(),
                    aud: client.consumer_key.clone(),
                    exp: now + validity,
                    iat: now,
                    auth_time,
                    nonce,
                    at_hash: at_hash(&access_token),
                };
                Some(keys.signer().sign("JWT", &id)?)
            }
        };
        Ok(Issued {
            response: TokenResponse {
                access_token,
                scopes,
                expires_in: validity,
                refresh_token,
                id_token,
            },
            access,
            family,
        })
    }

    /// Revokes a refresh token family and the access tokens issued with it.
    pub(crate) async fn revoke_family(&self, tenant: &str, family_id: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let issued = tx.revoke_refresh_family(family_id).await?;
        revoke_all(&mut tx, tenant, issued).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A replayed code: what was issued from it is revoked (RFC 6749 §4.1.2).
    async fn revoke_code_tokens(&self, code: &AuthorizationCodeRow) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let mut issued = Vec::new();
        if let Some(family) = &code.family_id {
            issued.extend(tx.revoke_refresh_family(family).await?);
        }
        if let (Some(jti), Some(exp)) = (&code.access_jti, code.access_expires_at) {
            issued.push((jti.clone(), exp));
        }
        revoke_all(&mut tx, &code.tenant, issued).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Revokes access tokens by id, each announced to gateways.
pub(crate) async fn revoke_all(
    tx: &mut ApimTx,
    tenant: &str,
    tokens: Vec<IssuedToken>,
) -> Result<()> {
    let now = now_secs();
    for (jti, expires_at) in tokens {
        if expires_at <= now {
            continue;
        }
        tx.apply(&Change::RevokeToken {
            tenant: tenant.to_string(),
            token: tollgate_model::RevokedToken { jti, expires_at },
        })
        .await?;
    }
    Ok(())
}

pub(crate) fn now_secs() -> i64 {
    tollgate_model::now_millis() / 1000
}
