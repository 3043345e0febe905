//! WebSocket APIs (`type: WS`): an upgrade request to one is admitted like a request — the
//! token in `Authorization`, or WSO2's `access_token` query parameter for browsers (taken off
//! the query the backend sees) —, the backend's WebSocket is opened on the API's `ws://` or
//! `wss://` endpoint, and frames are relayed both ways. As in WSO2, each data frame, either
//! way, is admitted again on the current state before it passes: it counts as one request
//! against the limits (a throttled frame is dropped and the client told with WSO2's text
//! `Error code: 4003 …`), and a token revoked or expired, or a subscription blocked or removed,
//! closes the connection with WSO2's close code 4001. Gateway shutdown closes each connection
//! with 1001 (going away).

use std::net::IpAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tollgate_model::ApiType;

use super::{
    admit, forwarded, record, request_id, upstream_request, Admission, RequestView, ResponseBody,
};
use crate::upstream::Backends;
use crate::{Gateway, GatewayError, RuntimeState};

/// WSO2's query parameter carrying a token, for browsers (which cannot set `Authorization` on a
/// WebSocket).
pub const TOKEN_QUERY_PARAMETER: &str = "access_token";

/// WSO2's close codes and texts (`WebSocketApiConstants.FrameErrorConstants`, 4.2).
const INVALID_CREDENTIALS: u16 = 4001;
const GENERAL_AUTH_ERROR: u16 = 4000;
const THROTTLED_OUT: &str = "Error code: 4003 reason: Websocket frame throttled out";

/// The WebSocket connections a gateway relays: tracked, so that shutdown closes them and
/// waits for them, and bounded (an upgraded connection no longer counts against its
/// listener's connection limit, so it counts here).
pub struct WebSockets {
    tasks: TaskTracker,
    closing: CancellationToken,
    slots: std::sync::OnceLock<Arc<tokio::sync::Semaphore>>,
}

impl Default for WebSockets {
    fn default() -> Self {
        WebSockets {
            tasks: TaskTracker::new(),
            closing: CancellationToken::new(),
            slots: std::sync::OnceLock::new(),
        }
    }
}

/// The bound when none is set: a listener's default connection limit.
const DEFAULT_MAX_WEBSOCKETS: usize = 10_000;

impl WebSockets {
    /// At most `max` connections relayed at once (set once, at start).
    pub fn limit(&self, max: usize) {
        let _ = self.slots.set(Arc::new(tokio::sync::Semaphore::new(max)));
    }

    fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.slots
            .get_or_init(|| Arc::new(tokio::sync::Semaphore::new(DEFAULT_MAX_WEBSOCKETS)))
            .clone()
            .try_acquire_owned()
            .ok()
    }

    /// Closes every connection (1001, going away) and waits until each has finished.
    pub async fn close_all(&self) {
        self.closing.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Whether `request` asks to become a WebSocket (RFC 6455: a GET with `Upgrade: websocket`,
/// `Connection: upgrade` and a key).
pub fn is_upgrade(method: &Method, headers: &HeaderMap) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    method == Method::GET
        && has_token(header::UPGRADE, "websocket")
        && has_token(header::CONNECTION, "upgrade")
        && headers.contains_key(header::SEC_WEBSOCKET_KEY)
}

/// What a connection's frames are admitted with, again and again: the upgrade request's facts.
struct Session {
    path: String,
    /// The topic verb the upgrade matched (`SUBSCRIBE`, else `PUBLISH`).
    verb: Method,
    headers: HeaderMap,
    query: Option<String>,
    client: Option<IpAddr>,
    host: Option<String>,
}

impl Session {
    fn view(&self) -> RequestView<'_> {
        RequestView {
            headers: &self.headers,
            query: self.query.as_deref(),
            client: self.client,
            host: self.host.as_deref(),
        }
    }

    /// Admits the session on the current state: one request counted against its limits.
    async fn admit(&self, gateway: &Gateway) -> Result<(), GatewayError> {
        let state = gateway.state();
        admit_on(gateway, &state, &self.verb, &self.path, &self.view())
            .await
            .map(|_| ())
    }
}

