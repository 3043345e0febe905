use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON request body. Unlike axum's `Json`, a bad body yields WSO2's error body naming the
/// field at fault (`operations[0].verb: invalid type: …`).
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::new(e.status(), format!("Could not read the request body: {e}"))
        })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses JSON, naming the path of the field at fault in the error. Control characters other
/// than tab and line breaks are refused in every string (see `text::check_json_text`).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "The request body is empty; a JSON object is required",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON: {e}")))?;
    crate::text::check_json_text(&value)?;
    from_value(&value)
}

/// Reads a typed view of an already parsed JSON value, naming the field at fault.
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            ApiError::bad_request(format!("Invalid request body: {inner}"))
        } else {
            ApiError::bad_field(path, inner.to_string())
        }
    })
}
