//! WSO2's API object: what the publisher reads from it, how it validates and normalises it, and
//! the gateway's view ([`RuntimeApi`]) of a revision of it.

use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::{Endpoints, Operation, RuntimeApi};
use tollgate_restcore::{from_value, ApiError};
use tollgate_store::ApiRow;

/// The fields of the API object the publisher interprets; every other field is kept as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiInput {
    pub name: String,
    pub context: String,
    pub version: String,
    #[serde(default, rename = "type")]
    pub api_type: Option<String>,
    #[serde(default)]
    pub operations: Option<Vec<OperationInput>>,
    #[serde(default)]
    pub endpoint_config: Option<Value>,
    #[serde(default)]
    pub policies: Option<Vec<String>>,
    #[serde(default)]
    pub api_throttling_policy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OperationInput {
    pub target: String,
    pub verb: String,
    #[serde(default)]
    pub auth_type: Option<String>,
    #[serde(default)]
    pub throttling_policy: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

const VERBS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const AUTH_TYPES: &[&str] = &[
    "Any",
    "Application",
    "Application User",
    "Application & Application User",
    "None",
];
/// WSO2 stores `Any` as this; both mean "a token of any kind".
const DEFAULT_AUTH_TYPE: &str = "Application & Application User";

/// An API object checked and normalised, ready to store.
pub(crate) struct ValidatedApi {
    pub name: String,
    pub context: String,
    pub version: String,
    pub api_type: String,
    pub subscription_policies: Vec<String>,
    pub api_throttling_policy: Option<String>,
    /// The whole object with normalised fields written back.
    pub definition: Value,
}

pub(crate) fn validate(body: Value) -> Result<ValidatedApi, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON API object",
        ));
    }
    let input: ApiInput = from_value(&body)?;
    let name = input.name.trim().to_string();
    tollgate_restcore::check_line("name", &name)?;
    if name.is_empty() || name.len() > 60 {
        return Err(ApiError::bad_request(
            "Field 'name' must have 1 to 60 characters",
        ));
    }
    if name
        .chars()
        .any(|c| "~!@#;:%^*()+={}|\\<>\"',&/$[]".contains(c))
    {
        return Err(ApiError::bad_request(format!(
            "Field 'name' contains characters WSO2 does not allow in API names: '{name}'"
        )));
    }
    let version = input.version.trim().to_string();
    if version.is_empty()
        || version.len() > 30
        || version
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '{' || c == '}')
    {
        return Err(ApiError::bad_request(
            "Field 'version' must have 1 to 30 characters without spaces, '/' or braces",
        ));
    }
    let context = normalise_context(&input.context)?;
    let api_type = input
        .api_type
        .unwrap_or_else(|| "HTTP".into())
        .to_uppercase();
    if api_type != "HTTP" {
        return Err(ApiError::bad_request(format!(
            "Field 'type': APIs of type {api_type} are not supported yet; only HTTP (REST) APIs are"
        )));
    }
    let operations = match input.operations {
        Some(ops) if !ops.is_empty() => ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| normalise_operation(i, op))
            .collect::<Result<Vec<_>, _>>()?,
        // WSO2 gives an API without resources a wildcard resource for each common verb.
        _ => ["GET", "POST", "PUT", "DELETE", "PATCH"]
            .iter()
            .map(|verb| Operation {
                verb: verb.to_string(),
                target: "/*".into(),
                auth_type: DEFAULT_AUTH_TYPE.into(),
                throttling_policy: Some("Unlimited".into()),
                scopes: vec![],
            })
            .collect(),
    };
    // Checked now so a bad endpoint is refused at creation, not at deployment.
    endpoints_of(input.endpoint_config.as_ref())?;
    let subscription_policies = match input.policies {
        Some(p) if !p.is_empty() => p,
        _ => vec!["Unlimited".into()],
    };

    let mut definition = body;
    let object = definition
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("The request body must be a JSON API object"))?;
    object.insert("name".into(), json!(name));
    object.insert("context".into(), json!(context));
    object.insert("version".into(), json!(version));
    object.insert("type".into(), json!(api_type));
    object.insert("policies".into(), json!(subscription_policies));
    object.insert(
        "operations".into(),
        Value::Array(operations.iter().map(operation_json).collect()),
    );
    Ok(ValidatedApi {
        name,
        context,
        version,
        api_type,
        subscription_policies,
        api_throttling_policy: input.api_throttling_policy.filter(|p| !p.is_empty()),
        definition,
    })
}

