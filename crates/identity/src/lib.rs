//! The user endpoints of WSO2's Identity Server that API Manager users script against, as thin
//! edges over `tollgate_operations::users`:
//!
//! - `POST /api/identity/user/v1.0/me`: self sign-up (public; WSO2's body, `user` with `claims`,
//!   or a SCIM user), making a subscriber;
//! - SCIM 2.0 (RFC 7643/7644) `/scim2/Users` and `/scim2/Groups` (roles are groups): create, list
//!   with `filter` (`userName`/`displayName` with `eq`, `sw`, `co`), get, patch, delete — the
//!   administrator's.
//!
//! Errors are WSO2's REST body (`code`, `message`, `description`), like every other endpoint.

mod scim;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use tollgate_operations::users::{self as ops, UserInput};
use tollgate_restcore::{ApiError, Ctx, JsonBody, Routes};

/// The routes, with their full paths (they live outside the REST APIs' base paths).
pub fn routes() -> Routes {
    Routes::new()
        .route("/api/identity/user/v1.0/me", "POST", post(sign_up))
        .route(
            "/scim2/Users",
            "GET POST",
            get(scim::list_users).post(scim::create_user),
        )
        .route(
            "/scim2/Users/{user_id}",
            "GET PATCH DELETE",
            get(scim::get_user)
                .patch(scim::patch_user)
                .delete(scim::delete_user),
        )
        .route(
            "/scim2/Groups",
            "GET POST",
            get(scim::list_groups).post(scim::create_group),
        )
        .route(
            "/scim2/Groups/{group_id}",
            "GET PATCH DELETE",
            get(scim::get_group)
                .patch(scim::patch_group)
                .delete(scim::delete_group),
        )
}

pub fn router(ctx: Ctx) -> Router {
    routes().into_router(ctx)
}

/// WSO2's self-registration body: `{"user": {"username", "password", "claims": [{"uri", "value"}]}}`.
#[derive(Deserialize)]
struct SignUpBody {
    user: SignUpUser,
}

#[derive(Deserialize)]
struct SignUpUser {
    username: String,
    password: String,
    #[serde(default)]
    claims: Vec<Claim>,
}

#[derive(Deserialize)]
struct Claim {
    uri: String,
    value: String,
}

/// Self sign-up. Takes WSO2's self-registration body, or a SCIM user (`userName`, `password`,
/// `name`, `emails`).
async fn sign_up(
    State(ctx): State<Ctx>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let input = if body.get("user").is_some() {
        let body: SignUpBody = tollgate_restcore::from_value(&body)?;
        let claim = |uri: &str| {
            body.user
                .claims
                .iter()
                .find(|c| c.uri == uri)
                .map(|c| c.value.clone())
        };
        UserInput {
            given_name: claim("http://wso2.org/claims/givenname"),
            family_name: claim("http://wso2.org/claims/lastname"),
            emails: claim("http://wso2.org/claims/emailaddress")
                .into_iter()
                .collect(),
            username: body.user.username,
            password: body.user.password,
            roles: Vec::new(),
        }
    } else {
        scim::user_input(&body)?
    };
    let tenant = tollgate_model::SUPER_TENANT;
    let user = ops::sign_up(&ctx, tenant, input).await?;
    Ok((StatusCode::CREATED, Json(scim::user_json(&user))).into_response())
}
