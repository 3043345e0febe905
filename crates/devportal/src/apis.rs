use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use tollgate_model::SUPER_TENANT;
use tollgate_restcore::{list_body, ApiError, Ctx, Paging, QueryParams};
use tollgate_store::{ApiRow, ApiSearch};

pub(crate) fn api_info(api: &ApiRow) -> Value {
    let tiers: Vec<Value> = api
        .definition
        .get("policies")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .map(|t| json!({"tierName": t, "tierPlan": "FREE"}))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": api.id,
        "name": api.name,
        "description": api.definition.get("description").cloned().unwrap_or(Value::Null),
        "context": api.context,
        "version": api.version,
        "type": api.api_type,
        "provider": api.provider,
        "lifeCycleStatus": api.lifecycle_status,
        "throttlingPolicies": api.definition.get("policies").cloned().unwrap_or(json!([])),
        "tiers": tiers,
        "createdTime": api.created_time.to_string(),
        "isSubscriptionAvailable": true,
    })
}

/// The Developer Portal's API listing is public, as in WSO2 (anonymous callers see the super tenant).
pub(crate) async fn list(
    State(ctx): State<Ctx>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, ApiError> {
    let paging = paging.validate()?;
    let search = ApiSearch {
        states: Some(
            tollgate_model::LifecycleState::ALL
                .iter()
                .copied()
                .filter(|s| s.is_visible_to_consumers())
                .collect(),
        ),
        ..ApiSearch::default()
    };
    let (apis, total) = ctx
        .store
        .search_apis(SUPER_TENANT, &search, paging.limit, paging.offset)
        .await?;
    let list: Vec<Value> = apis.iter().map(api_info).collect();
    Ok(list_body(list, Some((paging, total))))
}

pub(crate) async fn get(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let api = ctx.store.api(SUPER_TENANT, &api_id).await?;
    if !api.lifecycle_status.is_visible_to_consumers() {
        return Err(ApiError::not_found(format!(
            "Requested API {api_id} not found"
        )));
    }
    Ok(Json(api_info(&api)))
}
