use serde::{Deserialize, Serialize};

use crate::{
    ApplicationStatus, AuthType, HttpVerb, KeyType, LifecycleState, PolicyLevel,
    SubscriptionStatus, TimeUnit,
};

/// One resource of an API as the gateway enforces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub verb: HttpVerb,
    /// Path template relative to the API's base path, e.g. `/order/{orderId}`.
    pub target: String,
    pub auth_type: AuthType,
    #[serde(default)]
    pub throttling_policy: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl Operation {
    /// Whether this resource lets a request through without a token.
    pub fn is_unsecured(&self) -> bool {
        self.auth_type == AuthType::None
    }
}

/// Where an API's traffic goes, per key type.
///
/// `production` and `sandbox` are the first endpoint of each list (all that revisions made before
/// lists were served hold); the lists, when present, are every endpoint in order — for
/// failover, the primary and then its failovers — with their settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Endpoints {
    #[serde(default)]
    pub production: Option<String>,
    #[serde(default)]
    pub sandbox: Option<String>,
    #[serde(default, skip_serializing_if = "EndpointRouting::is_single")]
    pub routing: EndpointRouting,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub production_list: Vec<RuntimeEndpoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sandbox_list: Vec<RuntimeEndpoint>,
}

impl Endpoints {
    pub fn for_key_type(&self, key_type: KeyType) -> Option<&str> {
        match key_type {
            KeyType::Production => self.production.as_deref(),
            KeyType::Sandbox => self.sandbox.as_deref(),
        }
    }

    /// Every endpoint for `key_type`, in order, with its settings; empty when there is none.
    pub fn list(&self, key_type: KeyType) -> Vec<RuntimeEndpoint> {
        let (list, first) = match key_type {
            KeyType::Production => (&self.production_list, &self.production),
            KeyType::Sandbox => (&self.sandbox_list, &self.sandbox),
        };
        if !list.is_empty() {
            return list.clone();
        }
        first
            .iter()
            .map(|url| RuntimeEndpoint {
                url: url.clone(),
                resilience: EndpointResilience::default(),
            })
            .collect()
    }
}

/// How a gateway uses an endpoint list (WSO2's `endpoint_type`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EndpointRouting {
    /// One endpoint (`http`).
    #[default]
    Single,
    /// Round robin over the list (`load_balance`); with affinity, a client's requests stay on
    /// the endpoint its first one went to.
    LoadBalance {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        affinity: Option<SessionAffinity>,
    },
    /// The first endpoint that is not suspended, in order (`failover`).
    Failover,
}

impl EndpointRouting {
    pub fn is_single(&self) -> bool {
        matches!(self, EndpointRouting::Single)
    }
}

/// WSO2's `sessionManagement: transport`: a cookie the gateway sets names the endpoint, for
/// `max_age_secs` (WSO2's `sessionTimeOut`), or the browser session when unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAffinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<u64>,
}

/// One endpoint with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeEndpoint {
    pub url: String,
    #[serde(default, skip_serializing_if = "EndpointResilience::is_default")]
    pub resilience: EndpointResilience,
}

/// WSO2's advanced endpoint settings (`endpointConfig.…config`), in milliseconds, as gateways
/// apply them: the response timeout, and when a failing endpoint is suspended and for how long.
/// The defaults are WSO2's: no timeout of the endpoint's own (the gateway's applies), any
/// transport error suspends the endpoint for 30 s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointResilience {
    /// `actionDuration`: how long the backend may take to start its answer.
    pub timeout_millis: Option<u64>,
    /// `actionSelect`.
    pub timeout_action: crate::TimeoutAction,
    /// `suspendErrorCode`: the errors that suspend the endpoint; empty: every error not in
    /// `retry_error_codes`.
    pub suspend_error_codes: Vec<crate::TransportErrorCode>,
    /// `suspendDuration`: the first suspension; 0: never suspended.
    pub suspend_initial_millis: u64,
    /// `suspendMaxDuration`: the longest suspension; `None`: no bound.
    pub suspend_max_millis: Option<u64>,
    /// `factor`: each suspension after a failed retry lasts this many times the last.
    pub suspend_factor: f64,
    /// `retryErroCode`: errors after which the endpoint is retried (after `retry_delay_millis`)
    /// before it is suspended.
    pub retry_error_codes: Vec<crate::TransportErrorCode>,
    /// `retryTimeOut`: how many such failures in a row are borne before the endpoint is
    /// suspended.
    pub retries_before_suspension: u32,
    /// `retryDelay`: how long an endpoint that failed with a retry error is left alone.
    pub retry_delay_millis: u64,
}

