//! `deployment.toml`, with WSO2's section and key names where WSO2 has them. Unknown keys and bad
//! values are refused at start, naming the file, the key and what is allowed.

mod values;

use std::path::{Path, PathBuf};
pub use values::{Bounded, DbUrl, HostName, HttpUrl, Seconds, Secret, WsUrl};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {key}: {message}")]
    Invalid {
        file: String,
        key: String,
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: Server,
    #[serde(default)]
    pub super_admin: SuperAdmin,
    #[serde(default)]
    pub database: Databases,
    #[serde(default)]
    pub apim: Apim,
    #[serde(default)]
    pub truststore: Truststore,
    #[serde(default)]
    pub transport: Transport,
    #[serde(default)]
    pub oauth: OAuth,
    #[serde(default)]
    pub identity_mgt: IdentityMgt,
    #[serde(default)]
    pub keystore: Keystore,
}

/// `[transport]`: what every listener allows its clients (seconds). Tollgate's own keys; WSO2
/// spreads these over its transports' `http.socket.timeout` and Tomcat connector settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    /// From the accept (or the first byte after an idle spell) until a request's head is in.
    #[serde(default = "Transport::default_request_head_timeout")]
    pub request_head_timeout: Seconds<1, 3600>,
    /// How long a connection may stay open with no request in flight.
    #[serde(default = "Transport::default_keep_alive_timeout")]
    pub keep_alive_timeout: Seconds<1, 3600>,
    /// How long a connection with a request in flight may go without a byte read or written
    /// (WSO2's `http.socket.timeout`, 180 s).
    #[serde(default = "Transport::default_socket_timeout")]
    pub socket_timeout: Seconds<1, 3600>,
    /// Open connections per listener; past it new ones wait. Default: from the open-files limit.
    #[serde(default)]
    pub max_connections: Option<Bounded<1, 1_000_000>>,
}

impl Transport {
    fn default_request_head_timeout() -> Seconds<1, 3600> {
        Seconds::new(20)
    }
    fn default_keep_alive_timeout() -> Seconds<1, 3600> {
        Seconds::new(60)
    }
    fn default_socket_timeout() -> Seconds<1, 3600> {
        Seconds::new(180)
    }

    /// The listeners' limits, given the open-files limit in force.
    pub fn limits(&self, open_files: u64) -> tollgate_net::Limits {
        // Leave room for databases, backends (a proxied request holds two descriptors) and the
        // other listeners: an eighth of the descriptors per listener, 64 to 10,000.
        let derived = (open_files.saturating_sub(256) / 8).clamp(64, 10_000) as usize;
        tollgate_net::Limits {
            request_head_timeout: self.request_head_timeout.duration(),
            keep_alive_timeout: self.keep_alive_timeout.duration(),
            socket_timeout: self.socket_timeout.duration(),
            max_connections: self
                .max_connections
                .map_or(derived, |max| max.get() as usize),
        }
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            request_head_timeout: Transport::default_request_head_timeout(),
            keep_alive_timeout: Transport::default_keep_alive_timeout(),
            socket_timeout: Transport::default_socket_timeout(),
            max_connections: None,
        }
    }
}

/// `[oauth]`: how tokens are checked, by gateways and the REST APIs alike.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth {
    /// Seconds of clock skew tolerated on `exp` and `nbf` (WSO2's key; Tollgate's default is
    /// 30 s, not WSO2's 300).
    #[serde(default)]
    pub timestamp_skew: Option<Seconds<0, { tollgate_jwt::MAX_LEEWAY_SECS as i64 }>>,
    #[serde(default)]
    pub token_validation: TokenValidation,
    #[serde(default)]
    pub grant_type: GrantTypes,
}

/// `[oauth.token_validation]`: token lifetimes in seconds, with WSO2's keys and defaults, and
/// two of Tollgate's own (`max_token_validity`, `require_at_jwt`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenValidation {
    #[serde(default = "TokenValidation::hour")]
    pub app_access_token_validity: TokenSeconds,
    #[serde(default = "TokenValidation::hour")]
    pub user_access_token_validity: TokenSeconds,
    #[serde(default = "TokenValidation::day")]
    pub refresh_token_validity: TokenSeconds,
    #[serde(default = "TokenValidation::hour")]
    pub id_token_validity: TokenSeconds,
    #[serde(default = "TokenValidation::five_minutes")]
    pub authorization_code_validity: Seconds<1, 3600>,
    /// The longest any access or ID token lives, whatever a client asks; also how long a
    /// replaced signing key stays published.
    #[serde(default = "TokenValidation::year")]
    pub max_token_validity: TokenSeconds,
    /// Gateways and REST APIs refuse JWTs whose `typ` is not `at+jwt` (RFC 9068).
    #[serde(default)]
    pub require_at_jwt: bool,
}

