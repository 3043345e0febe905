//! The Developer Portal REST API (`/api/am/devportal/v3`), after WSO2's: consumers discover
//! published APIs, create applications, subscribe, and get keys and tokens for them.
//!
//! Every change is one transaction that also records the event gateways need.

mod api_keys;
mod applications;
mod discovery;
mod feedback;
mod key_managers;
mod keys;
mod settings;
mod subscriptions;

use axum::routing::{get, post};
use axum::Router;
use tollgate_restcore::{Ctx, Routes};

/// The Developer Portal API's routes, relative to `/api/am/devportal/v3`.
pub fn routes() -> Routes {
    feedback::comment_routes(
        portal_routes(),
        tollgate_operations::devportal::feedback::Portal::DevPortal,
    )
}

/// The comments of APIs as their publishers read and answer them, relative to the Publisher
/// API's base path (`/api/am/publisher/v4`): the same discussion as the portal's.
pub fn publisher_comment_routes() -> Routes {
    feedback::comment_routes(
        Routes::new(),
        tollgate_operations::devportal::feedback::Portal::Publisher,
    )
}

fn portal_routes() -> Routes {
    Routes::new()
        .route("/apis", "GET", get(discovery::list))
        .route("/apis/{api_id}", "GET", get(discovery::get))
        .route("/apis/{api_id}/swagger", "GET", get(discovery::swagger))
        .route("/apis/{api_id}/documents", "GET", get(discovery::documents))
        .route(
            "/apis/{api_id}/documents/{document_id}",
            "GET",
            get(discovery::document),
        )
        .route(
            "/apis/{api_id}/documents/{document_id}/content",
            "GET",
            get(discovery::document_content),
        )
        .route("/apis/{api_id}/thumbnail", "GET", get(discovery::thumbnail))
        .route(
            "/apis/{api_id}/subscription-policies",
            "GET",
            get(discovery::subscription_policies),
        )
        .route("/apis/{api_id}/sdks/{language}", "GET", get(discovery::sdk))
        .route("/sdk-gen/languages", "GET", get(discovery::sdk_languages))
        .route("/tags", "GET", get(discovery::tags))
        .route("/settings", "GET", get(settings::settings))
        .route(
            "/me/change-password",
            "POST",
            post(settings::change_password),
        )
        .route(
            "/settings/application-attributes",
            "GET",
            get(settings::application_attributes),
        )
        .route(
            "/throttling-policies/{policy_level}",
            "GET",
            get(settings::tiers),
        )
        .route(
            "/throttling-policies/{policy_level}/{policy_id}",
            "GET",
            get(settings::tier),
        )
        .route("/search", "GET", get(discovery::search))
        .route("/apis/{api_id}/ratings", "GET", get(feedback::ratings))
        .route(
            "/apis/{api_id}/user-rating",
            "GET PUT DELETE",
            get(feedback::user_rating)
                .put(feedback::rate)
                .delete(feedback::delete_rating),
        )
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
            "/subscriptions/{subscription_id}/invocation",
            "GET",
            get(subscriptions::invocation),
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
            "/applications/{application_id}/api-keys/{key_type}/generate",
            "POST",
            post(api_keys::generate),
        )
        .route(
            "/applications/{application_id}/api-keys/{key_type}/revoke",
            "POST",
            post(api_keys::revoke),
        )
        .route(
            "/applications/{application_id}/keys/{key_type}",
            "GET PUT",
            get(keys::by_type::get).put(keys::by_type::update),
        )
        .route(
            "/applications/{application_id}/keys/{key_type}/regenerate-secret",
            "POST",
            post(keys::by_type::regenerate),
        )
        .route(
            "/applications/{application_id}/keys/{key_type}/clean-up",
            "POST",
            post(keys::by_type::clean),
        )
        .route(
            "/applications/{application_id}/keys/{key_type}/generate-token",
            "POST",
            post(keys::by_type::token),
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
