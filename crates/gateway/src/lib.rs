//! The data plane. It serves API traffic from an immutable [`RuntimeState`] snapshot that it
//! swaps atomically whenever the control plane's events change it; it never opens a database.
//!
//! Per request (see [`phases`]): route → authenticate → authorize → throttle → choose endpoint
//! → upstream request → proxy → response. Each phase reads the snapshot taken when the request arrived; nothing on the
//! path waits for a lock a configuration change holds, and the only I/O is the backend call.
//! Request hits are counted in bounded striped maps that [`hits::report`] flushes, off the path.

pub mod access_log;
pub mod dns;
pub mod endpoints;
mod error;
mod feed;
pub mod hits;
pub mod keysets;
pub mod management;
pub mod metrics;
pub mod path;
pub mod phases;
pub mod report;
mod state;
mod sync;
pub mod tokens;
mod upstream;

pub use error::{AuthenticationUnavailable, GatewayError};
pub use feed::NetworkFeed;
pub use state::{Changes, ExternalIssuer, RuntimeState};
pub use sync::{FeedError, StateFeed, Synchronizer};
pub use upstream::{
    BackendTls, Backends, EndpointTrust, SendFailure, Upstream, UpstreamError, UpstreamErrorKind,
};

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tollgate_model::wire::ThrottleDecision;

/// The maps the request path reads. foldhash (randomly seeded) instead of SipHash: it hashes a
/// token's 342-character signature in a tenth of the time. SipHash's resistance to crafted
/// collisions is not needed here: requests only look keys up; what gets inserted comes from the
/// control plane, or (the token cache) is a token whose signature was verified.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// TLS settings for `https://` backends: the public web's roots (webpki-roots) plus the PEM
/// certificates of `[truststore] file_name`, for backends with private or self-signed ones.
pub fn backend_tls(
    trusted: Option<&std::path::Path>,
) -> Result<Arc<BackendTls>, tollgate_hublink::TrustError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    BackendTls::new(tollgate_hublink::trust_roots(roots, trusted)?)
}

/// What the traffic manager said about a throttle key, until `until`: refuse (no allowance), or
/// admit while the local allowance lasts.
pub struct Verdict {
    pub until: i64,
    pub allowance: Option<AtomicI64>,
}

/// One gateway node's shared parts.
pub struct Gateway {
    state: ArcSwap<RuntimeState>,
    /// Throttled key → until (milliseconds since the Unix epoch).
    decisions: ArcSwap<HashMap<String, Arc<Verdict>>>,
    ready: AtomicBool,
    hits: Arc<hits::HitCounter>,
    tokens: tokens::TokenCache,
    token_rules: tollgate_jwt::TokenRules,
    /// Fetches external key managers' key sets.
    key_fetch: reqwest::Client,
    /// Where opaque tokens are introspected (the gateway's feed), once it has one.
    introspection: std::sync::OnceLock<Arc<dyn StateFeed>>,
    /// Opaque tokens the key manager said are not active, by hash → until (milliseconds).
    inactive: quick_cache::sync::Cache<u64, i64>,
    /// Bounds the introspections under way: unknown tokens must not become a flood of calls.
    introspections: tokio::sync::Semaphore,
    /// Failed backend calls are logged at most once per [`BACKEND_FAILURE_LOG_PERIOD`] (with
    /// the count of those left out): a backend outage must not become a log storm.
    pub(crate) backend_failures: tollgate_guard::Every,
    /// What `/metrics` on the management listener shows.
    metrics: Arc<metrics::GatewayMetrics>,
    /// Where each request's line goes, when the access log is on (set once, at start).
    access_log: std::sync::OnceLock<Arc<access_log::AccessLog>>,
    /// The WebSocket connections relayed, closed at shutdown.
    websockets: phases::websocket::WebSockets,
}

/// How often, at most, a failed backend call is logged.
pub const BACKEND_FAILURE_LOG_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// How many introspections one gateway has under way at most.
const MAX_CONCURRENT_INTROSPECTIONS: usize = 32;

/// How long a gateway remembers that an opaque token is not active: short, since a token is
/// never active after being inactive, but a flood of bad tokens must not each cost a call.
pub const INACTIVE_TOKEN_MILLIS: i64 = 5_000;

impl Gateway {
    pub fn new() -> Arc<Gateway> {
        Gateway::with_token_rules(tollgate_jwt::TokenRules::default())
    }

    /// A gateway that checks tokens with `rules` (the clock leeway), fetching external key sets
    /// with the public web's certificate roots.
    pub fn with_token_rules(rules: tollgate_jwt::TokenRules) -> Arc<Gateway> {
        Gateway::configured(rules, keysets::http_client(None))
    }

    /// A gateway that checks tokens with `rules` and fetches external key managers' key sets
    /// with `key_fetch`.
    pub fn configured(rules: tollgate_jwt::TokenRules, key_fetch: reqwest::Client) -> Arc<Gateway> {
        Arc::new(Gateway {
            state: ArcSwap::from_pointee(RuntimeState::default()),
            decisions: ArcSwap::from_pointee(HashMap::default()),
            ready: AtomicBool::new(false),
            hits: Default::default(),
            tokens: tokens::TokenCache::new(rules),
            token_rules: rules,
            key_fetch,
            introspection: std::sync::OnceLock::new(),
            inactive: quick_cache::sync::Cache::new(10_000),
            introspections: tokio::sync::Semaphore::new(MAX_CONCURRENT_INTROSPECTIONS),
            backend_failures: tollgate_guard::Every::new(BACKEND_FAILURE_LOG_PERIOD),
            metrics: Arc::new(metrics::GatewayMetrics::new()),
            access_log: std::sync::OnceLock::new(),
            websockets: phases::websocket::WebSockets::default(),
        })
    }

