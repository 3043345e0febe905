//! Key managers: the resident one (built in, always listed first) and external authorization
//! servers added through the Admin API, whose tokens gateways accept — the token's `iss`
//! selects the key manager, never the order they were added in. Each change is an event, so
//! gateways start (or stop) trusting an issuer at once.

use serde_json::{json, Value};
use tollgate_model::RESIDENT_KEY_MANAGER;
use tollgate_store::{Change, KeyManagerRow};

use crate::{Actor, OpError, OpResult, Problems, Services};

const MANAGE: &[&str] = &["apim:admin", "apim:keymanagers_manage"];
/// Who may read a key manager's whole configuration (its settings can hold connector secrets).
const ADMIN_VIEW: &[&str] = &[
    "apim:admin",
    "apim:keymanagers_manage",
    "apim:admin_operations",
];
/// Who may see the key managers: administrators, and the portals' users choosing one for keys
/// or for an API.
const VIEW: &[&str] = &[
    "apim:admin",
    "apim:keymanagers_manage",
    "apim:admin_operations",
    "apim:subscribe",
    "apim:api_view",
    "apim:api_create",
    "apim:api_manage",
];

/// WSO2's default claims for the consumer key and the scopes.
pub const DEFAULT_CONSUMER_KEY_CLAIM: &str = "azp";
pub const DEFAULT_SCOPES_CLAIM: &str = "scope";

/// How a key manager's signing keys are given (WSO2's `certificates.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateType {
    Jwks,
    Pem,
}

/// An external key manager as an administrator describes it (WSO2's `KeyManager`).
#[derive(Debug, Clone, Default)]
pub struct KeyManagerInput {
    pub name: String,
    pub display_name: Option<String>,
    /// WSO2's `type`.
    pub kind: String,
    pub description: Option<String>,
    pub issuer: Option<String>,
    /// `certificates.type` as sent, and `certificates.value`.
    pub certificate_type: Option<String>,
    pub certificate_value: Option<String>,
    pub consumer_key_claim: Option<String>,
    pub scopes_claim: Option<String>,
    pub enabled: Option<bool>,
    /// The endpoints WSO2 lists (`tokenEndpoint`, `introspectionEndpoint`, …) by field name.
    pub endpoints: Vec<(String, String)>,
    /// WSO2's other fields, kept as given (grant types, display options, additionalProperties).
    pub settings: serde_json::Map<String, Value>,
}

/// The endpoint fields of WSO2's `KeyManager`.
pub const ENDPOINT_FIELDS: [&str; 11] = [
    "wellKnownEndpoint",
    "introspectionEndpoint",
    "clientRegistrationEndpoint",
    "tokenEndpoint",
    "displayTokenEndpoint",
    "revokeEndpoint",
    "displayRevokeEndpoint",
    "userInfoEndpoint",
    "authorizeEndpoint",
    "scopeManagementEndpoint",
    "alias",
];

/// The resident key manager's id: stable across nodes and restarts.
pub fn resident_id() -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("tollgate:key-manager:{RESIDENT_KEY_MANAGER}").as_bytes(),
    )
    .to_string()
}

/// The resident key manager, described as the external ones are.
fn resident(services: &Services, tenant: &str) -> KeyManagerRow {
    let base = services.key_manager.base_url();
    let endpoints = json!({
        "tokenEndpoint": format!("{base}/oauth2/token"),
        "revokeEndpoint": format!("{base}/oauth2/revoke"),
        "introspectionEndpoint": format!("{base}/oauth2/introspect"),
        "userInfoEndpoint": format!("{base}/oauth2/userinfo"),
        "authorizeEndpoint": format!("{base}/oauth2/authorize"),
        "clientRegistrationEndpoint": format!("{base}/client-registration/v0.17/register"),
        "wellKnownEndpoint": format!("{base}/oauth2/token/.well-known/openid-configuration"),
        "availableGrantTypes": services.key_manager.supported_grants(),
        "enableTokenGeneration": true,
        "enableOAuthAppCreation": true,
        "enableMapOAuthConsumerApps": true,
        "enableSelfValidationJWT": true,
        "tokenType": "DIRECT",
    });
    KeyManagerRow {
        id: resident_id(),
        tenant: tenant.to_string(),
        name: RESIDENT_KEY_MANAGER.into(),
        display_name: RESIDENT_KEY_MANAGER.into(),
        kind: "default".into(),
        description: "This is Resident Key Manager".into(),
        issuer: services.key_manager.issuer().to_string(),
        jwks_endpoint: format!("{base}/oauth2/jwks"),
        consumer_key_claim: DEFAULT_CONSUMER_KEY_CLAIM.into(),
        scopes_claim: DEFAULT_SCOPES_CLAIM.into(),
        enabled: true,
        settings: endpoints,
        created_time: 0,
    }
}

