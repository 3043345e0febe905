use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::{lifecycle, DeployedApi, Event, PolicyLevel};
use tollgate_restcore::{
    from_value, list_body, ApiError, Ctx, JsonBody, Paging, Principal, QueryParams,
};
use tollgate_store::{ApiRow, DeploymentRow, RevisionRow};

use crate::definition::{api_info_json, api_json, runtime_of, validate};

const VIEW: &[&str] = &[
    "apim:api_view",
    "apim:api_manage",
    "apim:api_import_export",
    "apim:api_list_view",
];
const CREATE: &[&str] = &["apim:api_create", "apim:api_manage"];
const REVISE: &[&str] = &[
    "apim:api_create",
    "apim:api_manage",
    "apim:api_publish",
    "apim:api_import_export",
];
const DEPLOY: &[&str] = &["apim:api_create", "apim:api_manage", "apim:api_publish"];
const PUBLISH: &[&str] = &[
    "apim:api_publish",
    "apim:api_manage",
    "apim:api_import_export",
];

/// The Publisher API's routes, relative to `/api/am/publisher/v4`.
pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/apis", get(list_apis).post(create_api))
        .route("/apis/change-lifecycle", post(change_lifecycle))
        .route("/apis/{api_id}", get(get_api).put(update_api))
        .route(
            "/apis/{api_id}/revisions",
            get(list_revisions).post(create_revision),
        )
        .route("/apis/{api_id}/deploy-revision", post(deploy_revision))
        .route("/apis/{api_id}/undeploy-revision", post(undeploy_revision))
        .route("/apis/{api_id}/deployments", get(list_deployments))
        .route(
            "/subscriptions/block-subscription",
            post(crate::subscriptions::block),
        )
        .route(
            "/subscriptions/unblock-subscription",
            post(crate::subscriptions::unblock),
        )
        .with_state(ctx)
}

/// `limit`, `offset` and `query`. (Not `Paging` flattened in: serde's `flatten` hands the
/// numbers over as text, which then fail to parse as integers.)
#[derive(Deserialize)]
struct ListQuery {
    #[serde(default = "Paging::default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    query: Option<String>,
}

async fn list_apis(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(VIEW)?;
    let paging = Paging {
        limit: q.limit,
        offset: q.offset,
    }
    .validate()?;
    let (apis, _) = ctx.store.apis(&principal.tenant, None, i64::MAX, 0).await?;
    let filtered: Vec<&ApiRow> = apis
        .iter()
        .filter(|a| matches_query(a, q.query.as_deref()))
        .collect();
    let total = filtered.len() as i64;
    let list: Vec<Value> = filtered
        .into_iter()
        .skip(paging.offset as usize)
        .take(paging.limit as usize)
        .map(api_info_json)
        .collect();
    Ok(list_body(list, Some((paging, total))))
}

/// WSO2's search syntax, in its simplest forms: `text` (in the name), or `name:`, `context:`,
/// `version:`, `status:` followed by text.
fn matches_query(api: &ApiRow, query: Option<&str>) -> bool {
    let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
        return true;
    };
    let (field, text) = query.split_once(':').unwrap_or(("name", query));
    let text = text.to_lowercase();
    let haystack = match field {
        "context" => &api.context,
        "version" => &api.version,
        "status" => &api.lifecycle_status,
        _ => &api.name,
    };
    haystack.to_lowercase().contains(&text)
}

async fn create_api(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    principal.require_any(CREATE)?;
    let api = validate(body)?;
    check_policies(&ctx, &principal, &api).await?;
    let now = tollgate_model::now_millis();
    let row = ApiRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: principal.tenant.clone(),
        name: api.name,
        context: api.context,
        version: api.version,
        provider: principal.username.clone(),
        lifecycle_status: lifecycle::CREATED.into(),
        api_type: api.api_type,
        definition: api.definition,
        created_time: now,
        updated_time: now,
    };
    // Nothing reaches gateways until a revision is deployed, so creation emits no event.
    let mut tx = ctx.store.begin().await?;
    tx.insert_api(&row).await?;
    tx.commit().await?;
    tracing::info!(api = %row.id, name = %row.name, version = %row.version, "API created");
    let location = format!("/api/am/publisher/v4/apis/{}", row.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(api_json(&row)),
    )
        .into_response())
}

