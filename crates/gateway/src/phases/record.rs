//! Record: what a request leaves behind once its response head is ready — the API's request
//! counter (by status class and key type) and latency histograms (whole request, backend
//! alone). Atomics only (see `crate::metrics`); refusals are counted by code where they are
//! answered (`handle`).

use std::time::Duration;

use http::StatusCode;
use tollgate_model::KeyType;

use crate::state::ApiRoute;
use crate::Gateway;

/// What the phases learnt about a request that the record phase needs.
pub struct Outcome<'s> {
    /// The API the path named, admitted or not.
    pub route: Option<&'s ApiRoute>,
    /// The caller's key type (production until known, as for unsecured resources).
    pub key_type: KeyType,
    /// From sending to the backend's response head.
    pub backend: Option<Duration>,
}

impl Default for Outcome<'_> {
    fn default() -> Self {
        Outcome {
            route: None,
            key_type: KeyType::Production,
            backend: None,
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
