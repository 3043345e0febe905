#![recursion_limit = "256"]
//! Test support: start real `tollgate` processes on free ports with fresh data folders, a mock
//! backend on loopback, and the vocabulary scenarios speak — the REST steps of WSO2's flow
//! ([`flow::Flow`]), calls through a gateway ([`Gateway`]), an OAuth client ([`OAuthClient`]),
//! a token's claims ([`jwt`]) and an OpenID Connect issuer of the test's own ([`issuer`]).
//! Tests read like the scenario.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "test support: a step that cannot be taken fails the test that asked for it"
)]

mod backend;
pub mod dns;
pub mod flow;
pub mod gateway;
pub mod issuer;
pub mod jwt;
mod node;
pub mod oauth;
mod postgres;
pub mod ws_backend;

pub use backend::{MockBackend, RecordedRequest, MENU};
pub use gateway::{Answer, Credential, Gateway};
pub use node::{free_offsets, Node, NodeOptions};
pub use oauth::OAuthClient;
pub use postgres::{databases_config, PgDatabase};

/// An HTTP client that accepts the node's self-signed certificate.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// Sends `request` as raw bytes on a fresh connection to `addr` (`127.0.0.1:port`) and returns
/// what came back until the server closed the connection or `timeout` passed: for shapes a
/// client library would never send.
pub async fn raw_exchange(addr: &str, request: &[u8], timeout: std::time::Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    let mut response = Vec::new();
    let _ = tokio::time::timeout(timeout, async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&response).into_owned()
}

/// The status code of the first response in a raw exchange's text, if there was one.
pub fn raw_status(response: &str) -> Option<u16> {
    response.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Peak and current resident memory of process `pid`, in MB (from `/proc`).
pub fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}