/// WSO2's default first suspension of a failing endpoint.
pub const DEFAULT_SUSPEND_MILLIS: u64 = 30_000;

impl Default for EndpointResilience {
    fn default() -> Self {
        EndpointResilience {
            timeout_millis: None,
            timeout_action: crate::TimeoutAction::Fault,
            suspend_error_codes: Vec::new(),
            suspend_initial_millis: DEFAULT_SUSPEND_MILLIS,
            suspend_max_millis: None,
            suspend_factor: 1.0,
            retry_error_codes: Vec::new(),
            retries_before_suspension: 0,
            retry_delay_millis: 0,
        }
    }
}

impl EndpointResilience {
    pub fn is_default(&self) -> bool {
        *self == EndpointResilience::default()
    }
}

/// An API as a gateway runs it: the definition of one revision plus the API's current lifecycle state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeApi {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub version: String,
    /// The context as the publisher gave it, e.g. `/pizzashack`, possibly containing `{version}`.
    pub context: String,
    pub provider: String,
    pub lifecycle_status: LifecycleState,
    pub revision_id: String,
    #[serde(default)]
    pub api_throttling_policy: Option<String>,
    pub operations: Vec<Operation>,
    pub endpoints: Endpoints,
    /// The default version of its name: gateways also serve it without the version in the path.
    #[serde(default)]
    pub is_default_version: bool,
    /// A token must name one of these in `aud` to call the API; empty: any audience.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// OAuth2 tokens, API keys, or both; revisions made before API keys existed take tokens.
    #[serde(default)]
    pub authentication: crate::ApiAuthentication,
    /// The virtual host this deployment answers for; `None`: any host (a deployment on its
    /// environment's default vhost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vhost: Option<String>,
    /// `HTTP` (REST) or `WS` (WebSocket: served as an upgrade, frames relayed).
    #[serde(default)]
    pub api_type: crate::ApiType,
}

impl RuntimeApi {
    /// The path prefix the gateway serves the API under: `/{context}/{version}` as WSO2 lays it out,
    /// or the context itself when it places `{version}` explicitly.
    pub fn base_path(&self) -> String {
        base_path(&self.context, &self.version)
    }

    /// Where the default version is also served: the context without its version
    /// (`/pizzashack`, or `/api/pizza` for `/api/{version}/pizza`).
    pub fn default_version_path(&self) -> String {
        default_version_path(&self.context)
    }
}

/// See [`RuntimeApi::default_version_path`].
pub fn default_version_path(context: &str) -> String {
    let context = context.trim_end_matches('/');
    let path = context.replace("/{version}", "").replace("{version}", "");
    if path.is_empty() {
        "/".to_string()
    } else {
        path
    }
}

/// See [`RuntimeApi::base_path`].
pub fn base_path(context: &str, version: &str) -> String {
    let context = context.trim_end_matches('/');
    if context.contains("{version}") {
        context.replace("{version}", version)
    } else {
        format!("{context}/{version}")
    }
}

/// An API deployed (as one of its revisions) to one gateway environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedApi {
    pub environment: String,
    pub api: RuntimeApi,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub owner: String,
    pub throttling_policy: String,
    pub status: ApplicationStatus,
}

