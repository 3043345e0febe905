//! `/workflows`: what waits for approval, and the decision (`/workflows/update-workflow-status`).

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::devportal::workflows as ops;
use tollgate_restcore::Paged;
use tollgate_restcore::{listed_body, ApiError, Ctx, JsonBody, Principal, QueryParams};
use tollgate_store::WorkflowRow;

/// WSO2's `WorkflowInfo`, with times as WSO2 writes them.
fn workflow_json(workflow: &WorkflowRow) -> Value {
    json!({
        "workflowType": workflow.workflow_type.display_name(),
        "workflowStatus": workflow.status,
        "createdTime": tollgate_restcore::rfc3339(workflow.created_time),
        "updatedTime": tollgate_restcore::rfc3339(workflow.updated_time),
        "referenceId": workflow.id,
        "properties": workflow.properties,
        "description": workflow.description,
    })
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(rename = "workflowType")]
    workflow_type: Option<String>,
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<ListQuery>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let listed = ops::pending(&ctx, &principal, q.workflow_type.as_deref(), page).await?;
    Ok(listed_body(&listed, workflow_json))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(workflow_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(workflow_json(
        &ops::get(&ctx, &principal, &workflow_id).await?,
    )))
}

#[derive(Deserialize)]
pub(crate) struct DecisionQuery {
    #[serde(rename = "workflowReferenceId")]
    workflow_reference_id: Option<String>,
}

/// WSO2's `Workflow`.
#[derive(Deserialize)]
pub(crate) struct DecisionInput {
    status: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    attributes: Option<Value>,
}

pub(crate) async fn decide(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(q): QueryParams<DecisionQuery>,
    JsonBody(input): JsonBody<DecisionInput>,
) -> Result<Json<Value>, ApiError> {
    let workflow_id = q
        .workflow_reference_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_field("workflowReferenceId", "is required"))?;
    let decided = ops::decide(
        &ctx,
        &principal,
        &workflow_id,
        &input.status,
        input.description.as_deref(),
    )
    .await?;
    Ok(Json(json!({
        "status": decided.status,
        "attributes": {},
        "description": decided.decision_note.clone().unwrap_or_default(),
    })))
}
