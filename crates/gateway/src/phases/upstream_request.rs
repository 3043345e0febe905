//! Choose the endpoints and build the upstream request: the production or sandbox endpoints by
//! the consumer's key type, the request target below the endpoint's base path, and the
//! headers the backend receives — the gateway's credentials removed, hop-by-hop headers
//! removed, `Host` set to the endpoint's authority, the request's ids set.

use std::borrow::Cow;

use http::header::{self, HeaderMap, HeaderName};
use http::request::Parts;
use http::Uri;
use tollgate_model::KeyType;

use super::request_id::{RequestIds, ACTIVITY_ID, TRACEPARENT};
use crate::endpoints::EndpointGroup;
use crate::state::ApiRoute;
use crate::upstream::Upstream;
use crate::GatewayError;

/// The endpoints for `key_type` (see `ApiRoute::endpoints`).
pub fn choose_endpoints(
    route: &ApiRoute,
    key_type: KeyType,
) -> Result<&EndpointGroup, GatewayError> {
    route
        .endpoints(key_type)
        .ok_or(GatewayError::NoEndpoint(match key_type {
            KeyType::Production => "production",
            KeyType::Sandbox => "sandbox",
        }))?
        .as_ref()
        .map_err(|err| GatewayError::BackendUnreachable(err.clone()))
}

/// The request target `upstream` receives for the resource `resource_path` of `route`, with the
/// client's `query` (less an API key the gateway consumed).
pub fn request_target(
    route: &ApiRoute,
    upstream: &Upstream,
    resource_path: &str,
    query: Option<&str>,
) -> Result<Uri, GatewayError> {
    let authentication = &route.api.authentication;
    // Like the token, an API key was for the gateway, and stays here.
    // Whatever credential was used, a key in the query stays here too.
    let query = match query {
        Some(query) if authentication.api_key && authentication.api_key_in_query => {
            without_param(query, &authentication.api_key_header)
        }
        query => query.map(Cow::Borrowed),
    };
    upstream
        .request_target(resource_path, query.as_deref())
        .map_err(GatewayError::BackendUnreachable)
}

/// Rewrites the client's request head `parts` into the head `upstream` receives.
pub fn upstream_head(
    route: &ApiRoute,
    upstream: &Upstream,
    target: Uri,
    ids: &RequestIds,
    parts: &mut Parts,
) {
    let authentication = &route.api.authentication;
    parts.uri = target;
    strip_hop_by_hop(&mut parts.headers);
    // The token was for the gateway; like WSO2, do not pass it to the backend. An API whose
    // tokens come in another header passes `Authorization` on (credentials for the backend).
    match &authentication.authorization_header {
        None => {
            parts.headers.remove(header::AUTHORIZATION);
        }
        Some(name) => {
            parts.headers.remove(name.as_str());
        }
    }
    if authentication.api_key {
        parts.headers.remove(authentication.api_key_header.as_str());
    }
    parts
        .headers
        .insert(header::HOST, upstream.authority().clone());
    parts.version = http::Version::HTTP_11;
    parts.headers.insert(ACTIVITY_ID, ids.activity_id.clone());
    parts.headers.insert(TRACEPARENT, ids.traceparent.clone());
}

/// `query` without the parameter `name`; `None` when nothing is left.
fn without_param<'q>(query: &'q str, name: &str) -> Option<Cow<'q, str>> {
    fn key_of(pair: &str) -> &str {
        pair.split_once('=').map_or(pair, |(key, _)| key)
    }
    // Most queries do not carry it: nothing to copy.
    if !query.split('&').any(|pair| key_of(pair) == name) {
        return Some(Cow::Borrowed(query));
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| key_of(pair) != name)
        .collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join("&")))
}

/// Removes the headers that describe one connection, not the message (RFC 9110 §7.6.1).
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    const HOP_BY_HOP: [HeaderName; 6] = [
        header::CONNECTION,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ];
    // Most messages carry none: one pass over their few names is cheaper than eight removals.
    let any = headers.keys().any(|name| {
        HOP_BY_HOP.contains(name) || name == "keep-alive" || name == "proxy-connection"
    });
    if !any {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(named.iter()) {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn an_api_key_in_the_query_stays_at_the_gateway() {
        assert_eq!(
            without_param("a=1&b=2", "apikey").as_deref(),
            Some("a=1&b=2")
        );
        assert_eq!(
            without_param("a=1&apikey=k&b=%20", "apikey").as_deref(),
            Some("a=1&b=%20")
        );
        assert_eq!(without_param("apikey=k", "apikey"), None);
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_removed() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-session"),
            ("keep-alive", "timeout=5"),
            ("x-session", "s"),
            ("te", "trailers"),
            ("accept", "*/*"),
        ] {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        strip_hop_by_hop(&mut headers);
        assert_eq!(
            headers.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["accept"]
        );
    }
}