/// A token lifetime: a second to ten years (access and ID tokens are held to
/// `max_token_validity` besides).
pub type TokenSeconds = Seconds<1, { 10 * 365 * 86_400 }>;

impl TokenValidation {
    fn hour() -> TokenSeconds {
        Seconds::new(3600)
    }
    fn day() -> TokenSeconds {
        Seconds::new(86_400)
    }
    fn five_minutes() -> Seconds<1, 3600> {
        Seconds::new(300)
    }
    fn year() -> TokenSeconds {
        Seconds::new(365 * 86_400)
    }
}

impl Default for TokenValidation {
    fn default() -> Self {
        TokenValidation {
            app_access_token_validity: Self::hour(),
            user_access_token_validity: Self::hour(),
            refresh_token_validity: Self::day(),
            id_token_validity: Self::hour(),
            authorization_code_validity: Self::five_minutes(),
            max_token_validity: Self::year(),
            require_at_jwt: false,
        }
    }
}

/// `[oauth.grant_type.*]`: grants that can be switched off.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantTypes {
    #[serde(default)]
    pub password: GrantSwitch,
}

/// `[oauth.grant_type.password] enable = false` (RFC 9700 deprecates the password grant).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSwitch {
    #[serde(default = "yes")]
    pub enable: bool,
}

impl Default for GrantSwitch {
    fn default() -> Self {
        GrantSwitch { enable: true }
    }
}

impl OAuth {
    pub fn token_rules(&self) -> tollgate_jwt::TokenRules {
        tollgate_jwt::TokenRules {
            leeway_secs: self
                .timestamp_skew
                .map_or(tollgate_jwt::DEFAULT_LEEWAY_SECS, |skew| {
                    skew.get().unsigned_abs()
                }),
            require_at_jwt: self.token_validation.require_at_jwt,
        }
    }

    pub fn token_settings(&self) -> tollgate_keymanager::TokenSettings {
        let v = &self.token_validation;
        tollgate_keymanager::TokenSettings {
            app_access_token_validity: v.app_access_token_validity.get(),
            user_access_token_validity: v.user_access_token_validity.get(),
            refresh_token_validity: v.refresh_token_validity.get(),
            id_token_validity: v.id_token_validity.get(),
            authorization_code_validity: v.authorization_code_validity.get(),
            max_token_validity: v.max_token_validity.get(),
            password_grant: self.grant_type.password.enable,
        }
    }
}

/// `[identity_mgt]`: how failed logins are answered.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityMgt {
    #[serde(default)]
    pub account_locking: AccountLocking,
    #[serde(default)]
    pub login_throttling: LoginThrottling,
    #[serde(default)]
    pub user_self_registration: UserSelfRegistration,
    #[serde(default)]
    pub password_policy: PasswordPolicy,
}

/// `[identity_mgt.user_self_registration]`, WSO2's key: whether anyone may sign up (as a
/// subscriber) at `POST /api/identity/user/v1.0/me`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSelfRegistration {
    #[serde(default = "yes")]
    pub allow_self_registration: bool,
}

impl Default for UserSelfRegistration {
    fn default() -> Self {
        UserSelfRegistration {
            allow_self_registration: true,
        }
    }
}

/// `[identity_mgt.password_policy]`, WSO2's keys: the length of new passwords (a password is
/// never the username).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    #[serde(default = "PasswordPolicy::default_min")]
    pub min_password_length: usize,
    #[serde(default = "PasswordPolicy::default_max")]
    pub max_password_length: usize,
}

impl PasswordPolicy {
    fn default_min() -> usize {
        8
    }
    fn default_max() -> usize {
        64
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_password_length: Self::default_min(),
            max_password_length: Self::default_max(),
        }
    }
}

impl IdentityMgt {
    /// What the user operations need to know.
    pub fn user_settings(&self) -> tollgate_operations::users::UserSettings {
        tollgate_operations::users::UserSettings {
            self_sign_up: self.user_self_registration.allow_self_registration,
            min_password_length: self.password_policy.min_password_length,
            max_password_length: self.password_policy.max_password_length,
        }
    }
}

