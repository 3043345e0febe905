use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use tollgate_operations::Actor;

use crate::{ApiError, Ctx};

/// The authenticated caller of a REST API: an operations [`Actor`] taken from the request's
/// Bearer token (its scopes) or Basic credentials (the user's roles).
#[derive(Debug, Clone)]
pub struct Principal(pub Actor);

impl std::ops::Deref for Principal {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
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
            Ok(Principal(
                tollgate_operations::token_caller(ctx, credential).await?,
            ))
        } else if scheme.eq_ignore_ascii_case("basic") {
            let (user, password) = tollgate_keymanager::basic_credentials(&parts.headers)
                .ok_or_else(|| ApiError::unauthorized("Malformed Basic credentials"))?;
            let source = parts
                .extensions
                .get::<tollgate_guard::ClientAddr>()
                .map(|addr| addr.0.ip());
            Ok(Principal(
                tollgate_operations::password_caller(ctx, &user, &password, source).await?,
            ))
        } else {
            Err(ApiError::unauthorized(format!(
                "Unsupported authorization scheme '{scheme}'"
            )))
        }
    }
}

/// The caller when there is one: `None` without an `Authorization` header (an anonymous
/// visitor, where an operation allows them); a header that is there must be valid.
pub struct MaybePrincipal(pub Option<Actor>);

impl FromRequestParts<Ctx> for MaybePrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(MaybePrincipal(None));
        }
        let Principal(actor) = Principal::from_request_parts(parts, ctx).await?;
        Ok(MaybePrincipal(Some(actor)))
    }
}
