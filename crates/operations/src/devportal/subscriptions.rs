//! Subscriptions of the caller's applications to APIs: one set of rules for subscribing (one or
//! many at once), changing a tier, listing and removing. Each change is an event, so gateways
//! honour it at once.

use std::collections::HashSet;

use serde_json::Value;
use tollgate_model::SubscriptionStatus;
use tollgate_store::{ApiRow, ApplicationRow, Change, SubscriptionRow};

use super::own_application;
use crate::{Actor, OpError, OpResult, Page, Problems, Services};

const SUBSCRIBE: &[&str] = &["apim:subscribe", "apim:sub_manage"];

/// A subscription with what it refers to.
#[derive(Debug, Clone)]
pub struct SubscriptionView {
    pub subscription: SubscriptionRow,
    /// `None` when the API is gone.
    pub api: Option<ApiRow>,
    pub application: ApplicationRow,
}

/// What a consumer asks for.
#[derive(Debug, Clone)]
pub struct SubscriptionRequest {
    pub application_id: String,
    pub api_id: String,
    pub throttling_policy: String,
}

/// The tiers an API offers to subscribers.
fn offered_tiers(api: &ApiRow) -> Vec<&str> {
    api.definition
        .get("policies")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Checks one request (fields prefixed with `at`, e.g. `[2].`), adding problems; the
/// application and API when it may go ahead. Without `at` (a single subscription), an unknown
/// application or API is "not found", as WSO2 answers it.
async fn checked(
    services: &Services,
    actor: &Actor,
    viewer: &super::discovery::Viewer,
    request: &SubscriptionRequest,
    at: &str,
    problems: &mut Problems,
) -> OpResult<Option<(ApplicationRow, ApiRow)>> {
    let app = match own_application(services, actor, &request.application_id).await {
        Ok(app) => app,
        Err(OpError::NotFound(what)) if at.is_empty() => return Err(OpError::NotFound(what)),
        Err(OpError::NotFound(_)) => {
            problems.add(
                format!("{at}applicationId"),
                format!(
                    "there is no application {} of yours",
                    request.application_id
                ),
            );
            return Ok(None);
        }
        Err(other) => return Err(other),
    };
    if app.status != tollgate_model::ApplicationStatus::Approved {
        problems.add(
            format!("{at}applicationId"),
            format!(
                "application {} is {}, not approved: it cannot subscribe yet",
                app.name, app.status
            ),
        );
        return Ok(None);
    }
    // Only an API the caller may see in the portal (its visibility and roles) can be subscribed.
    let Some(api) = super::discovery::get_api(services, viewer, &request.api_id)
        .await
        .ok()
    else {
        if at.is_empty() {
            return Err(OpError::NotFound(format!("API {}", request.api_id)));
        }
        problems.add(
            format!("{at}apiId"),
            format!("there is no published API {}", request.api_id),
        );
        return Ok(None);
    };
    if !api.lifecycle_status.accepts_subscriptions() {
        problems.add(
            format!("{at}apiId"),
            format!(
                "API {} is {} and takes no new subscriptions",
                api.name,
                api.lifecycle_status.display_name()
            ),
        );
        return Ok(None);
    }
    let offered = offered_tiers(&api);
    if !offered.contains(&request.throttling_policy.as_str()) {
        problems.add(
            format!("{at}throttlingPolicy"),
            format!(
                "API {} does not offer tier '{}'; it offers: {}",
                api.name,
                request.throttling_policy,
                offered.join(", ")
            ),
        );
        return Ok(None);
    }
    Ok(Some((app, api)))
}

fn new_subscription(
    actor: &Actor,
    app: &ApplicationRow,
    api: &ApiRow,
    tier: &str,
    held: bool,
) -> SubscriptionRow {
    SubscriptionRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: actor.tenant.clone(),
        application_id: app.id.clone(),
        api_id: api.id.clone(),
        throttling_policy: tier.to_string(),
        status: if held {
            SubscriptionStatus::OnHold
        } else {
            SubscriptionStatus::Unblocked
        },
        created_time: tollgate_model::now_millis(),
    }
}

/// Subscribes one application to one API: 409 when it is subscribed already.
pub async fn subscribe(
    services: &Services,
    actor: &Actor,
    request: SubscriptionRequest,
) -> OpResult<SubscriptionView> {
    let mut views = subscribe_many(services, actor, vec![request], false).await?;
    views
        .pop()
        .ok_or_else(|| OpError::NotFound("subscription".into()))
}

