//! Proxy: send the request to the chosen endpoint and wait for its response head, within the
//! endpoint's timeout; on a failure, record it against the endpoint (WSO2's suspension rules)
//! and go on to the plan's next endpoint when that is safe: the request was never sent (its
//! body is still here, whatever the method), or its method is idempotent and it has no body.
//! Never twice to the same endpoint. Bodies stream both ways; nothing is buffered.

use http::{HeaderMap, Method, Request, Response, Uri};
use hyper::body::Incoming;
use tollgate_model::TimeoutAction;

use super::request_id::RequestIds;
use super::upstream_request::{request_target, upstream_head};
use crate::endpoints::{EndpointGroup, FailureOutcome, Plan};
use crate::state::ApiRoute;
use crate::upstream::{no_body, Backends, SendFailure, UpstreamBody, UpstreamErrorKind};
use crate::{Gateway, GatewayError};

/// What sending a request to another endpoint of its list needs, kept only for lists with
/// more than one endpoint: the client's URI (a cheap clone), the length of the resource path at
/// its end, and — for a bodiless request of an idempotent method — its head, to send again.
pub struct Replay {
    uri: Uri,
    resource_len: usize,
    head: Option<(Method, HeaderMap)>,
}

impl Replay {
    pub fn prepare(request: &Request<Incoming>, resource_path: &str) -> Replay {
        let replayable =
            is_idempotent(request.method()) && hyper::body::Body::is_end_stream(request.body());
        Replay {
            uri: request.uri().clone(),
            resource_len: resource_path.len(),
            head: replayable.then(|| (request.method().clone(), request.headers().clone())),
        }
    }
}

/// The request on its way: its head already made for the plan's first endpoint.
pub struct Outgoing<'r> {
    pub route: &'r ApiRoute,
    pub group: &'r EndpointGroup,
    pub plan: &'r Plan,
    pub ids: &'r RequestIds,
    pub request: Request<UpstreamBody>,
    /// `None` when the list has one endpoint.
    pub replay: Option<Replay>,
}

/// The backend's answer, the affinity cookie to set on it, and how long the answering
/// endpoint took to start it.
pub struct Proxied {
    pub response: Response<Incoming>,
    pub set_cookie: Option<http::HeaderValue>,
    pub backend_duration: std::time::Duration,
    /// The endpoint that answered.
    pub endpoint: std::sync::Arc<str>,
}

/// Sends the request along the endpoints of its plan (see [`EndpointGroup::plan`]).
pub async fn proxy(
    gateway: &Gateway,
    backends: &Backends,
    outgoing: Outgoing<'_>,
) -> Result<Proxied, GatewayError> {
    let Outgoing {
        route,
        group,
        plan,
        ids,
        mut request,
        replay,
    } = outgoing;
    let members = group.members();
    let mut steps = plan.iter();
    let Some(mut index) = steps.next() else {
        return Err(GatewayError::EndpointsSuspended);
    };
    loop {
        let member = &members[index];
        let sending = std::time::Instant::now();
        let sent = tokio::time::timeout(member.timeout, backends.send(&member.upstream, request));
        let (error, unsent) = match sent.await {
            Ok(Ok(response)) => {
                member.succeeded();
                return Ok(Proxied {
                    response,
                    set_cookie: group.affinity_cookie(index, plan.affine()),
                    backend_duration: sending.elapsed(),
                    endpoint: member.upstream.url.clone(),
                });
            }
            Ok(Err(SendFailure::ClientBody(reason))) => {
                return Err(GatewayError::ClientBody(reason))
            }
            Ok(Err(SendFailure::Upstream { error, unsent })) => (error, unsent),
            Err(_elapsed) => (
                member
                    .upstream
                    .failed(UpstreamErrorKind::ResponseTimeout(member.timeout)),
                None,
            ),
        };
        gateway.metrics().upstream_error(error.kind.name());
        if let Some(code) = error.kind.code() {
            let now = tollgate_model::now_millis().max(0) as u64;
            if let FailureOutcome::Suspended { until } = member.failed(code, now) {
                route.metrics(gateway.metrics()).suspensions.inc();
                if gateway.backend_failures.ready().is_some() {
                    tracing::warn!(
                        endpoint = %member.upstream.url,
                        %code,
                        suspended_for_ms = until.saturating_sub(now),
                        activity_id = ids.activity_id.to_str().unwrap_or_default(),
                        "endpoint suspended"
                    );
                }
            }
        }
        // Another endpoint, when there is one and the request can safely go there.
        let again = match (steps.next(), unsent, &replay) {
            (Some(next), Some(unsent), Some(replay)) => Some((next, *unsent, replay)),
            (Some(next), None, Some(replay)) => replay.head.as_ref().map(|(method, headers)| {
                let mut fresh = Request::new(no_body());
                *fresh.method_mut() = method.clone();
                *fresh.headers_mut() = headers.clone();
                (next, fresh, replay)
            }),
            _ => None,
        };
        let Some((next, retry, replay)) = again else {
            return Err(match (&error.kind, member.settings.timeout_action) {
                (UpstreamErrorKind::ResponseTimeout(_), TimeoutAction::Discard) => {
                    GatewayError::ResponseDiscarded(error)
                }
                _ => GatewayError::BackendUnreachable(error),
            });
        };
        tracing::debug!(%error, "trying the next endpoint");
        let (mut parts, body) = retry.into_parts();
        let path = crate::path::normalise(replay.uri.path()).map_err(GatewayError::BadPath)?;
        let resource_path = &path[path.len().saturating_sub(replay.resource_len)..];
        let upstream = &members[next].upstream;
        let target = request_target(route, upstream, resource_path, replay.uri.query())?;
        upstream_head(route, upstream, target, ids, &mut parts);
        request = Request::from_parts(parts, body);
        index = next;
    }
}

/// Methods a client may repeat with the same effect (RFC 9110 §9.2.2).
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}