async fn get_api(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(&[
        "apim:api_view",
        "apim:api_manage",
        "apim:api_import_export",
        "apim:api_product_import_export",
    ])?;
    Ok(Json(api_json(
        &ctx.store.api(&principal.tenant, &api_id).await?,
    )))
}

/// Replaces an API's definition (the working copy; gateways see it once a revision of it is
/// deployed). Name, context and version identify the API and cannot change, as in WSO2.
async fn update_api(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(&["apim:api_create", "apim:api_manage", "apim:api_publish"])?;
    let api = validate(body)?;
    check_policies(&ctx, &principal, &api).await?;
    let mut tx = ctx.store.begin().await?;
    let mut row = tx.api(&principal.tenant, &api_id).await?;
    for (field, old, new) in [
        ("name", &row.name, &api.name),
        ("context", &row.context, &api.context),
        ("version", &row.version, &api.version),
    ] {
        if old != new {
            return Err(ApiError::bad_request(format!(
                "Field '{field}' cannot be changed ('{old}' → '{new}'); create a new version instead"
            )));
        }
    }
    row.definition = api.definition;
    row.updated_time = tollgate_model::now_millis();
    tx.update_api_definition(&row).await?;
    tx.commit().await?;
    Ok(Json(api_json(&row)))
}

async fn check_policies(
    ctx: &Ctx,
    principal: &Principal,
    api: &crate::definition::ValidatedApi,
) -> Result<(), ApiError> {
    for policy in &api.subscription_policies {
        if ctx
            .store
            .policy(&principal.tenant, PolicyLevel::Subscription, policy)
            .await?
            .is_none()
        {
            return Err(ApiError::bad_request(format!(
                "Field 'policies': subscription throttling policy '{policy}' does not exist"
            )));
        }
    }
    if let Some(policy) = &api.api_throttling_policy {
        if ctx
            .store
            .policy(&principal.tenant, PolicyLevel::Api, policy)
            .await?
            .is_none()
        {
            return Err(ApiError::bad_request(format!(
                "Field 'apiThrottlingPolicy': API throttling policy '{policy}' does not exist"
            )));
        }
    }
    Ok(())
}

fn revision_json(revision: &RevisionRow, deployments: &[DeploymentRow]) -> Value {
    json!({
        "displayName": format!("Revision {}", revision.number),
        "id": revision.id,
        "description": revision.description,
        "createdTime": revision.created_time.to_string(),
        "apiInfo": {"id": revision.api_id},
        "deploymentInfo": deployments
            .iter()
            .filter(|d| d.revision_id == revision.id)
            .map(deployment_json)
            .collect::<Vec<_>>(),
    })
}

fn deployment_json(d: &DeploymentRow) -> Value {
    json!({
        "revisionUuid": d.revision_id,
        "name": d.environment,
        "vhost": d.vhost,
        "displayOnDevportal": d.display_on_devportal,
        "deployedTime": d.deployed_time.to_string(),
        "successDeployedTime": d.deployed_time.to_string(),
    })
}

async fn list_revisions(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(&[
        "apim:api_view",
        "apim:api_create",
        "apim:api_manage",
        "apim:api_publish",
        "apim:api_import_export",
    ])?;
    ctx.store.api(&principal.tenant, &api_id).await?;
    let revisions = ctx.store.revisions(&api_id).await?;
    let deployments = ctx.store.deployments(&api_id).await?;
    let list: Vec<Value> = revisions
        .iter()
        .map(|r| revision_json(r, &deployments))
        .collect();
    Ok(list_body(list, None))
}

#[derive(Deserialize, Default)]
struct RevisionInput {
    #[serde(default)]
    description: Option<String>,
}

