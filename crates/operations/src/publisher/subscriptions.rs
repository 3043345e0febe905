//! Subscriptions as an API's provider sees them: listed per API, blocked and unblocked.

use tollgate_model::SubscriptionStatus;
use tollgate_store::{Change, SubscriptionRow};

use super::scopes;
use crate::{Actor, OpError, OpResult, Services};

/// Blocks a subscription (`Blocked`, or `ProdOnlyBlocked`: sandbox keys still pass) or lifts
/// the block (`Unblocked`); gateways enforce it at once.
pub async fn set_subscription_state(
    services: &Services,
    actor: &Actor,
    subscription_id: &str,
    state: SubscriptionStatus,
) -> OpResult<SubscriptionRow> {
    actor.require_any(scopes::BLOCK_SUBSCRIPTION)?;
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
    subscription.status = state;
    tx.apply(&Change::UpdateSubscription(subscription.clone()))
        .await?;
    tx.commit().await?;
    tracing::info!(subscription = %subscription.id, %state, "subscription state changed");
    Ok(subscription)
}
