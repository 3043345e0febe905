//! An API's definition: WSO2's API object, typed where Tollgate interprets it, with every other
//! field kept as sent.
//!
//! The same document is the Publisher API's request and response body, the `api.yaml` of an
//! export and what the database stores, so its serde names are WSO2's, declared here once.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use tollgate_model::{
    AccessControl, ApiType, Audience, AuthType, EndpointImplementationType, EndpointResilience,
    EndpointRouting, EndpointType, Endpoints, GatewayVendor, HttpVerb, Operation, RuntimeEndpoint,
    SecurityScheme, SessionAffinity, SessionManagement, SubscriptionAvailability, TimeoutAction,
    Transport, TransportErrorCode, Visibility,
};

use crate::{OpError, Problems};

/// Fields the server owns: whatever a client sends for them is ignored (a client may PUT back
/// what it got from GET).
pub const SERVER_FIELDS: &[&str] = &[
    "id",
    "provider",
    "lifeCycleStatus",
    "createdTime",
    "lastUpdatedTime",
    "workflowStatus",
    "hasThumbnail",
    "isRevision",
    "revisionedApiId",
    "revisionId",
];

/// WSO2's API object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiDefinition {
    pub name: String,
    pub context: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type", default = "default_api_type")]
    pub api_type: ApiType,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_default_version: bool,
    #[serde(default = "default_transport", deserialize_with = "null_as_default")]
    pub transport: Vec<Transport>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// The subscription tiers consumers may choose from.
    #[serde(default, deserialize_with = "null_as_default")]
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_throttling_policy: Option<String>,
    #[serde(
        default = "default_security_scheme",
        deserialize_with = "null_as_default"
    )]
    pub security_scheme: Vec<SecurityScheme>,
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
    #[serde(default, deserialize_with = "null_as_default")]
    pub visible_roles: Vec<String>,
    /// The `aud` values a token must carry (one of them) to call the API; none: any. (WSO2
    /// adds this field after 4.2; a 4.2 client never sends it.)
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control: Option<AccessControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_availability: Option<SubscriptionAvailability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_implementation_type: Option<EndpointImplementationType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    #[serde(default = "default_vendor")]
    pub gateway_vendor: GatewayVendor,
    /// The header gateways read the token from (WSO2's `authorizationHeader`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_header: Option<String>,
    /// The header gateways read an API key from (WSO2's `apiKeyHeader`, after 4.2); `apikey`
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_header: Option<String>,
    /// Whether an API key may also come as a query parameter of that name (Tollgate's field;
    /// WSO2 always allows it, and so does absence here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_in_query: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_caching_enabled: Option<bool>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_schema_validation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_subscriber_verification: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_tenants: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_available_tenants: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// WSO2's custom properties: `{name, value, display}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_properties: Option<Vec<AdditionalProperty>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tps: Option<MaxTps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<CorsConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_information: Option<BusinessInformation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_config: Option<EndpointConfig>,
    /// The API's resources (WSO2 calls them operations).
    #[serde(default, deserialize_with = "null_as_default")]
    pub operations: Vec<Resource>,
    /// Scopes the resources may require: local to this API, or shared ones it uses.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<ApiScope>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One resource of an API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub target: String,
    pub verb: HttpVerb,
    #[serde(default = "default_auth_type")]
    pub auth_type: AuthType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_policy: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Resource {
    /// The resource's tier (WSO2's `Unlimited` when none is set).
    pub fn tier(&self) -> &str {
        self.throttling_policy.as_deref().unwrap_or("Unlimited")
    }
}

/// One custom property of an API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdditionalProperty {
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<bool>,
}

/// A scope as the API object lists it (WSO2's `APIScope`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiScope {
    pub scope: ScopeDefinition,
    #[serde(default, deserialize_with = "null_as_default")]
    pub shared: bool,
}