/// The resident key manager and the tenant's external ones, by name, for the portals: without
/// WSO2's `additionalProperties` (where connectors keep their credentials).
pub async fn list(services: &Services, actor: &Actor) -> OpResult<Vec<KeyManagerRow>> {
    actor.require_any(VIEW)?;
    let mut all = all_of(services, &actor.tenant).await?;
    for km in &mut all {
        if let Some(settings) = km.settings.as_object_mut() {
            settings.remove("additionalProperties");
        }
    }
    Ok(all)
}

/// As [`list`], whole, for administrators.
pub async fn list_managed(services: &Services, actor: &Actor) -> OpResult<Vec<KeyManagerRow>> {
    actor.require_any(ADMIN_VIEW)?;
    all_of(services, &actor.tenant).await
}

async fn all_of(services: &Services, tenant: &str) -> OpResult<Vec<KeyManagerRow>> {
    let mut all = vec![resident(services, tenant)];
    all.extend(services.store.key_managers(tenant).await?);
    Ok(all)
}

/// One key manager's whole configuration, for administrators.
pub async fn get(services: &Services, actor: &Actor, id: &str) -> OpResult<KeyManagerRow> {
    actor.require_any(ADMIN_VIEW)?;
    if id == resident_id() {
        return Ok(resident(services, &actor.tenant));
    }
    services
        .store
        .key_managers(&actor.tenant)
        .await?
        .into_iter()
        .find(|km| km.id == id)
        .ok_or_else(|| OpError::NotFound(format!("key manager {id}")))
}

/// The key manager `name` names (`Resident Key Manager`, WSO2's `Default`, or an external one).
/// `None` when there is none by that name.
pub async fn by_name(
    services: &Services,
    tenant: &str,
    name: &str,
) -> OpResult<Option<KeyManagerRow>> {
    if name.is_empty() || name == RESIDENT_KEY_MANAGER || name == "Default" {
        return Ok(Some(resident(services, tenant)));
    }
    Ok(services.store.key_manager_by_name(tenant, name).await?)
}

