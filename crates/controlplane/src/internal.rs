//! The internal data API (`/internal/data/v1`, as in WSO2): what a gateway needs to run, in one
//! bulk response, for nodes that present the node credential.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use tollgate_hublink::NodeGate;
use tollgate_operations::gateways;
use tollgate_restcore::{ApiError, Ctx, QueryParams};

#[derive(Clone)]
struct InternalState {
    ctx: Ctx,
    gate: Option<Arc<NodeGate>>,
}

pub fn router(ctx: Ctx, gate: Option<Arc<NodeGate>>) -> Router {
    Router::new()
        .route("/internal/data/v1/runtime-snapshot", get(runtime_snapshot))
        .route(
            tollgate_model::wire::GATEWAY_REPORT_PATH,
            axum::routing::post(gateway_report),
        )
        .route(
            tollgate_model::wire::INTROSPECT_PATH,
            axum::routing::post(introspect),
        )
        .with_state(InternalState { ctx, gate })
}

/// A gateway asks about an opaque token: 200 with what it needs when the token is active, 204
/// when it is not.
async fn introspect(
    State(state): State<InternalState>,
    client: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = admit(&state, client, &headers).await {
        return refused;
    }
    let Some(token) = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "token")
        .map(|(_, token)| token.into_owned())
        .filter(|token| !token.is_empty())
    else {
        return ApiError::bad_field("token", "is required (a form field)").into_response();
    };
    match state.ctx.key_manager.introspect_for_gateway(&token).await {
        Ok(Some(active)) => (StatusCode::OK, Json(active)).into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}

#[derive(Deserialize)]
struct SnapshotQuery {
    /// Comma-separated gateway environments; all when absent.
    #[serde(rename = "gatewayLabels")]
    gateway_labels: Option<String>,
}

async fn runtime_snapshot(
    State(state): State<InternalState>,
    client: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    QueryParams(q): QueryParams<SnapshotQuery>,
) -> Response {
    if let Err(refused) = admit(&state, client, &headers).await {
        return refused;
    }
    match gateways::runtime_snapshot(&state.ctx, q.gateway_labels.as_deref()).await {
        Ok(snapshot) => (StatusCode::OK, Json(snapshot)).into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// A gateway reports what it has applied (see `tollgate_gateway::report`).
async fn gateway_report(
    State(state): State<InternalState>,
    client: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = admit(&state, client, &headers).await {
        return refused;
    }
    let report: tollgate_model::wire::GatewayReport = match tollgate_restcore::parse_json(&body) {
        Ok(report) => report,
        Err(err) => return err.into_response(),
    };
    match gateways::record_report(&state.ctx, &report).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// The node credential check every internal endpoint makes.
async fn admit(
    state: &InternalState,
    client: Option<Extension<tollgate_guard::ClientAddr>>,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let Some(gate) = &state.gate else {
        return Err(
            ApiError::unauthorized("This control plane has no node credential configured")
                .into_response(),
        );
    };
    let client = client.map(|Extension(c)| c);
    gate.admit(headers, client, "internal data API")
        .await
        .map_err(|refusal| {
            ApiError::new(
                refusal.status,
                format!("Node authentication failed: {}", refusal.reason),
            )
            .with_retry_after(refusal.retry_after_secs)
            .into_response()
        })
}
