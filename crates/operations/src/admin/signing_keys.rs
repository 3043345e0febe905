//! The key manager's token signing keys (Tollgate's own admin operations; WSO2 rotates its
//! keystore by hand): the published key set, and rotation.

use crate::{Actor, OpError, Services};

const VIEW: &[&str] = &[
    "apim:admin",
    "apim:keymanagers_manage",
    "apim:admin_operations",
];
const MANAGE: &[&str] = &["apim:admin", "apim:keymanagers_manage"];

/// A published signing key.
#[derive(Debug, Clone)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub algorithm: String,
    pub created_time: i64,
    /// `None` for the key that signs now; else when it stops being published (seconds).
    pub retire_after: Option<i64>,
}

/// The keys published in JWKS, the signing one first.
pub async fn list(services: &Services, actor: &Actor) -> Result<Vec<SigningKeyInfo>, OpError> {
    actor.require_any(VIEW)?;
    Ok(services
        .store
        .signing_keys()
        .await?
        .into_iter()
        .map(|key| SigningKeyInfo {
            kid: key.kid,
            algorithm: "RS256".into(),
            created_time: key.created_time,
            retire_after: key.retire_after,
        })
        .collect())
}

/// Adds a key that signs from now on; the replaced keys stay published (and accepted by
/// gateways) until every token they signed has expired.
pub async fn rotate(services: &Services, actor: &Actor) -> Result<SigningKeyInfo, OpError> {
    actor.require_any(MANAGE)?;
    let key = services.key_manager.rotate_keys().await?;
    tracing::info!(kid = %key.kid, user = %actor.username, "signing key rotated");
    Ok(SigningKeyInfo {
        kid: key.kid,
        algorithm: key.alg,
        created_time: tollgate_model::now_millis(),
        retire_after: None,
    })
}