async fn create_revision(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    principal.require_any(REVISE)?;
    let input: RevisionInput = if body.iter().all(u8::is_ascii_whitespace) {
        RevisionInput::default()
    } else {
        tollgate_restcore::parse_json(&body)?
    };
    let mut tx = ctx.store.begin().await?;
    let api = tx.api(&principal.tenant, &api_id).await?;
    let revision_id = uuid::Uuid::new_v4().to_string();
    let runtime = runtime_of(&api, &revision_id)?;
    let runtime = serde_json::to_value(&runtime).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise runtime API");
        ApiError::internal()
    })?;
    let revision = tx
        .insert_revision(
            &principal.tenant,
            &revision_id,
            &api.id,
            input.description.as_deref().unwrap_or(""),
            &api.definition,
            &runtime,
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(revision_json(&revision, &[]))).into_response())
}

#[derive(Deserialize)]
struct DeployQuery {
    #[serde(rename = "revisionId")]
    revision_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentInput {
    name: String,
    #[serde(default)]
    vhost: Option<String>,
    #[serde(default)]
    display_on_devportal: Option<bool>,
}

async fn deploy_revision(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    QueryParams(q): QueryParams<DeployQuery>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(DEPLOY)?;
    let revision_id = q
        .revision_id
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::bad_request("Query parameter 'revisionId' is required"))?;
    let targets: Vec<DeploymentInput> = from_value(&body)?;
    if targets.is_empty() {
        return Err(ApiError::bad_request(
            "The body must list at least one environment to deploy to",
        ));
    }
    let mut tx = ctx.store.begin().await?;
    let api = tx.api(&principal.tenant, &api_id).await?;
    let revision = tx.revision(&api.id, &revision_id).await?;
    let mut runtime: tollgate_model::RuntimeApi = serde_json::from_value(revision.runtime.clone())
        .map_err(|e| {
            tracing::error!(error = %e, revision = %revision.id, "stored runtime API unreadable");
            ApiError::internal()
        })?;
    runtime.revision_id = revision.id.clone();
    runtime.lifecycle_status = api.lifecycle_status.clone();
    let now = tollgate_model::now_millis();
    let mut deployed = Vec::with_capacity(targets.len());
    for (i, target) in targets.iter().enumerate() {
        let environment = ctx
            .environments
            .iter()
            .find(|e| e.name == target.name)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Field '[{i}].name': gateway environment '{}' does not exist; known: {}",
                    target.name,
                    ctx.environments
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let vhost = match target.vhost.as_deref().filter(|v| !v.is_empty()) {
            Some(v) if environment.vhosts.iter().any(|h| h == v) => v.to_string(),
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "Field '[{i}].vhost': '{v}' is not a virtual host of environment '{}'",
                    environment.name
                )))
            }
            None => environment
                .vhosts
                .first()
                .cloned()
                .unwrap_or_else(|| "localhost".into()),
        };
        let deployment = DeploymentRow {
            api_id: api.id.clone(),
            environment: environment.name.clone(),
            revision_id: revision.id.clone(),
            vhost,
            display_on_devportal: target.display_on_devportal.unwrap_or(true),
            deployed_time: now,
        };
        tx.upsert_deployment(&principal.tenant, &deployment).await?;
        tx.emit(
            &principal.tenant,
            &Event::ApiDeploy(DeployedApi {
                environment: environment.name.clone(),
                api: runtime.clone(),
            }),
        )
        .await?;
        deployed.push(deployment_json(&deployment));
    }
    tx.commit().await?;
    tracing::info!(api = %api.id, revision = %revision.id, "revision deployed");
    Ok(Json(Value::Array(deployed)))
}

#[derive(Deserialize)]
struct UndeployQuery {
    #[serde(rename = "revisionId")]
    revision_id: Option<String>,
    #[serde(rename = "allEnvironments", default)]
    all_environments: bool,
}

#[derive(Deserialize)]
struct UndeployTarget {
    name: String,
}