/// `[identity_mgt.account_locking]`, WSO2's keys: a user's account is locked after this many
/// consecutive failed logins, for `auto_unlock_after` minutes (0: until an administrator
/// unlocks it with `tollgate users unlock`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLocking {
    #[serde(default = "yes")]
    pub enable_account_locking: bool,
    #[serde(default = "AccountLocking::default_attempts")]
    pub allowed_failed_attempts: Bounded<1, 1000>,
    /// Minutes, at most a week.
    #[serde(default = "AccountLocking::default_unlock")]
    pub auto_unlock_after: Bounded<0, { 7 * 24 * 60 }>,
}

impl AccountLocking {
    fn default_attempts() -> Bounded<1, 1000> {
        Bounded::new(5)
    }
    fn default_unlock() -> Bounded<0, { 7 * 24 * 60 }> {
        Bounded::new(5)
    }
}

impl Default for AccountLocking {
    fn default() -> Self {
        AccountLocking {
            enable_account_locking: true,
            allowed_failed_attempts: AccountLocking::default_attempts(),
            auto_unlock_after: AccountLocking::default_unlock(),
        }
    }
}

/// `[identity_mgt.login_throttling]` (Tollgate's): failed credential checks per client address
/// — passwords, client secrets, the node credential — are slowed down after `slow_after`
/// failures within `window` seconds and refused for `refuse_for` seconds after `refuse_after`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginThrottling {
    #[serde(default = "yes")]
    pub enable: bool,
    #[serde(default = "LoginThrottling::default_slow_after")]
    pub slow_after: u32,
    #[serde(default = "LoginThrottling::default_refuse_after")]
    pub refuse_after: u32,
    #[serde(default = "LoginThrottling::default_refuse_for")]
    pub refuse_for: Seconds<1, 86_400>,
    #[serde(default = "LoginThrottling::default_window")]
    pub window: Seconds<1, 86_400>,
}

impl LoginThrottling {
    fn default_slow_after() -> u32 {
        tollgate_guard::FailurePolicy::SOURCES.slow_after
    }
    fn default_refuse_after() -> u32 {
        tollgate_guard::FailurePolicy::SOURCES.refuse_after
    }
    fn default_refuse_for() -> Seconds<1, 86_400> {
        Seconds::new(tollgate_guard::FailurePolicy::SOURCES.refuse_for.as_secs() as i64)
    }
    fn default_window() -> Seconds<1, 86_400> {
        Seconds::new(tollgate_guard::FailurePolicy::SOURCES.window.as_secs() as i64)
    }

    /// The per-source guard this section describes.
    pub fn guard(&self) -> tollgate_guard::FailureGuard<tollgate_guard::SourceKey> {
        if !self.enable {
            return tollgate_guard::FailureGuard::disabled();
        }
        tollgate_guard::FailureGuard::new(tollgate_guard::FailurePolicy {
            slow_after: self.slow_after,
            refuse_after: self.refuse_after,
            refuse_for: self.refuse_for.duration(),
            window: self.window.duration(),
            ..tollgate_guard::FailurePolicy::SOURCES
        })
    }
}

impl Default for LoginThrottling {
    fn default() -> Self {
        LoginThrottling {
            enable: true,
            slow_after: LoginThrottling::default_slow_after(),
            refuse_after: LoginThrottling::default_refuse_after(),
            refuse_for: LoginThrottling::default_refuse_for(),
            window: LoginThrottling::default_window(),
        }
    }
}

/// `[keystore.primary]`: WSO2 keeps its token-signing key in a keystore opened with this
/// password; Tollgate keeps the signing keys in the database, encrypted with a key derived from
/// it (or from `TOLLGATE_KEYSTORE_PASSWORD`). `previous_password` lets a restart re-encrypt them
/// under a new password (see docs/configuration.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keystore {
    #[serde(default)]
    pub primary: KeystorePrimary,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystorePrimary {
    #[serde(default)]
    pub password: Option<Secret<8>>,
    #[serde(default)]
    pub previous_password: Option<Secret<8>>,
}