    /// The WebSocket connections this gateway relays.
    pub fn websockets(&self) -> &phases::websocket::WebSockets {
        &self.websockets
    }

    /// Introspects opaque tokens through `feed` (set once, at start).
    pub fn introspect_with(&self, feed: Arc<dyn StateFeed>) {
        let _ = self.introspection.set(feed);
    }

    /// Asks the key manager about an opaque token and remembers the answer: until the token
    /// expires when it is active, for [`INACTIVE_TOKEN_MILLIS`] when not. When the key manager
    /// cannot be asked (unreachable, or too many questions under way), nothing is remembered
    /// and the request is answered 503.
    pub async fn introspect(&self, token: &str) -> Result<(), GatewayError> {
        let Some(feed) = self.introspection.get() else {
            return Err(GatewayError::AuthenticationUnavailable(
                AuthenticationUnavailable::NoKeyManager,
            ));
        };
        let Ok(_slot) = self.introspections.try_acquire() else {
            return Err(GatewayError::AuthenticationUnavailable(
                AuthenticationUnavailable::Busy,
            ));
        };
        match feed.introspect(token).await {
            Ok(Some(active)) => {
                let claims = tokens::VerifiedClaims {
                    azp: active.client_id,
                    scope: active.scope,
                    jti: active.jti,
                    exp: active.exp,
                    iat: active.iat,
                    aud: Vec::new(),
                    origin: None,
                    introspected: true,
                    api_key: None,
                };
                self.tokens.insert(token, "", Arc::new(claims));
            }
            Ok(None) => {
                let until = tollgate_model::now_millis() + INACTIVE_TOKEN_MILLIS;
                self.inactive
                    .insert(self.tokens.hash_of(token.as_bytes()), until);
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot introspect a token");
                return Err(GatewayError::AuthenticationUnavailable(
                    AuthenticationUnavailable::Feed(Arc::new(err)),
                ));
            }
        }
        Ok(())
    }

    /// Whether the key manager said moments ago that this opaque token is not active.
    pub(crate) fn known_inactive(&self, token: &[u8], now_millis: i64) -> bool {
        self.inactive
            .get(&self.tokens.hash_of(token))
            .is_some_and(|until| until > now_millis)
    }

    /// Fetches `issuer`'s key set again, unless that happened moments ago (a token naming an
    /// unknown key must not make every request fetch).
    pub async fn refresh_key_set(&self, issuer: &ExternalIssuer) {
        if let Err(err) = issuer
            .keys
            .refresh(&self.key_fetch, keysets::ON_DEMAND_INTERVAL)
            .await
        {
            tracing::warn!(key_manager = %issuer.config.name, error = %err, "cannot fetch key set");
        }
    }

    /// How tokens are checked; states are built with it.
    pub fn token_rules(&self) -> tollgate_jwt::TokenRules {
        self.token_rules
    }

    /// The hit counter, for [`hits::report`].
    pub fn hits(&self) -> Arc<hits::HitCounter> {
        self.hits.clone()
    }

    /// The snapshot requests starting now will use.
    pub fn state(&self) -> Arc<RuntimeState> {
        self.state.load_full()
    }

    /// Logs every request to `log` (set once, at start).
    pub fn log_access_to(&self, log: Arc<access_log::AccessLog>) {
        let _ = self.access_log.set(log);
    }

    /// The access log, when it is on.
    pub fn access_log(&self) -> Option<&Arc<access_log::AccessLog>> {
        self.access_log.get()
    }

    /// The gateway's metrics.
    pub fn metrics(&self) -> &Arc<metrics::GatewayMetrics> {
        &self.metrics
    }

    /// Swaps in a new snapshot; requests in flight finish on the one they started with.
    pub fn install(&self, state: RuntimeState) {
        self.metrics.state_installed(state.seq);
        self.state.store(Arc::new(state));
        self.ready.store(true, Ordering::Release);
    }

    /// Merges throttle decisions into the set the request path checks; expired ones are dropped.
    pub fn apply_decisions(&self, decisions: &[ThrottleDecision]) {
        let now = tollgate_model::now_millis();
        let mut next: HashMap<String, Arc<Verdict>> = self
            .decisions
            .load()
            .iter()
            .filter(|(_, verdict)| verdict.until > now)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for decision in decisions {
            if decision.until <= now {
                next.remove(&decision.key);
                continue;
            }
            let verdict = match (decision.throttled, decision.allowance) {
                (true, _) => Verdict {
                    until: decision.until,
                    allowance: None,
                },
                (false, Some(n)) => Verdict {
                    until: decision.until,
                    allowance: Some(AtomicI64::new(n.min(i64::MAX as u64) as i64)),
                },
                (false, None) => {
                    next.remove(&decision.key);
                    continue;
                }
            };
            next.insert(decision.key.clone(), Arc::new(verdict));
        }
        self.decisions.store(Arc::new(next));
    }

    /// Whether a state has been loaded at least once.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Hits dropped because the reporter could not keep up.
    pub fn dropped_hits(&self) -> u64 {
        self.hits.dropped()
    }
}
