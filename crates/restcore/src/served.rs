//! Stored content served as it is — document text and files, thumbnails — and WSO2's tier
//! shape, shared by the publisher's and the developer portal's APIs.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tollgate_model::{PolicyLevel, ThrottlePolicy};
use tollgate_operations::publisher::documents::ServedContent;

use crate::ApiError;

/// Content a user uploaded runs no script in a browser that opens it from this origin: an SVG
/// or HTML file is shown inert.
const INERT: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

fn inert(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(INERT),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// A document's content: its text (plain or Markdown), its file (as an attachment), or a
/// redirect to where it lives.
pub fn served_content(content: ServedContent) -> Result<Response, ApiError> {
    Ok(match content {
        ServedContent::Text { markdown, text } => {
            let content_type = if markdown {
                "text/markdown; charset=utf-8"
            } else {
                "text/plain; charset=utf-8"
            };
            let mut response = ([(header::CONTENT_TYPE, content_type)], text).into_response();
            inert(&mut response);
            response
        }
        ServedContent::File(file) => {
            let mut response = file.content.into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&file.content_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            let safe_name: String = file
                .name
                .chars()
                .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
                .collect();
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"{safe_name}\""))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            inert(&mut response);
            response
        }
        ServedContent::Redirect(url) => match HeaderValue::from_str(&url) {
            Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
            Err(_) => return Err(ApiError::not_found("The document's URL cannot be served")),
        },
    })
}

/// An image (a thumbnail), inert.
pub fn served_image(content_type: String, content: Vec<u8>) -> Response {
    let mut response = content.into_response();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    inert(&mut response);
    response
}

/// WSO2's `ThrottlingPolicy` (publisher and developer portal alike).
pub fn tier_json(policy: &ThrottlePolicy, level: PolicyLevel) -> Value {
    json!({
        "name": policy.name,
        "description": policy.description,
        "policyLevel": level.as_str(),
        "displayName": policy.display_name,
        "attributes": {},
        // WSO2 writes "unlimited" as the largest 32-bit count.
        "requestCount": policy.request_count.unwrap_or(i32::MAX as i64),
        "unitTime": policy.unit_time,
        "timeUnit": policy.time_unit,
        "rateLimitCount": 0,
        "quotaPolicyType": "REQUESTCOUNT",
        "tierPlan": "FREE",
        "stopOnQuotaReach": true,
        "monetizationProperties": {},
    })
}
