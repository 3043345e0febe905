//! Domain types shared by every Tollgate component.
//!
//! This crate is pure data and pure logic: no I/O, no async, no network types. The control plane
//! produces these values, the event hub carries them, and the gateway folds them into its runtime
//! state with [`RuntimeData::apply`] — the same function for a snapshot and for a live event, so
//! the two can never disagree.

mod api_keys;
mod entities;
mod event;
mod names;
mod runtime;
pub mod scopes;
pub mod wire;

pub use api_keys::*;
pub use entities::*;
pub use event::{Event, EventEnvelope, Snapshot};
pub use names::{
    AccessControl, ApiSortBy, ApiType, ApplicationStatus, Audience, AuthType, DocumentSource,
    DocumentType, DocumentVisibility, EndpointImplementationType, EndpointType, GatewayVendor,
    GrantType, HttpVerb, KeyMappingMode, KeyType, LifecycleAction, LifecycleState, LimitType,
    PolicyLevel, Profile, SecurityScheme, SessionManagement, SortOrder, SubscriptionAvailability,
    SubscriptionStatus, TimeUnit, TimeoutAction, TokenType, Transport, TransportErrorCode,
    UnknownName, Visibility, WorkflowStatus, WorkflowType,
};
pub use runtime::{ApplyOutcome, RuntimeData};

/// The super tenant: WSO2's name for the default (and, for now, only) tenant.
pub const SUPER_TENANT: &str = "carbon.super";

/// The environment every installation has, as in WSO2.
pub const DEFAULT_ENVIRONMENT: &str = "Default";

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp.
pub fn now_millis() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
