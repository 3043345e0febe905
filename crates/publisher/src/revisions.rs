//! Revisions and deployments.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use tollgate_operations::publisher::revisions::{self as ops, DeploymentTarget};
use tollgate_restcore::{
    from_value, list_body, parse_json, required, ApiError, Ctx, Principal, QueryParams,
};

use crate::wire::{api_json, deployment_json, deployment_status_json, revision_json};

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (revisions, deployments) = ops::list_revisions(&ctx, &principal, &api_id).await?;
    let list = revisions
        .iter()
        .map(|r| revision_json(r, &deployments))
        .collect();
    Ok(list_body(list, None))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((api_id, revision_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (revision, deployments) =
        ops::get_revision(&ctx, &principal, &api_id, &revision_id).await?;
    Ok(Json(revision_json(&revision, &deployments)))
}

#[derive(Deserialize, Default)]
struct RevisionInput {
    #[serde(default)]
    description: Option<String>,
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // WSO2's clients may send no body at all.
    let input: RevisionInput = if body.iter().all(u8::is_ascii_whitespace) {
        RevisionInput::default()
    } else {
        parse_json(&body)?
    };
    let revision =
        ops::create_revision(&ctx, &principal, &api_id, input.description.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(revision_json(&revision, &[]))).into_response())
}

/// Deletes a revision; answers with the revisions left, as WSO2 does.
pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path((api_id, revision_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    ops::delete_revision(&ctx, &principal, &api_id, &revision_id).await?;
    let (revisions, deployments) = ops::list_revisions(&ctx, &principal, &api_id).await?;
    let list = revisions
        .iter()
        .map(|r| revision_json(r, &deployments))
        .collect();
    Ok(list_body(list, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RevisionQuery {
    revision_id: Option<String>,
    #[serde(default)]
    all_environments: bool,
}

pub(crate) async fn restore(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    QueryParams(q): QueryParams<RevisionQuery>,
) -> Result<Response, ApiError> {
    let revision_id = required("revisionId", q.revision_id)?;
    let api = ops::restore_revision(&ctx, &principal, &api_id, &revision_id).await?;
    Ok((StatusCode::CREATED, Json(api_json(&api))).into_response())
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

pub(crate) async fn deploy(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    QueryParams(q): QueryParams<RevisionQuery>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let revision_id = required("revisionId", q.revision_id)?;
    let inputs: Vec<DeploymentInput> = from_value(&parse_json::<Value>(&body)?)?;
    let targets: Vec<DeploymentTarget> = inputs
        .into_iter()
        .map(|t| DeploymentTarget {
            environment: t.name,
            vhost: t.vhost,
            display_on_devportal: t.display_on_devportal.unwrap_or(true),
        })
        .collect();
    let deployed = ops::deploy_revision(&ctx, &principal, &api_id, &revision_id, &targets).await?;
    Ok(Json(Value::Array(
        deployed.iter().map(deployment_json).collect(),
    )))
}

#[derive(Deserialize)]
struct UndeployTarget {
    name: String,
}

/// Takes a revision off gateway environments: gateways stop serving the API there.
pub(crate) async fn undeploy(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    QueryParams(q): QueryParams<RevisionQuery>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let revision_id = required("revisionId", q.revision_id)?;
    let environments: Option<Vec<String>> = if q.all_environments {
        None
    } else {
        let targets: Vec<UndeployTarget> = from_value(&parse_json::<Value>(&body)?)?;
        Some(targets.into_iter().map(|t| t.name).collect())
    };
    ops::undeploy_revision(
        &ctx,
        &principal,
        &api_id,
        &revision_id,
        environments.as_deref(),
    )
    .await?;
    Ok(StatusCode::CREATED)
}

pub(crate) async fn deployments(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let deployments = ops::deployments(&ctx, &principal, &api_id).await?;
    Ok(list_body(
        deployments.iter().map(deployment_status_json).collect(),
        None,
    ))
}