/// The policy phases on `state`, fetching keys or introspecting a token (once) when that is
/// what it takes.
async fn admit_on<'s, 'p>(
    gateway: &Gateway,
    state: &'s RuntimeState,
    verb: &Method,
    path: &'p str,
    view: &RequestView<'_>,
) -> Result<Admission<'s, 'p>, GatewayError> {
    match admit(gateway, state, verb, path, view) {
        Err(GatewayError::NeedsKeys(issuer)) => {
            gateway.refresh_key_set(&issuer).await;
            admit(gateway, state, verb, path, view)
        }
        Err(GatewayError::NeedsIntrospection(token)) => {
            gateway.introspect(&token).await?;
            admit(gateway, state, verb, path, view)
        }
        other => other,
    }
}

/// The query without WSO2's token parameter (the other pairs as they were sent), and the
/// token it held.
fn take_token(query: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(query) = query else {
        return (None, None);
    };
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let Some((name, value)) = form_urlencoded::parse(pair.as_bytes()).next() else {
                return true;
            };
            if name != TOKEN_QUERY_PARAMETER {
                return true;
            }
            token.get_or_insert_with(|| value.into_owned());
            false
        })
        .collect();
    let kept = (!kept.is_empty()).then(|| kept.join("&"));
    (kept, token)
}

/// Serves an upgrade request when its path is a WebSocket API's: `None` when it is not (it is
/// then served as a plain request).
#[allow(clippy::too_many_arguments)]
pub async fn serve<'s>(
    gateway: &Arc<Gateway>,
    backends: &Backends,
    state: &'s RuntimeState,
    connection: &forwarded::Connection,
    ids: &request_id::RequestIds,
    outcome: &mut record::Outcome<'s>,
    request: &mut Request<Incoming>,
    path: &str,
) -> Option<Result<Response<ResponseBody>, GatewayError>> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_string);
    let (route, _) = state.route_on(host.as_deref(), path)?;
    if route.api.api_type != ApiType::Ws {
        return None;
    }
    Some(
        open(
            gateway, backends, state, connection, ids, outcome, request, path, host,
        )
        .await,
    )
}