/// `[truststore]`: certificates this node trusts when it calls other nodes over TLS
/// (`https://` service URLs, `wss://` hubs). WSO2 keeps a JKS here; Tollgate reads PEM.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truststore {
    /// A PEM file with one or more certificates (e.g. the other nodes' `data/tls/cert.pem`).
    #[serde(default)]
    pub file_name: Option<PathBuf>,
    /// Only `PEM` is supported: the value is checked as it is read, and nothing else is needed.
    #[serde(default, rename = "type")]
    #[allow(dead_code)]
    pub kind: Option<TrustFormat>,
}

/// The format of `[truststore]`'s file: PEM (WSO2's JKS is not read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustFormat {
    Pem,
}

impl<'de> Deserialize<'de> for TrustFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let kind = String::deserialize(d)?;
        if kind.eq_ignore_ascii_case("PEM") {
            Ok(TrustFormat::Pem)
        } else {
            Err(serde::de::Error::custom(format!(
                "'{kind}' is not supported; use PEM"
            )))
        }
    }
}

/// Which components a node runs: WSO2's profile names, declared in `tollgate_model`.
pub use tollgate_model::Profile;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    #[serde(default = "HostName::localhost")]
    pub hostname: HostName,
    /// Added to every port, as WSO2's `[server] offset`.
    #[serde(default)]
    pub offset: u16,
    #[serde(default)]
    pub profile: Profile,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            hostname: HostName::localhost(),
            offset: 0,
            profile: Profile::default(),
            data_dir: default_data_dir(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperAdmin {
    #[serde(default = "default_admin")]
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    /// WSO2's switch; Tollgate always creates the account, so only `true` is accepted.
    #[serde(default = "yes")]
    pub create_admin_account: bool,
}

impl Default for SuperAdmin {
    fn default() -> Self {
        SuperAdmin {
            username: default_admin(),
            password: None,
            create_admin_account: true,
        }
    }
}

fn default_admin() -> String {
    "admin".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Databases {
    #[serde(default)]
    pub apim_db: Database,
    #[serde(default)]
    pub shared_db: Database,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`; defaults to a file in the data folder.
    #[serde(default)]
    pub url: Option<DbUrl>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apim {
    #[serde(default)]
    pub gateway: GatewaySection,
    #[serde(default)]
    pub event_hub: EventHubSection,
    #[serde(default)]
    pub key_manager: KeyManagerSection,
    #[serde(default)]
    pub sync_runtime_artifacts: SyncRuntimeArtifacts,
    #[serde(default)]
    pub devportal: DevportalSection,
    #[serde(default)]
    pub workflow: WorkflowSection,
}

/// `[apim.devportal]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevportalSection {
    /// Whether visitors who are not signed in may browse public APIs, their documents and
    /// definitions (WSO2's anonymous mode); on by default, as in WSO2.
    #[serde(default = "yes")]
    pub enable_anonymous_mode: bool,
    /// `[[apim.devportal.application_attributes]]`: the attributes applications carry.
    #[serde(default)]
    pub application_attributes: Vec<ApplicationAttributeSection>,
}

impl Default for DevportalSection {
    fn default() -> Self {
        DevportalSection {
            enable_anonymous_mode: true,
            application_attributes: Vec::new(),
        }
    }
}

/// One `[[apim.devportal.application_attributes]]`, WSO2's keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationAttributeSection {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub tooltip: Option<String>,
}

/// `[apim.workflow]`: which changes wait for an administrator's approval through the Admin
/// API's `/workflows` (WSO2's approval workflow executors); none by default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSection {
    #[serde(default)]
    pub application_creation: bool,
    #[serde(default)]
    pub subscription_creation: bool,
    #[serde(default)]
    pub subscription_update: bool,
}

impl Apim {
    /// What the developer portal's operations need to know.
    pub fn devportal_settings(&self) -> tollgate_operations::devportal::DevportalSettings {
        tollgate_operations::devportal::DevportalSettings {
            anonymous_mode: self.devportal.enable_anonymous_mode,
            approvals: tollgate_operations::devportal::workflows::Approvals {
                application_creation: self.workflow.application_creation,
                subscription_creation: self.workflow.subscription_creation,
                subscription_update: self.workflow.subscription_update,
            },
            application_attributes: self
                .devportal
                .application_attributes
                .iter()
                .map(|a| tollgate_operations::devportal::ApplicationAttribute {
                    name: a.name.clone(),
                    description: a.description.clone(),
                    required: a.required,
                    hidden: a.hidden,
                    default: a.default.clone(),
                    tooltip: a.tooltip.clone().unwrap_or_else(|| a.description.clone()),
                })
                .collect(),
        }
    }
}

/// `[apim.event_hub]`: how nodes find and trust each other.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventHubSection {
    /// WSO2's switch; accepted, and `false` refused for distributed profiles.
    #[serde(default)]
    pub enable: Option<bool>,
    /// The control plane's URL (internal data API), on gateways and traffic managers.
    #[serde(default)]
    pub service_url: Option<HttpUrl>,
    /// The event hubs (`ws://host:9611`, `wss://host:9711`): where gateways listen, and where a
    /// control plane publishes instead of running a traffic manager itself.
    #[serde(default)]
    pub event_listening_endpoints: Vec<WsUrl>,
    /// The node credential every node presents and the control plane and hubs check.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret<8>>,
}

