#![recursion_limit = "256"]
//! Test support: start real `tollgate` processes on free ports with fresh data folders, a mock
//! backend on loopback, and small helpers for WSO2's REST flow. Tests read like the scenario.

mod backend;
pub mod flow;
mod node;
mod postgres;

pub use backend::{MockBackend, RecordedRequest, MENU};
pub use node::{free_offsets, Node, NodeOptions};
pub use postgres::PgDatabase;

/// An HTTP client that accepts the node's self-signed certificate.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}