/// WSO2's `Scope`: a name, and the roles it is granted to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub bindings: Vec<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ScopeDefinition {
    /// Checks WSO2's bounds, naming fields under `at`.
    pub fn check(&mut self, problems: &mut Problems, at: &str) {
        self.name = self.name.trim().to_string();
        check_text(problems, &format!("{at}name"), &self.name, 1, 255);
        if self.name.contains(char::is_whitespace) {
            problems.add(format!("{at}name"), "must not contain spaces");
        }
        if let Some(display_name) = &self.display_name {
            check_text(problems, &format!("{at}displayName"), display_name, 0, 255);
        }
        if let Some(description) = &self.description {
            check_text(problems, &format!("{at}description"), description, 0, 512);
        }
        for (i, role) in self.bindings.iter().enumerate() {
            check_text(problems, &format!("{at}bindings[{i}]"), role, 1, 255);
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxTps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<i64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorsConfiguration {
    #[serde(default, deserialize_with = "null_as_default")]
    pub cors_configuration_enabled: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub access_control_allow_origins: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub access_control_allow_credentials: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub access_control_allow_headers: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub access_control_allow_methods: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessInformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_owner_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_owner_email: Option<String>,
}

/// WSO2's `endpointConfig`: where production and sandbox traffic goes. A single endpoint
/// (`http`), a list to balance over (`load_balance`), or a primary with failovers (`failover`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointConfig {
    #[serde(default = "default_endpoint_type")]
    pub endpoint_type: EndpointType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_endpoints: Option<EndpointList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_endpoints: Option<EndpointList>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub production_failovers: Vec<Endpoint>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub sandbox_failovers: Vec<Endpoint>,
    /// How a load-balanced list keeps a client on one endpoint.
    #[serde(
        rename = "sessionManagement",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub session_management: Option<SessionManagement>,
    /// The affinity's lifetime, in milliseconds.
    #[serde(
        rename = "sessionTimeOut",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_text"
    )]
    pub session_time_out: Option<i64>,
    /// The balancing algorithm's class (Synapse's): only round robin is served.
    #[serde(
        rename = "algoClassName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub algo_class_name: Option<String>,
    #[serde(rename = "algoCombo", default, skip_serializing_if = "Option::is_none")]
    pub algo_combo: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl EndpointConfig {
    /// A configuration of `endpoint_type` without endpoints.
    pub fn of_type(endpoint_type: EndpointType) -> EndpointConfig {
        EndpointConfig {
            endpoint_type,
            production_endpoints: None,
            sandbox_endpoints: None,
            production_failovers: Vec::new(),
            sandbox_failovers: Vec::new(),
            session_management: None,
            session_time_out: None,
            algo_class_name: None,
            algo_combo: None,
            other: Map::new(),
        }
    }
}

/// Synapse's round robin: the one balancing algorithm gateways apply.
pub const ROUND_ROBIN: &str = "org.apache.synapse.endpoints.algorithms.RoundRobin";

/// One endpoint or several, written back the way it came.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EndpointList {
    One(Endpoint),
    Many(Vec<Endpoint>),
}

impl<'de> Deserialize<'de> for EndpointList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<Vec<Endpoint>, _>>()
                .map(EndpointList::Many)
                .map_err(D::Error::custom),
            object @ Value::Object(_) => serde_json::from_value(object)
                .map(EndpointList::One)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected an endpoint object or a list of them, not {other}"
            ))),
        }
    }
}

impl EndpointList {
    pub fn endpoints(&self) -> &[Endpoint] {
        match self {
            EndpointList::One(one) => std::slice::from_ref(one),
            EndpointList::Many(many) => many,
        }
    }

    pub fn endpoints_mut(&mut self) -> &mut [Endpoint] {
        match self {
            EndpointList::One(one) => std::slice::from_mut(one),
            EndpointList::Many(many) => many,
        }
    }
}

/// An endpoint: its URL and WSO2's per-endpoint settings (`config` with timeouts, …) as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<EndpointSettings>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// WSO2's endpoint `config` (the Publisher's advanced endpoint settings): the response timeout
/// and what to do on it, and when a failing endpoint is suspended. Durations in milliseconds;
/// WSO2's UI writes numbers as text, and empty text for unset.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSettings {
    /// The backend's response timeout.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_text"
    )]
    pub action_duration: Option<i64>,
    /// What a timeout does.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub action_select: Option<TimeoutAction>,
    /// The errors that suspend the endpoint (empty: every error not retried).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "error_codes"
    )]
    pub suspend_error_code: Vec<TransportErrorCode>,
    /// The first suspension.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_text"
    )]
    pub suspend_duration: Option<i64>,
    /// The longest suspension.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_text"
    )]
    pub suspend_max_duration: Option<i64>,
    /// How much longer each further suspension lasts.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "decimal_or_text"
    )]
    pub factor: Option<f64>,
    /// The errors after which the endpoint is retried before it is suspended (WSO2's spelling).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "error_codes"
    )]
    pub retry_erro_code: Vec<TransportErrorCode>,
    /// How many retry errors in a row before the endpoint is suspended (a count, despite the
    /// name).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_text"
    )]
    pub retry_time_out: Option<i64>,
    /// How long an endpoint that failed with a retry error is left alone.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_text"
    )]
    pub retry_delay: Option<i64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl EndpointSettings {
    /// The settings as gateways apply them (checked by `check_endpoint` first). Synapse's `-1`
    /// for an unset suspension reads as unset.
    fn resilience(&self) -> EndpointResilience {
        let defaults = EndpointResilience::default();
        let millis = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
        let initial = millis(self.suspend_duration).unwrap_or(defaults.suspend_initial_millis);
        let max = millis(self.suspend_max_duration);
        EndpointResilience {
            timeout_millis: millis(self.action_duration).filter(|&ms| ms > 0),
            timeout_action: self.action_select.unwrap_or(defaults.timeout_action),
            suspend_error_codes: self.suspend_error_code.clone(),
            // WSO2: an initial and a maximum duration of zero turn suspension off.
            suspend_initial_millis: if max == Some(0) { 0 } else { initial },
            suspend_max_millis: max,
            suspend_factor: self.factor.unwrap_or(defaults.suspend_factor),
            retry_error_codes: self.retry_erro_code.clone(),
            retries_before_suspension: self
                .retry_time_out
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            retry_delay_millis: millis(self.retry_delay).unwrap_or(0),
        }
    }
}

