//! End to end: real `tollgate` processes (every profile, SQLite and PostgreSQL), a mock backend
//! and a browser, on loopback — for what needs real processes: wiring, distribution across
//! nodes, hardening against hostile clients, WSO2 conformance and the portals in a browser.
//! Rules are tested in process (`crates/operations/tests/rules`, `tollgate-testbed`), those at
//! the HTTP edge too (`operations/tests/rules/rest`, `keymanager/tests/oauth.rs`). Scenarios
//! speak `tollgate_testkit`'s vocabulary (`Flow`, `Gateway`, `OAuthClient`); a raw request is
//! left only where its exact shape is what a test checks.
//!
//! One test binary (one link of the whole workspace); one module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

mod api_keys;
mod backends;
mod bulk;
mod changes;
mod configuration;
mod conformance;
mod devportal;
mod distributed;
mod external_key_managers;
mod hardening;
mod oauth_grants;
mod portals;
mod publisher;
mod quickstart;
mod streaming;
mod websockets;
mod workflows;
