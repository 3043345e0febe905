//! Record: what a request leaves behind once its response head is ready — the API's request
//! counter (by status class and key type) and latency histograms (whole request, backend
//! alone), atomics only (see `crate::metrics`) — and, when the access log is on, the request's
//! entry, queued when the response body ends (`crate::access_log`). Refusals are counted by
//! code where they are answered (`handle`).

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tollgate_model::{Application, KeyType};

use crate::access_log::AccessEntry;
use crate::state::ApiRoute;
use crate::Gateway;

/// What the phases learnt about a request that the record phase needs.
pub struct Outcome<'s> {
    /// The API the path named, admitted or not.
    pub route: Option<&'s Arc<ApiRoute>>,
    pub application: Option<&'s Application>,
    /// The endpoint that answered.
    pub upstream: Option<Arc<str>>,
    /// The caller's key type (production until known, as for unsecured resources).
    pub key_type: KeyType,
    /// From sending to the backend's response head.
    pub backend: Option<Duration>,
    /// WSO2's code, when the gateway answered itself.
    pub error_code: Option<&'static str>,
}

impl Default for Outcome<'_> {
    fn default() -> Self {
        Outcome {
            route: None,
            application: None,
            upstream: None,
            key_type: KeyType::Production,
            backend: None,
            error_code: None,
        }
    }
}

/// Counts the request.
pub fn record(gateway: &Gateway, outcome: &Outcome<'_>, status: StatusCode, elapsed: Duration) {
    let Some(route) = outcome.route else {
        return;
    };
    let metrics = route.metrics(gateway.metrics());
    metrics.answered(outcome.key_type, status, elapsed);
    if let Some(backend) = outcome.backend {
        metrics.backend_duration.observe(backend);
    }
}

/// What the access log needs of the request itself, taken before the phases consume it:
/// clones that share the request's bytes.
pub struct RequestFacts {
    at_millis: i64,
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    referer: Option<http::HeaderValue>,
    user_agent: Option<http::HeaderValue>,
}

impl RequestFacts {
    pub fn of<B>(request: &http::Request<B>) -> RequestFacts {
        let header = |name| request.headers().get(name).cloned();
        RequestFacts {
            at_millis: tollgate_model::now_millis(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            version: request.version(),
            referer: header(http::header::REFERER),
            user_agent: header(http::header::USER_AGENT),
        }
    }

    /// The request's access log entry, its size and duration to be set when the body ends.
    pub fn entry(
        self,
        started: std::time::Instant,
        ids: &super::request_id::RequestIds,
        client: Option<std::net::IpAddr>,
        outcome: &Outcome<'_>,
        status: StatusCode,
    ) -> Box<AccessEntry> {
        Box::new(AccessEntry {
            at_millis: self.at_millis,
            started,
            activity_id: ids.activity_id.clone(),
            client,
            method: self.method,
            uri: self.uri,
            version: self.version,
            referer: self.referer,
            user_agent: self.user_agent,
            route: outcome.route.cloned(),
            application: outcome.application.map(|app| app.id.clone()),
            key_type: outcome.application.map(|_| outcome.key_type),
            status: status.as_u16(),
            error_code: outcome.error_code,
            upstream: outcome.upstream.clone(),
            backend: outcome.backend,
            bytes: 0,
            duration: Duration::ZERO,
        })
    }
}