/// An https URL, or an http one on this machine (loopback): key sets and client secrets must
/// not cross a network in the clear.
fn is_secure_url(text: &str) -> bool {
    text.parse::<http::Uri>()
        .is_ok_and(|uri| match (uri.scheme_str(), uri.host()) {
            (Some("https"), Some(_)) => true,
            (Some("http"), Some(host)) => {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                host.eq_ignore_ascii_case("localhost")
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            _ => false,
        })
}

/// Checks an input, reporting every problem; the row it describes (id, tenant, time to fill).
fn checked(services: &Services, input: KeyManagerInput) -> OpResult<KeyManagerRow> {
    let mut problems = Problems::default();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        problems.add(
            "name",
            "must have 1 to 100 characters, none of them control characters",
        );
    } else if name == RESIDENT_KEY_MANAGER || name == "Default" {
        problems.add(
            "name",
            format!("'{name}' is the resident key manager's name"),
        );
    }
    let kind = input.kind.trim().to_string();
    if kind.is_empty() || kind.chars().count() > 45 || kind.chars().any(char::is_control) {
        problems.add("type", "must have 1 to 45 characters");
    }
    let display_name = input
        .display_name
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| name.clone());
    if display_name.chars().count() > 100 {
        problems.add("displayName", "must have at most 100 characters");
    }
    let description = input.description.unwrap_or_default();
    if description.chars().count() > 256 {
        problems.add("description", "must have at most 256 characters");
    }
    let issuer = input.issuer.unwrap_or_default().trim().to_string();
    if issuer.is_empty() || issuer.len() > 512 || issuer.chars().any(char::is_control) {
        problems.add(
            "issuer",
            "is required: the 'iss' claim of the key manager's tokens",
        );
    } else if issuer == services.key_manager.issuer() {
        problems.add("issuer", "is the resident key manager's issuer");
    }
    let certificate_type = match input.certificate_type.as_deref().map(str::trim) {
        None | Some("JWKS") => Some(CertificateType::Jwks),
        Some("PEM") => Some(CertificateType::Pem),
        Some(other) => {
            problems.add(
                "certificates.type",
                format!("'{other}' is not one of JWKS, PEM"),
            );
            None
        }
    };
    let jwks_endpoint = input
        .certificate_value
        .unwrap_or_default()
        .trim()
        .to_string();
    match certificate_type {
        Some(CertificateType::Pem) => problems.add(
            "certificates.type",
            "PEM certificates are not supported yet; give the key manager's JWKS endpoint (type JWKS)",
        ),
        Some(CertificateType::Jwks) if !is_secure_url(&jwks_endpoint) => problems.add(
            "certificates.value",
            "must be the https URL of the key manager's JWKS endpoint (http only on loopback)",
        ),
        _ => {}
    }
    let claim = |value: Option<String>, field: &str, default: &str, problems: &mut Problems| {
        let value = value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_string());
        if value.len() > 255 || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            problems.add(
                field,
                "must be a claim name (no spaces, at most 255 characters)",
            );
        }
        value
    };
    let consumer_key_claim = claim(
        input.consumer_key_claim,
        "consumerKeyClaim",
        DEFAULT_CONSUMER_KEY_CLAIM,
        &mut problems,
    );
    let scopes_claim = claim(
        input.scopes_claim,
        "scopesClaim",
        DEFAULT_SCOPES_CLAIM,
        &mut problems,
    );
    let mut settings = input.settings;
    for (field, url) in input.endpoints {
        let url = url.trim().to_string();
        if url.is_empty() {
            continue;
        }
        // `alias` may be any audience value; the rest are URLs.
        if field != "alias" && !is_secure_url(&url) {
            problems.add(
                field.as_str(),
                "must be an https URL (http only on loopback)",
            );
        }
        settings.insert(field, Value::String(url));
    }
    problems.into_result(KeyManagerRow {
        id: String::new(),
        tenant: String::new(),
        name,
        display_name,
        kind,
        description,
        issuer,
        jwks_endpoint,
        consumer_key_claim,
        scopes_claim,
        enabled: input.enabled.unwrap_or(true),
        settings: Value::Object(settings),
        created_time: 0,
    })
}

pub async fn create(
    services: &Services,
    actor: &Actor,
    input: KeyManagerInput,
) -> OpResult<KeyManagerRow> {
    actor.require_any(MANAGE)?;
    let mut row = checked(services, input)?;
    row.id = uuid::Uuid::new_v4().to_string();
    row.tenant = actor.tenant.clone();
    row.created_time = tollgate_model::now_millis();
    let mut tx = services.store.begin().await?;
    tx.apply(&Change::CreateKeyManager(row.clone())).await?;
    tx.commit().await?;
    tracing::info!(key_manager = %row.name, issuer = %row.issuer, user = %actor.username, "key manager added");
    Ok(row)
}