fn default_api_type() -> ApiType {
    ApiType::Http
}
fn default_transport() -> Vec<Transport> {
    vec![Transport::Http, Transport::Https]
}
fn default_security_scheme() -> Vec<SecurityScheme> {
    vec![SecurityScheme::OAuth2]
}
fn default_visibility() -> Visibility {
    Visibility::Public
}
fn default_vendor() -> GatewayVendor {
    GatewayVendor::Wso2
}
fn default_auth_type() -> AuthType {
    AuthType::Any
}
fn default_endpoint_type() -> EndpointType {
    EndpointType::Http
}

/// WSO2's clients send `null` for absent lists and flags; read it as the default.
/// The most audiences an API may name.
const MAX_AUDIENCES: usize = 20;

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An enumerated value, with WSO2's UI's empty text (or `null`) for unset.
fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    use serde::de::Error;
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => text.trim().parse().map(Some).map_err(D::Error::custom),
    }
}

/// Transport error codes as WSO2's UI sends them (`["101504", "101505"]`), numbers too.
fn error_codes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TransportErrorCode>, D::Error> {
    use serde::de::Error;
    let items = match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(D::Error::custom(format!(
                "expected a list of error codes, not {other}"
            )))
        }
    };
    items
        .iter()
        .map(|item| {
            let text = match item {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                other => return Err(D::Error::custom(format!("{other} is not an error code"))),
            };
            text.parse().map_err(D::Error::custom)
        })
        .collect()
}

/// A decimal number, or its text (`"factor": "2.0"`).
fn decimal_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{n} is not a number"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("'{s}' is not a number"))),
        Some(other) => Err(D::Error::custom(format!("{other} is not a number"))),
    }
}

/// WSO2's UI writes endpoint timeouts as text (`"actionDuration": "30000"`).
fn number_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("'{s}' is not a whole number"))),
        Some(other) => Err(D::Error::custom(format!("{other} is not a whole number"))),
    }
}

/// Characters WSO2 does not allow in API names (its schema's pattern).
const NAME_FORBIDDEN: &str = "~!@#;:%^*()+={}|\\<>\"',&$[]/";
/// Characters WSO2 does not allow in versions.
const VERSION_FORBIDDEN: &str = "~!@#;:%^*()+={}|\\<>\"',&/$[]";
/// The longest endpoint timeout accepted: an hour.
const MAX_TIMEOUT_MILLIS: i64 = 3_600_000;
/// WSO2's advanced endpoint settings (the keys of an endpoint's `config`).
const ENDPOINT_SETTINGS: [&str; 9] = [
    "actionDuration",
    "actionSelect",
    "suspendErrorCode",
    "suspendDuration",
    "suspendMaxDuration",
    "factor",
    "retryErroCode",
    "retryTimeOut",
    "retryDelay",
];
/// The longest load-balancing session accepted: a day.
const MAX_SESSION_MILLIS: i64 = 86_400_000;
/// The most retries before suspension accepted.
const MAX_RETRIES: i64 = 100;
/// The largest suspension growth factor accepted.
const MAX_FACTOR: f64 = 100.0;

impl ApiDefinition {
    /// Reads an API object (WSO2's JSON), naming the field at fault. Server-owned fields are
    /// dropped.
    pub fn from_json(mut body: Value) -> Result<ApiDefinition, OpError> {
        let Some(object) = body.as_object_mut() else {
            return Err(OpError::invalid("body", "must be a JSON API object"));
        };
        for field in SERVER_FIELDS {
            object.remove(*field);
        }
        serde_path_to_error::deserialize(&body).map_err(|err| {
            let path = err.path().to_string();
            let field = if path == "." { "body".into() } else { path };
            OpError::invalid(field, err.into_inner().to_string())
        })
    }

