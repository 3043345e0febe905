//! Shared scopes: OAuth2 scopes any API may require, each bound to roles.

use tollgate_store::{ScopeRow, ScopeUse};

use super::definition::ScopeDefinition;
use crate::{Actor, Listed, OpError, OpResult, Page, Problems, Services};

const MANAGE: &[&str] = &["apim:shared_scope_manage", "apim:api_manage"];
const VIEW: &[&str] = &[
    "apim:shared_scope_manage",
    "apim:api_view",
    "apim:api_create",
    "apim:api_manage",
];

fn checked(mut input: ScopeDefinition) -> OpResult<ScopeDefinition> {
    let mut problems = Problems::default();
    input.check(&mut problems, "");
    problems.into_result(input)
}

/// A shared scope and how many API resources require it.
#[derive(Debug, Clone)]
pub struct SharedScope {
    pub scope: ScopeRow,
    pub usage_count: i64,
}

pub async fn list_shared_scopes(
    services: &Services,
    actor: &Actor,
    page: Page,
) -> OpResult<Listed<SharedScope>> {
    actor.require_any(VIEW)?;
    let (scopes, total) = services
        .store
        .shared_scopes(&actor.tenant, page.limit, page.offset)
        .await?;
    // Every scope's usage in one query, not one per scope.
    let names: Vec<&str> = scopes.iter().map(|s| s.name.as_str()).collect();
    let counts = services
        .store
        .scope_use_counts(&actor.tenant, &names)
        .await?;
    let items = scopes
        .into_iter()
        .map(|scope| SharedScope {
            usage_count: counts.get(&scope.name).copied().unwrap_or(0),
            scope,
        })
        .collect();
    Ok(Listed { items, page, total })
}

pub async fn get_shared_scope(
    services: &Services,
    actor: &Actor,
    scope_id: &str,
) -> OpResult<SharedScope> {
    actor.require_any(VIEW)?;
    let scope = services.store.shared_scope(&actor.tenant, scope_id).await?;
    let usage_count = services
        .store
        .scope_uses(&actor.tenant, &scope.name)
        .await?
        .len() as i64;
    Ok(SharedScope { scope, usage_count })
}

pub async fn create_shared_scope(
    services: &Services,
    actor: &Actor,
    input: ScopeDefinition,
) -> OpResult<ScopeRow> {
    actor.require_any(MANAGE)?;
    let input = checked(input)?;
    let scope = ScopeRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: actor.tenant.clone(),
        display_name: input.display_name.unwrap_or_else(|| input.name.clone()),
        name: input.name,
        description: input.description.unwrap_or_default(),
        bindings: input.bindings,
        api_id: None,
    };
    let mut tx = services.store.begin().await?;
    tx.insert_scope(&scope).await?;
    tx.commit().await?;
    Ok(scope)
}

/// Changes a shared scope's display name, description and roles (its name identifies it).
pub async fn update_shared_scope(
    services: &Services,
    actor: &Actor,
    scope_id: &str,
    input: ScopeDefinition,
) -> OpResult<ScopeRow> {
    actor.require_any(MANAGE)?;
    let input = checked(input)?;
    let mut tx = services.store.begin().await?;
    let mut scope = tx.scope(&actor.tenant, scope_id).await?;
    if input.name != scope.name {
        return Err(OpError::invalid(
            "name",
            format!("cannot be changed ('{}' → '{}')", scope.name, input.name),
        ));
    }
    scope.display_name = input.display_name.unwrap_or_else(|| scope.name.clone());
    scope.description = input.description.unwrap_or_default();
    scope.bindings = input.bindings;
    tx.update_scope(&scope).await?;
    tx.commit().await?;
    Ok(scope)
}

/// Deletes a shared scope no API resource requires.
pub async fn delete_shared_scope(
    services: &Services,
    actor: &Actor,
    scope_id: &str,
) -> OpResult<()> {
    actor.require_any(MANAGE)?;
    let mut tx = services.store.begin().await?;
    let scope = tx.scope(&actor.tenant, scope_id).await?;
    let uses = tx.scope_use_count(&actor.tenant, &scope.name).await?;
    if uses > 0 {
        return Err(OpError::Conflict(format!(
            "Shared scope '{}' is required by {uses} API resource(s); remove it from them first",
            scope.name
        )));
    }
    tx.delete_scope(&scope.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Which APIs' resources require a shared scope.
pub async fn shared_scope_usage(
    services: &Services,
    actor: &Actor,
    scope_id: &str,
) -> OpResult<(ScopeRow, Vec<ScopeUse>)> {
    actor.require_any(VIEW)?;
    let scope = services.store.shared_scope(&actor.tenant, scope_id).await?;
    let uses = services
        .store
        .scope_uses(&actor.tenant, &scope.name)
        .await?;
    Ok((scope, uses))
}

/// Whether a scope (shared or local to an API) has the name.
pub async fn scope_exists(services: &Services, actor: &Actor, name: &str) -> OpResult<bool> {
    actor.require_any(VIEW)?;
    Ok(services
        .store
        .scope_name_exists(&actor.tenant, name)
        .await?)
}
