//! Why a command of the binary (starting a node, migrating, unlocking a user, rotating keys)
//! stopped: printed once, at error level, by `main`. Each variant names the setting or the step
//! that failed, with the underlying error.

use std::path::PathBuf;

use tollgate_gateway::FeedError;
use tollgate_hublink::TrustError;
use tollgate_keymanager::KeyManagerError;
use tollgate_model::Profile;
use tollgate_net::NetError;
use tollgate_store::StoreError;

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `deployment.toml` cannot be read or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("[server] data_dir {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("opening the databases: {0}")]
    Databases(#[source] StoreError),
    /// A listener cannot be bound, or the server certificate cannot be loaded or made.
    #[error(transparent)]
    Net(#[from] NetError),
    /// `[truststore] file_name`, read for links between nodes.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// `[truststore] file_name`, read for the gateway's backends.
    #[error("[truststore] file_name: {0}")]
    BackendTrust(#[source] TrustError),
    #[error("[apim.gateway.access_log] file {}: {source}", path.display())]
    AccessLog {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("[apim.gateway.dns]: {0}")]
    Dns(#[from] tollgate_gateway::dns::DnsSetupError),
    #[error(
        "profile '{profile}' needs the event hub; [apim.event_hub] enable = false is not supported"
    )]
    EventHubDisabled { profile: Profile },
    #[error("profile '{profile}' needs the node credential: set [apim.event_hub] username and password (the same on every node; not the admin's)")]
    NoNodeCredential { profile: Profile },
    #[error("the gateway profile needs [apim.event_hub] service_url: the control plane's URL")]
    NoServiceUrl,
    #[error("the gateway profile needs [apim.event_hub] event_listening_endpoints: the event hub URL(s)")]
    NoHubEndpoints,
    #[error("publishing to remote hubs needs the node credential")]
    RelayWithoutCredential,
    /// The gateway's feed from the control plane and the hubs.
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error("starting the key manager: {0}")]
    KeyManager(#[source] KeyManagerError),
    #[error("starting the outbox relay: {0}")]
    Relay(#[source] StoreError),
    #[error("rotating the signing keys: {0}")]
    RotateKeys(#[source] KeyManagerError),
    #[error("no user '{0}'")]
    NoSuchUser(String),
    #[error("unlocking '{user}': {source}")]
    Unlock {
        user: String,
        #[source]
        source: StoreError,
    },
    /// `setting` names where the password came from.
    #[error("{setting}: the admin password must have at least 5 characters")]
    AdminPasswordTooShort { setting: &'static str },
    #[error("the admin account: {0}")]
    AdminAccount(#[source] StoreError),
    #[error("the admin password: {0}")]
    AdminPassword(#[source] KeyManagerError),
    /// A generated password could not be saved.
    #[error("{}: cannot write: {source}", path.display())]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
