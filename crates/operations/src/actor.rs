use tollgate_model::scopes;

use crate::OpError;

/// Who is calling an operation: a tenant, a user, and what they may do.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant: String,
    pub username: String,
    grant: Grant,
}

#[derive(Debug, Clone)]
enum Grant {
    /// A bearer token: exactly the scopes it carries.
    Scopes(Vec<String>),
    /// Password authentication: whatever the user's roles allow.
    Roles(Vec<String>),
}

impl Actor {
    /// A caller holding a token with these scopes.
    pub fn with_scopes(tenant: String, username: String, scopes: Vec<String>) -> Actor {
        Actor {
            tenant,
            username,
            grant: Grant::Scopes(scopes),
        }
    }

    /// A caller who proved their password: their roles decide.
    pub fn with_roles(tenant: String, username: String, roles: Vec<String>) -> Actor {
        Actor {
            tenant,
            username,
            grant: Grant::Roles(roles),
        }
    }

    /// Passes when the caller holds any one of `scopes` (WSO2: any listed scope suffices).
    pub fn require_any(&self, required: &[&str]) -> Result<(), OpError> {
        let allowed = match &self.grant {
            Grant::Scopes(held) => required.iter().any(|s| held.iter().any(|h| h == s)),
            Grant::Roles(roles) => required.iter().any(|s| scopes::role_allows(roles, s)),
        };
        if allowed {
            Ok(())
        } else {
            Err(OpError::Forbidden(format!(
                "The caller lacks the scope for this operation; one of these is required: {}",
                required.join(", ")
            )))
        }
    }

    /// Whether the caller may act on other users' resources.
    pub fn is_admin(&self) -> bool {
        match &self.grant {
            Grant::Scopes(held) => held.iter().any(|s| s == "apim:admin"),
            Grant::Roles(roles) => roles.iter().any(|r| r == scopes::roles::ADMIN),
        }
    }
}

/// The caller behind a Bearer token: its subject, with the scopes it carries — but the REST
/// APIs' own (`apim:`) scopes only while the user's current roles still allow them, so a token
/// outlives neither its user nor the roles it was granted by.
pub async fn token_caller(services: &crate::Services, token: &str) -> Result<Actor, OpError> {
    let claims = services
        .key_manager
        .verify(token)
        .map_err(|e| OpError::Unauthenticated(format!("Invalid access token: {e}")))?;
    let (tenant, username) = tollgate_keymanager::split_tenant(&claims.sub);
    let mut held: Vec<String> = claims.scopes().map(str::to_string).collect();
    if held.iter().any(|s| s.starts_with("apim:")) {
        let roles = services
            .store
            .find_user(tenant, username)
            .await?
            .map(|user| user.roles)
            .unwrap_or_default();
        held.retain(|s| !s.starts_with("apim:") || scopes::role_allows(&roles, s));
    }
    Ok(Actor::with_scopes(
        tenant.to_string(),
        username.to_string(),
        held,
    ))
}

/// The caller behind Basic credentials: their roles decide. `source` is the client's address,
/// for the key manager's failure limits.
pub async fn password_caller(
    services: &crate::Services,
    username: &str,
    password: &str,
    source: Option<std::net::IpAddr>,
) -> Result<Actor, OpError> {
    let user = services
        .key_manager
        .authenticate_user(username, password, source)
        .await?
        .ok_or_else(|| OpError::Unauthenticated("Invalid username or password".into()))?;
    Ok(Actor::with_roles(user.tenant, user.username, user.roles))
}