/// A consumer key issued to an application by a key manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyMapping {
    pub id: String,
    pub application_id: String,
    pub consumer_key: String,
    pub key_type: KeyType,
    pub key_manager: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub tenant: String,
    pub application_id: String,
    pub api_id: String,
    pub throttling_policy: String,
    pub status: SubscriptionStatus,
}

/// The public half of a key manager's token signing key, as a JWK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    /// Always `RS256` for now.
    pub alg: String,
    /// RSA modulus, base64url without padding.
    pub n: String,
    /// RSA exponent, base64url without padding.
    pub e: String,
    /// The `iss` claim of tokens this key signs.
    pub issuer: String,
}

/// The name WSO2 gives the key manager built into the control plane.
pub const RESIDENT_KEY_MANAGER: &str = "Resident Key Manager";

/// Another authorization server whose tokens gateways accept (WSO2's third-party key manager),
/// as gateways need it: which issuer it is, where its keys are, and which claims carry the
/// client and the scopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalKeyManager {
    pub id: String,
    pub tenant: String,
    /// What key mappings name (`keyManager` of `map-keys`).
    pub name: String,
    /// The `iss` of its tokens: selects this key manager for a token.
    pub issuer: String,
    /// Where its signing keys are published (a JWKS URL).
    pub jwks_endpoint: String,
    /// The claim that holds the client's consumer key (WSO2's default `azp`).
    pub consumer_key_claim: String,
    /// The claim that holds the granted scopes, a space-separated string or an array.
    pub scopes_claim: String,
    pub enabled: bool,
}

/// A throttling tier: a request count (or nothing, for `Unlimited`) per unit of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThrottlePolicy {
    pub id: String,
    pub tenant: String,
    pub level: PolicyLevel,
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// `None` means unlimited.
    pub request_count: Option<i64>,
    pub unit_time: i64,
    pub time_unit: TimeUnit,
}

/// A revoked access token, remembered until it would have expired anyway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokedToken {
    pub jti: String,
    /// The token's `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// How long a revocation is kept after its token's expiry: the largest clock leeway a verifier
/// may apply (`[oauth] timestamp_skew` is at most 600 s), during which a verifier could still
/// take the token.
pub const REVOCATION_GRACE_SECS: i64 = 600;

/// Every token of a client issued before a moment is revoked (a new secret, keys removed):
/// WSO2's internal token revocation by consumer key. Kept until such tokens would have expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerKeyRevocation {
    pub consumer_key: String,
    /// Tokens whose `iat` is before this (seconds since the Unix epoch) are refused.
    pub revoked_before: i64,
    /// When the last such token expires anyway (seconds).
    pub expires_at: i64,
}

/// The longest throttling window: a year (a window must fit the clock arithmetic with room to
/// spare, and a longer quota is a billing matter, not throttling).
pub const MAX_WINDOW_MILLIS: i64 = 366 * 86_400_000;
/// The shortest: one second, WSO2's smallest unit.
pub const MIN_WINDOW_MILLIS: i64 = 1_000;
/// The largest request count of a tier: 2⁵³ − 1, the largest integer every JSON client reads
/// exactly.
pub const MAX_REQUEST_COUNT: i64 = (1 << 53) - 1;

