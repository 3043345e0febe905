use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::{FeedError, UpstreamError, UpstreamErrorKind};

/// Why the gateway refused or failed a request; rendered with WSO2's gateway error codes.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("no API matches the request path")]
    NoApi,
    /// The API's publisher blocked it (lifecycle state Blocked).
    #[error("the API is blocked")]
    ApiBlocked,
    #[error("no resource of the API matches {method} {path}")]
    NoResource { method: String, path: String },
    /// The path names a resource, which has other methods (listed in `Allow`).
    #[error("the resource allows only {allow:?}")]
    MethodNotAllowed { allow: http::HeaderValue },
    #[error("missing credentials")]
    MissingCredentials,
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),
    #[error("application is not subscribed to the API")]
    NotSubscribed,
    #[error("subscription is blocked")]
    SubscriptionBlocked,
    #[error("subscription is inactive")]
    SubscriptionInactive,
    #[error("token lacks the scope the resource requires")]
    InvalidScope,
    #[error("the API has no {0} endpoint")]
    NoEndpoint(&'static str),
    /// The backend could not be called: its endpoint is unusable, or connecting to it or the
    /// exchange with it failed (see [`UpstreamError::kind`]).
    #[error("backend unreachable: {0}")]
    BackendUnreachable(UpstreamError),
    /// The backend did not answer within the endpoint's timeout, whose `actionSelect` is
    /// `discard`: 504 without a body.
    #[error("backend response discarded: {0}")]
    ResponseDiscarded(UpstreamError),
    /// Every endpoint the request could go to is suspended after failures: no backend call.
    #[error("every endpoint is suspended")]
    EndpointsSuspended,
    #[error("subscription quota exceeded")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    BadPath(crate::path::PathError),
    /// The client's request body broke off or was malformed (bad chunk framing) while it was
    /// being forwarded: the client's fault, not the backend's.
    #[error("the request body is malformed: {0}")]
    ClientBody(String),
    /// The token names a key its (external) issuer's key set does not hold yet: fetch the set
    /// again, then check once more. Refused as invalid credentials if it reaches a client.
    #[error("unknown signing key of {0:?}")]
    NeedsKeys(std::sync::Arc<crate::state::ExternalIssuer>),
    /// An opaque token not seen before: ask the key manager, then check once more.
    #[error("opaque token to introspect")]
    NeedsIntrospection(std::sync::Arc<str>),
    /// The key manager could not be asked about a token (unreachable, or too many questions
    /// under way): the client may retry; the token may well be valid.
    #[error("the key manager cannot validate the token now: {0}")]
    AuthenticationUnavailable(AuthenticationUnavailable),
    /// As many WebSocket connections are relayed as the gateway takes (its listeners'
    /// connection limit: an upgraded connection leaves the listener's count).
    #[error("too many WebSocket connections")]
    WebSocketsFull,
}

/// Why the key manager could not be asked about a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthenticationUnavailable {
    #[error("no key manager to ask")]
    NoKeyManager,
    #[error("too many introspections under way")]
    Busy,
    #[error(transparent)]
    Feed(Arc<FeedError>),
}

