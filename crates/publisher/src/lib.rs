//! The Publisher REST API (`/api/am/publisher/v4`), after WSO2's: API providers create APIs,
//! cut revisions, deploy them to gateway environments and move them through their lifecycle.
//!
//! Handlers are thin: they read WSO2's JSON and parameters, call the operation in
//! `tollgate_operations::publisher`, and write WSO2's JSON back (`wire.rs`).

mod apis;
mod definitions;
mod documents;
mod endpoint_certificates;
mod lifecycle;
mod projects;
mod revisions;
mod scopes;
mod settings;
mod subscriptions;
mod wire;

use axum::routing::{get, post};
use axum::Router;
use tollgate_restcore::{Ctx, Routes};

/// The Publisher API's routes, relative to `/api/am/publisher/v4`.
pub fn routes() -> Routes {
    Routes::new()
        .route("/apis", "GET POST", get(apis::list).post(apis::create))
        .route("/apis/validate", "POST", post(apis::validate))
        .route("/apis/copy-api", "POST", post(apis::copy))
        .route("/apis/export", "GET", get(projects::export))
        .route(
            "/apis/import",
            "POST",
            post(projects::import).layer(projects::upload_limit()),
        )
        .route(
            "/apis/validate-openapi",
            "POST",
            post(definitions::validate).layer(definitions::upload_limit()),
        )
        .route(
            "/apis/import-openapi",
            "POST",
            post(definitions::import).layer(definitions::upload_limit()),
        )
        .route(
            "/apis/{api_id}/swagger",
            "GET PUT",
            get(definitions::get)
                .put(definitions::update)
                .layer(definitions::upload_limit()),
        )
        .route("/apis/change-lifecycle", "POST", post(lifecycle::change))
        .route(
            "/apis/{api_id}",
            "GET PUT DELETE",
            get(apis::get).put(apis::update).delete(apis::delete),
        )
        .route(
            "/apis/{api_id}/documents",
            "GET POST",
            get(documents::list).post(documents::create),
        )
        .route(
            "/apis/{api_id}/documents/validate",
            "POST",
            post(documents::validate),
        )
        .route(
            "/apis/{api_id}/documents/{document_id}",
            "GET PUT DELETE",
            get(documents::get)
                .put(documents::update)
                .delete(documents::delete),
        )
        .route(
            "/apis/{api_id}/documents/{document_id}/content",
            "GET POST",
            get(documents::content)
                .post(documents::set_content)
                .layer(definitions::upload_limit()),
        )
        .route(
            "/apis/{api_id}/lifecycle-state",
            "GET",
            get(lifecycle::state),
        )
        .route(
            "/apis/{api_id}/lifecycle-history",
            "GET",
            get(lifecycle::history),
        )
        .route(
            "/apis/{api_id}/revisions",
            "GET POST",
            get(revisions::list).post(revisions::create),
        )
        .route(
            "/apis/{api_id}/revisions/{revision_id}",
            "GET DELETE",
            get(revisions::get).delete(revisions::delete),
        )
        .route(
            "/apis/{api_id}/restore-revision",
            "POST",
            post(revisions::restore),
        )
        .route(
            "/apis/{api_id}/deploy-revision",
            "POST",
            post(revisions::deploy),
        )
        .route(
            "/apis/{api_id}/undeploy-revision",
            "POST",
            post(revisions::undeploy),
        )
        .route(
            "/apis/{api_id}/deployments",
            "GET",
            get(revisions::deployments),
        )
        .route(
            "/scopes",
            "GET POST",
            get(scopes::list).post(scopes::create),
        )
        .route(
            "/scopes/{scope_id}",
            "GET PUT DELETE HEAD",
            get(scopes::get)
                .put(scopes::update)
                .delete(scopes::delete)
                .head(scopes::exists),
        )
        .route("/scopes/{scope_id}/usage", "GET", get(scopes::usage))
        .route(
            "/endpoint-certificates",
            "GET POST",
            get(endpoint_certificates::list)
                .post(endpoint_certificates::add)
                .layer(definitions::upload_limit()),
        )
        .route(
            "/endpoint-certificates/{alias}",
            "GET PUT DELETE",
            get(endpoint_certificates::get)
                .put(endpoint_certificates::update)
                .delete(endpoint_certificates::delete)
                .layer(definitions::upload_limit()),
        )
        .route(
            "/endpoint-certificates/{alias}/content",
            "GET",
            get(endpoint_certificates::content),
        )
        .route(
            "/endpoint-certificates/{alias}/usage",
            "GET",
            get(endpoint_certificates::usage),
        )
        .route("/settings", "GET", get(settings::settings))
        .route("/key-managers", "GET", get(settings::key_managers))
        .route(
            "/roles/{role_id}",
            "HEAD",
            axum::routing::head(settings::role_exists),
        )
        .route(
            "/me/roles/{role_id}",
            "HEAD",
            axum::routing::head(settings::has_role),
        )
        .route(
            "/apis/validate-endpoint",
            "POST",
            post(settings::validate_endpoint),
        )
        .route(
            "/apis/{api_id}/subscription-policies",
            "GET",
            get(settings::subscription_policies),
        )
        .route(
            "/apis/{api_id}/resource-paths",
            "GET",
            get(settings::resource_paths),
        )
        .route(
            "/throttling-policies/{policy_level}",
            "GET",
            get(settings::throttling_policies),
        )
        .route(
            "/apis/{api_id}/thumbnail",
            "GET PUT",
            get(settings::thumbnail)
                .put(settings::set_thumbnail)
                .layer(definitions::upload_limit()),
        )
        .route("/subscriptions", "GET", get(subscriptions::list))
        .route(
            "/subscriptions/block-subscription",
            "POST",
            post(subscriptions::block),
        )
        .route(
            "/subscriptions/unblock-subscription",
            "POST",
            post(subscriptions::unblock),
        )
}

/// The Publisher API's router.
pub fn router(ctx: Ctx) -> Router {
    routes().into_router(ctx)
}
