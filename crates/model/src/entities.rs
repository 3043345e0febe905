use serde::{Deserialize, Serialize};

/// WSO2's lifecycle states. Only `PUBLISHED` (and `PROTOTYPED`, WSO2's try-out state) APIs answer on a gateway.
pub mod lifecycle {
    pub const CREATED: &str = "CREATED";
    pub const PUBLISHED: &str = "PUBLISHED";
    pub const PROTOTYPED: &str = "PROTOTYPED";
    pub const BLOCKED: &str = "BLOCKED";
    pub const DEPRECATED: &str = "DEPRECATED";
    pub const RETIRED: &str = "RETIRED";

    /// The state an action leads to from `from`, following WSO2's default lifecycle (APILifeCycle).
    pub fn transition(from: &str, action: &str) -> Option<&'static str> {
        let to = match (from, action) {
            (CREATED, "Publish") | (PROTOTYPED, "Publish") => PUBLISHED,
            (CREATED, "Deploy as a Prototype") | (PROTOTYPED, "Deploy as a Prototype") => {
                PROTOTYPED
            }
            (PROTOTYPED, "Demote to Created") | (PUBLISHED, "Demote to Created") => CREATED,
            (PUBLISHED, "Block") => BLOCKED,
            (BLOCKED, "Re-Publish") => PUBLISHED,
            (PUBLISHED, "Deprecate") | (BLOCKED, "Deprecate") => DEPRECATED,
            (DEPRECATED, "Retire") => RETIRED,
            _ => return None,
        };
        Some(to)
    }

    /// The actions WSO2's default lifecycle allows from a state, for `availableTransitions`.
    pub fn actions_from(from: &str) -> &'static [&'static str] {
        match from {
            CREATED => &["Publish", "Deploy as a Prototype"],
            PROTOTYPED => &["Publish", "Deploy as a Prototype", "Demote to Created"],
            PUBLISHED => &["Block", "Deprecate", "Demote to Created"],
            BLOCKED => &["Re-Publish", "Deprecate"],
            DEPRECATED => &["Retire"],
            _ => &[],
        }
    }

    /// Whether a gateway serves an API in this state.
    pub fn is_invocable(state: &str) -> bool {
        state == PUBLISHED || state == PROTOTYPED || state == DEPRECATED
    }
}

/// Which of an application's two key sets a consumer key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyType {
    Production,
    Sandbox,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Production => "PRODUCTION",
            KeyType::Sandbox => "SANDBOX",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PRODUCTION" => Some(KeyType::Production),
            "SANDBOX" => Some(KeyType::Sandbox),
            _ => None,
        }
    }
}

/// One resource of an API as the gateway enforces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Upper-case HTTP method.
    pub verb: String,
    /// Path template relative to the API's base path, e.g. `/order/{orderId}`.
    pub target: String,
    /// WSO2's `authType`: `Any`, `Application`, `Application User` or `None`.
    pub auth_type: String,
    #[serde(default)]
    pub throttling_policy: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl Operation {
    /// Whether this resource lets a request through without a token.
    pub fn is_unsecured(&self) -> bool {
        self.auth_type.eq_ignore_ascii_case("None")
    }
}

/// Where an API's traffic goes, per key type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Endpoints {
    #[serde(default)]
    pub production: Option<String>,
    #[serde(default)]
    pub sandbox: Option<String>,
}

impl Endpoints {
    pub fn for_key_type(&self, key_type: KeyType) -> Option<&str> {
        match key_type {
            KeyType::Production => self.production.as_deref(),
            KeyType::Sandbox => self.sandbox.as_deref(),
        }
    }
}

/// An API as a gateway runs it: the definition of one revision plus the API's current lifecycle state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeApi {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub version: String,
    /// The context as the publisher gave it, e.g. `/pizzashack`, possibly containing `{version}`.
    pub context: String,
    pub provider: String,
    pub lifecycle_status: String,
    pub revision_id: String,
    #[serde(default)]
    pub api_throttling_policy: Option<String>,
    pub operations: Vec<Operation>,
    pub endpoints: Endpoints,
}

impl RuntimeApi {
    /// The path prefix the gateway serves the API under: `/{context}/{version}` as WSO2 lays it out,
    /// or the context itself when it places `{version}` explicitly.
    pub fn base_path(&self) -> String {
        base_path(&self.context, &self.version)
    }
}

/// See [`RuntimeApi::base_path`].
pub fn base_path(context: &str, version: &str) -> String {
    let context = context.trim_end_matches('/');
    if context.contains("{version}") {
        context.replace("{version}", version)
    } else {
        format!("{context}/{version}")
    }
}

/// An API deployed (as one of its revisions) to one gateway environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedApi {
    pub environment: String,
    pub api: RuntimeApi,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub owner: String,
    pub throttling_policy: String,
    pub status: String,
}

/// A consumer key issued to an application by a key manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyMapping {
    pub id: String,
    pub application_id: String,
    pub consumer_key: String,
    pub key_type: KeyType,
    pub key_manager: String,
}

pub mod subscription_status {
    pub const UNBLOCKED: &str = "UNBLOCKED";
    pub const BLOCKED: &str = "BLOCKED";
    pub const PROD_ONLY_BLOCKED: &str = "PROD_ONLY_BLOCKED";
    pub const ON_HOLD: &str = "ON_HOLD";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub tenant: String,
    pub application_id: String,
    pub api_id: String,
    pub throttling_policy: String,
    pub status: String,
}

