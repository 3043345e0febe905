//! The request path: a fixed sequence of named phases, each a module of its own, all reading
//! the one [`RuntimeState`] snapshot taken when the request arrived. What a phase looks up was
//! prepared when that state was built (route tables, `Allow` values, upstream bases, throttle
//! keys); a phase allocates only where the request itself needs new bytes.
//!
//! | phase | module | concludes |
//! |---|---|---|
//! | request ids | [`request_id`] | `activityid` and `traceparent`: the client's or new ones |
//! | forwarded headers | [`forwarded`] | `X-Forwarded-For`/`-Proto`/`-Host`: the client's replaced, a trusted proxy's kept and appended to |
//! | route | [`route`] | the API, the operation, the resource path (`Routed`) |
//! | authenticate | [`authenticate`] | who calls: one [`Consumer`] whatever the scheme |
//! | authorize | [`authorize`] | audiences, subscription, key type, scopes; the throttle rule |
//! | throttle | [`throttle`] | refused when the traffic manager says so; the hit counted |
//! | choose endpoint | [`upstream_request`], `crate::endpoints` | the production or sandbox list; the plan: endpoints to try in order (round robin, affinity, failover), suspended ones skipped |
//! | upstream request | [`upstream_request`] | request target and head the backend receives, ids included |
//! | proxy | [`proxy`], `crate::upstream` | the backend's response within the endpoint's timeout; failures recorded (suspension), the next endpoint tried when safe; bodies streamed both ways |
//! | response | here | hop-by-hop headers removed, affinity cookie and `activityid` added (errors too) |
//! | record | [`record`] | the API's request counter and latency histograms; refusals by code; the access log entry, queued when the body ends |
//!
//! A WebSocket API's upgrade request leaves the sequence after the forwarded headers for
//! [`websocket`]: it is admitted by the same policy phases ([`admit`]), then again for each
//! frame it relays.
//!
//! Not yet here, and where they will go: CORS preflight (after route), deny policies (before
//! throttle), and analytics events (record).
//!
//! A new phase is a module here with one function over the earlier phases' conclusions,
//! called in order from [`admit`] (policy phases, no I/O) or [`process`] (those with I/O).
//! It returns `Result<_, GatewayError>`; a new refusal is a `GatewayError` variant, mapped to
//! WSO2's status and code in `crate::error` only.

pub mod authenticate;
pub mod authorize;
pub mod forwarded;
pub mod proxy;
pub mod record;
pub mod request_id;
pub mod route;
pub mod throttle;
pub mod upstream_request;
pub mod websocket;

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap};
use http::{Request, Response};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use tollgate_model::KeyType;

pub use authenticate::{verify_api_key, verify_token, Consumer, Scheme};
pub use route::Routed;

use crate::upstream::Backends;
use crate::{Gateway, GatewayError, RuntimeState};

/// A response's body: the backend's, streamed, or the gateway's own.
pub type ResponseBody = Either<Incoming, Full<Bytes>>;
/// What a client receives: the body, counted for the access log.
pub type ClientResponseBody = crate::access_log::Logged<ResponseBody>;

/// Serves one API request. Never fails: every error becomes WSO2's error response.
/// `connection` is what the request's connection tells: the peer, TLS, trust.
pub async fn handle(
    gateway: Arc<Gateway>,
    backends: Arc<Backends>,
    connection: Arc<forwarded::Connection>,
    request: Request<Incoming>,
) -> Result<Response<ClientResponseBody>, Infallible> {
    let started = Instant::now();
    let state = gateway.state();
    let ids = request_id::request_ids(request.headers());
    // What the access log needs of the request, before the phases take it apart.
    let access_log = gateway.access_log();
    let facts = access_log.map(|_| record::RequestFacts::of(&request));
    let mut outcome = record::Outcome::default();
    let processed = process(
        &gateway,
        &backends,
        &state,
        &connection,
        &ids,
        &mut outcome,
        request,
    )
    .await;
    let mut response = match processed {
        Ok(response) => response,
        Err(err) => {
            gateway.metrics().refused(err.code());
            outcome.error_code = Some(err.code());
            match &err {
                GatewayError::BackendUnreachable(reason) => {
                    if let Some(held_back) = gateway.backend_failures.ready() {
                        let activity_id = ids.activity_id.to_str().unwrap_or_default();
                        tracing::warn!(%reason, held_back, activity_id, "backend call failed")
                    }
                }
                GatewayError::ClientBody(reason) => {
                    tracing::debug!(%reason, "the client's request body was malformed")
                }
                GatewayError::InvalidCredentials(reason) => {
                    tracing::debug!(%reason, "credentials refused")
                }
                _ => {}
            }
            err.to_response().map(Either::Right)
        }
    };
    record::record(&gateway, &outcome, response.status(), started.elapsed());
    let entry = access_log.zip(facts).map(|(log, facts)| {
        let entry = facts.entry(
            started,
            &ids,
            connection.client,
            &outcome,
            response.status(),
        );
        (entry, log.clone())
    });
    response
        .headers_mut()
        .insert(request_id::ACTIVITY_ID, ids.activity_id);
    Ok(response.map(|body| crate::access_log::Logged::new(body, entry)))
}

