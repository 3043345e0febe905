//! The hub on the network: WebSocket endpoints for gateways ([`SUBSCRIBE_PATH`]) and for the
//! control plane ([`PUBLISH_PATH`]), both behind the node credential.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::{Json, Router};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tollgate_hublink::NodeGate;
use tollgate_model::wire::{Frame, FrameBody, FrameError, PUBLISH_PATH, SUBSCRIBE_PATH};

use crate::{EventHub, HubOutput};

#[derive(Clone)]
struct HubState {
    hub: Arc<EventHub>,
    gate: Arc<NodeGate>,
    shutdown: CancellationToken,
}

/// The hub's HTTP routes (WebSocket upgrades and health).
pub fn router(hub: Arc<EventHub>, gate: Arc<NodeGate>, shutdown: CancellationToken) -> Router {
    Router::new()
        .route(SUBSCRIBE_PATH, get(subscribe))
        .route(PUBLISH_PATH, get(publish))
        .route("/_health/live", get(health))
        .route("/_health/ready", get(health))
        .with_state(HubState {
            hub,
            gate,
            shutdown,
        })
}

async fn health(State(state): State<HubState>) -> Json<serde_json::Value> {
    Json(
        serde_json::json!({"status": "ok", "component": "traffic-manager", "hubId": state.hub.id()}),
    )
}

type Client = Option<Extension<tollgate_guard::ClientAddr>>;

async fn refuse(
    state: &HubState,
    headers: &HeaderMap,
    client: Client,
    endpoint: &'static str,
) -> Option<Response> {
    let refusal = state
        .gate
        .admit(headers, client.map(|Extension(c)| c), endpoint)
        .await
        .err()?;
    let mut response = (refusal.status, refusal.reason).into_response();
    if let Some(secs) = refusal.retry_after_secs {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(secs),
        );
    }
    Some(response)
}

async fn subscribe(
    State(state): State<HubState>,
    client: Client,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refused) = refuse(&state, &headers, client, SUBSCRIBE_PATH).await {
        return refused;
    }
    ws.on_upgrade(move |socket| serve_subscriber(state, socket))
}

async fn publish(
    State(state): State<HubState>,
    client: Client,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refused) = refuse(&state, &headers, client, PUBLISH_PATH).await {
        return refused;
    }
    ws.on_upgrade(move |socket| serve_publisher(state, socket))
}

async fn send(socket: &mut WebSocket, body: FrameBody) -> bool {
    match serde_json::to_string(&Frame::new(body)) {
        Ok(text) => socket.send(Message::text(text)).await.is_ok(),
        Err(_) => false,
    }
}

/// Parses a frame from a node; garbage is logged and skipped, never fatal.
fn parse(text: &str) -> Option<FrameBody> {
    match Frame::decode(text) {
        Ok(frame) => Some(frame.body),
        Err(FrameError::UnknownVersion(version)) => {
            tracing::warn!(version, "frame of an unknown protocol version ignored");
            None
        }
        Err(FrameError::Malformed(err)) => {
            tracing::warn!(error = %err, "malformed frame ignored");
            None
        }
    }
}

/// A gateway: events and decisions out, request hits in.
async fn serve_subscriber(state: HubState, mut socket: WebSocket) {
    let mut outputs = state.hub.subscribe();
    if !send(
        &mut socket,
        FrameBody::Hello {
            hub_id: state.hub.id().to_string(),
        },
    )
    .await
    {
        return;
    }
    let active = state.hub.active_decisions();
    if !active.is_empty() && !send(&mut socket, FrameBody::Decisions { decisions: active }).await {
        return;
    }
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            output = outputs.recv() => {
                let body = match output {
                    Ok(HubOutput::Event(envelope)) => FrameBody::Event { envelope: Box::new((*envelope).clone()) },
                    Ok(HubOutput::Decisions(decisions)) => FrameBody::Decisions { decisions: (*decisions).clone() },
                    Ok(HubOutput::Resync) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        // Closing makes the gateway reconnect and reload its state.
                        tracing::warn!(missed, "a gateway fell behind; closing its connection");
                        break;
                    }
                    Err(RecvError::Closed) => break,
                };
                if !send(&mut socket, body).await {
                    return;
                }
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => match parse(&text) {
                    Some(FrameBody::Hits { gateway, hits }) => state.hub.record_hits(&gateway, &hits),
                    Some(other) => tracing::debug!(?other, "unexpected frame from a gateway ignored"),
                    None => {}
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// The control plane: events in, acknowledgements out.
async fn serve_publisher(state: HubState, mut socket: WebSocket) {
    if !send(
        &mut socket,
        FrameBody::Hello {
            hub_id: state.hub.id().to_string(),
        },
    )
    .await
    {
        return;
    }
    loop {
        let message = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            message = socket.recv() => message,
        };
        match message {
            Some(Ok(Message::Text(text))) => match parse(&text) {
                Some(FrameBody::Event { envelope }) => {
                    let seq = envelope.seq;
                    state.hub.publish(Arc::new(*envelope));
                    if !send(&mut socket, FrameBody::Ack { seq }).await {
                        return;
                    }
                }
                Some(other) => {
                    tracing::debug!(?other, "unexpected frame from the control plane ignored")
                }
                None => {}
            },
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
            Some(Ok(_)) => {}
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
