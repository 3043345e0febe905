//! The Developer Portal REST API (`/api/am/devportal/v3`), after WSO2's: consumers discover
//! published APIs, create applications, subscribe, and get keys and tokens for them.
//!
//! Every change is one transaction that also records the event gateways need.

mod apis;
mod applications;
mod key_managers;
mod keys;
mod subscriptions;

use axum::routing::{get, post};
use axum::Router;
use tollgate_restcore::{ApiError, Ctx, Principal, Routes};
use tollgate_store::ApplicationRow;

const SUBSCRIBE_APP: &[&str] = &["apim:subscribe", "apim:app_manage"];

/// The Developer Portal API's routes, relative to `/api/am/devportal/v3`.
pub fn routes() -> Routes {
    Routes::new()
        .route("/apis", "GET", get(apis::list))
        .route("/apis/{api_id}", "GET", get(apis::get))
        .route("/key-managers", "GET", get(key_managers::list))
        .route(
            "/applications",
            "GET POST",
            get(applications::list).post(applications::create),
        )
        .route(
            "/applications/{application_id}",
            "GET PUT DELETE",
            get(applications::get)
                .put(applications::update)
                .delete(applications::delete),
        )
        .route(
            "/subscriptions/{subscription_id}",
            "GET PUT DELETE",
            get(subscriptions::get)
                .put(subscriptions::update)
                .delete(subscriptions::delete),
        )
        .route(
            "/subscriptions/multiple",
            "POST",
            post(subscriptions::create_multiple),
        )
        .route(
            "/applications/{application_id}/oauth-keys/{key_mapping_id}/clean-up",
            "POST",
            post(keys::clean_up),
        )
        .route(
            "/subscriptions",
            "GET POST",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/applications/{application_id}/generate-keys",
            "POST",
            post(keys::generate_keys),
        )
        .route(
            "/applications/{application_id}/oauth-keys",
            "GET",
            get(keys::list),
        )
        // WSO2's older name of the same list.
        .route(
            "/applications/{application_id}/keys",
            "GET",
            get(keys::list),
        )
        .route(
            "/applications/{application_id}/map-keys",
            "POST",
            post(keys::map_keys),
        )
        .route(
            "/applications/{application_id}/oauth-keys/{key_mapping_id}",
            "GET PUT",
            get(keys::get_key).put(keys::update_key),
        )
        .route(
            "/applications/{application_id}/oauth-keys/{key_mapping_id}/regenerate-secret",
            "POST",
            post(keys::regenerate_secret),
        )
        .route(
            "/applications/{application_id}/oauth-keys/{key_mapping_id}/generate-token",
            "POST",
            post(keys::generate_token),
        )
}

/// The Developer Portal API's router.
pub fn router(ctx: Ctx) -> Router {
    routes().into_router(ctx)
}

/// The caller's own application; others' are invisible (404), as in WSO2.
async fn own_application(
    ctx: &Ctx,
    principal: &Principal,
    application_id: &str,
) -> Result<ApplicationRow, ApiError> {
    Ok(tollgate_operations::devportal::own_application(ctx, principal, application_id).await?)
}
