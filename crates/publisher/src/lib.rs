//! The Publisher REST API (`/api/am/publisher/v4`), after WSO2's: API providers create APIs,
//! cut revisions, deploy them to gateway environments and move them through their lifecycle.
//!
//! Handlers are thin: they read WSO2's JSON and parameters, call the operation in
//! `tollgate_operations::publisher`, and write WSO2's JSON back (`wire.rs`).

mod apis;
mod definitions;
mod documents;
mod lifecycle;
mod projects;
mod revisions;
mod scopes;
mod settings;
mod subscriptions;
mod wire;

use axum::routing::{get, post};
use axum::Router;
use tollgate_restcore::Ctx;

/// The Publisher API's routes, relative to `/api/am/publisher/v4`.
pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/apis", get(apis::list).post(apis::create))
        .route("/apis/validate", post(apis::validate))
        .route("/apis/copy-api", post(apis::copy))
        .route("/apis/export", get(projects::export))
        .route(
            "/apis/import",
            post(projects::import).layer(projects::upload_limit()),
        )
        .route(
            "/apis/validate-openapi",
            post(definitions::validate).layer(definitions::upload_limit()),
        )
        .route(
            "/apis/import-openapi",
            post(definitions::import).layer(definitions::upload_limit()),
        )
        .route(
            "/apis/{api_id}/swagger",
            get(definitions::get)
                .put(definitions::update)
                .layer(definitions::upload_limit()),
        )
        .route("/apis/change-lifecycle", post(lifecycle::change))
        .route(
            "/apis/{api_id}",
            get(apis::get).put(apis::update).delete(apis::delete),
        )
        .route(
            "/apis/{api_id}/documents",
            get(documents::list).post(documents::create),
        )
        .route(
            "/apis/{api_id}/documents/validate",
            post(documents::validate),
        )
        .route(
            "/apis/{api_id}/documents/{document_id}",
            get(documents::get)
                .put(documents::update)
                .delete(documents::delete),
        )
        .route(
            "/apis/{api_id}/documents/{document_id}/content",
            get(documents::content)
                .post(documents::set_content)
                .layer(definitions::upload_limit()),
        )
        .route("/apis/{api_id}/lifecycle-state", get(lifecycle::state))
        .route("/apis/{api_id}/lifecycle-history", get(lifecycle::history))
        .route(
            "/apis/{api_id}/revisions",
            get(revisions::list).post(revisions::create),
        )
        .route(
            "/apis/{api_id}/revisions/{revision_id}",
            get(revisions::get).delete(revisions::delete),
        )
        .route("/apis/{api_id}/restore-revision", post(revisions::restore))
        .route("/apis/{api_id}/deploy-revision", post(revisions::deploy))
        .route(
            "/apis/{api_id}/undeploy-revision",
            post(revisions::undeploy),
        )
        .route("/apis/{api_id}/deployments", get(revisions::deployments))
        .route("/scopes", get(scopes::list).post(scopes::create))
        .route(
            "/scopes/{scope_id}",
            get(scopes::get)
                .put(scopes::update)
                .delete(scopes::delete)
                .head(scopes::exists),
        )
        .route("/scopes/{scope_id}/usage", get(scopes::usage))
        .route("/settings", get(settings::settings))
        .route(
            "/throttling-policies/{policy_level}",
            get(settings::throttling_policies),
        )
        .route(
            "/apis/{api_id}/thumbnail",
            get(settings::thumbnail)
                .put(settings::set_thumbnail)
                .layer(definitions::upload_limit()),
        )
        .route("/subscriptions", get(subscriptions::list))
        .route(
            "/subscriptions/block-subscription",
            post(subscriptions::block),
        )
        .route(
            "/subscriptions/unblock-subscription",
            post(subscriptions::unblock),
        )
        .with_state(ctx)
}
