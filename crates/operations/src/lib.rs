//! The control plane's operations: the one place its rules live.
//!
//! Each operation takes an [`Actor`] and typed input, checks the actor's permission, validates
//! (every problem, each naming its field), and makes one store change — a
//! [`Change`](tollgate_store::Change) when gateways must learn about it, so its event is written
//! in the same transaction. Reads never take a write transaction. The REST APIs map WSO2's JSON
//! to these types and back; the web portals and the importer call the same functions.

mod actor;
pub mod admin;
pub mod devportal;
pub mod environments;
mod error;
pub mod gateways;
pub mod key_managers;
pub mod publisher;
pub mod sessions;
pub mod users;

pub use actor::{password_caller, token_caller, Actor};
pub use error::{FieldError, OpError, Problems};

use std::sync::Arc;

use tollgate_keymanager::KeyManager;
use tollgate_store::Store;

pub type OpResult<T> = Result<T, OpError>;

/// A gateway environment as the control plane knows it (`[[apim.gateway.environment]]`).
#[derive(Debug, Clone)]
pub struct GatewayEnvironment {
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// Hosts this environment serves on; the first is the default vhost.
    pub vhosts: Vec<String>,
    pub http_endpoint: String,
    pub https_endpoint: String,
}

/// What operations work with: the databases, the key manager and the gateway environments.
pub struct Services {
    pub store: Store,
    pub key_manager: Arc<KeyManager>,
    pub environments: Vec<GatewayEnvironment>,
    /// Where users reach the control plane (`https://host:9443`), for links it hands out.
    pub control_plane_url: String,
    /// Self sign-up and password rules.
    pub users: users::UserSettings,
    /// Anonymous browsing and approval workflows.
    pub devportal: devportal::DevportalSettings,
}

/// A page of a list: `limit` items from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// WSO2's default page size.
    pub const DEFAULT_LIMIT: i64 = 25;
    /// The largest page served at once.
    pub const MAX_LIMIT: i64 = 1000;

    /// A page from the client's `limit` and `offset`, naming the one that is out of bounds.
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> OpResult<Page> {
        let mut problems = Problems::default();
        let limit = limit.unwrap_or(Page::DEFAULT_LIMIT);
        let offset = offset.unwrap_or(0);
        if !(0..=Page::MAX_LIMIT).contains(&limit) {
            problems.add(
                "limit",
                format!("must be between 0 and {}", Page::MAX_LIMIT),
            );
        }
        if offset < 0 {
            problems.add("offset", "must not be negative");
        }
        problems.into_result(Page { limit, offset })
    }
}

/// One page of a list and how many items there are in all.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub page: Page,
    pub total: i64,
}

impl<T> Listed<T> {
    /// The page of a short list held whole (an API's resources, the tiers of a level).
    pub fn page_of(all: Vec<T>, page: Page) -> Listed<T> {
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .collect();
        Listed { items, page, total }
    }
}
