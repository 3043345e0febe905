use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tollgate_keymanager::KeyManagerError;
use tollgate_operations::{FieldError, OpError};
use tollgate_store::StoreError;

/// An error of a REST API, rendered as WSO2's error body: `{"code","message","description",…}`.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {description}")]
pub struct ApiError {
    pub status: StatusCode,
    pub description: String,
    /// Seconds to send as `Retry-After` (throttled, locked out, busy).
    pub retry_after: Option<u64>,
    /// WSO2's `error` list: one entry per bad field.
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        ApiError {
            status,
            description: description.into(),
            retry_after: None,
            errors: Vec::new(),
        }
    }

    pub fn with_retry_after(mut self, secs: Option<u64>) -> Self {
        self.retry_after = secs;
        self
    }

    /// A 400 about one field, listed in WSO2's `error` list too.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        OpError::invalid(field, message).into()
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    pub fn conflict(description: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, description)
    }

    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, description)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server could not complete the request; see its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.status.canonical_reason().unwrap_or("Error");
        let mut response = (
            self.status,
            Json(serde_json::json!({
                "code": self.status.as_u16(),
                "message": message,
                "description": self.description,
                "moreInfo": "",
                "error": self.errors.iter().map(|e| serde_json::json!({
                    "code": self.status.as_u16().to_string(),
                    "message": e.field,
                    "description": e.message,
                })).collect::<Vec<_>>()
            })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"tollgate\""),
            );
        }
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        response
    }
}

impl From<OpError> for ApiError {
    fn from(err: OpError) -> Self {
        match err {
            OpError::Invalid(errors) => {
                let description = errors
                    .iter()
                    .map(|e| format!("Field '{}': {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError {
                    errors,
                    ..ApiError::bad_request(description)
                }
            }
            OpError::NotAllowed(message) => ApiError::bad_request(message),
            OpError::Forbidden(message) => ApiError::forbidden(message),
            OpError::Unauthenticated(message) => ApiError::unauthorized(message),
            OpError::NotFound(what) => ApiError::not_found(format!("Requested {what} not found")),
            OpError::Conflict(message) => ApiError::conflict(message),
            OpError::Stale(message) => ApiError::new(StatusCode::PRECONDITION_FAILED, message),
            OpError::Store(store) => store.into(),
            OpError::KeyManager(err) => err.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => {
                ApiError::not_found(format!("Requested {what} not found"))
            }
            StoreError::Conflict(message) => ApiError::conflict(message),
            StoreError::Stale(message) => ApiError::new(StatusCode::PRECONDITION_FAILED, message),
            StoreError::InvalidText(message) => ApiError::bad_request(message),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl From<KeyManagerError> for ApiError {
    fn from(err: KeyManagerError) -> Self {
        match err {
            KeyManagerError::Store(store) => store.into(),
            KeyManagerError::InvalidClient => ApiError::unauthorized("Invalid client credentials"),
            KeyManagerError::InvalidToken(reason) => ApiError::unauthorized(reason),
            KeyManagerError::InvalidGrant(m)
            | KeyManagerError::InvalidRequest(m)
            | KeyManagerError::InvalidScope(m) => ApiError::bad_request(m),
            KeyManagerError::InsufficientScope(m) | KeyManagerError::Forbidden(m) => {
                ApiError::new(StatusCode::FORBIDDEN, m)
            }
            KeyManagerError::UnsupportedGrantType(g) | KeyManagerError::UnauthorizedClient(g) => {
                ApiError::bad_request(format!("grant type {g} is not allowed"))
            }
            KeyManagerError::Crypto(reason) => {
                tracing::error!(%reason, "key material failure");
                ApiError::internal()
            }
            KeyManagerError::AccountLocked { retry_after_secs } => ApiError::unauthorized(
                match retry_after_secs {
                    Some(secs) => format!("The account is locked after too many failed logins; try again in {secs} s or ask an administrator to unlock it"),
                    None => "The account is locked after too many failed logins; ask an administrator to unlock it".into(),
                },
            )
            .with_retry_after(retry_after_secs),
            KeyManagerError::TooManyAttempts { retry_after_secs } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many failed attempts from this address; try again in {retry_after_secs} s"),
            )
            .with_retry_after(Some(retry_after_secs)),
            KeyManagerError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is busy checking credentials; retry shortly",
            )
            .with_retry_after(Some(1)),
            KeyManagerError::Upstream(reason) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("The key manager at {reason}"),
            ),
        }
    }
}
