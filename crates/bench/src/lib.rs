//! Shared parts of the benchmark binaries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark tool outside the product: its report is what it prints, and a failed step ends the run"
)]

pub mod scale;