/// Subscribes in one transaction: all, or (any problem, each named by its position when
/// `positions`) none.
pub async fn subscribe_many(
    services: &Services,
    actor: &Actor,
    requests: Vec<SubscriptionRequest>,
    positions: bool,
) -> OpResult<Vec<SubscriptionView>> {
    actor.require_any(SUBSCRIBE)?;
    if requests.is_empty() {
        return Err(OpError::invalid("", "list at least one subscription"));
    }
    let held = services.devportal.approvals.subscription_creation;
    let viewer = super::discovery::Viewer::signed_in(services, actor).await?;
    let mut problems = Problems::default();
    let mut ready = Vec::new();
    let mut seen = HashSet::new();
    for (i, request) in requests.iter().enumerate() {
        let at = if positions {
            format!("[{i}].")
        } else {
            String::new()
        };
        if !seen.insert((request.application_id.clone(), request.api_id.clone())) {
            problems.add(
                format!("{at}apiId"),
                "is listed twice for the same application",
            );
            continue;
        }
        if let Some((app, api)) =
            checked(services, actor, &viewer, request, &at, &mut problems).await?
        {
            ready.push((
                new_subscription(actor, &app, &api, &request.throttling_policy, held),
                api,
                app,
            ));
        }
    }
    problems.into_result(())?;
    let mut tx = services.store.begin().await?;
    for (sub, api, app) in &ready {
        tx.apply(&Change::CreateSubscription(sub.clone())).await?;
        if held {
            super::workflows::hold(
                &mut tx,
                actor,
                tollgate_model::WorkflowType::SubscriptionCreation,
                &sub.id,
                format!(
                    "Approve API [{} - {}] subscription creation request from subscriber - {} for the application - {}",
                    api.name, api.version, actor.username, app.name
                ),
                serde_json::json!({"apiName": api.name, "apiVersion": api.version, "applicationName": app.name, "requestedTier": sub.throttling_policy}),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(ready
        .into_iter()
        .map(|(subscription, api, application)| SubscriptionView {
            subscription,
            api: Some(api),
            application,
        })
        .collect())
}

/// The caller's subscription (through its application), or 404.
async fn own_subscription(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
) -> OpResult<(SubscriptionRow, ApplicationRow)> {
    let not_found = |err| match err {
        OpError::NotFound(_) => OpError::NotFound(format!("subscription {subscription_id}")),
        other => other,
    };
    let sub = services
        .store
        .subscription(&actor.tenant, subscription_id)
        .await
        .map_err(|err| not_found(err.into()))?;
    let app = own_application(services, actor, &sub.application_id)
        .await
        .map_err(not_found)?;
    Ok((sub, app))
}

pub async fn get(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
) -> OpResult<SubscriptionView> {
    actor.require_any(SUBSCRIBE)?;
    let (subscription, application) = own_subscription(services, actor, subscription_id).await?;
    let api = match services
        .store
        .api(&actor.tenant, &subscription.api_id)
        .await
    {
        Ok(api) => Some(api),
        Err(tollgate_store::StoreError::NotFound(_)) => None,
        Err(other) => return Err(other.into()),
    };
    Ok(SubscriptionView {
        subscription,
        api,
        application,
    })
}

/// What `PUT /subscriptions/{id}` states: the subscription as the consumer wants it. Only its
/// tier may change — `requestedThrottlingPolicy` when given (WSO2's field for the tier asked
/// for), else `throttlingPolicy`.
#[derive(Debug, Clone)]
pub struct SubscriptionUpdate {
    pub application_id: String,
    pub api_id: String,
    pub throttling_policy: String,
    pub requested_throttling_policy: Option<String>,
}

/// Changes a subscription as `PUT /subscriptions/{id}` asks: its application and API must be
/// the ones it has (checked in the write's transaction), its tier becomes the one asked for.
pub async fn update(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
    update: SubscriptionUpdate,
) -> OpResult<SubscriptionView> {
    let tier = update
        .requested_throttling_policy
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or(&update.throttling_policy)
        .to_string();
    retier(services, actor, subscription_id, &tier, Some(&update)).await
}

/// Moves a subscription to another tier the API offers. Only an active subscription of a
/// published API changes tier (as in WSO2); its state is re-read in the write's transaction,
/// so a publisher's block made meanwhile is never undone.
pub async fn change_tier(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
    throttling_policy: &str,
) -> OpResult<SubscriptionView> {
    retier(services, actor, subscription_id, throttling_policy, None).await
}

async fn retier(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
    throttling_policy: &str,
    stated: Option<&SubscriptionUpdate>,
) -> OpResult<SubscriptionView> {
    let view = get(services, actor, subscription_id).await?;
    let Some(api) = &view.api else {
        return Err(OpError::NotFound(format!(
            "API {}",
            view.subscription.api_id
        )));
    };
    if !matches!(
        api.lifecycle_status,
        tollgate_model::LifecycleState::Published | tollgate_model::LifecycleState::Prototyped
    ) {
        return Err(OpError::NotAllowed(format!(
            "API {} is {}: its subscriptions keep their tiers",
            api.name,
            api.lifecycle_status.display_name()
        )));
    }
    let offered = offered_tiers(api);
    if !offered.contains(&throttling_policy) {
        return Err(OpError::invalid(
            "throttlingPolicy",
            format!(
                "API {} does not offer tier '{throttling_policy}'; it offers: {}",
                api.name,
                offered.join(", ")
            ),
        ));
    }
    let mut tx = services.store.begin().await?;
    let mut subscription = tx.subscription(&actor.tenant, subscription_id).await?;
    if let Some(stated) = stated {
        let mut problems = Problems::default();
        for (field, given, stored) in [
            (
                "applicationId",
                &stated.application_id,
                &subscription.application_id,
            ),
            ("apiId", &stated.api_id, &subscription.api_id),
        ] {
            if given != stored {
                problems.add(
                    field,
                    format!("cannot be changed ('{stored}' → '{given}'); subscribe anew instead"),
                );
            }
        }
        problems.into_result(())?;
    }
    if !matches!(
        subscription.status,
        SubscriptionStatus::Unblocked | SubscriptionStatus::ProdOnlyBlocked
    ) {
        return Err(OpError::NotAllowed(format!(
            "The subscription is {}: its tier cannot change now",
            subscription.status.as_str()
        )));
    }
    if services.devportal.approvals.subscription_update {
        // Only an active subscription asks: the pending state stands for "unblocked, on the old
        // tier" at the gateway, so a blocked one must not reach it.
        if subscription.status != SubscriptionStatus::Unblocked {
            return Err(OpError::NotAllowed(format!(
                "The subscription is {}: its tier cannot change now",
                subscription.status.as_str()
            )));
        }
        // The old tier keeps applying until an administrator decides.
        super::workflows::hold(
            &mut tx,
            actor,
            tollgate_model::WorkflowType::SubscriptionUpdate,
            &subscription.id,
            format!(
                "Approve API [{} - {}] subscription tier change from {} to {} requested by {} for the application - {}",
                api.name, api.version, subscription.throttling_policy, throttling_policy, actor.username, view.application.name
            ),
            super::workflows::tier_change(throttling_policy, subscription.status),
        )
        .await?;
        subscription.status = SubscriptionStatus::TierUpdatePending;
    } else {
        subscription.throttling_policy = throttling_policy.to_string();
    }
    tx.apply(&Change::UpdateSubscription(subscription.clone()))
        .await?;
    tx.commit().await?;
    Ok(SubscriptionView {
        subscription,
        ..view
    })
}

/// The caller's subscriptions: of one application, or of all theirs to one API.
pub async fn list(
    services: &Services,
    actor: &Actor,
    application_id: Option<&str>,
    api_id: Option<&str>,
    page: Page,
) -> OpResult<(Vec<SubscriptionView>, i64)> {
    actor.require_any(SUBSCRIBE)?;
    let (subscriptions, total, applications) = match (application_id, api_id) {
        (Some(application_id), api_id) => {
            let app = own_application(services, actor, application_id).await?;
            let (subs, total) = services
                .store
                .subscriptions(
                    &actor.tenant,
                    Some(&app.id),
                    api_id,
                    page.limit,
                    page.offset,
                )
                .await?;
            (subs, total, vec![app])
        }
        (None, Some(api_id)) => {
            let (subs, total) = services
                .store
                .subscriptions_of_owner_to_api(
                    &actor.tenant,
                    &actor.username,
                    api_id,
                    page.limit,
                    page.offset,
                )
                .await?;
            let ids: Vec<&str> = subs.iter().map(|s| s.application_id.as_str()).collect();
            let apps = services
                .store
                .applications_by_ids(&actor.tenant, &ids)
                .await?;
            (subs, total, apps)
        }
        (None, None) => {
            return Err(OpError::invalid(
                "applicationId",
                "give applicationId or apiId",
            ))
        }
    };
    let ids: Vec<&str> = subscriptions.iter().map(|s| s.api_id.as_str()).collect();
    let apis = services.store.apis_by_ids(&actor.tenant, &ids).await?;
    let views = subscriptions
        .into_iter()
        .filter_map(|subscription| {
            let application = applications
                .iter()
                .find(|a| a.id == subscription.application_id)?
                .clone();
            let api = apis.iter().find(|a| a.id == subscription.api_id).cloned();
            Some(SubscriptionView {
                subscription,
                api,
                application,
            })
        })
        .collect();
    Ok((views, total))
}

pub async fn delete(services: &Services, actor: &Actor, subscription_id: &str) -> OpResult<()> {
    actor.require_any(SUBSCRIBE)?;
    let (sub, _) = own_subscription(services, actor, subscription_id).await?;
    let mut tx = services.store.begin().await?;
    tx.apply(&Change::DeleteSubscription(sub)).await?;
    tx.commit().await?;
    Ok(())
}
