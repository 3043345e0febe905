//! Approval workflows (WSO2's approval workflow executors): where the configuration asks for
//! approval, a new application, a new subscription or a change of tier is stored in a state
//! gateways do not honour — an application `CREATED`, a subscription `ON_HOLD`, a tier change
//! `TIER_UPDATE_PENDING` (the old tier still applies) — with a workflow row saying what waits.
//! An administrator approves or rejects it through the Admin API; the decision is one change
//! with its event, so every gateway follows it like any other.

use serde_json::{json, Value};
use tollgate_model::{ApplicationStatus, SubscriptionStatus, WorkflowStatus, WorkflowType};
use tollgate_store::{ApimTx, Change, WorkflowRow};

use crate::{Actor, Listed, OpError, OpResult, Page, Services};

/// Who may see and decide workflows (WSO2's Admin API scopes).
const APPROVE: &[&str] = &["apim:admin", "apim:api_workflow_approve"];
const VIEW: &[&str] = &[
    "apim:admin",
    "apim:api_workflow_approve",
    "apim:api_workflow_view",
];

/// Which changes wait for approval (`[apim.workflow]`); none by default, as in WSO2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Approvals {
    pub application_creation: bool,
    pub subscription_creation: bool,
    pub subscription_update: bool,
}

/// Records that `reference` waits for approval (in the transaction that stores it).
pub(crate) async fn hold(
    tx: &mut ApimTx,
    actor: &Actor,
    workflow_type: WorkflowType,
    reference: &str,
    description: String,
    properties: Value,
) -> OpResult<WorkflowRow> {
    let now = tollgate_model::now_millis();
    let workflow = WorkflowRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: actor.tenant.clone(),
        workflow_type,
        status: WorkflowStatus::Created,
        reference: reference.to_string(),
        description,
        properties,
        created_by: actor.username.clone(),
        created_time: now,
        updated_time: now,
        decided_by: None,
        decision_note: None,
    };
    tx.insert_workflow(&workflow).await?;
    tracing::info!(workflow = %workflow.id, kind = workflow_type.as_str(), %reference, "held for approval");
    Ok(workflow)
}

/// What waits for a decision, oldest first; `workflow_type` is WSO2's name (`AM_…`).
pub async fn pending(
    services: &Services,
    actor: &Actor,
    workflow_type: Option<&str>,
    page: Page,
) -> OpResult<Listed<WorkflowRow>> {
    actor.require_any(VIEW)?;
    let workflow_type = match workflow_type.map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(name) => Some(name.parse::<WorkflowType>().map_err(|_| {
            OpError::invalid(
                "workflowType",
                format!(
                    "'{name}' is not one of {}",
                    WorkflowType::ALL
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?),
    };
    let (items, total) = services
        .store
        .pending_workflows(&actor.tenant, workflow_type, page.limit, page.offset)
        .await?;
    Ok(Listed { items, page, total })
}

pub async fn get(services: &Services, actor: &Actor, workflow_id: &str) -> OpResult<WorkflowRow> {
    actor.require_any(VIEW)?;
    Ok(services.store.workflow(&actor.tenant, workflow_id).await?)
}

/// Approves or rejects a pending workflow (`status`: `APPROVED` or `REJECTED`), and applies
/// the decision to what it held back — in one transaction, with the event gateways need.
pub async fn decide(
    services: &Services,
    actor: &Actor,
    workflow_id: &str,
    status: &str,
    note: Option<&str>,
) -> OpResult<WorkflowRow> {
    actor.require_any(APPROVE)?;
    let approve = match status.parse::<WorkflowStatus>() {
        Ok(WorkflowStatus::Approved) => true,
        Ok(WorkflowStatus::Rejected) => false,
        _ => {
            return Err(OpError::invalid(
                "status",
                format!("'{status}' is not one of APPROVED, REJECTED"),
            ))
        }
    };
    if note.is_some_and(|n| n.chars().count() > 1024) {
        return Err(OpError::invalid(
            "description",
            "must have at most 1024 characters",
        ));
    }
    let mut tx = services.store.begin().await?;
    let mut workflow = tx.pending_workflow(&actor.tenant, workflow_id).await?;
    match workflow.workflow_type {
        WorkflowType::ApplicationCreation => {
            let mut app = tx.application(&actor.tenant, &workflow.reference).await?;
            app.status = if approve {
                ApplicationStatus::Approved
            } else {
                ApplicationStatus::Rejected
            };
            app.updated_time = tollgate_model::now_millis();
            tx.set_application_status(&app.id, app.status).await?;
            tx.apply(&Change::UpdateApplication(app)).await?;
        }
        WorkflowType::SubscriptionCreation => {
            let mut subscription = tx.subscription(&actor.tenant, &workflow.reference).await?;
            if subscription.status != SubscriptionStatus::OnHold {
                return Err(OpError::Conflict(format!(
                    "The subscription is {} now, no longer waiting for approval",
                    subscription.status
                )));
            }
            subscription.status = if approve {
                SubscriptionStatus::Unblocked
            } else {
                SubscriptionStatus::Rejected
            };
            tx.apply(&Change::UpdateSubscription(subscription)).await?;
        }
        WorkflowType::SubscriptionUpdate => {
            let mut subscription = tx.subscription(&actor.tenant, &workflow.reference).await?;
            if approve {
                if let Some(tier) = workflow.properties["requestedTier"].as_str() {
                    subscription.throttling_policy = tier.to_string();
                }
            }
            // Back to where it was before the request (a block made meanwhile stays).
            if subscription.status == SubscriptionStatus::TierUpdatePending {
                subscription.status = workflow.properties["previousStatus"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(SubscriptionStatus::Unblocked);
            }
            tx.apply(&Change::UpdateSubscription(subscription)).await?;
        }
    }
    workflow.status = if approve {
        WorkflowStatus::Approved
    } else {
        WorkflowStatus::Rejected
    };
    workflow.updated_time = tollgate_model::now_millis();
    workflow.decided_by = Some(actor.username.clone());
    workflow.decision_note = note.map(str::to_string);
    tx.decide_workflow(&workflow).await?;
    tx.commit().await?;
    tracing::info!(workflow = %workflow.id, status = workflow.status.as_str(), by = %actor.username, "workflow decided");
    Ok(workflow)
}

/// The properties a tier change records: the tier asked for and the state to return to.
pub(crate) fn tier_change(requested: &str, previous: SubscriptionStatus) -> Value {
    json!({"requestedTier": requested, "previousStatus": previous.as_str()})
}
