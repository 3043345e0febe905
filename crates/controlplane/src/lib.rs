//! The control plane: one HTTP service composed of the key manager, the Publisher, Developer
//! Portal and Admin REST APIs, plus the outbox relay that hands every committed change to the
//! event hub in order.

mod internal;
mod relay;

pub use relay::{OutboxRelay, RelayError};
pub use tollgate_restcore::{GatewayEnvironment, Operation, RestContext};

use axum::http::{StatusCode, Uri};
use axum::Router;
use tollgate_restcore::{ApiError, Ctx};

/// WSO2's base paths of the three REST APIs.
pub const PUBLISHER: &str = "/api/am/publisher/v4";
pub const DEVPORTAL: &str = "/api/am/devportal/v3";
pub const ADMIN: &str = "/api/am/admin/v4";

/// Every REST operation the control plane serves, with its API's base path.
pub fn rest_operations() -> Vec<(&'static str, Operation)> {
    [
        (PUBLISHER, publisher_routes()),
        (DEVPORTAL, tollgate_devportal::routes()),
        (ADMIN, tollgate_admin::routes()),
        ("", tollgate_identity::routes()),
    ]
    .into_iter()
    .flat_map(|(base, routes)| {
        routes
            .operations()
            .iter()
            .map(|op| (base, op.clone()))
            .collect::<Vec<_>>()
    })
    .collect()
}

/// The Publisher API: its own operations, and the comments on APIs it shares with the
/// developer portal.
fn publisher_routes() -> tollgate_restcore::Routes {
    tollgate_publisher::routes().merge(tollgate_devportal::publisher_comment_routes())
}

/// Every control-plane HTTP endpoint, with WSO2's base paths. `node_gate` guards the internal
/// data API that gateways load their state from.
pub fn router(ctx: Ctx, node_gate: Option<std::sync::Arc<tollgate_hublink::NodeGate>>) -> Router {
    Router::new()
        .merge(internal::router(ctx.clone(), node_gate))
        .route("/_health/live", axum::routing::get(health))
        .route("/_health/ready", axum::routing::get(health))
        .nest(PUBLISHER, publisher_routes().into_router(ctx.clone()))
        .nest(DEVPORTAL, tollgate_devportal::router(ctx.clone()))
        .nest(ADMIN, tollgate_admin::router(ctx.clone()))
        .merge(tollgate_identity::router(ctx.clone()))
        .merge(tollgate_portals::router(ctx.clone()))
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
