//! The gateway's management listener (port 9901 plus `offset`): `/metrics` in the Prometheus
//! text exposition format, and the health probes `/_health/live` and `/_health/ready` (also on
//! the API ports). Kept apart from API traffic so it can be firewalled off.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;

use crate::phases::HEALTH_PREFIX;
use crate::Gateway;

/// The content type of the text exposition (OpenMetrics, which Prometheus reads).
const EXPOSITION: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Answers one management request.
pub async fn serve<B>(
    gateway: Arc<Gateway>,
    request: Request<B>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path();
    let response = match (request.method(), path) {
        (&Method::GET, "/metrics") => {
            let mut response = Response::new(Full::new(Bytes::from(gateway.metrics().render())));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(EXPOSITION));
            response
        }
        (&Method::GET, path) if path.starts_with(HEALTH_PREFIX) => {
            crate::phases::health(&gateway, &path[HEALTH_PREFIX.len()..])
        }
        _ => {
            let mut response = Response::new(Full::new(Bytes::from_static(
                b"{\"code\":\"404\",\"message\":\"Not Found\",\"description\":\"The management listener serves /metrics, /_health/live and /_health/ready\"}",
            )));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    };
    Ok(response)
}
