//! Revisions (immutable snapshots of an API) and their deployment to gateway environments.

use tollgate_model::RuntimeApi;
use tollgate_store::{ApiRow, Change, DeploymentRow, RevisionRow};

use super::definition::ApiDefinition;
use super::permissions;
use crate::{Actor, OpError, OpResult, Problems, Services};

/// WSO2 keeps at most this many revisions of an API.
pub const MAX_REVISIONS: i64 = 5;

/// The gateway's view of an API's working copy, frozen into a revision.
fn runtime_of(api: &ApiRow, revision_id: &str) -> OpResult<RuntimeApi> {
    let definition = ApiDefinition::from_json(api.definition.clone())?;
    Ok(RuntimeApi {
        id: api.id.clone(),
        tenant: api.tenant.clone(),
        name: api.name.clone(),
        version: api.version.clone(),
        context: api.context.clone(),
        provider: api.provider.clone(),
        lifecycle_status: api.lifecycle_status,
        revision_id: revision_id.to_string(),
        api_throttling_policy: definition.api_throttling_policy.clone(),
        operations: definition.runtime_operations(),
        endpoints: definition.runtime_endpoints(),
        is_default_version: api.is_default_version,
        audiences: definition.audiences.clone(),
        authentication: definition.runtime_authentication(),
        vhost: None,
        api_type: definition.api_type,
    })
}

pub async fn create_revision(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    description: Option<&str>,
) -> OpResult<RevisionRow> {
    actor.require_any(permissions::REVISE)?;
    let description = description.unwrap_or("");
    if description.chars().count() > 255 {
        return Err(OpError::invalid(
            "description",
            "must have at most 255 characters",
        ));
    }
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let revision = create_revision_in(&mut tx, &api, description).await?;
    tx.commit().await?;
    Ok(revision)
}

/// Freezes the API's working copy (and its definition document) as its next revision.
pub(crate) async fn create_revision_in(
    tx: &mut tollgate_store::ApimTx,
    api: &ApiRow,
    description: &str,
) -> OpResult<RevisionRow> {
    if tx.revision_count(&api.id).await? >= MAX_REVISIONS {
        return Err(OpError::NotAllowed(format!(
            "Maximum number of revisions per API has reached. Need to remove stale revision to create a new Revision for API with API UUID: {}",
            api.id
        )));
    }
    let revision_id = uuid::Uuid::new_v4().to_string();
    let runtime = serde_json::to_value(runtime_of(api, &revision_id)?)
        .map_err(|e| OpError::Store(tollgate_store::StoreError::Corrupt(e.to_string())))?;
    Ok(tx
        .insert_revision(
            &api.tenant,
            &revision_id,
            &api.id,
            description,
            &api.definition,
            &runtime,
        )
        .await?)
}