impl GatewayError {
    /// (HTTP status, WSO2 error code, message).
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            GatewayError::NoApi => (StatusCode::NOT_FOUND, "404", "Not Found"),
            GatewayError::ApiBlocked => (StatusCode::SERVICE_UNAVAILABLE, "700700", "API blocked"),
            GatewayError::NoResource { .. } => (
                StatusCode::NOT_FOUND,
                "900906",
                "No matching resource found for given API Request",
            ),
            GatewayError::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "405",
                "Method not allowed for given API resource",
            ),
            GatewayError::MissingCredentials => {
                (StatusCode::UNAUTHORIZED, "900902", "Missing Credentials")
            }
            GatewayError::InvalidCredentials(_)
            | GatewayError::NeedsKeys(_)
            | GatewayError::NeedsIntrospection(_) => {
                (StatusCode::UNAUTHORIZED, "900901", "Invalid Credentials")
            }
            GatewayError::NotSubscribed => (StatusCode::FORBIDDEN, "900908", "Resource forbidden"),
            GatewayError::SubscriptionBlocked => (
                StatusCode::FORBIDDEN,
                "900907",
                "The requested API is temporarily blocked",
            ),
            GatewayError::SubscriptionInactive => (
                StatusCode::FORBIDDEN,
                "900909",
                "The subscription to the API is inactive",
            ),
            GatewayError::InvalidScope => (
                StatusCode::FORBIDDEN,
                "900910",
                "The access token does not allow you to access the requested resource",
            ),
            GatewayError::NoEndpoint(_) => (
                StatusCode::FORBIDDEN,
                "900905",
                "Incorrect Access Token Type is provided",
            ),
            GatewayError::BackendUnreachable(UpstreamError {
                kind: UpstreamErrorKind::ResponseTimeout(_),
                ..
            })
            | GatewayError::ResponseDiscarded(_) => {
                (StatusCode::GATEWAY_TIMEOUT, "101504", "Send timeout")
            }
            GatewayError::BackendUnreachable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "101503",
                "Error connecting to the back end",
            ),
            GatewayError::EndpointsSuspended => {
                (StatusCode::SERVICE_UNAVAILABLE, "303001", "Runtime Error")
            }
            GatewayError::Throttled { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "900804",
                "Message throttled out",
            ),
            GatewayError::BadPath(_) | GatewayError::ClientBody(_) => {
                (StatusCode::BAD_REQUEST, "400", "Bad Request")
            }
            GatewayError::AuthenticationUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "900900",
                "Unclassified Authentication Failure",
            ),
            // WSO2 has no code of its own for it: its general runtime error.
            GatewayError::WebSocketsFull => {
                (StatusCode::SERVICE_UNAVAILABLE, "303001", "Runtime Error")
            }
        }
    }

    fn description(&self) -> String {
        match self {
            GatewayError::NoApi => "The requested resource is not available.".into(),
            GatewayError::ApiBlocked => {
                "This API has been blocked temporarily. Please contact the API publishers.".into()
            }
            GatewayError::MissingCredentials => {
                "Invalid Credentials. Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN'".into()
            }
            GatewayError::InvalidCredentials(_)
            | GatewayError::NeedsKeys(_)
            | GatewayError::NeedsIntrospection(_) => {
                "Invalid Credentials. Make sure you have provided the correct security credentials".into()
            }
            GatewayError::NotSubscribed => {
                "User is NOT authorized to access the Resource. API Subscription validation failed.".into()
            }
            GatewayError::Throttled { .. } => {
                "You have exceeded your quota. Your subscription's request limit for the current window has been reached".into()
            }
            GatewayError::AuthenticationUnavailable(_) => {
                "The token could not be validated now; retry shortly".into()
            }
            GatewayError::MethodNotAllowed { allow } => format!(
                "Method not allowed for given API resource; allowed: {}",
                allow.to_str().unwrap_or_default()
            ),
            // The backend's address and the socket error stay in the log, not in the response.
            GatewayError::BackendUnreachable(UpstreamError {
                kind: UpstreamErrorKind::ResponseTimeout(_),
                ..
            }) => "The backend of the API did not answer in time".into(),
            GatewayError::BackendUnreachable(_) => "The backend of the API could not be reached".into(),
            GatewayError::EndpointsSuspended => {
                "Currently every endpoint of the API is suspended: [ State : SUSPENDED ]".into()
            }
            GatewayError::WebSocketsFull => {
                "The gateway relays as many WebSocket connections as it takes; retry later".into()
            }
            other => other.to_string(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// WSO2's error code.
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    /// WSO2's gateway error body: `{"code":"900901","message":"…","description":"…"}`.
    pub fn to_response(&self) -> Response<Full<Bytes>> {
        let (status, code, message) = self.parts();
        if let GatewayError::ResponseDiscarded(_) = self {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = status;
            return response;
        }
        let body = serde_json::json!({"code": code, "message": message, "description": self.description()});
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        if let GatewayError::Throttled { retry_after_secs } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if let GatewayError::MethodNotAllowed { allow } = self {
            response.headers_mut().insert(header::ALLOW, allow.clone());
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "OAuth2 realm=\"WSO2 API Manager\", error=\"invalid_token\"",
                ),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn a_wrong_method_is_405_naming_the_allowed_ones() {
        let err = GatewayError::MethodNotAllowed {
            allow: HeaderValue::from_static("GET, POST"),
        };
        let response = err.to_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "405");
    }

    #[tokio::test]
    async fn a_timeout_is_504_101504_and_suspended_endpoints_503_303001() {
        let timeout = GatewayError::BackendUnreachable(UpstreamError {
            endpoint: "http://slow".into(),
            kind: UpstreamErrorKind::ResponseTimeout(std::time::Duration::from_millis(200)),
        });
        for (err, status, code) in [
            (timeout, StatusCode::GATEWAY_TIMEOUT, "101504"),
            (
                GatewayError::EndpointsSuspended,
                StatusCode::SERVICE_UNAVAILABLE,
                "303001",
            ),
        ] {
            let response = err.to_response();
            assert_eq!(response.status(), status);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["code"], code);
        }
    }

    #[tokio::test]
    async fn every_connection_failure_is_wso2s_101503() {
        for kind in [
            UpstreamErrorKind::NotAUrl,
            UpstreamErrorKind::ConnectTimeout,
            UpstreamErrorKind::Connect(Arc::new(std::io::ErrorKind::ConnectionRefused.into())),
        ] {
            let err = GatewayError::BackendUnreachable(UpstreamError {
                endpoint: "http://backend.internal:8080/x".into(),
                kind,
            });
            let response = err.to_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["code"], "101503");
            assert_eq!(body["message"], "Error connecting to the back end");
            // The backend's address stays in the log.
            assert_eq!(
                body["description"],
                "The backend of the API could not be reached"
            );
        }
    }
}
