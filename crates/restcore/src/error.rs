use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tollgate_keymanager::KeyManagerError;
use tollgate_store::StoreError;

/// An error of a REST API, rendered as WSO2's error body: `{"code","message","description",…}`.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {description}")]
pub struct ApiError {
    pub status: StatusCode,
    pub description: String,
}

impl ApiError {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        ApiError {
            status,
            description: description.into(),
        }
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
                "error": []
            })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"tollgate\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => {
                ApiError::not_found(format!("Requested {what} not found"))
            }
            StoreError::Conflict(message) => ApiError::conflict(message),
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
            KeyManagerError::InvalidGrant(m) | KeyManagerError::InvalidRequest(m) => {
                ApiError::bad_request(m)
            }
            KeyManagerError::UnsupportedGrantType(g) | KeyManagerError::UnauthorizedClient(g) => {
                ApiError::bad_request(format!("grant type {g} is not allowed"))
            }
            KeyManagerError::Crypto(reason) => {
                tracing::error!(%reason, "key material failure");
                ApiError::internal()
            }
        }
    }
}