#[allow(clippy::too_many_arguments)]
async fn open<'s>(
    gateway: &Arc<Gateway>,
    backends: &Backends,
    state: &'s RuntimeState,
    connection: &forwarded::Connection,
    ids: &request_id::RequestIds,
    outcome: &mut record::Outcome<'s>,
    request: &mut Request<Incoming>,
    path: &str,
    host: Option<String>,
) -> Result<Response<ResponseBody>, GatewayError> {
    // The token of a browser's `?access_token=`, when no header carries one; the backend sees
    // the query without it.
    let (query, query_token) = take_token(request.uri().query());
    let mut headers = request.headers().clone();
    if let Some(token) = query_token {
        if !headers.contains_key(header::AUTHORIZATION) {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| GatewayError::InvalidCredentials("malformed access_token".into()))?;
            headers.insert(header::AUTHORIZATION, value);
        }
    }
    let mut session = Session {
        path: path.to_string(),
        verb: Method::from_bytes(b"SUBSCRIBE").map_err(|_| GatewayError::NoApi)?,
        headers,
        query: query.clone(),
        client: connection.client,
        host,
    };
    // The upgrade matches a topic: a SUBSCRIBE one, else a PUBLISH one.
    let mut admitted = admit_on(gateway, state, &session.verb, path, &session.view()).await;
    if matches!(admitted, Err(GatewayError::MethodNotAllowed { .. })) {
        session.verb = Method::from_bytes(b"PUBLISH").map_err(|_| GatewayError::NoApi)?;
        admitted = admit_on(gateway, state, &session.verb, path, &session.view()).await;
    }
    outcome.route = state
        .route_on(session.host.as_deref(), path)
        .map(|(route, _)| route);
    let admission = admitted?;
    let route = admission.routed.route;
    outcome.key_type = admission.key_type;
    outcome.application = admission.application;

    let slot = gateway
        .websockets()
        .slot()
        .ok_or(GatewayError::WebSocketsFull)?;
    let group = upstream_request::choose_endpoints(route, admission.key_type)?;
    let now = tollgate_model::now_millis().max(0) as u64;
    let plan = group
        .plan(now, request.headers())
        .map_err(|_| GatewayError::EndpointsSuspended)?;
    let first = plan.iter().next().ok_or(GatewayError::EndpointsSuspended)?;
    let member = &group.members()[first];
    let upstream = &member.upstream;
    let target = upstream_request::request_target(
        route,
        upstream,
        admission.routed.resource_path,
        query.as_deref(),
    )?;
    outcome.upstream = Some(upstream.url.clone());

    // The backend's WebSocket first: the client is told 101 only once the backend said it.
    // The WebSocket client wants the absolute URI (it writes the origin form on the wire).
    let scheme = if upstream.url.starts_with("wss") {
        "wss"
    } else {
        "ws"
    };
    let absolute: http::Uri = format!(
        "{scheme}://{}{}",
        upstream.authority().to_str().unwrap_or_default(),
        target
    )
    .parse()
    .map_err(|_| GatewayError::NoApi)?;
    let mut backend_request = Request::builder()
        .method(Method::GET)
        .uri(absolute)
        .header(header::HOST, upstream.authority().clone())
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(
            header::SEC_WEBSOCKET_KEY,
            tokio_tungstenite::tungstenite::handshake::client::generate_key(),
        )
        .body(())
        .map_err(|_| GatewayError::NoApi)?;
    for name in [
        header::SEC_WEBSOCKET_PROTOCOL,
        header::ORIGIN,
        header::USER_AGENT,
        header::HeaderName::from_static("x-forwarded-for"),
        header::HeaderName::from_static("x-forwarded-proto"),
        header::HeaderName::from_static("x-forwarded-host"),
    ] {
        for value in request.headers().get_all(&name) {
            backend_request.headers_mut().append(&name, value.clone());
        }
    }
    backend_request
        .headers_mut()
        .insert(request_id::ACTIVITY_ID, ids.activity_id.clone());
    backend_request
        .headers_mut()
        .insert(request_id::TRACEPARENT, ids.traceparent.clone());
    let started = std::time::Instant::now();
    let transport = backends.open_websocket(upstream).await.map_err(|err| {
        gateway.metrics().upstream_error(err.kind.name());
        GatewayError::BackendUnreachable(err)
    })?;
    let handshake = tokio::time::timeout(
        member.timeout,
        tokio_tungstenite::client_async(backend_request, transport),
    )
    .await;
    let (backend, backend_response) = match handshake {
        Ok(Ok(done)) => done,
        Ok(Err(err)) => {
            let err = upstream.failed(crate::UpstreamErrorKind::WebSocketHandshake(Arc::from(
                err.to_string(),
            )));
            gateway.metrics().upstream_error(err.kind.name());
            return Err(GatewayError::BackendUnreachable(err));
        }
        Err(_) => {
            let err = upstream.failed(crate::UpstreamErrorKind::ResponseTimeout(member.timeout));
            gateway.metrics().upstream_error(err.kind.name());
            return Err(GatewayError::BackendUnreachable(err));
        }
    };
    outcome.backend = Some(started.elapsed());

    let key = request
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|key| key.as_bytes().to_vec())
        .unwrap_or_default();
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    let mut response = Response::new(Either::Right(Full::default()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = backend_response
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
    {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol.clone());
    }

    let upgrade = hyper::upgrade::on(request);
    let (gateway, closing) = (gateway.clone(), gateway.websockets().closing.clone());
    gateway.clone().websockets().tasks.spawn(async move {
        let upgraded = match upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(error = %err, "the client did not complete the WebSocket upgrade");
                return;
            }
        };
        let client =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let _open = gateway.metrics().websocket_opened();
        relay(&gateway, client, backend, &session, closing).await;
        drop(slot);
    });
    Ok(response)
}

/// A close frame with `code` and WSO2's reason text.
fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: format!("{reason} Connection closed!").into(),
    }))
}

/// The close frame for a frame that is no longer admitted.
fn refusal(err: &GatewayError) -> Message {
    match err {
        GatewayError::NoApi | GatewayError::ApiBlocked => Message::Close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "The API is no longer available".into(),
        })),
        GatewayError::MissingCredentials
        | GatewayError::InvalidCredentials(_)
        | GatewayError::NotSubscribed
        | GatewayError::SubscriptionBlocked
        | GatewayError::SubscriptionInactive
        | GatewayError::InvalidScope => close(INVALID_CREDENTIALS, "Invalid Credentials"),
        _ => close(GENERAL_AUTH_ERROR, "Unclassified Authentication Failure"),
    }
}