/// An API's revisions, oldest first, with its deployments.
pub async fn list_revisions(
    services: &Services,
    actor: &Actor,
    api_id: &str,
) -> OpResult<(Vec<RevisionRow>, Vec<DeploymentRow>)> {
    actor.require_any(permissions::VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    let revisions = services.store.revisions(&api.id).await?;
    let deployments = services.store.deployments(&api.id).await?;
    Ok((revisions, deployments))
}

pub async fn get_revision(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    revision_id: &str,
) -> OpResult<(RevisionRow, Vec<DeploymentRow>)> {
    let (revisions, deployments) = list_revisions(services, actor, api_id).await?;
    let revision = revisions
        .into_iter()
        .find(|r| r.id == revision_id)
        .ok_or_else(|| OpError::NotFound(format!("revision {revision_id}")))?;
    Ok((revision, deployments))
}

/// Deletes a revision that is deployed nowhere.
pub async fn delete_revision(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    revision_id: &str,
) -> OpResult<()> {
    actor.require_any(permissions::REVISE)?;
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let revision = tx.revision(&api.id, revision_id).await?;
    let deployed: Vec<String> = tx
        .deployments_of(&api.id)
        .await?
        .into_iter()
        .filter(|d| d.revision_id == revision.id)
        .map(|d| d.environment)
        .collect();
    if !deployed.is_empty() {
        return Err(OpError::Conflict(format!(
            "Revision {} is deployed to {}; undeploy it before deleting it",
            revision.number,
            deployed.join(", ")
        )));
    }
    tx.delete_revision(&revision.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a revision's definition the API's working copy again.
pub async fn restore_revision(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    revision_id: &str,
) -> OpResult<ApiRow> {
    actor.require_any(permissions::REVISE)?;
    let mut tx = services.store.begin().await?;
    let mut api = tx.api(&actor.tenant, api_id).await?;
    let revision = tx.revision(&api.id, revision_id).await?;
    // Checked as an update is: the tiers and shared scopes it names must still exist.
    let definition = ApiDefinition::from_json(revision.definition.clone())?.normalise()?;
    super::apis::check_policies(services, actor, &definition).await?;
    let scopes = super::apis::check_scopes(services, actor, &definition).await?;
    let document = tx.revision_openapi(&revision.id).await?;
    super::apis::replace_working_copy_in(
        &mut tx,
        &mut api,
        super::apis::WorkingCopy::of(&definition),
        &scopes,
        Some(document.as_ref()),
    )
    .await?;
    tx.commit().await?;
    Ok(api)
}

/// Where to deploy a revision: an environment, optionally a vhost of it.
#[derive(Debug, Clone)]
pub struct DeploymentTarget {
    pub environment: String,
    pub vhost: Option<String>,
    pub display_on_devportal: bool,
}

/// Deploys a revision to environments (replacing what was deployed there); gateways of those
/// environments serve it.
pub async fn deploy_revision(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    revision_id: &str,
    targets: &[DeploymentTarget],
) -> OpResult<Vec<DeploymentRow>> {
    actor.require_any(permissions::DEPLOY)?;
    if revision_id.is_empty() {
        return Err(OpError::invalid("revisionId", "is required"));
    }
    if targets.is_empty() {
        return Err(OpError::invalid(
            "body",
            "must list at least one environment to deploy to",
        ));
    }
    let resolved = resolve_targets(services, &actor.tenant, targets).await?;
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let revision = tx.revision(&api.id, revision_id).await?;
    let deployed = deploy_in(&mut tx, &api, &revision, resolved).await?;
    tx.commit().await?;
    tracing::info!(api = %api.id, revision = %revision.id, "revision deployed");
    Ok(deployed)
}

/// A deployment target checked against its environment.
pub(crate) struct ResolvedTarget {
    environment: String,
    vhost: String,
    /// Whether `vhost` is not the environment's default (first) one: the deployment then
    /// answers for that host only.
    vhost_only: bool,
    display_on_devportal: bool,
}

/// Deploys a revision to resolved targets, in `tx`.
pub(crate) async fn deploy_in(
    tx: &mut tollgate_store::ApimTx,
    api: &ApiRow,
    revision: &RevisionRow,
    targets: Vec<ResolvedTarget>,
) -> OpResult<Vec<DeploymentRow>> {
    let mut runtime: RuntimeApi = serde_json::from_value(revision.runtime.clone())
        .map_err(|e| OpError::Store(tollgate_store::StoreError::Corrupt(e.to_string())))?;
    runtime.revision_id = revision.id.clone();
    // Like the lifecycle state, the default-version mark is the API's, not the revision's.
    runtime.lifecycle_status = api.lifecycle_status;
    runtime.is_default_version = api.is_default_version;
    let now = tollgate_model::now_millis();
    let mut deployed = Vec::with_capacity(targets.len());
    for target in targets {
        let deployment = DeploymentRow {
            api_id: api.id.clone(),
            environment: target.environment,
            revision_id: revision.id.clone(),
            vhost: target.vhost.clone(),
            display_on_devportal: target.display_on_devportal,
            deployed_time: now,
            event_seq: 0,
        };
        // Gateways answer for the deployment's vhost only, unless it is the default one.
        runtime.vhost = target.vhost_only.then_some(target.vhost);
        tx.apply(&Change::DeployRevision {
            tenant: api.tenant.clone(),
            deployment: deployment.clone(),
            api: runtime.clone(),
        })
        .await?;
        deployed.push(deployment);
    }
    Ok(deployed)
}

/// Each target's environment (configured or added) and vhost, or every problem with them.
pub(crate) async fn resolve_targets(
    services: &Services,
    tenant: &str,
    targets: &[DeploymentTarget],
) -> OpResult<Vec<ResolvedTarget>> {
    let environments = crate::environments::all_environments(services, tenant).await?;
    let mut problems = Problems::default();
    let mut resolved = Vec::with_capacity(targets.len());
    for (i, target) in targets.iter().enumerate() {
        let Some(environment) = environments.iter().find(|e| e.name == target.environment) else {
            problems.add(
                format!("[{i}].name"),
                format!(
                    "gateway environment '{}' does not exist; known: {}",
                    target.environment,
                    environments
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        let vhost = match target.vhost.as_deref().filter(|v| !v.is_empty()) {
            Some(v) if environment.vhosts.iter().any(|h| h.host == v) => v.to_string(),
            Some(v) => {
                problems.add(
                    format!("[{i}].vhost"),
                    format!(
                        "'{v}' is not a virtual host of environment '{}'",
                        environment.name
                    ),
                );
                continue;
            }
            None => environment
                .vhosts
                .first()
                .map(|h| h.host.clone())
                .unwrap_or_else(|| "localhost".into()),
        };
        let vhost_only = environment
            .vhosts
            .first()
            .is_some_and(|default| default.host != vhost);
        resolved.push(ResolvedTarget {
            environment: environment.name.clone(),
            vhost,
            vhost_only,
            display_on_devportal: target.display_on_devportal,
        });
    }
    problems.into_result(resolved)
}

/// Takes a revision off environments (all it is deployed to when `environments` is `None`).
pub async fn undeploy_revision(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    revision_id: &str,
    environments: Option<&[String]>,
) -> OpResult<()> {
    actor.require_any(permissions::DEPLOY)?;
    if revision_id.is_empty() {
        return Err(OpError::invalid("revisionId", "is required"));
    }
    if environments.is_some_and(<[String]>::is_empty) {
        return Err(OpError::invalid(
            "body",
            "must list at least one environment, or set allEnvironments=true",
        ));
    }
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    let revision = tx.revision(&api.id, revision_id).await?;
    let targets: Vec<String> = match environments {
        Some(list) => list.to_vec(),
        None => tx
            .deployments_of(&api.id)
            .await?
            .into_iter()
            .filter(|d| d.revision_id == revision.id)
            .map(|d| d.environment)
            .collect(),
    };
    let mut undeployed = 0;
    for environment in targets {
        let change = Change::UndeployRevision {
            tenant: actor.tenant.clone(),
            api_id: api.id.clone(),
            environment,
            revision_id: revision.id.clone(),
        };
        if tx.apply(&change).await? {
            undeployed += 1;
        }
    }
    if undeployed == 0 {
        return Err(OpError::invalid(
            "body",
            format!(
                "revision {} is not deployed to the given environment(s)",
                revision.number
            ),
        ));
    }
    tx.commit().await?;
    Ok(())
}

/// A deployment and whether the gateways serving its environment have applied it.
#[derive(Debug, Clone)]
pub struct DeploymentStatus {
    pub deployment: DeploymentRow,
    /// Gateways of the environment that reported within the last minute.
    pub live_gateways: usize,
    /// Of those, the ones whose state includes the deployment.
    pub applied_gateways: usize,
}

/// How recently a gateway must have reported to count as live (six heartbeats).
const LIVE_WITHIN_MILLIS: i64 = 60_000;

/// The API's deployments, one per environment, each with its gateways' progress.
pub async fn deployments(
    services: &Services,
    actor: &Actor,
    api_id: &str,
) -> OpResult<Vec<DeploymentStatus>> {
    actor.require_any(permissions::VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    let deployments = services.store.deployments(&api.id).await?;
    let gateways = services
        .store
        .live_gateways(tollgate_model::now_millis() - LIVE_WITHIN_MILLIS)
        .await?;
    let epoch = services.store.epoch();
    Ok(deployments
        .into_iter()
        .map(|deployment| {
            let serving: Vec<_> = gateways
                .iter()
                .filter(|g| g.labels.contains(&deployment.environment))
                .collect();
            let applied = serving
                .iter()
                .filter(|g| g.epoch == epoch && g.applied_seq >= deployment.event_seq)
                .count();
            DeploymentStatus {
                live_gateways: serving.len(),
                applied_gateways: applied,
                deployment,
            }
        })
        .collect())
}
