//! The data plane. It serves API traffic from an immutable [`RuntimeState`] snapshot that it
//! swaps atomically whenever the control plane's events change it; it never opens a database.
//!
//! Per request (see [`handler`]): route → authenticate → authorize → prepare upstream → proxy.
//! Each phase reads the snapshot taken when the request arrived; nothing on the path waits for a
//! lock a configuration change holds, and the only I/O is the backend call.

mod error;
pub mod handler;
mod state;
mod sync;

pub use error::GatewayError;
pub use state::RuntimeState;
pub use sync::{StateFeed, Synchronizer};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub type BackendClient = Client<HttpConnector, hyper::body::Incoming>;

/// One gateway node's shared parts.
pub struct Gateway {
    state: ArcSwap<RuntimeState>,
    ready: AtomicBool,
    client: BackendClient,
}

impl Gateway {
    pub fn new() -> Arc<Gateway> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build(connector);
        Arc::new(Gateway {
            state: ArcSwap::from_pointee(RuntimeState::default()),
            ready: AtomicBool::new(false),
            client,
        })
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

    /// Whether a state has been loaded at least once.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
