//! Approval workflows: a change held back until an administrator decides (WSO2's
//! `AM_WORKFLOWS`). The change itself is already stored, in a state gateways do not honour
//! (an application `CREATED`, a subscription `ON_HOLD`); the workflow row says what waits.

use sqlx::any::AnyRow;
use tollgate_model::{WorkflowStatus, WorkflowType};

use crate::db::{col, name_col};
use crate::{ApimTx, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRow {
    pub id: String,
    pub tenant: String,
    pub workflow_type: WorkflowType,
    pub status: WorkflowStatus,
    /// The application or subscription it holds back.
    pub reference: String,
    pub description: String,
    /// What the request asks for, e.g. `{"requestedTier": "Gold"}`.
    pub properties: serde_json::Value,
    pub created_by: String,
    pub created_time: i64,
    pub updated_time: i64,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
}

const WORKFLOW_COLUMNS: &str = "workflow_id, tenant, workflow_type, status, reference, description, properties, created_by, created_time, updated_time, decided_by, decision_note";

fn workflow_from(row: &AnyRow) -> Result<WorkflowRow> {
    Ok(WorkflowRow {
        id: col(row, "workflow_id")?,
        tenant: col(row, "tenant")?,
        workflow_type: name_col(row, "workflow_type")?,
        status: name_col(row, "status")?,
        reference: col(row, "reference")?,
        description: col(row, "description")?,
        properties: serde_json::from_str(&col::<String>(row, "properties")?)?,
        created_by: col(row, "created_by")?,
        created_time: col(row, "created_time")?,
        updated_time: col(row, "updated_time")?,
        decided_by: col(row, "decided_by")?,
        decision_note: col(row, "decision_note")?,
    })
}

impl ApimTx {
    pub async fn insert_workflow(&mut self, workflow: &WorkflowRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_workflow ({WORKFLOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&workflow.id)
        .bind(&workflow.tenant)
        .bind(workflow.workflow_type.as_str())
        .bind(workflow.status.as_str())
        .bind(&workflow.reference)
        .bind(&workflow.description)
        .bind(workflow.properties.to_string())
        .bind(&workflow.created_by)
        .bind(workflow.created_time)
        .bind(workflow.updated_time)
        .bind(workflow.decided_by.as_deref())
        .bind(workflow.decision_note.as_deref())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// A pending workflow, read for a decision in this transaction.
    pub async fn pending_workflow(
        &mut self,
        tenant: &str,
        workflow_id: &str,
    ) -> Result<WorkflowRow> {
        let row = sqlx::query(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM am_workflow WHERE tenant = $1 AND workflow_id = $2 AND status = 'CREATED'"
        ))
        .bind(tenant)
        .bind(workflow_id)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("pending workflow {workflow_id}")))?;
        workflow_from(&row)
    }

    /// Records a decision on a pending workflow; [`StoreError::Conflict`] when it was decided
    /// meanwhile.
    pub async fn decide_workflow(&mut self, workflow: &WorkflowRow) -> Result<()> {
        let decided = sqlx::query(
            "UPDATE am_workflow SET status = $1, updated_time = $2, decided_by = $3, decision_note = $4 WHERE workflow_id = $5 AND status = 'CREATED'",
        )
        .bind(workflow.status.as_str())
        .bind(workflow.updated_time)
        .bind(workflow.decided_by.as_deref())
        .bind(workflow.decision_note.as_deref())
        .bind(&workflow.id)
        .execute(self.conn())
        .await?;
        if decided.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!(
                "workflow {} was decided meanwhile",
                workflow.id
            )));
        }
        Ok(())
    }

    /// Withdraws what still waits for an application or any of its subscriptions (it is being
    /// deleted).
    pub(crate) async fn withdraw_application_workflows(
        &mut self,
        application_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM am_workflow WHERE status = 'CREATED' AND (reference = $1 OR reference IN (SELECT subscription_id FROM am_subscription WHERE application_id = $1))",
        )
        .bind(application_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Withdraws what still waits for `reference` (an application or subscription removed).
    pub(crate) async fn withdraw_workflows(&mut self, reference: &str) -> Result<()> {
        sqlx::query("DELETE FROM am_workflow WHERE reference = $1 AND status = 'CREATED'")
            .bind(reference)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// What waits for `reference`, if anything.
    pub async fn pending_workflow_of(&mut self, reference: &str) -> Result<Option<WorkflowRow>> {
        sqlx::query(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM am_workflow WHERE reference = $1 AND status = 'CREATED'"
        ))
        .bind(reference)
        .fetch_optional(self.conn())
        .await?
        .as_ref()
        .map(workflow_from)
        .transpose()
    }
}

impl Store {
    /// Pending workflows of a tenant (of one type, when given), oldest first.
    pub async fn pending_workflows(
        &self,
        tenant: &str,
        workflow_type: Option<WorkflowType>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<WorkflowRow>, i64)> {
        let kind = workflow_type.map(WorkflowType::as_str).unwrap_or("");
        let filter = "tenant = $1 AND status = 'CREATED' AND ($2 = '' OR workflow_type = $2)";
        let total: i64 = col(
            &sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM am_workflow WHERE {filter}"
            ))
            .bind(tenant)
            .bind(kind)
            .fetch_one(self.apim())
            .await?,
            "n",
        )?;
        let rows = sqlx::query(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM am_workflow WHERE {filter} ORDER BY created_time, workflow_id LIMIT $3 OFFSET $4"
        ))
        .bind(tenant)
        .bind(kind)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(workflow_from)
        .collect::<Result<Vec<_>>>()?;
        Ok((rows, total))
    }

    pub async fn workflow(&self, tenant: &str, workflow_id: &str) -> Result<WorkflowRow> {
        let row = sqlx::query(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM am_workflow WHERE tenant = $1 AND workflow_id = $2"
        ))
        .bind(tenant)
        .bind(workflow_id)
        .fetch_optional(self.apim())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("workflow {workflow_id}")))?;
        workflow_from(&row)
    }
}
