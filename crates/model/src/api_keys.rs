//! API keys: self-contained JWTs the developer portal signs with the resident key manager's key,
//! carrying WSO2's claims, so any gateway verifies one with the keys it already holds and never
//! calls the control plane. This is their one wire format: the issuer writes it, gateways read it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::KeyType;

/// `token_type` of an API key (WSO2's value): what tells it from an access token.
pub const API_KEY_TOKEN_TYPE: &str = "apiKey";

/// The header gateways read an API key from unless the API names another (WSO2's default).
pub const DEFAULT_API_KEY_HEADER: &str = "apikey";

/// The `exp` of an API key that never expires (WSO2's validity `-1`): 9999-12-31T23:59:59Z, so
/// that every JWT Tollgate accepts still has an expiry.
pub const API_KEY_NEVER_EXPIRES: i64 = 253_402_300_799;

/// The claims of an API key, with WSO2's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyClaims {
    pub iss: String,
    /// The application's owner, tenant-qualified (`alice@carbon.super`).
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub keytype: KeyType,
    /// Always [`API_KEY_TOKEN_TYPE`].
    pub token_type: String,
    pub application: ApiKeyApplication,
    /// The subscription tiers of `subscribedAPIs`, by name.
    #[serde(rename = "tierInfo", default)]
    pub tier_info: BTreeMap<String, ApiKeyTier>,
    /// The APIs the application was subscribed to when the key was made (informative: gateways
    /// check the subscriptions they hold now, so a subscription made later counts and one
    /// removed stops the key at once).
    #[serde(rename = "subscribedAPIs", default)]
    pub subscribed_apis: Vec<ApiKeySubscription>,
    /// Comma-separated client addresses and CIDR networks the key may be used from.
    #[serde(
        rename = "permittedIP",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub permitted_ip: Option<String>,
    /// Comma-separated `Referer` patterns (`*` matches anything) the key may be used from.
    #[serde(
        rename = "permittedReferer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub permitted_referer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyApplication {
    pub uuid: String,
    pub name: String,
    /// The application's throttling tier.
    pub tier: String,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyTier {
    pub tier_quota_type: String,
    pub stop_on_quota_reach: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeySubscription {
    pub name: String,
    pub context: String,
    pub version: String,
    pub publisher: String,
    pub subscription_tier: String,
    pub subscriber_tenant_domain: String,
}

/// How callers of an API may prove who they are (WSO2's `securityScheme`), as gateways apply it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiAuthentication {
    /// OAuth2 access tokens in `Authorization: Bearer`.
    pub oauth2: bool,
    /// API keys.
    pub api_key: bool,
    /// The header an API key comes in (lower case).
    pub api_key_header: String,
    /// Whether an API key may also come as a query parameter of the same name (as WSO2 allows);
    /// gateways remove it before forwarding.
    pub api_key_in_query: bool,
    /// The header OAuth2 tokens come in when it is not `Authorization` (WSO2's
    /// `authorizationHeader`, lower case); `Authorization` then passes to the backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_header: Option<String>,
}

impl Default for ApiAuthentication {
    /// What every API had before API keys: OAuth2 only.
    fn default() -> Self {
        ApiAuthentication {
            oauth2: true,
            api_key: false,
            api_key_header: DEFAULT_API_KEY_HEADER.to_string(),
            api_key_in_query: true,
            authorization_header: None,
        }
    }
}

/// Where an API key may be used from: its `permittedIP` and `permittedReferer`, parsed once.
/// Empty lists restrict nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeyRestrictions {
    networks: Vec<ipnet::IpNet>,
    referers: Vec<String>,
}

/// A `permittedIP` or `permittedReferer` entry that is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRestriction {
    /// `permittedIP` or `permittedReferer`.
    pub field: &'static str,
    pub message: String,
}

