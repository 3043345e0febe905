//! The administrator's operations (WSO2's Admin API).

pub mod signing_keys;
pub mod tiers;