fn normalise_context(raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let context = if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    };
    let valid = context.len() > 1
        && context.len() <= 200
        && context
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.{}~".contains(c))
        && !context.contains("//");
    if !valid {
        return Err(ApiError::bad_request(format!(
            "Field 'context' must be a path such as /pizzashack (letters, digits, '-', '_', '.', '/' and {{version}}), not '{raw}'"
        )));
    }
    if context.matches("{version}").count() > 1
        || (context.contains('{') && !context.contains("{version}"))
    {
        return Err(ApiError::bad_request(
            "Field 'context' may contain {version} once and no other template",
        ));
    }
    if has_dot_segment(&context) {
        return Err(ApiError::bad_request(format!(
            "Field 'context': '{context}' contains a '.' or '..' segment"
        )));
    }
    // Gateways answer health probes under /_health; keep the whole /_ space for them.
    if context.starts_with("/_") {
        return Err(ApiError::bad_request(format!(
            "Field 'context': '{context}' is reserved; contexts may not start with '/_'"
        )));
    }
    Ok(context)
}

fn normalise_operation(index: usize, op: OperationInput) -> Result<Operation, ApiError> {
    let verb = op.verb.trim().to_uppercase();
    if !VERBS.contains(&verb.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Field 'operations[{index}].verb': '{}' is not one of {}",
            op.verb,
            VERBS.join(", ")
        )));
    }
    let target = op.target.trim().to_string();
    if !target.starts_with('/') || target.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request(format!(
            "Field 'operations[{index}].target' must be a path starting with '/', not '{}'",
            op.target
        )));
    }
    // Gateways route on normalised paths (no dot segments, no '\\' or ';'): a template with
    // them would never match, or would match something else than it says.
    let path = target.split('?').next().unwrap_or_default();
    if has_dot_segment(path)
        || path.contains(['\\', ';'])
        || path.to_ascii_lowercase().contains("%2f")
    {
        return Err(ApiError::bad_request(format!(
            "Field 'operations[{index}].target': '{target}' contains a '.' or '..' segment, '\\', ';' or an encoded '/'"
        )));
    }
    let auth_type = match op.auth_type.as_deref() {
        None | Some("Any") => DEFAULT_AUTH_TYPE.to_string(),
        Some(a) if AUTH_TYPES.contains(&a) => a.to_string(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Field 'operations[{index}].authType': '{other}' is not one of {}",
                AUTH_TYPES.join(", ")
            )))
        }
    };
    Ok(Operation {
        verb,
        target,
        auth_type,
        throttling_policy: op.throttling_policy.or_else(|| Some("Unlimited".into())),
        scopes: op.scopes.unwrap_or_default(),
    })
}

/// Whether a path has a `.` or `..` segment, percent-encoded or not.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

fn operation_json(op: &Operation) -> Value {
    json!({
        "id": "",
        "target": op.target,
        "verb": op.verb,
        "authType": op.auth_type,
        "throttlingPolicy": op.throttling_policy,
        "scopes": op.scopes,
        "usedProductIds": [],
        "operationPolicies": {"request": [], "response": [], "fault": []}
    })
}

