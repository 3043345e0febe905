//! APIs: create, read, list, update, delete, copy to a new version.

use tollgate_model::{ApiSortBy, LifecycleState, PolicyLevel, SortOrder};
use tollgate_store::{ApiFilter, ApiRow, ApiSearch, Change, ScopeRow, TextMatch};

use super::definition::{ApiDefinition, ScopeDefinition};
use super::permissions;
use crate::{Actor, Listed, OpError, OpResult, Page, Problems, Services};

/// How to list APIs: WSO2's `query`, `sortBy` and `sortOrder`.
#[derive(Debug, Clone)]
pub struct ApiListing {
    pub query: Option<String>,
    pub sort_by: ApiSortBy,
    pub order: SortOrder,
}

impl Default for ApiListing {
    fn default() -> Self {
        ApiListing {
            query: None,
            sort_by: ApiSortBy::CreatedTime,
            order: SortOrder::Desc,
        }
    }
}

pub async fn list_apis(
    services: &Services,
    actor: &Actor,
    listing: &ApiListing,
    page: Page,
) -> OpResult<Listed<ApiRow>> {
    actor.require_any(permissions::VIEW)?;
    let search = ApiSearch {
        filters: super::query::parse(listing.query.as_deref().unwrap_or(""))?,
        states: None,
        sort_by: listing.sort_by,
        order: listing.order,
    };
    let (items, total) = services
        .store
        .search_apis(&actor.tenant, &search, page.limit, page.offset)
        .await?;
    Ok(Listed { items, page, total })
}

pub async fn get_api(services: &Services, actor: &Actor, api_id: &str) -> OpResult<ApiRow> {
    actor.require_any(permissions::VIEW)?;
    Ok(services.store.api(&actor.tenant, api_id).await?)
}

/// Whether an API matching WSO2's validation query exists (`name:X`, `context:/x`, `version:`;
/// plain text is a name). Values match exactly, ignoring case.
pub async fn api_exists(services: &Services, actor: &Actor, query: &str) -> OpResult<bool> {
    actor.require_any(&["apim:api_create", "apim:api_manage", "apim:api_view"])?;
    if query.trim().is_empty() {
        return Err(OpError::invalid("query", "is required"));
    }
    let filters = super::query::parse(query)?
        .into_iter()
        .map(|filter| match filter {
            ApiFilter::Name(TextMatch::Contains(t)) => ApiFilter::Name(TextMatch::Exactly(t)),
            ApiFilter::Context(TextMatch::Contains(t)) => {
                let t = t.trim_end_matches('/');
                let context = if t.starts_with('/') {
                    t.to_string()
                } else {
                    format!("/{t}")
                };
                ApiFilter::Context(TextMatch::Exactly(context))
            }
            ApiFilter::Version(TextMatch::Contains(t)) => ApiFilter::Version(TextMatch::Exactly(t)),
            other => other,
        })
        .collect();
    let search = ApiSearch {
        filters,
        ..ApiSearch::default()
    };
    let (_, total) = services
        .store
        .search_apis(&actor.tenant, &search, 0, 0)
        .await?;
    Ok(total > 0)
}

pub async fn create_api(
    services: &Services,
    actor: &Actor,
    definition: ApiDefinition,
) -> OpResult<ApiRow> {
    create_api_with_document(services, actor, definition, None, None).await
}

/// Creates an API together with its definition document (an import).
pub(crate) async fn create_api_with_document(
    services: &Services,
    actor: &Actor,
    definition: ApiDefinition,
    document: Option<&serde_json::Value>,
    documents_from: Option<&str>,
) -> OpResult<ApiRow> {
    let (row, scopes) = prepare_api(services, actor, definition).await?;
    let mut tx = services.store.begin().await?;
    insert_api_in(&mut tx, actor, &row, &scopes, document, documents_from).await?;
    tx.commit().await?;
    tracing::info!(api = %row.id, name = %row.name, version = %row.version, "API created");
    Ok(row)
}

