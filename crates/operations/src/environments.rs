//! Gateway environments: those `deployment.toml` declares (read-only) and those added through
//! the Admin API. A revision can be deployed to either; a gateway serves the environments named
//! by its `gateway_labels`.

use serde::{Deserialize, Serialize};
use tollgate_store::EnvironmentRow;

use crate::{Actor, OpError, OpResult, Problems, Services};

const MANAGE: &[&str] = &["apim:environment_manage", "apim:admin"];
const VIEW: &[&str] = &[
    "apim:environment_read",
    "apim:environment_manage",
    "apim:admin",
    "apim:api_view",
    "apim:api_create",
    "apim:api_publish",
    "apim:api_manage",
];

/// WSO2's `VHost`: a host name and the ports APIs are served on there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vhost {
    pub host: String,
    #[serde(default)]
    pub http_context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wss_port: Option<u16>,
}

/// A gateway environment, wherever it is declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub provider: String,
    pub vhosts: Vec<Vhost>,
    /// Declared in `deployment.toml`: not changed through the API.
    pub read_only: bool,
}

/// An environment as an administrator describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentInput {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    pub vhosts: Vec<Vhost>,
}

/// The configured environments' ids are stable across restarts and nodes: derived from names.
fn config_id(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("tollgate:environment:{name}").as_bytes(),
    )
    .to_string()
}

fn port_of(url: &str) -> Option<u16> {
    url.parse::<http::Uri>().ok().and_then(|u| {
        u.port_u16().or(match u.scheme_str() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        })
    })
}

fn from_config(env: &crate::GatewayEnvironment) -> Environment {
    Environment {
        id: config_id(&env.name),
        name: env.name.clone(),
        display_name: env.display_name.clone(),
        description: env.description.clone(),
        provider: "wso2".into(),
        vhosts: env
            .vhosts
            .iter()
            .map(|host| Vhost {
                host: host.clone(),
                http_context: String::new(),
                http_port: port_of(&env.http_endpoint),
                https_port: port_of(&env.https_endpoint),
                ws_port: None,
                wss_port: None,
            })
            .collect(),
        read_only: true,
    }
}

fn from_row(row: EnvironmentRow) -> OpResult<Environment> {
    Ok(Environment {
        vhosts: serde_json::from_value(row.vhosts).map_err(|e| {
            OpError::Store(tollgate_store::StoreError::Corrupt(format!("vhosts: {e}")))
        })?,
        id: row.id,
        name: row.name,
        display_name: row.display_name,
        description: row.description,
        provider: row.provider,
        read_only: false,
    })
}

/// Every environment of the tenant: configured ones first, then added ones by name.
pub async fn list_environments(services: &Services, actor: &Actor) -> OpResult<Vec<Environment>> {
    actor.require_any(VIEW)?;
    all_environments(services, &actor.tenant).await
}

pub(crate) async fn all_environments(
    services: &Services,
    tenant: &str,
) -> OpResult<Vec<Environment>> {
    let mut environments: Vec<Environment> =
        services.environments.iter().map(from_config).collect();
    for row in services.store.environments(tenant).await? {
        environments.push(from_row(row)?);
    }
    Ok(environments)
}