/// Reads WSO2's `endpointConfig`: `production_endpoints` / `sandbox_endpoints`, each `{"url": …}`
/// (or a list of them, of which the first is used).
fn endpoints_of(config: Option<&Value>) -> Result<Endpoints, ApiError> {
    let Some(config) = config.filter(|c| !c.is_null()) else {
        return Ok(Endpoints::default());
    };
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "Field 'endpointConfig' must be an object",
        ));
    }
    let url_of = |key: &str| -> Result<Option<String>, ApiError> {
        let entry = match config.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(list)) => list.first().cloned().unwrap_or(Value::Null),
            Some(other) => other.clone(),
        };
        let Some(url) = entry.get("url") else {
            return Ok(None);
        };
        let url = url.as_str().ok_or_else(|| {
            ApiError::bad_request(format!("Field 'endpointConfig.{key}.url' must be a string"))
        })?;
        let valid = (url.starts_with("http://") || url.starts_with("https://"))
            && url
                .parse::<axum::http::Uri>()
                .map(|u| u.host().is_some())
                .unwrap_or(false);
        if !valid {
            return Err(ApiError::bad_request(format!(
                "Field 'endpointConfig.{key}.url' must be an http:// or https:// URL, not '{url}'"
            )));
        }
        Ok(Some(url.trim_end_matches('/').to_string()))
    };
    Ok(Endpoints {
        production: url_of("production_endpoints")?,
        sandbox: url_of("sandbox_endpoints")?,
    })
}

/// The gateway's view of an API as stored now; frozen into each revision.
pub(crate) fn runtime_of(api: &ApiRow, revision_id: &str) -> Result<RuntimeApi, ApiError> {
    let input: ApiInput = from_value(&api.definition)?;
    let operations = input
        .operations
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, op)| normalise_operation(i, op))
        .collect::<Result<Vec<_>, _>>()?;
    let endpoints = endpoints_of(input.endpoint_config.as_ref())?;
    Ok(RuntimeApi {
        id: api.id.clone(),
        tenant: api.tenant.clone(),
        name: api.name.clone(),
        version: api.version.clone(),
        context: api.context.clone(),
        provider: api.provider.clone(),
        lifecycle_status: api.lifecycle_status.clone(),
        revision_id: revision_id.to_string(),
        api_throttling_policy: input.api_throttling_policy,
        operations,
        endpoints,
    })
}

/// The API object as the Publisher API returns it: the stored definition with the server's fields.
pub(crate) fn api_json(api: &ApiRow) -> Value {
    let mut out = api.definition.clone();
    if let Some(object) = out.as_object_mut() {
        object.insert("id".into(), json!(api.id));
        object.insert("provider".into(), json!(api.provider));
        object.insert("lifeCycleStatus".into(), json!(api.lifecycle_status));
        object.insert("createdTime".into(), json!(api.created_time.to_string()));
        object.insert(
            "lastUpdatedTime".into(),
            json!(api.updated_time.to_string()),
        );
        object.entry("isRevision").or_insert(json!(false));
        object.entry("visibility").or_insert(json!("PUBLIC"));
        object
            .entry("transport")
            .or_insert(json!(["http", "https"]));
        object.entry("tags").or_insert(json!([]));
        object.entry("securityScheme").or_insert(json!(["oauth2"]));
        object.entry("gatewayVendor").or_insert(json!("wso2"));
    }
    out
}

/// The short form used in lists (WSO2's `APIInfo`).
pub(crate) fn api_info_json(api: &ApiRow) -> Value {
    let full = api_json(api);
    let pick = |k: &str| full.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "id": api.id,
        "name": api.name,
        "description": pick("description"),
        "context": api.context,
        "version": api.version,
        "provider": api.provider,
        "type": api.api_type,
        "lifeCycleStatus": api.lifecycle_status,
        "hasThumbnail": false,
        "securityScheme": pick("securityScheme"),
        "createdTime": api.created_time.to_string(),
        "updatedTime": api.updated_time.to_string(),
        "gatewayVendor": "wso2",
        "advertiseOnly": false
    })
}