/// What the policy phases concluded about a request that may pass.
pub struct Admission<'s, 'p> {
    pub routed: Routed<'s, 'p>,
    /// Which endpoint (production or sandbox) the request goes to.
    pub key_type: KeyType,
    /// The calling application (none on unsecured resources).
    pub application: Option<&'s tollgate_model::Application>,
}

/// What the policy phases read of a request besides its method and path.
#[derive(Clone, Copy)]
pub struct RequestView<'r> {
    pub headers: &'r HeaderMap,
    pub query: Option<&'r str>,
    /// The client's address, as the listener saw it.
    pub client: Option<IpAddr>,
    /// The host the client asked for (`Host`, or an HTTP/2 request's authority).
    pub host: Option<&'r str>,
}

/// The policy phases — route, authenticate, authorize, throttle — without I/O: lookups in the
/// runtime state, the token cache and the decision map, and the hit put on its queue.
pub fn admit<'s, 'p>(
    gateway: &Gateway,
    state: &'s RuntimeState,
    method: &http::Method,
    path: &'p str,
    request: &RequestView<'_>,
) -> Result<Admission<'s, 'p>, GatewayError> {
    let routed = route::route(state, request.host, method, path)?;
    if routed.operation.is_unsecured() {
        return Ok(Admission {
            routed,
            key_type: KeyType::Production,
            application: None,
        });
    }
    let now = tollgate_model::now_millis();
    let consumer = authenticate::authenticate(
        gateway,
        state,
        &routed.route.api.authentication,
        request,
        now / 1000,
    )?;
    let throttle_rule = authorize::authorize(state, &routed, &consumer)?;
    if let Some(rule) = throttle_rule {
        throttle::throttle(gateway, rule, now)?;
    }
    Ok(Admission {
        routed,
        key_type: consumer.key_type,
        application: Some(consumer.application),
    })
}