fn checked(input: EnvironmentInput) -> OpResult<EnvironmentInput> {
    let mut problems = Problems::default();
    let mut input = input;
    input.name = input.name.trim().to_string();
    if input.name.is_empty()
        || input.name.len() > 255
        || input.name.chars().any(|c| {
            c.is_whitespace() || c.is_control() || "~!@#;:%^*()+={}|\\<>\"',&$".contains(c)
        })
    {
        problems.add(
            "name",
            "must have 1 to 255 characters, without spaces or ~!@#;:%^*()+={}|\\<>\"',&$",
        );
    }
    if input
        .display_name
        .as_ref()
        .is_some_and(|d| d.chars().count() > 255)
    {
        problems.add("displayName", "must have at most 255 characters");
    }
    if input
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1023)
    {
        problems.add("description", "must have at most 1023 characters");
    }
    if input.vhosts.is_empty() {
        problems.add("vhosts", "must list at least one virtual host");
    }
    for (i, vhost) in input.vhosts.iter().enumerate() {
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if vhost.host.len() > 255 || !vhost.host.split('.').all(valid_label) {
            problems.add(
                format!("vhosts[{i}].host"),
                format!("'{}' is not a host name", vhost.host),
            );
        }
        let context = vhost.http_context.trim_start_matches('/');
        if !context
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            problems.add(
                format!("vhosts[{i}].httpContext"),
                "may hold letters, digits and '-' only",
            );
        }
        for (field, port) in [
            ("httpPort", vhost.http_port),
            ("httpsPort", vhost.https_port),
            ("wsPort", vhost.ws_port),
            ("wssPort", vhost.wss_port),
        ] {
            if port == Some(0) {
                problems.add(format!("vhosts[{i}].{field}"), "must be from 1 to 65535");
            }
        }
    }
    problems.into_result(input)
}

pub async fn create_environment(
    services: &Services,
    actor: &Actor,
    input: EnvironmentInput,
) -> OpResult<Environment> {
    actor.require_any(MANAGE)?;
    let input = checked(input)?;
    if services.environments.iter().any(|e| e.name == input.name) {
        return Err(OpError::Conflict(format!(
            "A gateway environment named '{}' already exists (in deployment.toml)",
            input.name
        )));
    }
    let row = EnvironmentRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: actor.tenant.clone(),
        display_name: input
            .display_name
            .clone()
            .unwrap_or_else(|| input.name.clone()),
        name: input.name,
        description: input.description.unwrap_or_default(),
        provider: input.provider.unwrap_or_else(|| "wso2".into()),
        vhosts: serde_json::to_value(&input.vhosts).unwrap_or_default(),
        created_time: tollgate_model::now_millis(),
    };
    let mut tx = services.store.begin().await?;
    tx.insert_environment(&row).await?;
    tx.commit().await?;
    from_row(row)
}

/// Changes an added environment; its name identifies it and stays.
pub async fn update_environment(
    services: &Services,
    actor: &Actor,
    environment_id: &str,
    input: EnvironmentInput,
) -> OpResult<Environment> {
    actor.require_any(MANAGE)?;
    refuse_configured(services, environment_id)?;
    let input = checked(input)?;
    let mut tx = services.store.begin().await?;
    let mut row = tx.environment(&actor.tenant, environment_id).await?;
    if input.name != row.name {
        return Err(OpError::invalid(
            "name",
            format!("cannot be changed ('{}' → '{}')", row.name, input.name),
        ));
    }
    row.display_name = input.display_name.unwrap_or_else(|| row.name.clone());
    row.description = input.description.unwrap_or_default();
    row.provider = input.provider.unwrap_or(row.provider);
    row.vhosts = serde_json::to_value(&input.vhosts).unwrap_or_default();
    tx.update_environment(&row).await?;
    tx.commit().await?;
    from_row(row)
}

/// Deletes an added environment no API is deployed to.
pub async fn delete_environment(
    services: &Services,
    actor: &Actor,
    environment_id: &str,
) -> OpResult<()> {
    actor.require_any(MANAGE)?;
    refuse_configured(services, environment_id)?;
    let mut tx = services.store.begin().await?;
    let row = tx.environment(&actor.tenant, environment_id).await?;
    let deployed = tx.deployment_count(&actor.tenant, &row.name).await?;
    if deployed > 0 {
        return Err(OpError::Conflict(format!(
            "{deployed} API(s) are deployed to '{}'; undeploy them first",
            row.name
        )));
    }
    tx.delete_environment(&row.id).await?;
    tx.commit().await?;
    Ok(())
}

fn refuse_configured(services: &Services, environment_id: &str) -> OpResult<()> {
    match services
        .environments
        .iter()
        .find(|e| config_id(&e.name) == environment_id)
    {
        Some(env) => Err(OpError::NotAllowed(format!(
            "Gateway environment '{}' is declared in deployment.toml and cannot be changed here",
            env.name
        ))),
        None => Ok(()),
    }
}
