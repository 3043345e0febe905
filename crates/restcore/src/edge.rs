//! The REST edge's one middleware: every error leaves in WSO2's body, whoever produced it — a
//! handler, axum's own rejections (unknown method, oversized body, wrong content type), or a
//! panic — and control characters in the path or query are refused before any handler sees
//! them (PostgreSQL cannot store NUL; logs must not carry raw control bytes).

use std::panic::AssertUnwindSafe;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use crate::text::first_control_char;
use crate::ApiError;

/// Largest non-JSON error body that is turned into WSO2's (framework rejections are short).
const REWRITE_LIMIT: usize = 16 * 1024;

pub async fn rest_edge(request: Request, next: Next) -> Response {
    if let Err(err) = check_target(request.uri()) {
        return err.into_response();
    }
    let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        // The panic hook has logged it (once, with its location).
        Err(_) => return ApiError::internal().into_response(),
    };
    // The portals' error pages are pages: only other bodies become WSO2's JSON.
    if response.status().as_u16() < 400 || is_json(&response) || is_html(&response) {
        return close_if_too_large(response);
    }
    let status = response.status();
    let text = match axum::body::to_bytes(response.into_body(), REWRITE_LIMIT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let description = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        text
    };
    close_if_too_large(ApiError::new(status, description).into_response())
}

/// A request refused as too large was not read to its end: its connection cannot carry another
/// request, so the client is told not to reuse it.
fn close_if_too_large(mut response: Response) -> Response {
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

fn is_html(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_json(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Refuses a path or query that decodes to a control character, naming where it is.
fn check_target(uri: &axum::http::Uri) -> Result<(), ApiError> {
    if let Some(c) = percent_decoded_control(uri.path()) {
        return Err(ApiError::bad_request(format!(
            "The request path contains a control character ({}); it is not allowed",
            escape(c)
        )));
    }
    if let Some(query) = uri.query() {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let name_c = first_control_char(&name);
            if let Some(c) = name_c.or_else(|| first_control_char(&value)) {
                return Err(ApiError::bad_request(format!(
                    "Query parameter '{}' contains a control character ({}); it is not allowed",
                    name.escape_debug(),
                    escape(c)
                )));
            }
        }
    }
    Ok(())
}

/// The first control character a percent-encoded path decodes to.
fn percent_decoded_control(path: &str) -> Option<char> {
    let bytes = path.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while i < bytes.len() {
        let byte = if bytes[i] == b'%' && i + 2 < bytes.len() {
            match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    i += 2;
                    (h * 16 + l) as u8
                }
                _ => bytes[i],
            }
        } else {
            bytes[i]
        };
        if byte < 0x20 || byte == 0x7f {
            return Some(byte as char);
        }
        i += 1;
    }
    None
}

fn escape(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_control_characters_are_found() {
        assert_eq!(percent_decoded_control("/apis/a%00b"), Some('\0'));
        assert_eq!(percent_decoded_control("/apis/%0a"), Some('\n'));
        assert_eq!(percent_decoded_control("/apis/%7F"), Some('\u{7f}'));
        assert_eq!(percent_decoded_control("/apis/%20x%2"), None);
        assert_eq!(percent_decoded_control("/apis/%"), None);
        assert_eq!(percent_decoded_control("/apis/ok"), None);
    }
}