async fn process<'s>(
    gateway: &Arc<Gateway>,
    backends: &Backends,
    state: &'s RuntimeState,
    connection: &forwarded::Connection,
    ids: &request_id::RequestIds,
    outcome: &mut record::Outcome<'s>,
    mut request: Request<Incoming>,
) -> Result<Response<ResponseBody>, GatewayError> {
    // Forwarded headers first: a replayed request (see `proxy`) copies the head as it is here.
    // (An HTTP/2 request names its host in the URI, not in `Host`.)
    let authority = match request.headers().contains_key(header::HOST) {
        true => None,
        false => request.uri().authority().cloned(),
    };
    forwarded::forward(request.headers_mut(), authority.as_ref(), connection);

    // A WebSocket API's upgrade: admitted like a request, then its frames relayed.
    if websocket::is_upgrade(request.method(), request.headers()) {
        let path = crate::path::normalise(request.uri().path())
            .map_err(GatewayError::BadPath)?
            .into_owned();
        if let Some(served) = websocket::serve(
            gateway,
            backends,
            state,
            connection,
            ids,
            outcome,
            &mut request,
            &path,
        )
        .await
        {
            return served;
        }
    }

    // Route on, check, and forward one path: the normal form (see `path`).
    let path = crate::path::normalise(request.uri().path()).map_err(GatewayError::BadPath)?;
    if let Some(probe) = path.strip_prefix(HEALTH_PREFIX) {
        return Ok(health(gateway, probe).map(Either::Right));
    }
    let view = RequestView {
        headers: request.headers(),
        query: request.uri().query(),
        client: connection.client,
        host: request
            .headers()
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .or_else(|| request.uri().authority().map(|a| a.as_str())),
    };
    let admission = match admit(gateway, state, request.method(), &path, &view) {
        // A token of an external issuer names a key not fetched yet: fetch (rate-limited, one
        // fetch for all waiting requests) and try once more.
        Err(GatewayError::NeedsKeys(issuer)) => {
            gateway.refresh_key_set(&issuer).await;
            admit(gateway, state, request.method(), &path, &view)
        }
        // An opaque token not seen before: the key manager says what it is.
        Err(GatewayError::NeedsIntrospection(token)) => match gateway.introspect(&token).await {
            Ok(()) => admit(gateway, state, request.method(), &path, &view),
            Err(unavailable) => Err(unavailable),
        },
        other => other,
    }
    .map_err(|err| {
        // A refusal of a known API counts among that API's requests.
        outcome.route = state.route_on(view.host, &path).map(|(route, _)| route);
        match err {
            GatewayError::NeedsKeys(_) => {
                GatewayError::InvalidCredentials("unknown signing key".into())
            }
            GatewayError::NeedsIntrospection(_) => {
                GatewayError::InvalidCredentials("the token could not be introspected".into())
            }
            other => other,
        }
    })?;
    outcome.route = Some(admission.routed.route);
    outcome.key_type = admission.key_type;
    outcome.application = admission.application;
    let Admission {
        routed: Routed {
            route,
            resource_path,
            ..
        },
        key_type,
        ..
    } = admission;

    // Choose the endpoint: the plan of endpoints to try, suspended ones left out.
    let group = upstream_request::choose_endpoints(route, key_type)?;
    let now = tollgate_model::now_millis().max(0) as u64;
    let plan = group
        .plan(now, request.headers())
        .map_err(|_| GatewayError::EndpointsSuspended)?;
    let first = plan.iter().next().ok_or(GatewayError::EndpointsSuspended)?;
    let upstream = &group.members()[first].upstream;

    // Build the upstream request for the first endpoint of the plan.
    let target =
        upstream_request::request_target(route, upstream, resource_path, request.uri().query())?;
    let replay = group
        .has_alternatives()
        .then(|| proxy::Replay::prepare(&request, resource_path));
    // The path's normal form may borrow the request, which the next step takes apart.
    drop(path);
    let (mut parts, body) = request.into_parts();
    upstream_request::upstream_head(route, upstream, target, ids, &mut parts);

    // Proxy, streaming both bodies; on to the plan's next endpoint where that is safe.
    let proxied = proxy::proxy(
        gateway,
        backends,
        proxy::Outgoing {
            route,
            group,
            plan: &plan,
            ids,
            request: Request::from_parts(parts, crate::upstream::client_body(body)),
            replay,
        },
    )
    .await?;
    outcome.backend = Some(proxied.backend_duration);
    outcome.upstream = Some(proxied.endpoint);

    // Response.
    let mut response = proxied.response;
    upstream_request::strip_hop_by_hop(response.headers_mut());
    if let Some(cookie) = proxied.set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response.map(Either::Left))
}

/// Reserved path prefix for health probes (`/_health/live`, `/_health/ready`); API contexts may
/// not start with `/_`.
pub const HEALTH_PREFIX: &str = "/_health/";

/// Liveness: the process serves. Readiness: it has a runtime state to serve from.
pub(crate) fn health(gateway: &Gateway, probe: &str) -> Response<Full<Bytes>> {
    let state = gateway.state();
    let (status, ready) = match probe {
        "live" => (http::StatusCode::OK, gateway.is_ready()),
        "ready" if gateway.is_ready() => (http::StatusCode::OK, true),
        "ready" => (http::StatusCode::SERVICE_UNAVAILABLE, false),
        _ => (http::StatusCode::NOT_FOUND, gateway.is_ready()),
    };
    let body = serde_json::json!({
        "status": if status == http::StatusCode::OK { "ok" } else { "unavailable" },
        "ready": ready,
        "seq": state.seq,
        "apis": state.api_count(),
        "droppedHits": gateway.dropped_hits(),
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