/// What became of a data frame.
enum Verdict {
    Pass,
    Throttled,
    Refused(Message),
}

async fn verdict(gateway: &Gateway, session: &Session) -> Verdict {
    match session.admit(gateway).await {
        Ok(()) => Verdict::Pass,
        Err(GatewayError::Throttled { .. }) => Verdict::Throttled,
        Err(err) => Verdict::Refused(refusal(&err)),
    }
}

/// Which way a data frame goes.
#[derive(Clone, Copy)]
enum Direction {
    /// Client to backend.
    Upstream,
    /// Backend to client.
    Downstream,
}

/// Passes a data frame on after admitting it again. A throttled frame is dropped and the client
/// told; a refused one ends the relay (the client gets the close frame, the backend a close),
/// as does a side that went away. Whether the relay goes on.
async fn pass<C, B>(
    gateway: &Gateway,
    session: &Session,
    message: Message,
    direction: Direction,
    client_tx: &mut C,
    backend_tx: &mut B,
) -> bool
where
    C: futures_util::Sink<Message> + Unpin,
    B: futures_util::Sink<Message> + Unpin,
{
    match verdict(gateway, session).await {
        Verdict::Pass => match direction {
            Direction::Upstream => {
                gateway.metrics().websocket_frame("upstream");
                if backend_tx.send(message).await.is_err() {
                    let _ = client_tx.send(close(1011, "The backend went away.")).await;
                    return false;
                }
                true
            }
            Direction::Downstream => {
                gateway.metrics().websocket_frame("downstream");
                if client_tx.send(message).await.is_err() {
                    let _ = backend_tx.send(Message::Close(None)).await;
                    return false;
                }
                true
            }
        },
        Verdict::Throttled => {
            let _ = client_tx.send(Message::text(THROTTLED_OUT)).await;
            true
        }
        Verdict::Refused(frame) => {
            let _ = client_tx.send(frame).await;
            let _ = backend_tx.send(Message::Close(None)).await;
            false
        }
    }
}

/// Relays frames until either side closes, a frame is refused, or the gateway shuts down.
async fn relay<C, B>(
    gateway: &Gateway,
    client: WebSocketStream<C>,
    backend: WebSocketStream<B>,
    session: &Session,
    closing: CancellationToken,
) where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    B: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut client_tx, mut client_rx) = client.split();
    let (mut backend_tx, mut backend_rx) = backend.split();
    loop {
        tokio::select! {
            _ = closing.cancelled() => {
                let away = || Message::Close(Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: "The gateway is shutting down".into(),
                }));
                let _ = client_tx.send(away()).await;
                let _ = backend_tx.send(away()).await;
                return;
            }
            from_client = client_rx.next() => match from_client {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    let upstream = Direction::Upstream;
                    if !pass(gateway, session, message, upstream, &mut client_tx, &mut backend_tx).await {
                        return;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let _ = backend_tx.send(Message::Close(frame)).await;
                    return;
                }
                // Pings are answered by each side's own WebSocket; frames are whole messages.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    let _ = backend_tx.send(Message::Close(None)).await;
                    return;
                }
            },
            from_backend = backend_rx.next() => match from_backend {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    let downstream = Direction::Downstream;
                    if !pass(gateway, session, message, downstream, &mut client_tx, &mut backend_tx).await {
                        return;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let _ = client_tx.send(Message::Close(frame)).await;
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    let _ = client_tx.send(close(1011, "The backend went away.")).await;
                    return;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_parameter_is_taken_off_the_query() {
        assert_eq!(
            take_token(Some("room=1&access_token=abc%2Bdef&x=2")),
            (Some("room=1&x=2".into()), Some("abc+def".into()))
        );
        assert_eq!(take_token(Some("access_token=t")), (None, Some("t".into())));
        assert_eq!(take_token(Some("a=1")), (Some("a=1".into()), None));
        assert_eq!(take_token(None), (None, None));
    }

    #[test]
    fn an_upgrade_is_a_get_with_the_websocket_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        headers.insert(
            header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        assert!(is_upgrade(&Method::GET, &headers));
        assert!(!is_upgrade(&Method::POST, &headers));
        headers.remove(header::SEC_WEBSOCKET_KEY);
        assert!(!is_upgrade(&Method::GET, &headers));
    }
}
