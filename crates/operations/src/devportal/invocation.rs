//! What a consumer needs to call an API they subscribed to: the gateway URLs, the tier, their
//! application's keys, and ready-made `curl` commands — a token request per key set, then each
//! of the API's operations with the token (or with an API key, where the API takes them).
//!
//! The consumer secret is stored hashed, so commands name it `${CONSUMER_SECRET}`; the token
//! and API key are `${ACCESS_TOKEN}` and `${API_KEY}`, a path parameter `{orderId}` is
//! `${orderId}`: set them in the shell and the commands run as they are.

use tollgate_model::KeyType;
use tollgate_store::KeyMappingRow;

use super::discovery::{endpoint_urls, EndpointUrls};
use super::subscriptions::SubscriptionView;
use crate::publisher::definition::ApiDefinition;
use crate::{Actor, OpError, OpResult, Services};

/// One ready-made command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// What it does: `token`, or the operation (`GET /menu`).
    pub name: String,
    /// The key set it is for (`None`: any, e.g. an API-key call).
    pub key_type: Option<KeyType>,
    pub curl: String,
}

pub struct Invocation {
    pub subscription: SubscriptionView,
    pub urls: Vec<EndpointUrls>,
    pub keys: Vec<KeyMappingRow>,
    pub commands: Vec<Command>,
}

/// A shell word in single quotes (no expansion inside).
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A path template with each `{param}` as `${param}` (when it is a shell name), for a
/// double-quoted URL.
fn shell_path(target: &str) -> String {
    let mut out = String::with_capacity(target.len() + 8);
    for segment in target.split('/') {
        if !out.is_empty() || target.starts_with('/') {
            out.push('/');
        }
        match segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .filter(|name| {
                !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
            }) {
            Some(name) => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
            // Escape what a double-quoted shell word would expand.
            None => out.push_str(
                &segment
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('$', "\\$")
                    .replace('`', "\\`"),
            ),
        }
    }
    out.replacen("//", "/", 1)
}

pub async fn invocation(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
) -> OpResult<Invocation> {
    let subscription = super::subscriptions::get(services, actor, subscription_id).await?;
    let Some(api) = subscription.api.clone() else {
        return Err(OpError::NotFound(format!(
            "API {}",
            subscription.subscription.api_id
        )));
    };
    let urls = endpoint_urls(services, &api).await?;
    let keys = services
        .store
        .key_mappings_of(&subscription.application.id)
        .await?;
    let definition = ApiDefinition::from_json(api.definition.clone())?;
    let authentication = definition.runtime_authentication();

    let mut commands = Vec::new();
    if authentication.oauth2 {
        for key in &keys {
            let token_url = if key.key_manager == tollgate_model::RESIDENT_KEY_MANAGER {
                format!("{}/oauth2/token", services.key_manager.base_url())
            } else {
                services
                    .store
                    .key_manager_by_name(&actor.tenant, &key.key_manager)
                    .await?
                    .and_then(|km| {
                        km.settings
                            .get("tokenEndpoint")
                            .and_then(|v| v.as_str())
                            .map(str::to_string)
                    })
                    .unwrap_or_default()
            };
            if token_url.is_empty() {
                continue;
            }
            commands.push(Command {
                name: "token".into(),
                key_type: Some(key.key_type),
                curl: format!(
                    "curl -k -X POST {} -u \"{}:${{CONSUMER_SECRET}}\" -d 'grant_type=client_credentials'",
                    quoted(&token_url),
                    key.consumer_key.replace('"', "")
                ),
            });
        }
    }
    // The HTTPS URL of the first environment (HTTP when it has none).
    let base = urls
        .iter()
        .find_map(|u| u.https.clone())
        .or_else(|| urls.iter().find_map(|u| u.http.clone()));
    if let Some(base) = base {
        let mut credentials = Vec::new();
        if authentication.oauth2 {
            let header = authentication
                .authorization_header
                .as_deref()
                .unwrap_or("Authorization");
            credentials.push(format!("-H \"{header}: Bearer ${{ACCESS_TOKEN}}\""));
        }
        if authentication.api_key {
            credentials.push(format!(
                "-H \"{}: ${{API_KEY}}\"",
                authentication.api_key_header
            ));
        }
        for operation in &definition.operations {
            let verb = operation.verb.as_str();
            let unsecured = operation.auth_type == tollgate_model::AuthType::None;
            let url = format!(
                "{}{}",
                base.trim_end_matches('/'),
                shell_path(&operation.target)
            );
            let body = if matches!(verb, "POST" | "PUT" | "PATCH") {
                " -H 'Content-Type: application/json' -d @body.json"
            } else {
                ""
            };
            let with = |credential: Option<&String>| Command {
                name: format!("{verb} {}", operation.target),
                key_type: None,
                curl: format!(
                    "curl -k -X {verb} \"{url}\"{}{body}",
                    credential.map(|c| format!(" {c}")).unwrap_or_default()
                ),
            };
            if unsecured || credentials.is_empty() {
                commands.push(with(None));
            } else {
                for credential in &credentials {
                    commands.push(with(Some(credential)));
                }
            }
        }
    }
    Ok(Invocation {
        subscription,
        urls,
        keys,
        commands,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_shell_words() {
        assert_eq!(shell_path("/order/{orderId}"), "/order/${orderId}");
        assert_eq!(shell_path("/menu"), "/menu");
        assert_eq!(shell_path("/a/{1x}/$b"), "/a/{1x}/\\$b");
        assert_eq!(quoted("it's"), "'it'\\''s'");
    }
}
