//! WSO2's API lifecycle: states, actions and history.

use serde_json::json;
use tollgate_model::{LifecycleAction, LifecycleState};
use tollgate_store::{Change, LifecycleEventRow};

use super::permissions;
use crate::{Actor, OpError, OpResult, Services};

/// WSO2's lifecycle check items, by their names.
pub const DEPRECATE_OLD_VERSIONS: &str = "Deprecate old versions after publishing the API";
pub const REQUIRES_RESUBSCRIPTION: &str = "Requires re-subscription when publishing the API";

/// The check items ticked with an action (`lifecycleChecklist=name:true,name:false`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Checklist {
    pub deprecate_old_versions: bool,
    pub requires_resubscription: bool,
}

impl Checklist {
    /// Parses WSO2's `lifecycleChecklist` (`Deprecate old versions after publishing the API:true`,
    /// items separated by commas).
    pub fn parse(text: &str) -> OpResult<Checklist> {
        let mut checklist = Checklist::default();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) = item.rsplit_once(':').unwrap_or((item, "true"));
            let value = match value.trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(OpError::invalid(
                        "lifecycleChecklist",
                        format!("'{other}' is not true or false"),
                    ))
                }
            };
            match name.trim() {
                DEPRECATE_OLD_VERSIONS => checklist.deprecate_old_versions = value,
                REQUIRES_RESUBSCRIPTION => checklist.requires_resubscription = value,
                other => {
                    return Err(OpError::invalid(
                        "lifecycleChecklist",
                        format!(
                            "'{other}' is not a check item; known: {DEPRECATE_OLD_VERSIONS}, {REQUIRES_RESUBSCRIPTION}"
                        ),
                    ))
                }
            }
        }
        Ok(checklist)
    }
}

/// Moves an API through its lifecycle; gateways learn the new state. Publishing with
/// "Deprecate old versions" deprecates the API's other published versions in the same change.
pub async fn change_lifecycle(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    action: LifecycleAction,
    checklist: Checklist,
) -> OpResult<LifecycleState> {
    actor.require_any(permissions::PUBLISH)?;
    let mut tx = services.store.begin().await?;
    let mut api = tx.api(&actor.tenant, api_id).await?;
    let previous = api.lifecycle_status;
    let target = previous.after(action).ok_or_else(|| {
        let allowed: Vec<&str> = previous.actions().iter().map(|a| a.as_str()).collect();
        OpError::invalid(
            "action",
            format!(
                "'{action}' is not allowed for an API in state {}; allowed: {}",
                previous.display_name(),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        )
    })?;
    set_state(&mut api, target);
    tx.apply(&Change::ChangeLifecycle {
        api: api.clone(),
        previous,
        username: actor.username.clone(),
    })
    .await?;
    if target == LifecycleState::Published && checklist.deprecate_old_versions {
        for mut older in tx.versions_of(&actor.tenant, &api.name).await? {
            if older.id == api.id
                || older.created_time > api.created_time
                || older.lifecycle_status != LifecycleState::Published
            {
                continue;
            }
            set_state(&mut older, LifecycleState::Deprecated);
            tx.apply(&Change::ChangeLifecycle {
                api: older,
                previous: LifecycleState::Published,
                username: actor.username.clone(),
            })
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(api = %api.id, from = %previous, to = %target, "lifecycle changed");
    Ok(target)
}

fn set_state(api: &mut tollgate_store::ApiRow, state: LifecycleState) {
    api.lifecycle_status = state;
    api.updated_time = tollgate_model::now_millis();
    if let Some(object) = api.definition.as_object_mut() {
        object.insert("lifeCycleStatus".into(), json!(state));
    }
}

/// The API's state and the actions allowed from it.
pub async fn lifecycle_state(
    services: &Services,
    actor: &Actor,
    api_id: &str,
) -> OpResult<LifecycleState> {
    actor.require_any(permissions::VIEW)?;
    Ok(services
        .store
        .api(&actor.tenant, api_id)
        .await?
        .lifecycle_status)
}

pub async fn lifecycle_history(
    services: &Services,
    actor: &Actor,
    api_id: &str,
) -> OpResult<Vec<LifecycleEventRow>> {
    actor.require_any(permissions::VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    Ok(services.store.lifecycle_history(&api.id).await?)
}