/// `[apim.key_manager]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyManagerSection {
    /// Where gateways would introspect opaque tokens; defaults to the event hub's `service_url`.
    /// Tokens are JWTs verified locally for now, so nothing calls it yet.
    #[serde(default)]
    pub service_url: Option<HttpUrl>,
}

/// `[apim.sync_runtime_artifacts.gateway]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRuntimeArtifacts {
    #[serde(default)]
    pub gateway: SyncGateway,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncGateway {
    /// The environments this gateway serves (default `["Default"]`).
    #[serde(default)]
    pub gateway_labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    #[serde(default)]
    pub environment: Vec<Environment>,
    /// Proxies (addresses or networks) whose `X-Forwarded-*` headers gateways keep and append
    /// to; anyone else's are replaced.
    #[serde(default)]
    pub trusted_proxies: Vec<values::ProxyNetwork>,
    /// The management listener's port (`/metrics`, health probes), before `[server] offset`.
    #[serde(default = "default_management_port")]
    pub management_port: u16,
    #[serde(default)]
    pub access_log: AccessLogSection,
    #[serde(default)]
    pub dns: DnsSection,
}

/// `[apim.gateway.dns]`: how gateways resolve backend host names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSection {
    /// Name servers to ask; `/etc/resolv.conf`'s when empty.
    #[serde(default)]
    pub name_servers: Vec<values::NameServer>,
}

/// `[apim.gateway.access_log]`: one line per request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogSection {
    #[serde(default = "enabled")]
    pub enable: bool,
    #[serde(default)]
    pub format: AccessLogFormatName,
    /// Relative paths are below `[server] data_dir`.
    #[serde(default = "default_access_log_file")]
    pub file: PathBuf,
}

impl Default for AccessLogSection {
    fn default() -> Self {
        AccessLogSection {
            enable: true,
            format: AccessLogFormatName::default(),
            file: default_access_log_file(),
        }
    }
}

/// `json` (the default) or `combined`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLogFormatName {
    #[default]
    Json,
    Combined,
}

fn enabled() -> bool {
    true
}

fn default_access_log_file() -> PathBuf {
    PathBuf::from("logs/gateway-access.log")
}

impl Default for GatewaySection {
    fn default() -> Self {
        GatewaySection {
            environment: Vec::new(),
            trusted_proxies: Vec::new(),
            management_port: ports::GATEWAY_MANAGEMENT,
            access_log: AccessLogSection::default(),
            dns: DnsSection::default(),
        }
    }
}

fn default_management_port() -> u16 {
    ports::GATEWAY_MANAGEMENT
}

/// `[[apim.gateway.environment]]`: a gateway environment APIs can be deployed to.
///
/// `type`, `display_in_api_console`, `show_as_token_endpoint_url` and the WebSocket endpoints are
/// accepted so WSO2 files load unchanged; Tollgate does not use them yet.
#[allow(dead_code)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub display_in_api_console: Option<bool>,
    #[serde(default)]
    pub show_as_token_endpoint_url: Option<bool>,
    /// The URLs this environment advertises to API consumers.
    #[serde(default)]
    pub http_endpoint: Option<HttpUrl>,
    #[serde(default)]
    pub https_endpoint: Option<HttpUrl>,
    #[serde(default)]
    pub ws_endpoint: Option<String>,
    #[serde(default)]
    pub wss_endpoint: Option<String>,
    /// Host names APIs of this environment are served on; the first is the default.
    #[serde(default)]
    pub vhosts: Option<Vec<String>>,
}