/// A new API's row and scopes, checked (permission, definition, tiers, scopes).
pub(crate) async fn prepare_api(
    services: &Services,
    actor: &Actor,
    definition: ApiDefinition,
) -> OpResult<(ApiRow, ApiScopes)> {
    actor.require_any(permissions::CREATE)?;
    let definition = definition.normalise()?;
    check_policies(services, actor, &definition).await?;
    let scopes = check_scopes(services, actor, &definition).await?;
    let now = tollgate_model::now_millis();
    let row = ApiRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: actor.tenant.clone(),
        name: definition.name.clone(),
        context: definition.context.clone(),
        version: definition.version.clone(),
        provider: actor.username.clone(),
        lifecycle_status: LifecycleState::Created,
        api_type: definition.api_type.as_str().to_string(),
        description: definition.description.clone().unwrap_or_default(),
        is_default_version: definition.is_default_version,
        tags: definition.tags.clone(),
        definition: definition.to_json(),
        created_time: now,
        updated_time: now,
        row_version: 1,
        has_thumbnail: false,
    };
    Ok((row, scopes))
}

/// Writes a prepared API in `tx`. Nothing reaches gateways until a revision is deployed, so
/// creation emits no event (but a default-version mark does).
pub(crate) async fn insert_api_in(
    tx: &mut tollgate_store::ApimTx,
    actor: &Actor,
    row: &ApiRow,
    scopes: &ApiScopes,
    document: Option<&serde_json::Value>,
    documents_from: Option<&str>,
) -> OpResult<()> {
    // As WSO2 (API_CONTEXT_ALREADY_EXISTS): the versions of one API share a context; no other
    // API may take it.
    if let Some(owner) = tx
        .context_taken_by(&row.tenant, &row.context, &row.name)
        .await?
    {
        return Err(OpError::Conflict(format!(
            "The context {} is taken by API {owner}; choose another",
            row.context
        )));
    }
    tx.insert_api(row).await?;
    if document.is_some() {
        tx.set_api_openapi(&row.id, document).await?;
    }
    if let Some(source) = documents_from {
        tx.copy_documents(source, &row.id).await?;
    }
    scopes.write(tx, row).await?;
    tx.record_lifecycle_event(row, None, &actor.username)
        .await?;
    if row.is_default_version {
        tx.apply(&Change::SetDefaultVersion(row.clone())).await?;
    }
    Ok(())
}

/// Replaces an API's definition (its working copy: gateways see it once a revision of it is
/// deployed). Name, context and version identify the API and cannot change, as in WSO2.
/// `expected_version` is the `row_version` the caller read (`If-Match`); a write by someone else
/// since then is refused, and so, in any case, is one that happened while this one ran.
pub async fn update_api(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    definition: ApiDefinition,
    expected_version: Option<i64>,
) -> OpResult<ApiRow> {
    write_api(services, actor, api_id, definition, expected_version, None).await
}

/// Replaces an API's definition and its definition document together (an upload of a new
/// OpenAPI document).
pub(crate) async fn update_api_with_document(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    definition: ApiDefinition,
    expected_version: i64,
    document: &serde_json::Value,
) -> OpResult<ApiRow> {
    write_api(
        services,
        actor,
        api_id,
        definition,
        Some(expected_version),
        Some(document),
    )
    .await
}