    /// The definition as WSO2's JSON.
    pub fn to_json(&self) -> Value {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Checks every field, reporting all problems, and puts the definition in normal form:
    /// trimmed names, a context starting with `/`, default resources, tiers and auth types.
    pub fn normalise(mut self) -> Result<ApiDefinition, OpError> {
        let mut problems = Problems::default();

        self.name = self.name.trim().to_string();
        check_text(&mut problems, "name", &self.name, 1, 60);
        if let Some(c) = self.name.chars().find(|c| NAME_FORBIDDEN.contains(*c)) {
            problems.add("name", format!("must not contain '{c}'"));
        }
        self.version = self.version.trim().to_string();
        check_text(&mut problems, "version", &self.version, 1, 30);
        if let Some(c) = self
            .version
            .chars()
            .find(|c| VERSION_FORBIDDEN.contains(*c) || c.is_whitespace())
        {
            problems.add(
                "version",
                format!("must not contain '{}'", c.escape_debug()),
            );
        }
        match normalise_context(&self.context) {
            Ok(context) => self.context = context,
            Err(message) => problems.add("context", message),
        }
        if let Some(description) = &self.description {
            if description.chars().count() > 32766 {
                problems.add("description", "must have at most 32766 characters");
            }
        }
        let websocket = self.api_type == ApiType::Ws;
        if !matches!(self.api_type, ApiType::Http | ApiType::Ws) {
            problems.add(
                "type",
                format!(
                    "APIs of type {} are not supported yet; HTTP (REST) and WS (WebSocket) APIs are",
                    self.api_type
                ),
            );
        }
        for (i, tag) in self.tags.iter_mut().enumerate() {
            *tag = tag.trim().to_string();
            check_text(&mut problems, &format!("tags[{i}]"), tag, 1, 255);
        }
        for (i, policy) in self.policies.iter().enumerate() {
            check_text(&mut problems, &format!("policies[{i}]"), policy, 1, 255);
        }
        if self.policies.is_empty() {
            self.policies = vec!["Unlimited".into()];
        }
        if self.api_throttling_policy.as_deref() == Some("") {
            self.api_throttling_policy = None;
        }
        if let Some(header) = &self.authorization_header {
            check_header_name(&mut problems, "authorizationHeader", header);
        }
        if let Some(header) = &mut self.api_key_header {
            *header = header.trim().to_ascii_lowercase();
            check_header_name(&mut problems, "apiKeyHeader", header);
            if header == "authorization" {
                problems.add(
                    "apiKeyHeader",
                    "must not be Authorization, which carries OAuth2 tokens",
                );
            }
        }
        if self
            .cache_timeout
            .is_some_and(|t| !(0..=31_536_000).contains(&t))
        {
            problems.add("cacheTimeout", "must be from 0 to 31536000 seconds");
        }
        for (i, property) in self.additional_properties.iter().flatten().enumerate() {
            check_text(
                &mut problems,
                &format!("additionalProperties[{i}].name"),
                &property.name,
                1,
                255,
            );
            if property.value.chars().count() > 32766 {
                problems.add(
                    format!("additionalProperties[{i}].value"),
                    "must have at most 32766 characters",
                );
            }
        }
        if self.audiences.len() > MAX_AUDIENCES {
            problems.add(
                "audiences",
                format!("must list at most {MAX_AUDIENCES} audiences"),
            );
        }
        for (i, audience) in self.audiences.iter().enumerate() {
            check_text(&mut problems, &format!("audiences[{i}]"), audience, 1, 255);
        }
        if self.visibility == Visibility::Restricted && self.visible_roles.is_empty() {
            problems.add(
                "visibleRoles",
                "must name at least one role when visibility is RESTRICTED",
            );
        }
        if let Some(max_tps) = &self.max_tps {
            for (field, value) in [
                ("maxTps.production", max_tps.production),
                ("maxTps.sandbox", max_tps.sandbox),
            ] {
                if value.is_some_and(|v| v < 0) {
                    problems.add(field, "must not be negative");
                }
            }
        }
        if let Some(info) = &self.business_information {
            for (field, value) in [
                ("businessInformation.businessOwner", &info.business_owner),
                ("businessInformation.technicalOwner", &info.technical_owner),
            ] {
                if let Some(value) = value {
                    check_text(&mut problems, field, value, 0, 120);
                }
            }
            for (field, value) in [
                (
                    "businessInformation.businessOwnerEmail",
                    &info.business_owner_email,
                ),
                (
                    "businessInformation.technicalOwnerEmail",
                    &info.technical_owner_email,
                ),
            ] {
                if let Some(email) = value.as_deref().filter(|e| !e.is_empty()) {
                    if !looks_like_email(email) {
                        problems.add(field, format!("'{email}' is not an e-mail address"));
                    }
                }
            }
        }
        if let Some(cors) = &self.cors_configuration {
            // Gateways answer no CORS preflight and add no CORS headers yet: an API that asks
            // for CORS would get none, silently.
            if cors.cors_configuration_enabled {
                problems.add(
                    "corsConfiguration.corsConfigurationEnabled",
                    "CORS is not supported by gateways yet; set it to false",
                );
            }
            for (i, method) in cors.access_control_allow_methods.iter().enumerate() {
                if HttpVerb::parse(method).is_none_or(HttpVerb::is_topic) {
                    problems.add(
                        format!("corsConfiguration.accessControlAllowMethods[{i}]"),
                        format!("'{method}' is not one of {}", HttpVerb::names()),
                    );
                }
            }
        }
        if let Some(config) = &mut self.endpoint_config {
            check_endpoints(&mut problems, config, websocket);
        }
        if self.operations.is_empty() && websocket {
            // WSO2 gives a WebSocket API without topics a wildcard topic for each verb.
            self.operations = [HttpVerb::Subscribe, HttpVerb::Publish]
                .into_iter()
                .map(|verb| Resource {
                    target: "/*".into(),
                    verb,
                    auth_type: AuthType::Any,
                    throttling_policy: Some("Unlimited".into()),
                    scopes: vec![],
                    other: Map::new(),
                })
                .collect();
        }
        if self.operations.is_empty() {
            // WSO2 gives an API without resources a wildcard resource for each common verb.
            self.operations = [
                HttpVerb::Get,
                HttpVerb::Post,
                HttpVerb::Put,
                HttpVerb::Delete,
                HttpVerb::Patch,
            ]
            .into_iter()
            .map(|verb| Resource {
                target: "/*".into(),
                verb,
                auth_type: AuthType::Any,
                throttling_policy: Some("Unlimited".into()),
                scopes: vec![],
                other: Map::new(),
            })
            .collect();
        }
        let mut scope_names = std::collections::HashSet::new();
        for (i, api_scope) in self.scopes.iter_mut().enumerate() {
            api_scope
                .scope
                .check(&mut problems, &format!("scopes[{i}].scope."));
            if !scope_names.insert(api_scope.scope.name.clone()) {
                problems.add(
                    format!("scopes[{i}].scope.name"),
                    format!("'{}' is listed more than once", api_scope.scope.name),
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, resource) in self.operations.iter_mut().enumerate() {
            resource.target = resource.target.trim().to_string();
            if let Err(message) = check_target(&resource.target) {
                problems.add(format!("operations[{i}].target"), message);
            }
            if resource.verb.is_topic() != websocket {
                problems.add(
                    format!("operations[{i}].verb"),
                    if websocket {
                        "a WebSocket API's topics are SUBSCRIBE or PUBLISH".to_string()
                    } else {
                        format!(
                            "'{}' is a WebSocket topic's verb; use an HTTP method",
                            resource.verb
                        )
                    },
                );
            }
            // WSO2's per-topic URL mapping is not applied by gateways yet.
            if websocket
                && resource
                    .other
                    .get("uriMapping")
                    .is_some_and(|mapping| !mapping.is_null() && mapping != "")
            {
                problems.add(
                    format!("operations[{i}].uriMapping"),
                    "topic URL mappings are not supported by gateways yet; leave it empty",
                );
            }
            if !seen.insert((resource.verb, resource.target.clone())) {
                problems.add(
                    format!("operations[{i}]"),
                    format!(
                        "{} {} is listed more than once",
                        resource.verb, resource.target
                    ),
                );
            }
            if resource
                .throttling_policy
                .as_deref()
                .is_none_or(str::is_empty)
            {
                resource.throttling_policy = Some("Unlimited".into());
            }
        }
        problems.into_result(self)
    }

    /// The resources as the gateway enforces them.
    /// How gateways let callers in: OAuth2 tokens and/or API keys, as `securityScheme` says. A
    /// list naming neither (only schemes gateways do not enforce yet, such as `basic_auth`)
    /// keeps OAuth2, as before they were told apart.
    pub fn runtime_authentication(&self) -> tollgate_model::ApiAuthentication {
        let has = |scheme| self.security_scheme.contains(&scheme);
        let api_key = has(SecurityScheme::ApiKey);
        tollgate_model::ApiAuthentication {
            oauth2: has(SecurityScheme::OAuth2) || !api_key,
            api_key,
            api_key_header: self
                .api_key_header
                .clone()
                .unwrap_or_else(|| tollgate_model::DEFAULT_API_KEY_HEADER.to_string()),
            api_key_in_query: self.api_key_in_query.unwrap_or(true),
            authorization_header: self
                .authorization_header
                .as_deref()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty() && h != "authorization"),
        }
    }

    pub fn runtime_operations(&self) -> Vec<Operation> {
        self.operations
            .iter()
            .map(|r| Operation {
                verb: r.verb,
                target: r.target.clone(),
                auth_type: r.auth_type,
                throttling_policy: r.throttling_policy.clone(),
                scopes: r.scopes.clone(),
            })
            .collect()
    }

    /// The endpoints gateways send traffic to: each key type's list in order (for failover
    /// the primary, then its failovers), each with its settings, and how the list is used.
    pub fn runtime_endpoints(&self) -> Endpoints {
        let Some(config) = &self.endpoint_config else {
            return Endpoints::default();
        };
        let runtime = |endpoint: &Endpoint| RuntimeEndpoint {
            url: endpoint.url.trim_end_matches('/').to_string(),
            resilience: endpoint
                .config
                .as_ref()
                .map(EndpointSettings::resilience)
                .unwrap_or_default(),
        };
        let list = |main: &Option<EndpointList>, failovers: &[Endpoint]| -> Vec<RuntimeEndpoint> {
            let main = main.as_ref().map_or(&[][..], EndpointList::endpoints);
            match config.endpoint_type {
                EndpointType::LoadBalance => main.iter().map(runtime).collect(),
                EndpointType::Failover => main
                    .iter()
                    .take(1)
                    .chain(if main.is_empty() { &[][..] } else { failovers })
                    .map(runtime)
                    .collect(),
                _ => main.iter().take(1).map(runtime).collect(),
            }
        };
        let production_list = list(&config.production_endpoints, &config.production_failovers);
        let sandbox_list = list(&config.sandbox_endpoints, &config.sandbox_failovers);
        let routing = match config.endpoint_type {
            EndpointType::LoadBalance => EndpointRouting::LoadBalance {
                affinity: (config.session_management == Some(SessionManagement::Transport)).then(
                    || SessionAffinity {
                        max_age_secs: config
                            .session_time_out
                            .filter(|&ms| ms > 0)
                            .map(|ms| (ms as u64).div_ceil(1000)),
                    },
                ),
            },
            EndpointType::Failover => EndpointRouting::Failover,
            _ => EndpointRouting::Single,
        };
        Endpoints {
            production: production_list.first().map(|e| e.url.clone()),
            sandbox: sandbox_list.first().map(|e| e.url.clone()),
            routing,
            production_list,
            sandbox_list,
        }
    }
}

/// WSO2's rule for header names an API sets: no spaces and none of ~!@#;:%^*()+={}|\\<>"',&$
fn check_header_name(problems: &mut Problems, field: &str, header: &str) {
    if header.is_empty()
        || header.len() > 255
        || header
            .chars()
            .any(|c| !c.is_ascii_graphic() || "~!@#;:%^*()+={}|\\<>\"',&$".contains(c))
    {
        problems.add(
            field,
            format!("'{}' is not an HTTP header name", header.escape_debug()),
        );
    }
}

fn check_text(problems: &mut Problems, field: &str, value: &str, min: usize, max: usize) {
    let length = value.chars().count();
    if length < min || length > max {
        problems.add(field, format!("must have {min} to {max} characters"));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        problems.add(
            field,
            format!(
                "must not contain control characters ({})",
                c.escape_unicode()
            ),
        );
    }
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

fn check_endpoints(problems: &mut Problems, config: &mut EndpointConfig, websocket: bool) {
    let lists = [
        ("production_endpoints", config.production_endpoints.as_mut()),
        ("sandbox_endpoints", config.sandbox_endpoints.as_mut()),
    ];
    for (key, list) in lists {
        let Some(list) = list else { continue };
        let many = matches!(list, EndpointList::Many(_));
        if many && list.endpoints().is_empty() {
            problems.add(format!("endpointConfig.{key}"), "must list an endpoint");
        }
        for (i, endpoint) in list.endpoints_mut().iter_mut().enumerate() {
            let field = if many {
                format!("endpointConfig.{key}[{i}]")
            } else {
                format!("endpointConfig.{key}")
            };
            check_endpoint(problems, &field, endpoint, websocket);
        }
    }
    for (key, list) in [
        ("production_failovers", &mut config.production_failovers),
        ("sandbox_failovers", &mut config.sandbox_failovers),
    ] {
        for (i, endpoint) in list.iter_mut().enumerate() {
            check_endpoint(
                problems,
                &format!("endpointConfig.{key}[{i}]"),
                endpoint,
                websocket,
            );
        }
    }
    if config.endpoint_type == EndpointType::Http {
        for (key, list) in [
            ("production_endpoints", &config.production_endpoints),
            ("sandbox_endpoints", &config.sandbox_endpoints),
        ] {
            if matches!(list, Some(EndpointList::Many(l)) if l.len() > 1) {
                problems.add(
                    format!("endpointConfig.{key}"),
                    "lists several endpoints; set endpoint_type to load_balance or failover",
                );
            }
        }
    }
    // Backend authentication (WSO2's `endpoint_security`) is not sent by gateways yet.
    if let Some(Value::Object(security)) = config.other.get("endpoint_security") {
        for (side, settings) in security {
            if settings.get("enabled").and_then(Value::as_bool) == Some(true) {
                problems.add(
                    format!("endpointConfig.endpoint_security.{side}.enabled"),
                    "backend authentication is not supported by gateways yet; set it to false",
                );
            }
        }
    }
    match config.session_management {
        None | Some(SessionManagement::None) => {}
        Some(SessionManagement::Transport) if config.endpoint_type == EndpointType::LoadBalance => {
        }
        Some(SessionManagement::Transport) => problems.add(
            "endpointConfig.sessionManagement",
            "applies to load_balance endpoints only",
        ),
        Some(other) => problems.add(
            "endpointConfig.sessionManagement",
            format!("'{other}' sessions are not supported yet; use transport (a cookie) or none"),
        ),
    }
    if config
        .session_time_out
        .is_some_and(|ms| !(0..=MAX_SESSION_MILLIS).contains(&ms))
    {
        problems.add(
            "endpointConfig.sessionTimeOut",
            format!("must be between 0 and {MAX_SESSION_MILLIS} milliseconds"),
        );
    }
    for (key, algorithm) in [
        ("algoClassName", &config.algo_class_name),
        ("algoCombo", &config.algo_combo),
    ] {
        if let Some(algorithm) = algorithm.as_deref().filter(|a| !a.trim().is_empty()) {
            let algorithm = algorithm.trim();
            if algorithm != ROUND_ROBIN && !algorithm.eq_ignore_ascii_case("roundRobin") {
                problems.add(
                    format!("endpointConfig.{key}"),
                    format!("'{algorithm}' is not supported; gateways balance with {ROUND_ROBIN}"),
                );
            }
        }
    }
    if websocket {
        if !matches!(config.endpoint_type, EndpointType::Http | EndpointType::Ws) {
            problems.add(
                "endpointConfig.endpoint_type",
                format!(
                    "'{}' endpoints are not supported for WebSocket APIs yet; use ws (one endpoint per key type)",
                    config.endpoint_type
                ),
            );
        }
    } else if !matches!(
        config.endpoint_type,
        EndpointType::Http | EndpointType::LoadBalance | EndpointType::Failover
    ) {
        problems.add(
            "endpointConfig.endpoint_type",
            format!(
                "'{}' endpoints are not supported; use http, load_balance or failover",
                config.endpoint_type
            ),
        );
    }
}

/// Checks an endpoint, its URL put in normal form (trimmed) as gateways will read it: an
/// `http(s)://` URL, or `ws(s)://` for a WebSocket API.
fn check_endpoint(problems: &mut Problems, field: &str, endpoint: &mut Endpoint, websocket: bool) {
    endpoint.url = endpoint.url.trim().to_string();
    let url = endpoint.url.as_str();
    let schemes: [&str; 2] = if websocket {
        ["ws://", "wss://"]
    } else {
        ["http://", "https://"]
    };
    let valid = schemes.iter().any(|scheme| url.starts_with(scheme))
        && url
            .parse::<http::Uri>()
            .map(|u| u.host().is_some_and(|h| !h.is_empty()))
            .unwrap_or(false);
    if !valid {
        problems.add(
            format!("{field}.url"),
            format!(
                "must be an {} or {} URL, not '{url}'",
                schemes[0], schemes[1]
            ),
        );
    }
    if websocket && endpoint.config.is_some() {
        problems.add(
            format!("{field}.config"),
            "advanced endpoint settings are not supported for WebSocket APIs yet",
        );
        return;
    }
    if let Some(settings) = &endpoint.config {
        let field = |name: &str| format!("{field}.config.{name}");
        // A key gateways do not know would be a setting silently ignored (a misspelt one too).
        for key in settings.other.keys() {
            problems.add(
                field(key),
                format!(
                    "is not an endpoint setting; known: {}",
                    ENDPOINT_SETTINGS.join(", ")
                ),
            );
        }
        for (name, value, min) in [
            ("actionDuration", settings.action_duration, 0),
            ("retryDelay", settings.retry_delay, 0),
            // Synapse's -1: unset.
            ("suspendDuration", settings.suspend_duration, -1),
            ("suspendMaxDuration", settings.suspend_max_duration, -1),
        ] {
            if value.is_some_and(|v| !(min..=MAX_TIMEOUT_MILLIS).contains(&v)) {
                problems.add(
                    field(name),
                    format!("must be between 0 and {MAX_TIMEOUT_MILLIS} milliseconds"),
                );
            }
        }
        if settings
            .retry_time_out
            .is_some_and(|n| !(0..=MAX_RETRIES).contains(&n))
        {
            problems.add(
                field("retryTimeOut"),
                format!("must be a count of retries between 0 and {MAX_RETRIES}"),
            );
        }
        if settings
            .factor
            .is_some_and(|f| !(1.0..=MAX_FACTOR).contains(&f))
        {
            problems.add(
                field("factor"),
                format!("must be between 1 and {MAX_FACTOR}"),
            );
        }
        if let (Some(initial), Some(max)) =
            (settings.suspend_duration, settings.suspend_max_duration)
        {
            if initial > 0 && max > 0 && max < initial {
                problems.add(
                    field("suspendMaxDuration"),
                    "must not be shorter than suspendDuration",
                );
            }
        }
        for code in &settings.retry_erro_code {
            if settings.suspend_error_code.contains(code) {
                problems.add(
                    field("retryErroCode"),
                    format!("{code} is also in suspendErrorCode: an error either suspends the endpoint at once or is retried first"),
                );
            }
        }
    }
}

/// A context in normal form (`/pizzashack`), or why it is not one.
fn normalise_context(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let context = if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    };
    let valid = context.len() > 1
        && context.len() <= 232
        && context
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.{}~".contains(c))
        && !context.contains("//");
    if !valid {
        return Err(format!(
            "must be a path such as /pizzashack (letters, digits, '-', '_', '.', '/' and {{version}}, at most 232 characters), not '{}'",
            raw.escape_debug()
        ));
    }
    if context.matches("{version}").count() > 1
        || (context.contains('{') && !context.contains("{version}"))
    {
        return Err("may contain {version} once and no other template".into());
    }
    if has_dot_segment(&context) {
        return Err(format!("'{context}' contains a '.' or '..' segment"));
    }
    // Gateways answer health probes under /_health; keep the whole /_ space for them.
    if context.starts_with("/_") {
        return Err(format!(
            "'{context}' is reserved; contexts may not start with '/_'"
        ));
    }
    Ok(context)
}

/// Whether a resource template is a path gateways can route on.
pub(crate) fn check_target(target: &str) -> Result<(), String> {
    if !target.starts_with('/') || target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "must be a path starting with '/', not '{}'",
            target.escape_debug()
        ));
    }
    // Gateways route on normalised paths (no dot segments, no '\\' or ';'): a template with
    // them would never match, or would match something else than it says.
    let path = target.split('?').next().unwrap_or_default();
    if has_dot_segment(path)
        || path.contains(['\\', ';'])
        || path.to_ascii_lowercase().contains("%2f")
    {
        return Err(format!(
            "'{target}' contains a '.' or '..' segment, '\\', ';' or an encoded '/'"
        ));
    }
    Ok(())
}

