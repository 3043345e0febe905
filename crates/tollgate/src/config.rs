//! `deployment.toml`, with WSO2's section and key names where WSO2 has them. Unknown keys and bad
//! values are refused at start, naming the file, the key and what is allowed.

use std::path::{Path, PathBuf};

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
}

/// `[truststore]`: certificates this node trusts when it calls other nodes over TLS
/// (`https://` service URLs, `wss://` hubs). WSO2 keeps a JKS here; Tollgate reads PEM.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truststore {
    /// A PEM file with one or more certificates (e.g. the other nodes' `data/tls/cert.pem`).
    #[serde(default)]
    pub file_name: Option<PathBuf>,
    /// Only `PEM` is supported.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Profile {
    #[default]
    #[serde(rename = "all-in-one")]
    AllInOne,
    #[serde(rename = "control-plane")]
    ControlPlane,
    #[serde(rename = "gateway", alias = "gateway-worker")]
    Gateway,
    #[serde(rename = "traffic-manager")]
    TrafficManager,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "all-in-one" | "default" => Some(Profile::AllInOne),
            "control-plane" => Some(Profile::ControlPlane),
            "gateway" | "gateway-worker" => Some(Profile::Gateway),
            "traffic-manager" => Some(Profile::TrafficManager),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::AllInOne => "all-in-one",
            Profile::ControlPlane => "control-plane",
            Profile::Gateway => "gateway",
            Profile::TrafficManager => "traffic-manager",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    #[serde(default = "default_hostname")]
    pub hostname: String,
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
            hostname: default_hostname(),
            offset: 0,
            profile: Profile::default(),
            data_dir: default_data_dir(),
        }
    }
}

fn default_hostname() -> String {
    "localhost".into()
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
    pub url: Option<String>,
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
    pub service_url: Option<String>,
    /// The event hubs (`ws://host:9611`, `wss://host:9711`): where gateways listen, and where a
    /// control plane publishes instead of running a traffic manager itself.
    #[serde(default)]
    pub event_listening_endpoints: Vec<String>,
    /// The node credential every node presents and the control plane and hubs check.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// `[apim.key_manager]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyManagerSection {
    /// Where gateways would introspect opaque tokens; defaults to the event hub's `service_url`.
    /// Tokens are JWTs verified locally for now, so nothing calls it yet.
    #[serde(default)]
    pub service_url: Option<String>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    #[serde(default)]
    pub environment: Vec<Environment>,
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
    pub http_endpoint: Option<String>,
    #[serde(default)]
    pub https_endpoint: Option<String>,
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

    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.to_string(),
            key: key.to_string(),
            message,
        };
        if self.server.hostname.trim().is_empty() || self.server.hostname.contains(['/', ' ', ':'])
        {
            return Err(invalid(
                "server.hostname",
                format!("'{}' is not a host name", self.server.hostname),
            ));
        }
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
        for (key, db) in [
            ("database.apim_db.url", &self.database.apim_db),
            ("database.shared_db.url", &self.database.shared_db),
        ] {
            if let Some(url) = &db.url {
                if !(url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"))
                {
                    return Err(invalid(key, format!("'{url}' is not supported; use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB")));
                }
            }
        }
        let hub = &self.apim.event_hub;
        for (i, url) in hub.event_listening_endpoints.iter().enumerate() {
            if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                return Err(invalid(
                    &format!("apim.event_hub.event_listening_endpoints[{i}]"),
                    format!("'{url}' must be a ws:// or wss:// URL"),
                ));
            }
        }
        for (key, value) in [
            ("apim.event_hub.service_url", &hub.service_url),
            (
                "apim.key_manager.service_url",
                &self.apim.key_manager.service_url,
            ),
        ] {
            if let Some(url) = value {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid(
                        key,
                        format!("'{url}' must be an http:// or https:// URL"),
                    ));
                }
            }
        }
        if hub.username.is_some() != hub.password.is_some() {
            return Err(invalid(
                "apim.event_hub",
                "username and password go together".into(),
            ));
        }
        if let Some(password) = &hub.password {
            if password.len() < 8 {
                return Err(invalid(
                    "apim.event_hub.password",
                    "must have at least 8 characters".into(),
                ));
            }
            if Some(password) == self.super_admin.password.as_ref() {
                return Err(invalid(
                    "apim.event_hub.password",
                    "must not be the admin's password".into(),
                ));
            }
        }
        if let Some(kind) = &self.truststore.kind {
            if !kind.eq_ignore_ascii_case("PEM") {
                return Err(invalid(
                    "truststore.type",
                    format!("'{kind}' is not supported; use PEM"),
                ));
            }
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
            for (field, value) in [
                ("http_endpoint", &env.http_endpoint),
                ("https_endpoint", &env.https_endpoint),
            ] {
                if let Some(url) = value {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(invalid(
                            &format!("apim.gateway.environment[{i}].{field}"),
                            format!("'{url}' must be an http:// or https:// URL"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The node credential, required by every distributed profile.
    pub fn node_credential(&self) -> Option<tollgate_hublink::NodeCredential> {
        let hub = &self.apim.event_hub;
        Some(tollgate_hublink::NodeCredential::new(
            hub.username.clone()?,
            hub.password.clone()?,
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
            .clone()
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
