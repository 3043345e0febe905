//! Forwarded headers: `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` as the
//! backend receives them. A client's own values are replaced — anyone can send them — unless
//! the connection comes from a trusted proxy (`[apim.gateway] trusted_proxies`), whose values
//! are kept and whose `X-Forwarded-For` the proxy's address is appended to.
//!
//! What depends on the connection (its address as header text, whether it is trusted) is
//! worked out once per connection ([`Connection`]), not per request.

use std::net::{IpAddr, SocketAddr};

use http::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use http::uri::Authority;
use ipnet::IpNet;

pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// One client connection as the request path sees it.
#[derive(Debug)]
pub struct Connection {
    /// The peer's address.
    pub client: Option<IpAddr>,
    /// The peer's address as header text.
    client_header: Option<HeaderValue>,
    /// Whether it came in over TLS.
    secure: bool,
    /// Whether the peer is a trusted proxy.
    trusted: bool,
    /// Counts the connection as open while it lives.
    _open: Option<crate::metrics::OpenConnection>,
}

impl Connection {
    /// A connection from `peer`, over TLS when `secure`.
    pub fn new(peer: Option<SocketAddr>, secure: bool, trusted_proxies: &[IpNet]) -> Connection {
        let client = peer.map(|peer| peer.ip().to_canonical());
        Connection {
            client,
            client_header: client.and_then(|ip| HeaderValue::from_str(&ip.to_string()).ok()),
            secure,
            trusted: client.is_some_and(|ip| trusted_proxies.iter().any(|net| net.contains(&ip))),
            _open: None,
        }
    }

    /// The connection, counted among the open ones of `metrics` while it lives.
    pub fn counted(self, metrics: &std::sync::Arc<crate::metrics::GatewayMetrics>) -> Connection {
        Connection {
            _open: Some(metrics.connection_opened()),
            ..self
        }
    }
}

/// Sets the forwarded headers of a request from `connection` (`authority`: an HTTP/2 request's,
/// which comes without `Host`).
pub fn forward(headers: &mut HeaderMap, authority: Option<&Authority>, connection: &Connection) {
    let kept_for = connection.trusted && headers.contains_key(X_FORWARDED_FOR);
    match (&connection.client_header, kept_for) {
        (Some(client), true) => {
            let mut chain = headers
                .get_all(X_FORWARDED_FOR)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ");
            chain.push_str(", ");
            chain.push_str(client.to_str().unwrap_or_default());
            match HeaderValue::from_str(&chain) {
                Ok(chain) => {
                    headers.insert(X_FORWARDED_FOR, chain);
                }
                Err(_) => {
                    headers.insert(X_FORWARDED_FOR, client.clone());
                }
            }
        }
        (Some(client), false) => {
            headers.insert(X_FORWARDED_FOR, client.clone());
        }
        // No peer address (never on a TCP listener), so no trust either.
        (None, _) => {
            headers.remove(X_FORWARDED_FOR);
        }
    }
    if !(connection.trusted && headers.contains_key(X_FORWARDED_PROTO)) {
        headers.insert(
            X_FORWARDED_PROTO,
            HeaderValue::from_static(if connection.secure { "https" } else { "http" }),
        );
    }
    if !(connection.trusted && headers.contains_key(X_FORWARDED_HOST)) {
        let host = headers
            .get(HOST)
            .cloned()
            .or_else(|| authority.and_then(|a| HeaderValue::from_str(a.as_str()).ok()));
        match host {
            Some(host) => {
                headers.insert(X_FORWARDED_HOST, host);
            }
            None => {
                headers.remove(X_FORWARDED_HOST);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn forwarded(headers: &HeaderMap) -> [String; 3] {
        [X_FORWARDED_FOR, X_FORWARDED_PROTO, X_FORWARDED_HOST].map(|name| {
            headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        })
    }

    #[test]
    fn a_clients_own_forwarded_headers_are_replaced() {
        let connection = Connection::new(Some("203.0.113.9:5000".parse().unwrap()), true, &[]);
        let mut headers = request(&[
            ("host", "api.example.com"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-proto", "http"),
            ("x-forwarded-host", "evil.example"),
        ]);
        forward(&mut headers, None, &connection);
        assert_eq!(
            forwarded(&headers),
            ["203.0.113.9", "https", "api.example.com"]
        );
    }

    #[test]
    fn a_trusted_proxys_headers_are_kept_and_its_address_appended() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let connection = Connection::new(Some("10.1.2.3:443".parse().unwrap()), false, &trusted);
        let mut headers = request(&[
            ("host", "internal:8280"),
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-for", "10.9.9.9"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "api.example.com"),
        ]);
        forward(&mut headers, None, &connection);
        assert_eq!(
            forwarded(&headers),
            [
                "198.51.100.7, 10.9.9.9, 10.1.2.3",
                "https",
                "api.example.com"
            ]
        );
        // A trusted proxy that sends none: the gateway's own values.
        let mut headers = request(&[("host", "internal:8280")]);
        forward(&mut headers, None, &connection);
        assert_eq!(forwarded(&headers), ["10.1.2.3", "http", "internal:8280"]);
        // An IPv4 client on an IPv6 socket is its IPv4 address, trusted or not.
        let mapped = Connection::new(
            Some("[::ffff:10.1.2.3]:1".parse().unwrap()),
            false,
            &trusted,
        );
        assert!(mapped.trusted);
        assert_eq!(mapped.client, Some("10.1.2.3".parse().unwrap()));
    }
}
