//! Plumbing every control-plane REST API shares: the context handlers run in, WSO2's error body
//! (and the one place this layer's errors become HTTP responses), the authenticated caller with
//! WSO2's scope semantics, and JSON bodies whose errors name the offending field.

mod auth;
mod edge;
mod error;
mod form;
mod json;
mod query;
mod routes;
mod served;
mod text;

pub use auth::{MaybePrincipal, Principal};
pub use edge::rest_edge;
pub use error::ApiError;
pub use form::{upload_limit, Form};
pub use json::{from_value, parse as parse_json, JsonBody};
pub use query::{named_param, parse_name, parse_query, required, Paged, QueryParams};
pub use routes::{Operation, Routes};
pub use served::{served_content, served_image, tier_json};
pub use text::check_line;
pub use tollgate_operations::Page;

/// Milliseconds since the epoch as `2024-03-01T12:00:00Z` (UTC).
pub fn rfc3339(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

use std::sync::Arc;

pub use tollgate_operations::GatewayEnvironment;

/// What every REST handler can reach: the operations' services.
pub type RestContext = tollgate_operations::Services;

pub type Ctx = Arc<RestContext>;

/// WSO2's `pagination` object for one page of `total` items.
pub fn pagination(page: Page, total: i64) -> serde_json::Value {
    serde_json::json!({"offset": page.offset, "limit": page.limit, "total": total, "next": "", "previous": ""})
}

/// WSO2's list body: `{"count", "list", "pagination"}`; without a page, the list is everything.
pub fn list_body(
    list: Vec<serde_json::Value>,
    page: Option<(Page, i64)>,
) -> axum::Json<serde_json::Value> {
    let count = list.len() as i64;
    let (page, total) = page.unwrap_or((
        Page {
            limit: count,
            offset: 0,
        },
        count,
    ));
    axum::Json(
        serde_json::json!({"count": count, "list": list, "pagination": pagination(page, total)}),
    )
}

/// WSO2's list body for one page of an operation's list.
pub fn listed_body<T>(
    listed: &tollgate_operations::Listed<T>,
    item_json: impl Fn(&T) -> serde_json::Value,
) -> axum::Json<serde_json::Value> {
    list_body(
        listed.items.iter().map(item_json).collect(),
        Some((listed.page, listed.total)),
    )
}