/// Takes a revision off gateway environments: gateways stop serving the API there.
async fn undeploy_revision(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    QueryParams(q): QueryParams<UndeployQuery>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    principal.require_any(&[
        "apim:api_create",
        "apim:api_manage",
        "apim:api_publish",
        "apim:api_import_export",
    ])?;
    let revision_id = q
        .revision_id
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::bad_request("Query parameter 'revisionId' is required"))?;
    let mut tx = ctx.store.begin().await?;
    let api = tx.api(&principal.tenant, &api_id).await?;
    let revision = tx.revision(&api.id, &revision_id).await?;
    let environments: Vec<String> = if q.all_environments {
        ctx.environments.iter().map(|e| e.name.clone()).collect()
    } else {
        let targets: Vec<UndeployTarget> =
            tollgate_restcore::from_value(&tollgate_restcore::parse_json(&body)?)?;
        if targets.is_empty() {
            return Err(ApiError::bad_request(
                "The body must list at least one environment, or set allEnvironments=true",
            ));
        }
        targets.into_iter().map(|t| t.name).collect()
    };
    let mut undeployed = 0;
    for environment in environments {
        if tx
            .delete_deployment(&api.id, &environment, &revision.id)
            .await?
        {
            tx.emit(
                &principal.tenant,
                &Event::ApiUndeploy {
                    api_id: api.id.clone(),
                    environment,
                },
            )
            .await?;
            undeployed += 1;
        }
    }
    if undeployed == 0 {
        return Err(ApiError::bad_request(format!(
            "Revision {} is not deployed to the given environment(s)",
            revision.number
        )));
    }
    tx.commit().await?;
    Ok(StatusCode::CREATED)
}

async fn list_deployments(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(&[
        "apim:api_view",
        "apim:api_create",
        "apim:api_manage",
        "apim:api_publish",
    ])?;
    ctx.store.api(&principal.tenant, &api_id).await?;
    let list: Vec<Value> = ctx
        .store
        .deployments(&api_id)
        .await?
        .iter()
        .map(deployment_json)
        .collect();
    Ok(list_body(list, None))
}

#[derive(Deserialize)]
struct LifecycleQuery {
    #[serde(rename = "apiId")]
    api_id: Option<String>,
    action: Option<String>,
}

async fn change_lifecycle(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<LifecycleQuery>,
) -> Result<Json<Value>, ApiError> {
    principal.require_any(PUBLISH)?;
    let api_id = q
        .api_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Query parameter 'apiId' is required"))?;
    let action = q
        .action
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Query parameter 'action' is required"))?;
    let mut tx = ctx.store.begin().await?;
    let api = tx.api(&principal.tenant, &api_id).await?;
    let target = lifecycle::transition(&api.lifecycle_status, &action).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Query parameter 'action': '{action}' is not a valid action for an API in state {}; allowed: {}",
            api.lifecycle_status,
            lifecycle::actions_from(&api.lifecycle_status).join(", ")
        ))
    })?;
    let mut definition = api.definition.clone();
    if let Some(object) = definition.as_object_mut() {
        object.insert("lifeCycleStatus".into(), json!(target));
    }
    tx.set_lifecycle_status(&api.id, target, &definition)
        .await?;
    tx.emit(
        &principal.tenant,
        &Event::ApiLifecycleChange {
            api_id: api.id.clone(),
            status: target.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(api = %api.id, from = %api.lifecycle_status, to = target, "lifecycle changed");
    Ok(Json(json!({
        "workflowStatus": "APPROVED",
        "jsonPayload": "",
        "lifecycleState": {
            "state": title_case(target),
            "checkItems": [],
            "availableTransitions": lifecycle::actions_from(target)
                .iter()
                .map(|action| json!({"event": action, "targetState": lifecycle::transition(target, action).map(title_case)}))
                .collect::<Vec<_>>(),
        }
    })))
}

/// `PUBLISHED` → `Published`, as WSO2 names states in lifecycle responses.
fn title_case(state: &str) -> String {
    let lower = state.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