impl ApiKeyRestrictions {
    /// Parses WSO2's comma-separated lists: addresses (`10.1.2.3`, `::1`) and CIDR networks
    /// (`10.1.0.0/16`); `Referer` patterns where `*` matches any characters.
    pub fn parse(
        permitted_ip: Option<&str>,
        permitted_referer: Option<&str>,
    ) -> Result<ApiKeyRestrictions, BadRestriction> {
        let entries = |list: Option<&str>| -> Vec<String> {
            list.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut networks = Vec::new();
        for entry in entries(permitted_ip) {
            let network = match entry.parse::<ipnet::IpNet>() {
                Ok(network) => network,
                Err(_) => match entry.parse::<std::net::IpAddr>() {
                    Ok(address) => ipnet::IpNet::from(address),
                    Err(_) => {
                        return Err(BadRestriction {
                            field: "permittedIP",
                            message: format!(
                                "'{}' is neither an IP address nor a CIDR network",
                                entry.escape_debug()
                            ),
                        })
                    }
                },
            };
            networks.push(network.trunc());
        }
        let referers = entries(permitted_referer);
        if let Some(bad) = referers
            .iter()
            .find(|r| r.len() > 1024 || r.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(BadRestriction {
                field: "permittedReferer",
                message: format!("'{}' is not a Referer pattern", bad.escape_debug()),
            });
        }
        Ok(ApiKeyRestrictions { networks, referers })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.referers.is_empty()
    }

    /// Whether a request from `client` (unknown: `None`) may use the key.
    pub fn allows_client(&self, client: Option<std::net::IpAddr>) -> bool {
        if self.networks.is_empty() {
            return true;
        }
        let Some(client) = client else { return false };
        // An IPv4 client reached over an IPv6 socket shows as ::ffff:a.b.c.d.
        let client = match client {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.networks.iter().any(|n| n.contains(&client))
    }

    /// Whether a request with this `Referer` may use the key. A pattern is a host pattern and,
    /// after the first `/`, a path pattern (`www.example.com/*`, `*.example.com/app/*`); `*`
    /// matches any characters, but in the host it never crosses into the path, so
    /// `*.example.com/*` does not match `https://evil.org/x.example.com/`. The referer's scheme
    /// is left out; a pattern without a path matches any path.
    pub fn allows_referer(&self, referer: Option<&str>) -> bool {
        if self.referers.is_empty() {
            return true;
        }
        let Some(referer) = referer else { return false };
        let without_scheme = referer.split_once("://").map_or(referer, |(_, rest)| rest);
        let (host, path) = without_scheme
            .split_once('/')
            .map_or((without_scheme, ""), |(h, p)| (h, p));
        self.referers.iter().any(|pattern| {
            let pattern = pattern
                .split_once("://")
                .map_or(pattern.as_str(), |(_, rest)| rest);
            match pattern.split_once('/') {
                Some((host_pattern, path_pattern)) => {
                    glob_matches(host_pattern, host) && glob_matches(path_pattern, path)
                }
                None => glob_matches(pattern, host),
            }
        })
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters (greedy with
/// backtracking to the last star: linear in practice, never exponential).
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks() {
        let r = ApiKeyRestrictions::parse(Some("10.1.0.0/16, 192.168.1.7 ,::1"), None).unwrap();
        let ip = |s: &str| Some(s.parse().unwrap());
        assert!(r.allows_client(ip("10.1.200.3")));
        assert!(r.allows_client(ip("::ffff:10.1.0.1")));
        assert!(r.allows_client(ip("192.168.1.7")));
        assert!(r.allows_client(ip("::1")));
        assert!(!r.allows_client(ip("10.2.0.1")));
        assert!(!r.allows_client(ip("192.168.1.8")));
        assert!(!r.allows_client(None));
        assert!(ApiKeyRestrictions::default().allows_client(None));
        let bad = ApiKeyRestrictions::parse(Some("10.0.0.0/8,nope"), None).unwrap_err();
        assert_eq!(bad.field, "permittedIP");
        assert!(ApiKeyRestrictions::parse(Some("10.0.0.0/33"), None).is_err());
    }

    #[test]
    fn referer_patterns() {
        let r =
            ApiKeyRestrictions::parse(None, Some("www.example.com/*,*.partner.org/app*")).unwrap();
        assert!(r.allows_referer(Some("https://www.example.com/page")));
        assert!(r.allows_referer(Some("www.example.com/")));
        assert!(r.allows_referer(Some("http://shop.partner.org/app/x")));
        assert!(!r.allows_referer(Some("https://www.example.org/page")));
        assert!(!r.allows_referer(Some("https://evil.com/www.example.com/")));
        let wildcard = ApiKeyRestrictions::parse(None, Some("*.example.com/*")).unwrap();
        assert!(wildcard.allows_referer(Some("https://shop.example.com/cart?x=1")));
        assert!(!wildcard.allows_referer(Some("https://evil.org/x.example.com/")));
        let host_only = ApiKeyRestrictions::parse(None, Some("app.example.com")).unwrap();
        assert!(host_only.allows_referer(Some("https://app.example.com/any/path")));
        assert!(!host_only.allows_referer(Some("https://app.example.com.evil.org/")));
        assert!(!r.allows_referer(None));
        assert!(glob_matches("a*b*c", "aXbYbZc"));
        assert!(!glob_matches("a*b*c", "aXbYbZ"));
        assert!(glob_matches("*", ""));
        assert!(ApiKeyRestrictions::parse(None, Some("a b")).is_err());
    }
}
