//! The control plane's rules in process: for every operation, each way it refuses (every
//! `OpError` branch) and the event each of its changes writes, over a real database
//! (`tollgate-testbed`: the real services over a copied SQLite template, or PostgreSQL where
//! a rule depends on the database). A test takes milliseconds; wiring and distribution are
//! the end-to-end suites' (`crates/tollgate/tests`).
//!
//! One module per operations module, mirroring `crates/operations/src`; and `rest`, the REST
//! APIs' edge over the same bed (WSO2's JSON, error bodies, statuses), in process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

mod admin;
mod callers;
mod devportal;
mod gateways;
mod publisher;
mod rest;
mod sessions;