async fn write_api(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    definition: ApiDefinition,
    expected_version: Option<i64>,
    document: Option<&serde_json::Value>,
) -> OpResult<ApiRow> {
    actor.require_any(permissions::UPDATE)?;
    let definition = definition.normalise()?;
    check_policies(services, actor, &definition).await?;
    let scopes = check_scopes(services, actor, &definition).await?;
    let mut tx = services.store.begin().await?;
    let mut row = tx.api(&actor.tenant, api_id).await?;
    check_expected_version(&row, expected_version)?;
    let mut problems = Problems::default();
    for (field, old, new) in [
        ("name", &row.name, &definition.name),
        ("context", &row.context, &definition.context),
        ("version", &row.version, &definition.version),
    ] {
        if old != new {
            problems.add(
                field,
                format!("cannot be changed ('{old}' → '{new}'); create a new version instead"),
            );
        }
    }
    problems.into_result(())?;
    replace_working_copy_in(
        &mut tx,
        &mut row,
        WorkingCopy::of(&definition),
        &scopes,
        document.map(Some),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// What replacing an API's working copy sets on its row.
pub(crate) struct WorkingCopy {
    description: String,
    is_default_version: bool,
    tags: Vec<String>,
    definition: serde_json::Value,
}

impl WorkingCopy {
    /// The working copy a checked definition makes.
    pub(crate) fn of(definition: &ApiDefinition) -> WorkingCopy {
        WorkingCopy {
            description: definition.description.clone().unwrap_or_default(),
            is_default_version: definition.is_default_version,
            tags: definition.tags.clone(),
            definition: definition.to_json(),
        }
    }

    /// The working copy of a prepared row (an import's).
    pub(crate) fn of_row(row: &ApiRow) -> WorkingCopy {
        WorkingCopy {
            description: row.description.clone(),
            is_default_version: row.is_default_version,
            tags: row.tags.clone(),
            definition: row.definition.clone(),
        }
    }
}

/// Makes a checked definition the API's working copy in `tx` — an update, a restored revision
/// or an overwriting import alike: the row, its scopes (the API's own and those its resources
/// require), its definition document when `document` says (`Some(None)` clears it), and, when
/// the default-version mark changed, the event that tells gateways.
pub(crate) async fn replace_working_copy_in(
    tx: &mut tollgate_store::ApimTx,
    api: &mut ApiRow,
    copy: WorkingCopy,
    scopes: &ApiScopes,
    document: Option<Option<&serde_json::Value>>,
) -> OpResult<()> {
    let was_default = api.is_default_version;
    api.description = copy.description;
    api.is_default_version = copy.is_default_version;
    api.tags = copy.tags;
    api.definition = copy.definition;
    api.updated_time = tollgate_model::now_millis();
    tx.update_api(api).await?;
    scopes.write(tx, api).await?;
    if let Some(document) = document {
        tx.set_api_openapi(&api.id, document).await?;
    }
    if api.is_default_version != was_default {
        tx.apply(&Change::SetDefaultVersion(api.clone())).await?;
    }
    Ok(())
}

/// Deletes an API that has no subscriptions (WSO2 refuses otherwise); gateways forget it.
pub async fn delete_api(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    expected_version: Option<i64>,
) -> OpResult<()> {
    actor.require_any(permissions::DELETE)?;
    let mut tx = services.store.begin().await?;
    let row = tx.api(&actor.tenant, api_id).await?;
    check_expected_version(&row, expected_version)?;
    let subscriptions = tx.subscription_count(&row.id).await?;
    if subscriptions > 0 {
        return Err(OpError::Conflict(format!(
            "Cannot remove the API {}:{} as it has {subscriptions} subscription(s); remove them first",
            row.name, row.version
        )));
    }
    tx.apply(&Change::DeleteApi(row.clone())).await?;
    tx.commit().await?;
    tracing::info!(api = %row.id, name = %row.name, version = %row.version, "API deleted");
    Ok(())
}

/// A new version of an API: its definition (resources, policies, endpoints, settings) carried
/// over, in the Created state, with no revisions.
pub async fn copy_api(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    new_version: &str,
    default_version: bool,
) -> OpResult<ApiRow> {
    actor.require_any(permissions::CREATE)?;
    if new_version.trim().is_empty() {
        return Err(OpError::invalid("newVersion", "is required"));
    }
    let source = services.store.api(&actor.tenant, api_id).await?;
    let document = services.store.api_openapi(&source.id).await?;
    let copy_from = source.id.clone();
    let mut definition = ApiDefinition::from_json(source.definition.clone())?;
    definition.version = new_version.to_string();
    definition.is_default_version = default_version;
    create_api_with_document(
        services,
        actor,
        definition,
        document.as_ref(),
        Some(&copy_from),
    )
    .await
    .map_err(|err| match err {
        // The definition was valid; only the new version can be at fault.
        OpError::Invalid(mut errors) => {
            for e in &mut errors {
                if e.field == "version" {
                    e.field = "newVersion".into();
                }
            }
            OpError::Invalid(errors)
        }
        other => other,
    })
}

/// Refuses a write based on a copy of the API older than the stored one (`If-Match`).
pub(crate) fn check_expected_version(row: &ApiRow, expected: Option<i64>) -> OpResult<()> {
    match expected {
        Some(version) if version != row.row_version => Err(OpError::Stale(format!(
            "API {} has changed since it was read (If-Match does not match); read it again",
            row.id
        ))),
        _ => Ok(()),
    }
}

/// The scopes an API definition declares and uses, checked.
pub(crate) struct ApiScopes {
    local: Vec<ScopeDefinition>,
    /// (verb, target, scope) of every resource that requires a scope.
    uses: Vec<(String, String, String)>,
}

impl ApiScopes {
    /// Writes the API's local scopes and which resources require which scope.
    pub(crate) async fn write(
        &self,
        tx: &mut tollgate_store::ApimTx,
        api: &ApiRow,
    ) -> OpResult<()> {
        let local: Vec<ScopeRow> = self
            .local
            .iter()
            .map(|s| ScopeRow {
                id: uuid::Uuid::new_v4().to_string(),
                tenant: api.tenant.clone(),
                name: s.name.clone(),
                display_name: s.display_name.clone().unwrap_or_else(|| s.name.clone()),
                description: s.description.clone().unwrap_or_default(),
                bindings: s.bindings.clone(),
                api_id: Some(api.id.clone()),
            })
            .collect();
        tx.replace_local_scopes(api, &local).await?;
        tx.replace_resource_scopes(&api.tenant, &api.id, &self.uses)
            .await?;
        Ok(())
    }
}

/// Every scope a resource requires is one the API declares, or a shared scope; the shared
/// scopes the API lists exist; local scopes do not take a shared scope's name.
pub(crate) async fn check_scopes(
    services: &Services,
    actor: &Actor,
    definition: &ApiDefinition,
) -> OpResult<ApiScopes> {
    let mut problems = Problems::default();
    let mentioned: Vec<&str> = definition
        .scopes
        .iter()
        .map(|s| s.scope.name.as_str())
        .chain(
            definition
                .operations
                .iter()
                .flat_map(|r| r.scopes.iter().map(String::as_str)),
        )
        .collect();
    let shared: std::collections::HashSet<String> = services
        .store
        .scopes_named(&actor.tenant, &mentioned)
        .await?
        .into_iter()
        .filter(|s| s.api_id.is_none())
        .map(|s| s.name)
        .collect();
    for (i, api_scope) in definition.scopes.iter().enumerate() {
        let name = &api_scope.scope.name;
        match (api_scope.shared, shared.contains(name)) {
            (true, false) => problems.add(
                format!("scopes[{i}].scope.name"),
                format!("there is no shared scope named '{name}'"),
            ),
            (false, true) => problems.add(
                format!("scopes[{i}].scope.name"),
                format!("'{name}' is a shared scope; list it with shared: true"),
            ),
            _ => {}
        }
    }
    let declared: std::collections::HashSet<&str> = definition
        .scopes
        .iter()
        .map(|s| s.scope.name.as_str())
        .collect();
    let mut uses = Vec::new();
    for (i, resource) in definition.operations.iter().enumerate() {
        for (j, scope) in resource.scopes.iter().enumerate() {
            if !declared.contains(scope.as_str()) && !shared.contains(scope) {
                problems.add(
                    format!("operations[{i}].scopes[{j}]"),
                    format!("'{scope}' is neither a scope of the API nor a shared scope"),
                );
            }
            uses.push((
                resource.verb.as_str().to_string(),
                resource.target.clone(),
                scope.clone(),
            ));
        }
    }
    problems.into_result(ApiScopes {
        local: definition
            .scopes
            .iter()
            .filter(|s| !s.shared)
            .map(|s| s.scope.clone())
            .collect(),
        uses,
    })
}

/// Every tier the definition names exists: subscription tiers, the API tier and resource tiers
/// (each name looked up once, however many resources use it).
pub(crate) async fn check_policies(
    services: &Services,
    actor: &Actor,
    definition: &ApiDefinition,
) -> OpResult<()> {
    let mut wanted: Vec<(String, PolicyLevel, &str)> = Vec::new();
    for (i, policy) in definition.policies.iter().enumerate() {
        wanted.push((format!("policies[{i}]"), PolicyLevel::Subscription, policy));
    }
    if let Some(policy) = &definition.api_throttling_policy {
        wanted.push(("apiThrottlingPolicy".into(), PolicyLevel::Api, policy));
    }
    for (i, resource) in definition.operations.iter().enumerate() {
        if let Some(policy) = &resource.throttling_policy {
            wanted.push((
                format!("operations[{i}].throttlingPolicy"),
                PolicyLevel::Api,
                policy,
            ));
        }
    }
    let mut known: std::collections::HashMap<(PolicyLevel, &str), bool> = Default::default();
    let mut problems = Problems::default();
    for (field, level, name) in wanted {
        let exists = match known.get(&(level, name)) {
            Some(exists) => *exists,
            None => {
                let exists = services
                    .store
                    .policy(&actor.tenant, level, name)
                    .await?
                    .is_some();
                known.insert((level, name), exists);
                exists
            }
        };
        if !exists {
            let kind = match level {
                PolicyLevel::Subscription => "subscription",
                _ => "API",
            };
            problems.add(
                field,
                format!("{kind} throttling policy '{name}' does not exist"),
            );
        }
    }
    problems.into_result(())
}
