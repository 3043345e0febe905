//! The administrator's operations (WSO2's Admin API).

pub mod tiers;