/// Whether a path has a `.` or `..` segment, percent-encoded or not.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems_of(body: Value) -> Vec<String> {
        match ApiDefinition::from_json(body).and_then(ApiDefinition::normalise) {
            Ok(_) => vec![],
            Err(OpError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let fields = problems_of(json!({
            "name": "Pizza<Shack>", "context": "/a/../b", "version": "1 0",
            "maxTps": {"production": -1}, "description": "x".repeat(40000),
            "authorizationHeader": "Bearer token", "cacheTimeout": -1,
            "additionalProperties": [{"name": "", "value": "v"}],
            "visibility": "RESTRICTED",
            "endpointConfig": {"endpoint_type": "http", "production_endpoints": {"url": "ftp://x"},
                               "sandbox_endpoints": {"url": "http://b", "config": {"actionDuration": "-5"}}},
            "businessInformation": {"businessOwnerEmail": "nobody"},
            "operations": [{"target": "/a;b", "verb": "GET"}, {"target": "/x", "verb": "GET"}, {"target": "/x", "verb": "get"}]
        }));
        for expected in [
            "name",
            "context",
            "version",
            "maxTps.production",
            "description",
            "visibleRoles",
            "endpointConfig.production_endpoints.url",
            "endpointConfig.sandbox_endpoints.config.actionDuration",
            "businessInformation.businessOwnerEmail",
            "operations[0].target",
            "operations[2]",
            "authorizationHeader",
            "cacheTimeout",
            "additionalProperties[0].name",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected} not in {fields:?}"
            );
        }
    }

    #[test]
    fn unknown_enum_values_name_their_field() {
        for (body, field) in [
            (
                json!({"name": "A", "context": "/a", "version": "1", "gatewayVendor": "acme"}),
                "gatewayVendor",
            ),
            (
                json!({"name": "A", "context": "/a", "version": "1", "visibility": "SECRET"}),
                "visibility",
            ),
            (
                json!({"name": "A", "context": "/a", "version": "1", "operations": [{"target": "/", "verb": "FETCH"}]}),
                "operations[0].verb",
            ),
            (
                json!({"name": "A", "context": "/a", "version": "1", "operations": [{"target": "/", "verb": "GET", "authType": "Maybe"}]}),
                "operations[0].authType",
            ),
            (
                json!({"name": "A", "context": "/a", "version": "1", "endpointConfig": {"endpoint_type": "magic"}}),
                "endpointConfig.endpoint_type",
            ),
        ] {
            assert_eq!(problems_of(body), vec![field.to_string()]);
        }
    }

    #[test]
    fn what_is_sent_comes_back() {
        let body = json!({
            "name": "Pizza", "context": "pizza", "version": "1.0.0",
            "visibility": "RESTRICTED", "visibleRoles": ["internal/subscriber"],
            "tags": ["food"], "maxTps": {"production": 100, "sandbox": 10},
            "corsConfiguration": {"corsConfigurationEnabled": false, "accessControlAllowOrigins": ["*"],
                                  "accessControlAllowCredentials": false, "accessControlAllowHeaders": ["authorization"],
                                  "accessControlAllowMethods": ["GET"]},
            "endpointConfig": {"endpoint_type": "load_balance", "algoCombo": "roundRobin",
                               "production_endpoints": [{"url": "http://a"}, {"url": "http://b", "config": {"actionDuration": "3000"}}]},
            "somethingNew": {"kept": true},
            "operations": [{"target": "/menu", "verb": "GET", "authType": "Any", "x-extra": 1}]
        });
        let api = ApiDefinition::from_json(body)
            .and_then(ApiDefinition::normalise)
            .unwrap();
        let out = api.to_json();
        assert_eq!(out["context"], "/pizza");
        assert_eq!(out["somethingNew"], json!({"kept": true}));
        assert_eq!(out["endpointConfig"]["algoCombo"], "roundRobin");
        assert_eq!(
            out["endpointConfig"]["production_endpoints"][1]["url"],
            "http://b"
        );
        assert_eq!(
            out["operations"][0]["authType"],
            "Application & Application User"
        );
        assert_eq!(out["operations"][0]["x-extra"], 1);
        assert_eq!(out["maxTps"]["production"], 100);
        assert_eq!(
            api.runtime_endpoints().production.as_deref(),
            Some("http://a")
        );
    }
}