/// Changes an external key manager; its name identifies it in key mappings and stays.
pub async fn update(
    services: &Services,
    actor: &Actor,
    id: &str,
    input: KeyManagerInput,
) -> OpResult<KeyManagerRow> {
    actor.require_any(MANAGE)?;
    refuse_resident(id)?;
    let mut tx = services.store.begin().await?;
    let current = tx.key_manager(&actor.tenant, id).await?;
    // Leaving `enabled` out changes nothing: an edit must not re-enable what was disabled.
    let mut input = input;
    input.enabled = input.enabled.or(Some(current.enabled));
    let changed = checked(services, input)?;
    if changed.name != current.name {
        return Err(OpError::invalid(
            "name",
            format!(
                "cannot be changed ('{}' → '{}')",
                current.name, changed.name
            ),
        ));
    }
    let row = KeyManagerRow {
        id: current.id,
        tenant: current.tenant,
        created_time: current.created_time,
        ..changed
    };
    tx.apply(&Change::UpdateKeyManager(row.clone())).await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes an external key manager no application keys are mapped through.
pub async fn delete(services: &Services, actor: &Actor, id: &str) -> OpResult<()> {
    actor.require_any(MANAGE)?;
    refuse_resident(id)?;
    let mut tx = services.store.begin().await?;
    let row = tx.key_manager(&actor.tenant, id).await?;
    let mapped = tx
        .key_manager_mapping_count(&actor.tenant, &row.name)
        .await?;
    if mapped > 0 {
        return Err(OpError::Conflict(format!(
            "{mapped} application key(s) are mapped through '{}'; remove them first",
            row.name
        )));
    }
    tx.apply(&Change::DeleteKeyManager(row)).await?;
    tx.commit().await?;
    Ok(())
}

/// WSO2's "discover": reads another authorization server's well-known endpoint and describes
/// it as a key manager of type `kind`, ready to be added (nothing is stored). `None` when the
/// endpoint cannot be read or is not such a document (WSO2 answers `valid: false`).
pub async fn discover(
    services: &Services,
    actor: &Actor,
    url: &str,
    kind: &str,
) -> OpResult<Option<KeyManagerInput>> {
    actor.require_any(&[
        "apim:admin",
        "apim:admin_operations",
        "apim:keymanagers_manage",
    ])?;
    if !is_secure_url(url) {
        return Err(OpError::invalid(
            "url",
            "must be the https URL of a well-known endpoint (http only on loopback)",
        ));
    }
    let metadata = match services.key_manager.discover_remote(url).await {
        Ok(metadata) => metadata,
        Err(err) => {
            tracing::info!(%url, error = %err, "key manager discovery failed");
            return Ok(None);
        }
    };
    let text = |field: &str| metadata[field].as_str().map(str::to_string);
    let mut endpoints = vec![("wellKnownEndpoint".to_string(), url.to_string())];
    for (field, name) in [
        ("tokenEndpoint", "token_endpoint"),
        ("revokeEndpoint", "revocation_endpoint"),
        ("introspectionEndpoint", "introspection_endpoint"),
        ("userInfoEndpoint", "userinfo_endpoint"),
        ("authorizeEndpoint", "authorization_endpoint"),
        ("clientRegistrationEndpoint", "registration_endpoint"),
    ] {
        if let Some(value) = text(name) {
            endpoints.push((field.to_string(), value));
        }
    }
    let mut settings = serde_json::Map::new();
    if let Some(grants) = metadata
        .get("grant_types_supported")
        .filter(|g| g.is_array())
    {
        settings.insert("availableGrantTypes".into(), grants.clone());
    }
    let issuer = text("issuer");
    Ok(Some(KeyManagerInput {
        name: String::new(),
        display_name: None,
        kind: kind.to_string(),
        description: None,
        certificate_type: Some("JWKS".into()),
        certificate_value: text("jwks_uri"),
        consumer_key_claim: Some(DEFAULT_CONSUMER_KEY_CLAIM.into()),
        scopes_claim: Some(DEFAULT_SCOPES_CLAIM.into()),
        enabled: Some(true),
        issuer,
        endpoints,
        settings,
    }))
}

fn refuse_resident(id: &str) -> OpResult<()> {
    if id == resident_id() {
        return Err(OpError::NotAllowed(format!(
            "The {RESIDENT_KEY_MANAGER} is configured in deployment.toml ([oauth]) and cannot be changed here"
        )));
    }
    Ok(())
}
