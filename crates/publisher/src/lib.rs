//! The Publisher REST API (`/api/am/publisher/v4`), after WSO2's: API providers create APIs,
//! cut revisions, deploy them to gateway environments and move them through their lifecycle.
//!
//! Every change is one transaction that also records the event gateways need.

mod definition;
mod routes;
mod subscriptions;

pub use routes::router;
