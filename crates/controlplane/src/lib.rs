//! The control plane: one HTTP service composed of the key manager, the Publisher, Developer
//! Portal and Admin REST APIs, plus the outbox relay that hands every committed change to the
//! event hub in order.

mod internal;
mod relay;

pub use relay::OutboxRelay;
pub use tollgate_restcore::{GatewayEnvironment, RestContext};

use axum::http::{StatusCode, Uri};
use axum::Router;
use tollgate_restcore::{ApiError, Ctx};

/// Every control-plane HTTP endpoint, with WSO2's base paths. `node_gate` guards the internal
/// data API that gateways load their state from.
pub fn router(ctx: Ctx, node_gate: Option<std::sync::Arc<tollgate_hublink::NodeGate>>) -> Router {
    Router::new()
        .merge(internal::router(ctx.store.clone(), node_gate))
        .route("/_health/live", axum::routing::get(health))
        .route("/_health/ready", axum::routing::get(health))
        .nest(
            "/api/am/publisher/v4",
            tollgate_publisher::router(ctx.clone()),
        )
        .nest(
            "/api/am/devportal/v3",
            tollgate_devportal::router(ctx.clone()),
        )
        .nest("/api/am/admin/v4", tollgate_admin::router(ctx.clone()))
        .merge(tollgate_keymanager::router(ctx.key_manager.clone()))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(tollgate_restcore::rest_edge))
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok", "component": "control-plane"}))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("No resource at {}", uri.path()),
    )
}