/// Well-known ports, before `[server] offset`.
pub mod ports {
    pub const CONTROL_PLANE_HTTPS: u16 = 9443;
    pub const CONTROL_PLANE_HTTP: u16 = 9763;
    pub const GATEWAY_HTTP: u16 = 8280;
    pub const GATEWAY_HTTPS: u16 = 8243;
    pub const EVENT_HUB: u16 = 9611;
    pub const EVENT_HUB_TLS: u16 = 9711;
    /// The gateway's management listener: `/metrics` and health probes (Envoy's admin port).
    pub const GATEWAY_MANAGEMENT: u16 = 9901;
    /// WSO2's WebSocket ports (`ws://`, `wss://`).
    pub const GATEWAY_WS: u16 = 9099;
    pub const GATEWAY_WSS: u16 = 8099;
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Config::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let deserializer = toml::Deserializer::new(text);
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            let inner = err.into_inner();
            ConfigError::Invalid {
                file: file.to_string(),
                key: if key == "." {
                    "(top level)".into()
                } else {
                    key
                },
                message: inner.message().trim().to_string(),
            }
        })?;
        config.validate(file)?;
        Ok(config)
    }

    /// What depends on more than one key (each value checked itself as it was read: see
    /// `values`).
    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.to_string(),
            key: key.to_string(),
            message,
        };
        let highest = ports::CONTROL_PLANE_HTTP.max(ports::CONTROL_PLANE_HTTPS) as u32
            + self.server.offset as u32;
        if highest > u16::MAX as u32 {
            return Err(invalid(
                "server.offset",
                format!(
                    "{} pushes ports past 65535; use 0 to {}",
                    self.server.offset,
                    u16::MAX - ports::CONTROL_PLANE_HTTP
                ),
            ));
        }
        if !self.super_admin.create_admin_account {
            return Err(invalid(
                "super_admin.create_admin_account",
                "only true is supported".into(),
            ));
        }
        if self.super_admin.username.trim().is_empty() {
            return Err(invalid("super_admin.username", "must not be empty".into()));
        }
        let hub = &self.apim.event_hub;
        if hub.username.is_some() != hub.password.is_some() {
            return Err(invalid(
                "apim.event_hub",
                "username and password go together".into(),
            ));
        }
        if let (Some(node), Some(admin)) = (&hub.password, &self.super_admin.password) {
            if node.as_str() == admin {
                return Err(invalid(
                    "apim.event_hub.password",
                    "must not be the admin's password".into(),
                ));
            }
        }
        let validation = &self.oauth.token_validation;
        let most = validation.max_token_validity.get();
        for (key, value) in [
            (
                "app_access_token_validity",
                validation.app_access_token_validity,
            ),
            (
                "user_access_token_validity",
                validation.user_access_token_validity,
            ),
            ("id_token_validity", validation.id_token_validity),
        ] {
            if value.get() > most {
                return Err(invalid(
                    &format!("oauth.token_validation.{key}"),
                    format!(
                        "{} is not a number of seconds from 1 to {most} (max_token_validity)",
                        value.get()
                    ),
                ));
            }
        }
        let policy = &self.identity_mgt.password_policy;
        if policy.min_password_length < 1
            || policy.max_password_length < policy.min_password_length
            || policy.max_password_length > 1024
        {
            return Err(invalid(
                "identity_mgt.password_policy",
                "min_password_length must be at least 1, max_password_length at least that and at most 1024".into(),
            ));
        }
        let throttling = &self.identity_mgt.login_throttling;
        if throttling.slow_after < 1 || throttling.refuse_after < throttling.slow_after {
            return Err(invalid(
                "identity_mgt.login_throttling",
                "slow_after must be at least 1 and refuse_after at least slow_after".into(),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, env) in self.apim.gateway.environment.iter().enumerate() {
            if env.name.trim().is_empty() {
                return Err(invalid(
                    &format!("apim.gateway.environment[{i}].name"),
                    "must not be empty".into(),
                ));
            }
            if !names.insert(env.name.as_str()) {
                return Err(invalid(
                    &format!("apim.gateway.environment[{i}].name"),
                    format!("'{}' is defined twice", env.name),
                ));
            }
        }
        Ok(())
    }

    /// Keys a WSO2 file may set that this node reads but does not use, to say so at start.
    pub fn unused_keys(&self) -> Vec<&'static str> {
        let mut unused = Vec::new();
        if self.apim.key_manager.service_url.is_some() {
            unused.push("[apim.key_manager] service_url (gateways reach the key manager through [apim.event_hub] service_url)");
        }
        unused
    }

    /// The node credential, required by every distributed profile.
    pub fn node_credential(&self) -> Option<tollgate_hublink::NodeCredential> {
        let hub = &self.apim.event_hub;
        Some(tollgate_hublink::NodeCredential::new(
            hub.username.clone()?,
            String::from(hub.password.clone()?),
        ))
    }

    /// The environments a gateway of this node serves.
    pub fn gateway_labels(&self) -> Vec<String> {
        let labels = &self.apim.sync_runtime_artifacts.gateway.gateway_labels;
        if labels.is_empty() {
            vec![tollgate_model::DEFAULT_ENVIRONMENT.to_string()]
        } else {
            labels.clone()
        }
    }

    pub fn port(&self, base: u16) -> u16 {
        base + self.server.offset
    }

    /// Database URL for `file` in the data folder unless configured.
    pub fn database_url(&self, db: &Database, file: &str) -> String {
        db.url
            .as_ref()
            .map(|url| url.to_string())
            .unwrap_or_else(|| format!("sqlite://{}", self.server.data_dir.join(file).display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let config = Config::parse("", "deployment.toml").unwrap();
        assert_eq!(config.server.profile, Profile::AllInOne);
        assert_eq!(config.port(ports::GATEWAY_HTTP), 8280);
    }

    #[test]
    fn wso2_sections_are_read() {
        let config = Config::parse(
            r#"
[server]
hostname = "apim.example.com"
offset = 2
profile = "gateway-worker"

[super_admin]
username = "root"
password = "s3cret-enough"

[database.apim_db]
url = "postgres://u:p@db:5432/apim"

[[apim.gateway.environment]]
name = "Default"
type = "hybrid"
http_endpoint = "http://apim.example.com:8282"
"#,
            "deployment.toml",
        )
        .unwrap();
        assert_eq!(config.server.profile, Profile::Gateway);
        assert_eq!(config.port(ports::CONTROL_PLANE_HTTPS), 9445);
        assert_eq!(config.apim.gateway.environment[0].name, "Default");
    }

    #[test]
    fn unknown_keys_name_the_file_and_key() {
        let err = Config::parse("[server]\nhostnme = \"x\"\n", "conf/deployment.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("conf/deployment.toml: server.hostnme: unknown field `hostnme`"),
            "{err}"
        );
        assert!(err.contains("`hostname`"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let config = Config::parse(
            "[apim.gateway]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.168.1.5\", \"fd00::/8\"]\n",
            "d.toml",
        )
        .unwrap();
        let nets: Vec<String> = config
            .apim
            .gateway
            .trusted_proxies
            .iter()
            .map(|p| p.0.to_string())
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.168.1.5/32", "fd00::/8"]);
        let err = Config::parse(
            "[apim.gateway]\ntrusted_proxies = [\"lb.example\"]\n",
            "d.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("apim.gateway.trusted_proxies") && err.contains("lb.example"),
            "{err}"
        );
    }

    #[test]
    fn name_servers_are_addresses_with_an_optional_port() {
        let config = Config::parse(
            "[apim.gateway.dns]\nname_servers = [\"10.0.0.2\", \"127.0.0.1:5353\", \"[fd00::53]:53\"]\n",
            "d.toml",
        )
        .unwrap();
        let servers: Vec<String> = config
            .apim
            .gateway
            .dns
            .name_servers
            .iter()
            .map(|s| s.0.to_string())
            .collect();
        assert_eq!(servers, ["10.0.0.2:53", "127.0.0.1:5353", "[fd00::53]:53"]);
        let err = Config::parse(
            "[apim.gateway.dns]\nname_servers = [\"ns1.example\"]\n",
            "d.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("apim.gateway.dns.name_servers") && err.contains("ns1.example"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        let err = Config::parse("[server]\noffset = \"ten\"\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("d.toml: server.offset:"), "{err}");
        let err = Config::parse("[server]\nprofile = \"worker\"\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("server.profile") && err.contains("all-in-one"),
            "{err}"
        );
        let err = Config::parse("[database.apim_db]\nurl = \"mysql://x\"\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.apim_db.url"), "{err}");
    }
}
