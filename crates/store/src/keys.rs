use sqlx::any::AnyRow;
use tollgate_model::{GrantType, KeyMappingMode, KeyType, TokenType};

use crate::db::{col, name_col};
use crate::{ApimTx, Result, Store, StoreError};

/// An OAuth client of the resident key manager.
#[derive(Debug, Clone)]
pub struct OAuthClientRow {
    pub consumer_key: String,
    pub tenant: String,
    /// A hash of the secret (`sha256:…`, see the key manager's `secrets`), never the secret.
    pub consumer_secret: String,
    pub client_name: String,
    pub owner: String,
    pub grant_types: Vec<GrantType>,
    pub callback_url: String,
    pub created_time: i64,
    /// Signed access tokens or opaque ones.
    pub token_type: TokenType,
    /// Token lifetimes of this client in seconds; `None`: the configured default.
    pub validity: ClientValidity,
    /// The key manager that issued the client (another issuer's clients come from `map-keys`).
    pub key_manager: String,
}

/// Token lifetimes of one client, in seconds (`None`: the configured default), after WSO2's
/// `application_access_token_expiry_time` and its siblings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientValidity {
    pub application_access_token: Option<i64>,
    pub user_access_token: Option<i64>,
    pub refresh_token: Option<i64>,
    pub id_token: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct KeyMappingRow {
    pub id: String,
    pub tenant: String,
    pub application_id: String,
    pub consumer_key: String,
    pub key_type: KeyType,
    pub key_manager: String,
    /// Generated here, or mapped from a client registered elsewhere.
    pub mode: KeyMappingMode,
    pub created_time: i64,
}

#[derive(Debug, Clone)]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_key_pem: String,
    pub n: String,
    pub e: String,
    pub issuer: String,
    pub created_time: i64,
    /// Set when a newer key took over: published until then (seconds), dropped after.
    pub retire_after: Option<i64>,
}

const CLIENT_COLUMNS: &str =
    "consumer_key, tenant, consumer_secret, client_name, owner, grant_types, callback_url, created_time, \
     token_type, app_token_validity, user_token_validity, refresh_token_validity, id_token_validity, key_manager";
const MAPPING_COLUMNS: &str =
    "key_mapping_id, tenant, application_id, consumer_key, key_type, key_manager, mode, created_time";
const SIGNING_COLUMNS: &str = "kid, private_key_pem, n, e, issuer, created_time, retire_after";

fn client_from(row: &AnyRow) -> Result<OAuthClientRow> {
    Ok(OAuthClientRow {
        consumer_key: col(row, "consumer_key")?,
        tenant: col(row, "tenant")?,
        consumer_secret: col(row, "consumer_secret")?,
        client_name: col(row, "client_name")?,
        owner: col(row, "owner")?,
        // Names no grant knows (written before grant types were checked) grant nothing.
        grant_types: col::<String>(row, "grant_types")?
            .split_whitespace()
            .filter_map(GrantType::parse)
            .collect(),
        callback_url: col(row, "callback_url")?,
        created_time: col(row, "created_time")?,
        token_type: name_col(row, "token_type")?,
        validity: ClientValidity {
            application_access_token: col(row, "app_token_validity")?,
            user_access_token: col(row, "user_token_validity")?,
            refresh_token: col(row, "refresh_token_validity")?,
            id_token: col(row, "id_token_validity")?,
        },
        key_manager: col(row, "key_manager")?,
    })
}

pub(crate) fn mapping_from(row: &AnyRow) -> Result<KeyMappingRow> {
    Ok(KeyMappingRow {
        id: col(row, "key_mapping_id")?,
        tenant: col(row, "tenant")?,
        application_id: col(row, "application_id")?,
        consumer_key: col(row, "consumer_key")?,
        key_type: name_col(row, "key_type")?,
        key_manager: col(row, "key_manager")?,
        mode: name_col(row, "mode")?,
        created_time: col(row, "created_time")?,
    })
}

