//! The data plane. It serves API traffic from an immutable [`RuntimeState`] snapshot that it
//! swaps atomically whenever the control plane's events change it; it never opens a database.
//!
//! Per request (see [`handler`]): route → authenticate → authorize → throttle → prepare upstream
//! → proxy → record. Each phase reads the snapshot taken when the request arrived; nothing on the
//! path waits for a lock a configuration change holds, and the only I/O is the backend call.
//! Request hits leave through a bounded queue to [`hits::report`], off the path.

mod error;
mod feed;
pub mod handler;
pub mod hits;
mod state;
mod sync;
pub mod tokens;

pub use error::GatewayError;
pub use feed::NetworkFeed;
pub use state::RuntimeState;
pub use sync::{StateFeed, Synchronizer};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;
use tollgate_model::wire::ThrottleDecision;

pub type BackendClient = Client<HttpConnector, hyper::body::Incoming>;

/// How many request hits may wait for the reporter before new ones are dropped (and counted).
pub const HIT_QUEUE: usize = 65_536;

/// One gateway node's shared parts.
pub struct Gateway {
    state: ArcSwap<RuntimeState>,
    /// Throttled key → until (milliseconds since the Unix epoch).
    decisions: ArcSwap<HashMap<String, i64>>,
    ready: AtomicBool,
    client: BackendClient,
    hits: mpsc::Sender<hits::Hit>,
    dropped_hits: std::sync::atomic::AtomicU64,
    tokens: tokens::TokenCache,
}

impl Gateway {
    /// The gateway and the receiving end of its hit queue (for [`hits::report`]).
    pub fn new() -> (Arc<Gateway>, mpsc::Receiver<hits::Hit>) {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build(connector);
        let (hits, receiver) = mpsc::channel(HIT_QUEUE);
        let gateway = Arc::new(Gateway {
            state: ArcSwap::from_pointee(RuntimeState::default()),
            decisions: ArcSwap::from_pointee(HashMap::new()),
            ready: AtomicBool::new(false),
            client,
            hits,
            dropped_hits: Default::default(),
            tokens: Default::default(),
        });
        (gateway, receiver)
    }

    /// The snapshot requests starting now will use.
    pub fn state(&self) -> Arc<RuntimeState> {
        self.state.load_full()
    }

    /// Swaps in a new snapshot; requests in flight finish on the one they started with.
    pub fn install(&self, state: RuntimeState) {
        self.state.store(Arc::new(state));
        self.ready.store(true, Ordering::Release);
    }

    /// Merges throttle decisions into the set the request path checks; expired ones are dropped.
    pub fn apply_decisions(&self, decisions: &[ThrottleDecision]) {
        let now = tollgate_model::now_millis();
        let mut next: HashMap<String, i64> = self
            .decisions
            .load()
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for decision in decisions {
            if decision.throttled && decision.until > now {
                next.insert(decision.key.clone(), decision.until);
            } else {
                next.remove(&decision.key);
            }
        }
        self.decisions.store(Arc::new(next));
    }

    /// Whether a state has been loaded at least once.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Hits dropped because the reporter could not keep up.
    pub fn dropped_hits(&self) -> u64 {
        self.dropped_hits.load(Ordering::Relaxed)
    }
}
