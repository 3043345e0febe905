//! Throttling tiers of the subscription and application levels: create, read, change, delete.
//! Each change is an event, so gateways and traffic managers apply new limits at once.

use tollgate_model::{
    LimitType, PolicyLevel, ThrottlePolicy, TimeUnit, MAX_REQUEST_COUNT, MAX_WINDOW_MILLIS,
};
use tollgate_store::Change;

use crate::{Actor, OpError, OpResult, Problems, Services};

const VIEW: &[&str] = &["apim:admin", "apim:tier_view"];
const MANAGE: &[&str] = &["apim:admin", "apim:tier_manage"];
/// WSO2's column sizes for a tier's display name and description.
const MAX_DISPLAY_NAME: usize = 512;
const MAX_DESCRIPTION: usize = 1024;

/// A tier as an administrator describes it.
#[derive(Debug, Clone)]
pub struct TierInput {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// WSO2's `defaultLimit.type`; only request counts are supported so far.
    pub limit_type: LimitType,
    /// `requestCount`, `unitTime`, `timeUnit` (as sent) of a request-count limit.
    pub request_count: Option<(i64, i64, String)>,
}

/// Checks a tier, reporting every problem; the tier it describes (id and tenant to fill in).
/// Every number is bounded: the window's arithmetic runs on the request path.
fn checked(input: TierInput, level: PolicyLevel) -> OpResult<ThrottlePolicy> {
    let mut problems = Problems::default();
    let name = input.name.trim().to_string();
    if name.is_empty()
        || name.len() > 60
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        problems.add(
            "policyName",
            "must have 1 to 60 characters without spaces or '/'",
        );
    }
    let display_name = input.display_name.filter(|d| !d.is_empty());
    if let Some(display_name) = &display_name {
        if display_name.chars().count() > MAX_DISPLAY_NAME
            || display_name.chars().any(char::is_control)
        {
            problems.add(
                "displayName",
                format!(
                    "must have at most {MAX_DISPLAY_NAME} characters and no control characters"
                ),
            );
        }
    }
    let description = input.description.unwrap_or_default();
    if description.chars().count() > MAX_DESCRIPTION {
        problems.add(
            "description",
            format!("must have at most {MAX_DESCRIPTION} characters"),
        );
    }
    let mut window = None;
    if input.limit_type != LimitType::RequestCount {
        problems.add(
            "defaultLimit.type",
            format!(
                "'{}' is not supported yet; use {}",
                input.limit_type,
                LimitType::RequestCount
            ),
        );
    } else if let Some((count, unit_time, time_unit)) = &input.request_count {
        if !(1..=MAX_REQUEST_COUNT).contains(count) {
            problems.add(
                "defaultLimit.requestCount.requestCount",
                format!("must be from 1 to {MAX_REQUEST_COUNT}, not {count}"),
            );
        }
        match TimeUnit::parse(time_unit.trim()) {
            None => problems.add(
                "defaultLimit.requestCount.timeUnit",
                format!("'{time_unit}' is not one of {}", TimeUnit::names()),
            ),
            Some(unit) => {
                let longest = MAX_WINDOW_MILLIS / unit.millis();
                if !(1..=longest).contains(unit_time) {
                    problems.add(
                        "defaultLimit.requestCount.unitTime",
                        format!(
                            "must be from 1 to {longest} for unit '{unit}' (windows are at most 366 days), not {unit_time}"
                        ),
                    );
                } else {
                    window = Some((*count, *unit_time, unit));
                }
            }
        }
    } else {
        problems.add(
            "defaultLimit.requestCount",
            "is required for REQUESTCOUNTLIMIT",
        );
    }
    problems.into_result(())?;
    let (count, unit_time, unit) =
        window.ok_or_else(|| OpError::invalid("defaultLimit", "is incomplete"))?;
    Ok(ThrottlePolicy {
        id: String::new(),
        tenant: String::new(),
        level,
        display_name: display_name.unwrap_or_else(|| name.clone()),
        name,
        description,
        request_count: Some(count),
        unit_time,
        time_unit: unit,
    })
}

pub async fn list_tiers(
    services: &Services,
    actor: &Actor,
    level: PolicyLevel,
) -> OpResult<Vec<ThrottlePolicy>> {
    actor.require_any(VIEW)?;
    Ok(services.store.policies(&actor.tenant, level).await?)
}

pub async fn get_tier(
    services: &Services,
    actor: &Actor,
    level: PolicyLevel,
    policy_id: &str,
) -> OpResult<ThrottlePolicy> {
    actor.require_any(VIEW)?;
    Ok(services
        .store
        .policy_by_id(&actor.tenant, level, policy_id)
        .await?)
}

pub async fn create_tier(
    services: &Services,
    actor: &Actor,
    level: PolicyLevel,
    input: TierInput,
) -> OpResult<ThrottlePolicy> {
    actor.require_any(MANAGE)?;
    let mut policy = checked(input, level)?;
    policy.id = uuid::Uuid::new_v4().to_string();
    policy.tenant = actor.tenant.clone();
    let mut tx = services.store.begin().await?;
    tx.apply(&Change::CreatePolicy(policy.clone())).await?;
    tx.commit().await?;
    Ok(policy)
}

/// Changes a tier's limit, display name and description (its name identifies it).
pub async fn update_tier(
    services: &Services,
    actor: &Actor,
    level: PolicyLevel,
    policy_id: &str,
    input: TierInput,
) -> OpResult<ThrottlePolicy> {
    actor.require_any(MANAGE)?;
    let changed = checked(input, level)?;
    let mut tx = services.store.begin().await?;
    let mut policy = tx.policy_by_id(&actor.tenant, level, policy_id).await?;
    if changed.name != policy.name {
        return Err(OpError::invalid(
            "policyName",
            format!("cannot be changed ('{}' → '{}')", policy.name, changed.name),
        ));
    }
    policy.display_name = changed.display_name;
    policy.description = changed.description;
    policy.request_count = changed.request_count;
    policy.unit_time = changed.unit_time;
    policy.time_unit = changed.time_unit;
    tx.apply(&Change::UpdatePolicy(policy.clone())).await?;
    tx.commit().await?;
    Ok(policy)
}

/// Deletes a tier no subscription or application uses.
pub async fn delete_tier(
    services: &Services,
    actor: &Actor,
    level: PolicyLevel,
    policy_id: &str,
) -> OpResult<()> {
    actor.require_any(MANAGE)?;
    let mut tx = services.store.begin().await?;
    let policy = tx.policy_by_id(&actor.tenant, level, policy_id).await?;
    let users = tx.policy_users(&policy).await?;
    let mut uses = Vec::new();
    if users.holders > 0 {
        let holders = if level == PolicyLevel::Subscription {
            "subscription(s)"
        } else {
            "application(s)"
        };
        uses.push(format!("{} {holders}", users.holders));
    }
    if users.apis > 0 {
        uses.push(format!("{} API(s)", users.apis));
    }
    if !uses.is_empty() {
        return Err(OpError::Conflict(format!(
            "Policy '{}' is in use by {}; it cannot be deleted",
            policy.name,
            uses.join(" and ")
        )));
    }
    tx.apply(&Change::DeletePolicy(policy)).await?;
    tx.commit().await?;
    Ok(())
}
