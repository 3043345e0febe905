//! An API's definition document: validate one, import an API from one, read and replace an
//! API's — keeping the document and the API's resources in step both ways.

use std::time::Duration;

use serde_json::{json, Value};
use tollgate_store::ApiRow;

use super::definition::{
    ApiDefinition, ApiScope, Endpoint, EndpointConfig, EndpointList, Resource, ScopeDefinition,
};
use super::openapi::{self, Document, Summary, MAX_DEFINITION_BYTES};
use super::permissions;
use crate::{Actor, FieldError, OpError, OpResult, Services};

/// Where a definition comes from.
#[derive(Debug, Clone)]
pub enum DefinitionSource {
    /// The document itself (an uploaded file or inline text).
    Inline(Vec<u8>),
    /// A URL to fetch it from.
    Url(String),
}

impl DefinitionSource {
    async fn bytes(&self) -> OpResult<Vec<u8>> {
        match self {
            DefinitionSource::Inline(bytes) => Ok(bytes.clone()),
            DefinitionSource::Url(url) => fetch(url).await,
        }
    }
}

/// Fetches a definition over HTTP(S): ten seconds at most, 10 MB at most.
async fn fetch(url: &str) -> OpResult<Vec<u8>> {
    let invalid = |message: String| OpError::invalid("url", message);
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(invalid(format!(
            "'{url}' is not an http:// or https:// URL"
        )));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| invalid(format!("cannot fetch: {e}")))?;
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| invalid(format!("cannot fetch '{url}': {e}")))?;
    if !response.status().is_success() {
        return Err(invalid(format!(
            "fetching '{url}' answered {}",
            response.status()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| invalid(format!("reading '{url}': {e}")))?
    {
        if body.len() + chunk.len() > MAX_DEFINITION_BYTES {
            return Err(invalid(format!(
                "'{url}' is larger than {MAX_DEFINITION_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A definition checked: what it says, or every problem found in it.
pub enum Validation {
    Valid {
        document: Box<Document>,
        summary: Box<Summary>,
    },
    Invalid(Vec<FieldError>),
}

/// Checks a definition without changing anything.
pub async fn validate_definition(actor: &Actor, source: &DefinitionSource) -> OpResult<Validation> {
    actor.require_any(permissions::CREATE)?;
    let bytes = source.bytes().await?;
    match openapi::read(&bytes).and_then(|document| {
        let summary = document.summary()?;
        Ok((document, summary))
    }) {
        Ok((document, summary)) => Ok(Validation::Valid {
            document: Box::new(document),
            summary: Box::new(summary),
        }),
        Err(OpError::Invalid(problems)) => Ok(Validation::Invalid(problems)),
        Err(other) => Err(other),
    }
}

/// Creates an API from a definition: its resources are the definition's operations; name,
/// version, context, description and endpoint come from `additional` (WSO2's
/// `additionalProperties`, an API object) where given, else from the definition.
pub async fn import_definition(
    services: &Services,
    actor: &Actor,
    source: &DefinitionSource,
    additional: Option<Value>,
) -> OpResult<ApiRow> {
    actor.require_any(permissions::CREATE)?;
    let bytes = source.bytes().await?;
    let document = openapi::read(&bytes)?;
    let summary = document.summary()?;
    let mut object = match additional {
        Some(Value::Object(object)) => object,
        Some(Value::Null) | None => serde_json::Map::new(),
        Some(_) => {
            return Err(OpError::invalid(
                "additionalProperties",
                "must be a JSON API object",
            ))
        }
    };
    object
        .entry("name")
        .or_insert_with(|| json!(api_name(&summary.title)));
    object
        .entry("version")
        .or_insert_with(|| json!(summary.version));
    if let Some(description) = &summary.description {
        object
            .entry("description")
            .or_insert_with(|| json!(description));
    }
    let context = summary.context.clone().unwrap_or_else(|| {
        let name = object.get("name").and_then(Value::as_str).unwrap_or("api");
        format!("/{}", name.to_lowercase().replace(' ', "-"))
    });
    object.entry("context").or_insert_with(|| json!(context));
    object.remove("operations");
    let mut definition = ApiDefinition::from_json(Value::Object(object))
        .map_err(|e| prefix_fields(e, "additionalProperties"))?;
    definition.operations = summary.resources.clone();
    definition.scopes = api_scopes(services, actor, &definition.scopes, summary.scopes).await?;
    if definition.endpoint_config.is_none() {
        definition.endpoint_config = summary.endpoints.first().map(|url| EndpointConfig {
            production_endpoints: Some(EndpointList::One(endpoint(url))),
            sandbox_endpoints: Some(EndpointList::One(endpoint(url))),
            ..EndpointConfig::of_type(tollgate_model::EndpointType::Http)
        });
    }
    super::apis::create_api_with_document(services, actor, definition, Some(&document.value), None)
        .await
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint {
        url: url.to_string(),
        config: None,
        other: serde_json::Map::new(),
    }
}

/// A definition's title as an API name: the characters WSO2 refuses in names become spaces.
fn api_name(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| {
            if "~!@#;:%^*()+={}|\\<>\"',&$[]/".contains(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let name = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    name.chars().take(60).collect()
}

fn prefix_fields(err: OpError, prefix: &str) -> OpError {
    match err {
        OpError::Invalid(mut errors) => {
            for e in &mut errors {
                e.field = format!("{prefix}.{}", e.field);
            }
            OpError::Invalid(errors)
        }
        other => other,
    }
}

/// The API's definition, showing its current resources (and its name and version).
pub async fn get_definition(services: &Services, actor: &Actor, api_id: &str) -> OpResult<Value> {
    actor.require_any(permissions::VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    let stored = services.store.api_openapi(&api.id).await?;
    render(&api, stored)
}

pub(crate) fn render(api: &ApiRow, stored: Option<Value>) -> OpResult<Value> {
    let definition = ApiDefinition::from_json(api.definition.clone())?;
    if definition.api_type == tollgate_model::ApiType::Ws {
        return Ok(async_api(api, &definition));
    }
    let document = match stored {
        Some(value) => openapi::stored(value)?,
        None => openapi::generate(
            &api.name,
            &api.version,
            Some(api.description.as_str()),
            &definition.operations,
        ),
    };
    let mut value = document.with_resources(&definition.operations);
    if let Some(info) = value.get_mut("info").and_then(Value::as_object_mut) {
        info.insert("title".into(), json!(api.name));
        info.insert("version".into(), json!(api.version));
    }
    Ok(value)
}

/// A WebSocket API's AsyncAPI 2.0 document, as WSO2 generates one: a channel per topic with
/// its verbs, the endpoints as servers.
fn async_api(api: &ApiRow, definition: &ApiDefinition) -> Value {
    let mut channels = serde_json::Map::new();
    for topic in &definition.operations {
        let channel = channels
            .entry(topic.target.clone())
            .or_insert_with(|| json!({}));
        channel[topic.verb.as_str().to_ascii_lowercase()] = json!({
            "x-auth-type": topic.auth_type.as_str(),
            "x-throttling-tier": topic.tier(),
            "x-scopes": topic.scopes,
            "message": {"payload": {"type": "string"}},
        });
    }
    let mut servers = serde_json::Map::new();
    for (name, endpoints) in [
        ("production", definition.runtime_endpoints().production_list),
        ("sandbox", definition.runtime_endpoints().sandbox_list),
    ] {
        if let Some(endpoint) = endpoints.first() {
            servers.insert(
                name.into(),
                json!({"url": endpoint.url, "protocol": if endpoint.url.starts_with("wss") { "wss" } else { "ws" }}),
            );
        }
    }
    json!({
        "asyncapi": "2.0.0",
        "info": {"title": api.name, "version": api.version,
                 "description": api.description},
        "servers": servers,
        "channels": channels,
    })
}

/// Replaces the API's definition: its resources become the definition's operations (a
/// resource the definition does not give a tier or scopes keeps the ones it had).
pub async fn update_definition(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    source: &DefinitionSource,
    expected_version: Option<i64>,
) -> OpResult<Value> {
    actor.require_any(permissions::UPDATE)?;
    let current = services.store.api(&actor.tenant, api_id).await?;
    super::apis::check_expected_version(&current, expected_version)?;
    if current.api_type == tollgate_model::ApiType::Ws.as_str() {
        return Err(OpError::NotAllowed(
            "A WebSocket API's definition is generated from its topics (AsyncAPI); replacing it is not supported yet".into(),
        ));
    }
    let bytes = source.bytes().await?;
    let document = openapi::read(&bytes)?;
    let summary = document.summary()?;
    let mut definition = ApiDefinition::from_json(current.definition.clone())?;
    definition.operations = merge_resources(&definition.operations, summary.resources);
    definition.scopes = api_scopes(services, actor, &definition.scopes, summary.scopes).await?;
    let row = super::apis::update_api_with_document(
        services,
        actor,
        api_id,
        definition,
        current.row_version,
        &document.value,
    )
    .await?;
    render(&row, Some(document.value))
}

/// The API's scopes after taking in a definition's: those it had, then the definition's new
/// ones — as references when a shared scope has the name, else as the API's own.
async fn api_scopes(
    services: &Services,
    actor: &Actor,
    current: &[ApiScope],
    declared: Vec<ScopeDefinition>,
) -> OpResult<Vec<ApiScope>> {
    let names: Vec<&str> = declared.iter().map(|s| s.name.as_str()).collect();
    let shared: std::collections::HashSet<String> = services
        .store
        .scopes_named(&actor.tenant, &names)
        .await?
        .into_iter()
        .filter(|s| s.api_id.is_none())
        .map(|s| s.name)
        .collect();
    let mut scopes = current.to_vec();
    for scope in declared {
        if scopes.iter().any(|s| s.scope.name == scope.name) {
            continue;
        }
        scopes.push(ApiScope {
            shared: shared.contains(&scope.name),
            scope,
        });
    }
    Ok(scopes)
}

/// The definition's resources, keeping what the API said of the same resource where the
/// definition says nothing (tier, extra fields).
fn merge_resources(current: &[Resource], from_definition: Vec<Resource>) -> Vec<Resource> {
    from_definition
        .into_iter()
        .map(|mut resource| {
            if let Some(old) = current
                .iter()
                .find(|o| o.verb == resource.verb && o.target == resource.target)
            {
                if resource.throttling_policy.is_none() {
                    resource.throttling_policy = old.throttling_policy.clone();
                }
                resource.other = old.other.clone();
            }
            resource
        })
        .collect()
}
