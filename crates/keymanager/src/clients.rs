//! Dynamic client registration (WSO2's `/client-registration/v0.17/register`): what a user may
//! register, checked here; the HTTP edge only reads WSO2's JSON and writes the answer.

use tollgate_model::scopes::roles;
use tollgate_model::{GrantType, TokenType};
use tollgate_store::OAuthClientRow;

use crate::{AuthenticatedUser, KeyManager, KeyManagerError, Result};

/// The grant types a client registered without `grantType` gets (WSO2's default).
pub const DEFAULT_GRANT_TYPES: &[GrantType] = &[
    GrantType::Password,
    GrantType::RefreshToken,
    GrantType::ClientCredentials,
];

/// The longest client name accepted.
const MAX_CLIENT_NAME: usize = 255;

/// A registration request, as WSO2's DCR body states it.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistration {
    pub client_name: String,
    /// Whose client it is; the caller when absent. Only an administrator names someone else.
    pub owner: Option<String>,
    /// Space-separated grant type names (`grantType`); [`DEFAULT_GRANT_TYPES`] when absent.
    pub grant_types: Option<String>,
    pub callback_url: Option<String>,
    /// `JWT` (the default) or `OAUTH`.
    pub token_type: Option<String>,
}

/// A registered client and its secret (shown once).
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client: OAuthClientRow,
    pub secret: String,
}

impl KeyManager {
    /// Registers an OAuth client for `user` (or, for an administrator, for the owner named).
    pub async fn register_client(
        &self,
        user: &AuthenticatedUser,
        registration: ClientRegistration,
    ) -> Result<RegisteredClient> {
        let invalid = |message: String| Err(KeyManagerError::InvalidRequest(message));
        for (field, value) in [
            ("clientName", Some(&registration.client_name)),
            ("owner", registration.owner.as_ref()),
            ("grantType", registration.grant_types.as_ref()),
            ("callbackUrl", registration.callback_url.as_ref()),
            ("tokenType", registration.token_type.as_ref()),
        ] {
            if value.is_some_and(|v| v.chars().any(|c| c.is_ascii_control())) {
                return invalid(format!(
                    "Field '{field}' contains a control character; it is not allowed"
                ));
            }
        }
        let client_name = registration.client_name.trim();
        if client_name.is_empty() {
            return invalid("clientName is required".into());
        }
        if client_name.chars().count() > MAX_CLIENT_NAME {
            return invalid(format!(
                "Field 'clientName' must have at most {MAX_CLIENT_NAME} characters"
            ));
        }
        let grant_types = match registration.grant_types.as_deref() {
            None => DEFAULT_GRANT_TYPES.to_vec(),
            Some(names) => grant_types(names)?,
        };
        let token_type = match registration.token_type.as_deref().map(str::trim) {
            None | Some("") => TokenType::Jwt,
            Some(name) => name
                .parse()
                .map_err(|e| KeyManagerError::InvalidRequest(format!("Field 'tokenType': {e}")))?,
        };
        let owner = match registration.owner.as_deref().map(str::trim) {
            Some(owner) if !owner.is_empty() && owner != user.username => {
                if !user.roles.iter().any(|r| r == roles::ADMIN) {
                    return Err(KeyManagerError::Forbidden(format!(
                        "User {} may not register a client for {owner}",
                        user.username
                    )));
                }
                owner.to_string()
            }
            _ => user.username.clone(),
        };
        let (mut client, secret) = crate::new_client(
            &user.tenant,
            &owner,
            client_name,
            grant_types,
            registration.callback_url.as_deref().unwrap_or(""),
        );
        client.token_type = token_type;
        let mut tx = self.store().begin().await?;
        tx.insert_oauth_client(&client).await?;
        tx.commit().await?;
        Ok(RegisteredClient { client, secret })
    }
}

/// Grant type names separated by spaces (or commas), each one WSO2 knows, each once.
pub fn grant_types(names: &str) -> Result<Vec<GrantType>> {
    let mut grants = Vec::new();
    for name in names
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|n| !n.is_empty())
    {
        let grant: GrantType = name
            .parse()
            .map_err(|e| KeyManagerError::InvalidRequest(format!("Field 'grantType': {e}")))?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    Ok(grants)
}
