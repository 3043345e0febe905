//! The internal data API (`/internal/data/v1`, as in WSO2): what a gateway needs to run, in one
//! bulk response, for nodes that present the node credential.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tollgate_hublink::NodeCredential;
use tollgate_restcore::ApiError;
use tollgate_store::Store;

#[derive(Clone)]
struct InternalState {
    store: Store,
    credential: Option<NodeCredential>,
}

pub fn router(store: Store, credential: Option<NodeCredential>) -> Router {
    Router::new()
        .route("/internal/data/v1/runtime-snapshot", get(runtime_snapshot))
        .with_state(InternalState { store, credential })
}

#[derive(Deserialize)]
struct SnapshotQuery {
    /// Comma-separated gateway environments; all when absent.
    #[serde(rename = "gatewayLabels")]
    gateway_labels: Option<String>,
}

async fn runtime_snapshot(
    State(state): State<InternalState>,
    headers: HeaderMap,
    Query(q): Query<SnapshotQuery>,
) -> Response {
    let Some(credential) = &state.credential else {
        tracing::warn!("a node asked for the runtime snapshot, but no node credential is configured ([apim.event_hub] username/password)");
        return ApiError::unauthorized("This control plane has no node credential configured")
            .into_response();
    };
    if let Err(why) = credential.check(&headers) {
        tracing::warn!(reason = why, "refused a node on the internal data API");
        return ApiError::unauthorized(format!("Node authentication failed: {why}"))
            .into_response();
    }
    let mut snapshot = match state.store.snapshot().await {
        Ok(s) => s,
        Err(err) => return ApiError::from(err).into_response(),
    };
    if let Some(labels) = q.gateway_labels.filter(|l| !l.is_empty()) {
        let labels: Vec<&str> = labels.split(',').map(str::trim).collect();
        snapshot
            .apis
            .retain(|d| labels.contains(&d.environment.as_str()));
    }
    (StatusCode::OK, Json(snapshot)).into_response()
}
