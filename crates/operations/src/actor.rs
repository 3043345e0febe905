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
