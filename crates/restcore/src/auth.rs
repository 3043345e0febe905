use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use tollgate_model::scopes;

use crate::{ApiError, Ctx};

/// The authenticated caller of a REST API.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: String,
    pub username: String,
    grant: Grant,
}

#[derive(Debug, Clone)]
enum Grant {
    /// A bearer token: exactly the scopes it carries.
    Scopes(Vec<String>),
    /// Basic authentication: whatever the user's roles allow.
    Roles(Vec<String>),
}

impl Principal {
    /// Passes when the caller holds any one of `scopes` (WSO2: any listed scope suffices).
    pub fn require_any(&self, required: &[&str]) -> Result<(), ApiError> {
        let allowed = match &self.grant {
            Grant::Scopes(held) => required.iter().any(|s| held.iter().any(|h| h == s)),
            Grant::Roles(roles) => required.iter().any(|s| scopes::role_allows(roles, s)),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
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

impl FromRequestParts<Ctx> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "Authentication is required: send a Bearer token or Basic credentials",
                )
            })?;
        let (scheme, credential) = value
            .split_once(' ')
            .ok_or_else(|| ApiError::unauthorized("Malformed Authorization header"))?;
        let credential = credential.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            let claims = ctx
                .key_manager
                .verify(credential)
                .map_err(|e| ApiError::unauthorized(format!("Invalid access token: {e}")))?;
            let (tenant, username) = tollgate_keymanager::split_tenant(&claims.sub);
            Ok(Principal {
                tenant: tenant.to_string(),
                username: username.to_string(),
                grant: Grant::Scopes(claims.scopes().map(str::to_string).collect()),
            })
        } else if scheme.eq_ignore_ascii_case("basic") {
            let (user, password) = tollgate_keymanager::basic_credentials(&parts.headers)
                .ok_or_else(|| ApiError::unauthorized("Malformed Basic credentials"))?;
            let source = parts
                .extensions
                .get::<tollgate_guard::ClientAddr>()
                .map(|addr| addr.0.ip());
            let user = ctx
                .key_manager
                .authenticate_user(&user, &password, source)
                .await?
                .ok_or_else(|| ApiError::unauthorized("Invalid username or password"))?;
            Ok(Principal {
                tenant: user.tenant,
                username: user.username,
                grant: Grant::Roles(user.roles),
            })
        } else {
            Err(ApiError::unauthorized(format!(
                "Unsupported authorization scheme '{scheme}'"
            )))
        }
    }
}
