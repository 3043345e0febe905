//! Subscriptions as an API's provider sees them: listed per API, blocked and unblocked.

use tollgate_model::SubscriptionStatus;
use tollgate_store::{Change, SubscriptionRow};

use super::permissions;
use crate::{Actor, OpError, OpResult, Services};

/// Blocks a subscription (`Blocked`, or `ProdOnlyBlocked`: sandbox keys still pass) or lifts
/// the block (`Unblocked`); gateways enforce it at once.
pub async fn set_subscription_state(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
    state: SubscriptionStatus,
) -> OpResult<SubscriptionRow> {
    set_state(services, actor, None, subscription_id, state).await
}

/// As [`set_subscription_state`], for a subscription that must be to `api_id` (404 otherwise).
pub async fn set_api_subscription_state(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    subscription_id: &str,
    state: SubscriptionStatus,
) -> OpResult<SubscriptionRow> {
    set_state(services, actor, Some(api_id), subscription_id, state).await
}

async fn set_state(
    services: &Services,
    actor: &Actor,
    api_id: Option<&str>,
    subscription_id: &str,
    state: SubscriptionStatus,
) -> OpResult<SubscriptionRow> {
    actor.require_any(permissions::BLOCK_SUBSCRIPTION)?;
    if subscription_id.is_empty() {
        return Err(OpError::invalid("subscriptionId", "is required"));
    }
    if !matches!(
        state,
        SubscriptionStatus::Blocked
            | SubscriptionStatus::ProdOnlyBlocked
            | SubscriptionStatus::Unblocked
    ) {
        return Err(OpError::invalid(
            "blockState",
            format!("'{state}' is not one of BLOCKED, PROD_ONLY_BLOCKED"),
        ));
    }
    let mut tx = services.store.begin().await?;
    let mut subscription = tx.subscription(&actor.tenant, subscription_id).await?;
    if let Some(api) = api_id.filter(|api| *api != subscription.api_id) {
        return Err(OpError::NotFound(format!(
            "subscription {subscription_id} of API {api}"
        )));
    }
    // Waiting for approval, or rejected: an administrator's decision, not a block, settles it.
    if matches!(
        subscription.status,
        SubscriptionStatus::OnHold | SubscriptionStatus::Rejected
    ) {
        return Err(OpError::Conflict(format!(
            "The subscription is {}: it is settled by its approval workflow, not blocked or unblocked",
            subscription.status
        )));
    }
    subscription.status = state;
    tx.apply(&Change::UpdateSubscription(subscription.clone()))
        .await?;
    tx.commit().await?;
    tracing::info!(subscription = %subscription.id, %state, "subscription state changed");
    Ok(subscription)
}

/// A subscription with the application it belongs to.
#[derive(Debug, Clone)]
pub struct ProviderSubscription {
    pub subscription: SubscriptionRow,
    pub application: Option<tollgate_store::ApplicationRow>,
}

/// The subscriptions to one API (or to every API of the tenant), a page at a time.
pub async fn list_subscriptions(
    services: &Services,
    actor: &Actor,
    api_id: Option<&str>,
    page: crate::Page,
) -> OpResult<crate::Listed<ProviderSubscription>> {
    actor.require_any(permissions::VIEW_SUBSCRIPTIONS)?;
    if let Some(api_id) = api_id {
        // 404 for an API that does not exist, rather than an empty list.
        services.store.api(&actor.tenant, api_id).await?;
    }
    let (subscriptions, total) = services
        .store
        .subscriptions(&actor.tenant, None, api_id, page.limit, page.offset)
        .await?;
    let ids: Vec<&str> = subscriptions
        .iter()
        .map(|s| s.application_id.as_str())
        .collect();
    let applications = services
        .store
        .applications_by_ids(&actor.tenant, &ids)
        .await?;
    let items = subscriptions
        .into_iter()
        .map(|subscription| ProviderSubscription {
            application: applications
                .iter()
                .find(|a| a.id == subscription.application_id)
                .cloned(),
            subscription,
        })
        .collect();
    Ok(crate::Listed { items, page, total })
}