/// The public half of a key manager's token signing key, as a JWK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    /// Always `RS256` for now.
    pub alg: String,
    /// RSA modulus, base64url without padding.
    pub n: String,
    /// RSA exponent, base64url without padding.
    pub e: String,
    /// The `iss` claim of tokens this key signs.
    pub issuer: String,
}

/// The level a throttling policy applies at, as WSO2's Admin API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyLevel {
    Subscription,
    Application,
    Api,
}

impl PolicyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyLevel::Subscription => "subscription",
            PolicyLevel::Application => "application",
            PolicyLevel::Api => "api",
        }
    }
}

/// A throttling tier: a request count (or nothing, for `Unlimited`) per unit of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThrottlePolicy {
    pub id: String,
    pub tenant: String,
    pub level: PolicyLevel,
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// `None` means unlimited.
    pub request_count: Option<i64>,
    pub unit_time: i64,
    /// `min`, `hour`, `day`, … as WSO2 writes it.
    pub time_unit: String,
}

/// A revoked access token, remembered until it would have expired anyway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokedToken {
    pub jti: String,
    /// The token's `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// WSO2's time units for throttling windows, by the names its Admin API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Sec,
    Min,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimeUnit {
    pub const ALL: [TimeUnit; 7] = [
        TimeUnit::Sec,
        TimeUnit::Min,
        TimeUnit::Hour,
        TimeUnit::Day,
        TimeUnit::Week,
        TimeUnit::Month,
        TimeUnit::Year,
    ];

    /// WSO2's name (`min`), as stored and returned.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Sec => "sec",
            TimeUnit::Min => "min",
            TimeUnit::Hour => "hour",
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
            TimeUnit::Year => "year",
        }
    }

    /// WSO2's name, or the spellings its clients also send (`minute`, `minutes`, `days`).
    pub fn parse(s: &str) -> Option<TimeUnit> {
        Some(match s {
            "sec" | "secs" | "second" | "seconds" | "s" => TimeUnit::Sec,
            "min" | "mins" | "minute" | "minutes" | "m" => TimeUnit::Min,
            "hour" | "hours" | "h" => TimeUnit::Hour,
            "day" | "days" | "d" => TimeUnit::Day,
            "week" | "weeks" => TimeUnit::Week,
            "month" | "months" => TimeUnit::Month,
            "year" | "years" => TimeUnit::Year,
            _ => return None,
        })
    }

    pub fn millis(self) -> i64 {
        match self {
            TimeUnit::Sec => 1_000,
            TimeUnit::Min => 60_000,
            TimeUnit::Hour => 3_600_000,
            TimeUnit::Day => 86_400_000,
            TimeUnit::Week => 7 * 86_400_000,
            TimeUnit::Month => 30 * 86_400_000,
            TimeUnit::Year => 365 * 86_400_000,
        }
    }
}

/// The longest throttling window: a year (a window must fit the clock arithmetic with room to
/// spare, and a longer quota is a billing matter, not throttling).
pub const MAX_WINDOW_MILLIS: i64 = 366 * 86_400_000;
/// The shortest: one second, WSO2's smallest unit.
pub const MIN_WINDOW_MILLIS: i64 = 1_000;
/// The largest request count of a tier: 2⁵³ − 1, the largest integer every JSON client reads
/// exactly.
pub const MAX_REQUEST_COUNT: i64 = (1 << 53) - 1;

impl ThrottlePolicy {
    /// Length of the policy's window in milliseconds (WSO2's `unit_time` × `time_unit`), always
    /// within [`MIN_WINDOW_MILLIS`]..=[`MAX_WINDOW_MILLIS`] whatever is stored: the request path
    /// divides by it.
    pub fn window_millis(&self) -> i64 {
        let unit = TimeUnit::parse(&self.time_unit).map_or(60_000, TimeUnit::millis);
        unit.checked_mul(self.unit_time.max(1))
            .unwrap_or(MAX_WINDOW_MILLIS)
            .clamp(MIN_WINDOW_MILLIS, MAX_WINDOW_MILLIS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(unit_time: i64, time_unit: &str) -> ThrottlePolicy {
        ThrottlePolicy {
            id: "p".into(),
            tenant: "carbon.super".into(),
            level: PolicyLevel::Subscription,
            name: "T".into(),
            display_name: "T".into(),
            description: String::new(),
            request_count: Some(10),
            unit_time,
            time_unit: time_unit.into(),
        }
    }

    /// The request path divides by the window: whatever is stored, it is a sane positive length.
    #[test]
    fn windows_stay_in_bounds_whatever_is_stored() {
        assert_eq!(tier(1, "min").window_millis(), 60_000);
        assert_eq!(tier(3, "hours").window_millis(), 3 * 3_600_000);
        for (unit_time, unit) in [
            (0, "min"),
            (-5, "sec"),
            (i64::MAX, "year"),
            (i64::MIN, "day"),
        ] {
            let window = tier(unit_time, unit).window_millis();
            assert!(
                (MIN_WINDOW_MILLIS..=MAX_WINDOW_MILLIS).contains(&window),
                "{unit_time} {unit}: {window}"
            );
        }
        assert_eq!(tier(1, "fortnight").window_millis(), 60_000);
    }
}