pub(crate) fn signing_key_from(row: &AnyRow) -> Result<SigningKeyRow> {
    Ok(SigningKeyRow {
        kid: col(row, "kid")?,
        private_key_pem: col(row, "private_key_pem")?,
        n: col(row, "n")?,
        e: col(row, "e")?,
        issuer: col(row, "issuer")?,
        created_time: col(row, "created_time")?,
        retire_after: col(row, "retire_after")?,
    })
}

impl KeyMappingRow {
    pub fn to_model(&self) -> tollgate_model::KeyMapping {
        tollgate_model::KeyMapping {
            id: self.id.clone(),
            application_id: self.application_id.clone(),
            consumer_key: self.consumer_key.clone(),
            key_type: self.key_type,
            key_manager: self.key_manager.clone(),
        }
    }
}

impl SigningKeyRow {
    pub fn to_model(&self) -> tollgate_model::SigningKey {
        tollgate_model::SigningKey {
            kid: self.kid.clone(),
            alg: "RS256".into(),
            n: self.n.clone(),
            e: self.e.clone(),
            issuer: self.issuer.clone(),
        }
    }
}

impl ApimTx {
    pub async fn insert_oauth_client(&mut self, client: &OAuthClientRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_oauth_client ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&client.consumer_key)
        .bind(&client.tenant)
        .bind(&client.consumer_secret)
        .bind(&client.client_name)
        .bind(&client.owner)
        .bind(grant_type_list(&client.grant_types))
        .bind(&client.callback_url)
        .bind(client.created_time)
        .bind(client.token_type.as_str())
        .bind(client.validity.application_access_token)
        .bind(client.validity.user_access_token)
        .bind(client.validity.refresh_token)
        .bind(client.validity.id_token)
        .bind(&client.key_manager)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("consumer key {} is taken", client.consumer_key)
            })
        })?;
        Ok(())
    }

    /// Changes what a client may do: grant types, callback URL, token lifetimes and type.
    pub async fn update_oauth_client(&mut self, client: &OAuthClientRow) -> Result<()> {
        sqlx::query(
            "UPDATE am_oauth_client SET grant_types = $1, callback_url = $2, token_type = $3, \
             app_token_validity = $4, user_token_validity = $5, refresh_token_validity = $6, \
             id_token_validity = $7 WHERE consumer_key = $8",
        )
        .bind(grant_type_list(&client.grant_types))
        .bind(&client.callback_url)
        .bind(client.token_type.as_str())
        .bind(client.validity.application_access_token)
        .bind(client.validity.user_access_token)
        .bind(client.validity.refresh_token)
        .bind(client.validity.id_token)
        .bind(&client.consumer_key)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Replaces a client's stored secret (a hash).
    pub async fn set_client_secret(&mut self, consumer_key: &str, secret_hash: &str) -> Result<()> {
        sqlx::query("UPDATE am_oauth_client SET consumer_secret = $1 WHERE consumer_key = $2")
            .bind(secret_hash)
            .bind(consumer_key)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub(crate) async fn insert_key_mapping(&mut self, mapping: &KeyMappingRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_key_mapping ({MAPPING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&mapping.id)
        .bind(&mapping.tenant)
        .bind(&mapping.application_id)
        .bind(&mapping.consumer_key)
        .bind(mapping.key_type.as_str())
        .bind(&mapping.key_manager)
        .bind(mapping.mode.as_str())
        .bind(mapping.created_time)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!(
                    "{} keys are already generated for application {}",
                    mapping.key_type.as_str(),
                    mapping.application_id
                )
            })
        })?;
        Ok(())
    }

    /// Removes a key mapping and the OAuth client behind it.
    pub(crate) async fn delete_key_mapping(&mut self, mapping: &KeyMappingRow) -> Result<()> {
        sqlx::query("DELETE FROM am_key_mapping WHERE key_mapping_id = $1")
            .bind(&mapping.id)
            .execute(self.conn())
            .await?;
        sqlx::query("DELETE FROM am_oauth_client WHERE consumer_key = $1")
            .bind(&mapping.consumer_key)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub(crate) async fn insert_signing_key(
        &mut self,
        tenant: &str,
        key: &SigningKeyRow,
    ) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_signing_key (tenant, active, {SIGNING_COLUMNS}) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(tenant)
        .bind(&key.kid)
        .bind(&key.private_key_pem)
        .bind(&key.n)
        .bind(&key.e)
        .bind(&key.issuer)
        .bind(key.created_time)
        .bind(key.retire_after)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks every current key but `kid` as superseded: published until `retire_after`.
    pub(crate) async fn retire_signing_keys_except(
        &mut self,
        kid: &str,
        retire_after: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE am_signing_key SET retire_after = $1 WHERE kid <> $2 AND active = 1 AND retire_after IS NULL",
        )
        .bind(retire_after)
        .bind(kid)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl ApimTx {
    /// Replaces the stored (encrypted) private key of a signing key.
    pub async fn set_signing_key_private(&mut self, kid: &str, private_key: &str) -> Result<()> {
        sqlx::query("UPDATE am_signing_key SET private_key_pem = $1 WHERE kid = $2")
            .bind(private_key)
            .bind(kid)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records a revoked token; revoking twice is harmless.
    pub(crate) async fn revoke_token(
        &mut self,
        tenant: &str,
        token: &tollgate_model::RevokedToken,
    ) -> Result<bool> {
        let exists = sqlx::query("SELECT jti FROM am_revoked_token WHERE jti = $1")
            .bind(&token.jti)
            .fetch_optional(self.conn())
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        sqlx::query("INSERT INTO am_revoked_token (jti, tenant, expires_at, revoked_time) VALUES ($1, $2, $3, $4)")
            .bind(&token.jti)
            .bind(tenant)
            .bind(token.expires_at)
            .bind(tollgate_model::now_millis())
            .execute(self.conn())
            .await?;
        Ok(true)
    }
}

impl Store {
    pub async fn oauth_client(&self, consumer_key: &str) -> Result<Option<OAuthClientRow>> {
        sqlx::query(&format!(
            "SELECT {CLIENT_COLUMNS} FROM am_oauth_client WHERE consumer_key = $1"
        ))
        .bind(consumer_key)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(client_from)
        .transpose()
    }

    pub async fn key_mapping_by_consumer_key(
        &self,
        consumer_key: &str,
    ) -> Result<Option<KeyMappingRow>> {
        sqlx::query(&format!(
            "SELECT {MAPPING_COLUMNS} FROM am_key_mapping WHERE consumer_key = $1"
        ))
        .bind(consumer_key)
        .fetch_optional(self.apim())
        .await?
        .as_ref()
        .map(mapping_from)
        .transpose()
    }

    pub async fn key_mappings_of(&self, application_id: &str) -> Result<Vec<KeyMappingRow>> {
        sqlx::query(&format!(
            "SELECT {MAPPING_COLUMNS} FROM am_key_mapping WHERE application_id = $1 ORDER BY key_type"
        ))
        .bind(application_id)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(mapping_from)
        .collect()
    }

    /// The signing keys still published (current or not yet retired), newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>> {
        sqlx::query(&format!(
            "SELECT {SIGNING_COLUMNS} FROM am_signing_key WHERE active = 1 \
             AND (retire_after IS NULL OR retire_after > $1) ORDER BY created_time DESC, kid"
        ))
        .bind(tollgate_model::now_millis() / 1000)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(signing_key_from)
        .collect()
    }
}

impl Store {
    /// Whether the token with this `jti` has been revoked.
    pub async fn is_revoked(&self, jti: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT jti FROM am_revoked_token WHERE jti = $1")
                .bind(jti)
                .fetch_optional(self.apim())
                .await?
                .is_some(),
        )
    }
}

/// Grant types as stored: their names, separated by spaces (as WSO2's `GRANT_TYPES` column).
fn grant_type_list(grants: &[GrantType]) -> String {
    grants
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}