impl ThrottlePolicy {
    /// Length of the policy's window in milliseconds (WSO2's `unit_time` × `time_unit`), always
    /// within [`MIN_WINDOW_MILLIS`]..=[`MAX_WINDOW_MILLIS`] whatever is stored: the request path
    /// divides by it.
    pub fn window_millis(&self) -> i64 {
        self.time_unit
            .millis()
            .checked_mul(self.unit_time.max(1))
            .unwrap_or(MAX_WINDOW_MILLIS)
            .clamp(MIN_WINDOW_MILLIS, MAX_WINDOW_MILLIS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(unit_time: i64, time_unit: &str) -> ThrottlePolicy {
        let time_unit = TimeUnit::parse(time_unit).unwrap();
        ThrottlePolicy {
            id: "p".into(),
            tenant: "carbon.super".into(),
            level: PolicyLevel::Subscription,
            name: "T".into(),
            display_name: "T".into(),
            description: String::new(),
            request_count: Some(10),
            unit_time,
            time_unit,
        }
    }

    #[test]
    fn default_versions_drop_the_version_from_the_path() {
        let api = |context: &str| RuntimeApi {
            id: "a".into(),
            tenant: "carbon.super".into(),
            name: "A".into(),
            version: "1.0.0".into(),
            context: context.into(),
            provider: "admin".into(),
            lifecycle_status: LifecycleState::Published,
            revision_id: "r".into(),
            api_throttling_policy: None,
            operations: vec![],
            endpoints: Endpoints::default(),
            is_default_version: true,
            audiences: vec![],
            authentication: Default::default(),
            vhost: None,
            api_type: Default::default(),
        };
        assert_eq!(api("/pizzashack").base_path(), "/pizzashack/1.0.0");
        assert_eq!(api("/pizzashack").default_version_path(), "/pizzashack");
        assert_eq!(api("/api/{version}/pizza").base_path(), "/api/1.0.0/pizza");
        assert_eq!(
            api("/api/{version}/pizza").default_version_path(),
            "/api/pizza"
        );
    }

    /// The request path divides by the window: whatever is stored, it is a sane positive length.
    #[test]
    fn windows_stay_in_bounds_whatever_is_stored() {
        assert_eq!(tier(1, "min").window_millis(), 60_000);
        assert_eq!(tier(3, "hours").window_millis(), 3 * 3_600_000);
        for (unit_time, unit) in [
            (0, "min"),
            (-5, "sec"),
            (i64::MAX, "year"),
            (i64::MIN, "day"),
        ] {
            let window = tier(unit_time, unit).window_millis();
            assert!(
                (MIN_WINDOW_MILLIS..=MAX_WINDOW_MILLIS).contains(&window),
                "{unit_time} {unit}: {window}"
            );
        }
    }
}

/// A certificate the Publisher uploaded for a backend endpoint (`/endpoint-certificates`):
/// gateways trust it, besides the system roots and `[truststore]`, for TLS to that endpoint's
/// origin (scheme, host and port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointCertificate {
    pub tenant: String,
    pub alias: String,
    /// The endpoint URL as uploaded (`https://backend.example:8443/...`).
    pub endpoint: String,
    /// The certificate, PEM.
    pub pem: String,
}

/// The origin (`https://host:port`: host lower-cased, port explicit) of an `https://` URL;
/// `None` for any other. Endpoint certificates apply to the endpoints of their origin: the
/// Publisher checks uploads and lists usage by it, gateways pick each endpoint's trust by it.
pub fn https_origin(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (format!("[{host}]"), after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (host_port.to_string(), None),
        }
    };
    let port: u16 = match port {
        Some(port) => port.parse().ok()?,
        None => 443,
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some(format!("https://{}:{port}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod origin_tests {
    use super::https_origin;

    #[test]
    fn origins_make_the_port_explicit_and_take_https_only() {
        assert_eq!(
            https_origin("https://Backend.example/api/v1").as_deref(),
            Some("https://backend.example:443")
        );
        assert_eq!(
            https_origin("HTTPS://user@10.0.0.5:8443?x=1").as_deref(),
            Some("https://10.0.0.5:8443")
        );
        assert_eq!(
            https_origin("https://[::1]:9443/x").as_deref(),
            Some("https://[::1]:9443")
        );
        assert_eq!(https_origin("http://backend.example/"), None);
        assert_eq!(https_origin("backend.example"), None);
        assert_eq!(https_origin("https://host:notaport/"), None);
        assert_eq!(https_origin("https:///path"), None);
    }
}
