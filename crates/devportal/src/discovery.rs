//! Discovery: `GET /apis` (with WSO2's `query`), an API, its definition with the gateway URLs,
//! documents, thumbnail, tiers, `/tags` and `/search`. Open to anonymous visitors where the
//! configuration allows it; a signed-in caller sees what their roles allow.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::devportal::discovery::{self as ops, EndpointUrls, SearchHit, Viewer};
use tollgate_restcore::Paged;
use tollgate_restcore::{listed_body, served_content, ApiError, Ctx, MaybePrincipal, QueryParams};
use tollgate_store::{ApiRow, DocumentRow};

/// The viewer behind a request: the signed-in caller, or an anonymous visitor.
pub(crate) async fn viewer(ctx: &Ctx, caller: &MaybePrincipal) -> Result<Viewer, ApiError> {
    Ok(match &caller.0 {
        Some(actor) => Viewer::signed_in(ctx, actor).await?,
        None => Viewer::anonymous(ctx)?,
    })
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    query: Option<String>,
}

/// `value` without its null fields: WSO2's schemas type optional fields, absent rather than null.
pub(crate) fn without_nulls(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    value
}

/// WSO2's `APIInfo`, as lists show an API.
pub(crate) fn api_info(api: &ApiRow) -> Value {
    let pick = |k: &str| api.definition.get(k).cloned().unwrap_or(Value::Null);
    without_nulls(json!({
        "id": api.id,
        "name": api.name,
        "description": api.description,
        "context": api.context,
        "version": api.version,
        "type": api.api_type,
        "provider": api.provider,
        "lifeCycleStatus": api.lifecycle_status,
        "thumbnailUri": api.has_thumbnail.then(|| format!("/apis/{}/thumbnail", api.id)),
        "throttlingPolicies": pick("policies"),
        "tiers": tiers(api),
        "businessInformation": pick("businessInformation"),
        "isSubscriptionAvailable": true,
        "createdTime": api.created_time.to_string(),
    }))
}

fn tiers(api: &ApiRow) -> Vec<Value> {
    api.definition
        .get("policies")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .map(|t| json!({"tierName": t, "tierPlan": "FREE"}))
                .collect()
        })
        .unwrap_or_default()
}

fn with_rating(mut info: Value, rating: Option<f64>) -> Value {
    if let (Some(object), Some(rating)) = (info.as_object_mut(), rating) {
        object.insert("avgRating".into(), json!(format!("{rating:.1}")));
    }
    info
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    QueryParams(q): QueryParams<ListQuery>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let listed = ops::list_apis(&ctx, &viewer, q.query.as_deref(), page).await?;
    let ratings = ops::average_ratings(&ctx, &listed.items).await?;
    Ok(listed_body(&listed, |api| {
        with_rating(api_info(api), ratings.get(&api.id).copied())
    }))
}

fn endpoint_urls_json(urls: &[EndpointUrls]) -> Vec<Value> {
    urls.iter()
        .map(|u| {
            let defaults = without_nulls(json!({"http": u.default_http, "https": u.default_https}));
            without_nulls(json!({
                "environmentName": u.environment,
                "environmentDisplayName": u.display_name,
                "environmentType": "hybrid",
                "URLs": without_nulls(json!({"http": u.http, "https": u.https})),
                "defaultVersionURLs": (defaults.as_object().is_some_and(|d| !d.is_empty())).then_some(defaults),
            }))
        })
        .collect()
}

/// WSO2's Developer Portal `API`.
pub(crate) async fn get(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let detail = ops::api_detail(&ctx, &viewer, &api_id).await?;
    let (api, definition) = (&detail.api, &detail.definition);
    let operations: Vec<Value> = definition
        .operations
        .iter()
        .map(|op| {
            json!({
                "id": op.other.get("id").cloned().unwrap_or(json!("")),
                "target": op.target,
                "verb": op.verb,
                "authType": op.auth_type,
                "throttlingPolicy": op.tier(),
                "scopes": op.scopes,
            })
        })
        .collect();
    let body = json!({
        "id": api.id,
        "name": api.name,
        "description": api.description,
        "context": api.context,
        "version": api.version,
        "provider": api.provider,
        "lifeCycleStatus": api.lifecycle_status,
        "isDefaultVersion": api.is_default_version,
        "type": api.api_type,
        "transport": definition.transport,
        "operations": operations,
        "authorizationHeader": definition.authorization_header,
        "securityScheme": definition.security_scheme,
        "tags": api.tags,
        "tiers": tiers(api),
        "hasThumbnail": api.has_thumbnail,
        "additionalProperties": detail.shown_properties(),
        "endpointURLs": endpoint_urls_json(&detail.urls),
        "businessInformation": definition.business_information,
        "environmentList": detail.urls.iter().map(|u| u.environment.clone()).collect::<Vec<_>>(),
        "scopes": [],
        "avgRating": detail.rating.map(|r| format!("{r:.1}")),
        "isSubscriptionAvailable": true,
        "categories": definition.categories,
        "keyManagers": definition.other.get("keyManagers"),
        "createdTime": api.created_time.to_string(),
        "lastUpdatedTime": api.updated_time.to_string(),
        "gatewayVendor": definition.gateway_vendor,
    });
    Ok(Json(without_nulls(body)))
}

#[derive(Deserialize)]
pub(crate) struct SwaggerQuery {
    #[serde(rename = "environmentName")]
    environment_name: Option<String>,
}

pub(crate) async fn swagger(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path(api_id): Path<String>,
    QueryParams(q): QueryParams<SwaggerQuery>,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    Ok(Json(
        ops::definition(&ctx, &viewer, &api_id, q.environment_name.as_deref()).await?,
    ))
}

/// WSO2's Developer Portal `Document`.
fn document_json(doc: &DocumentRow) -> Value {
    json!({
        "documentId": doc.id,
        "name": doc.name,
        "type": doc.doc_type,
        "summary": doc.summary,
        "sourceType": doc.source_type,
        "sourceUrl": doc.source_url.clone().unwrap_or_default(),
        "otherTypeName": doc.other_type_name.clone().unwrap_or_default(),
    })
}

pub(crate) async fn documents(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path(api_id): Path<String>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let listed = ops::documents(&ctx, &viewer, &api_id, page).await?;
    Ok(listed_body(&listed, document_json))
}

pub(crate) async fn document(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let document = ops::document(&ctx, &viewer, &api_id, &document_id).await?;
    Ok(Json(document_json(&document)))
}

pub(crate) async fn document_content(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    served_content(ops::document_content(&ctx, &viewer, &api_id, &document_id).await?)
}

pub(crate) async fn thumbnail(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path(api_id): Path<String>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let image = ops::thumbnail(&ctx, &viewer, &api_id).await?;
    Ok(tollgate_restcore::served_image(
        image.content_type,
        image.content,
    ))
}

pub(crate) async fn subscription_policies(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let policies = ops::subscription_policies(&ctx, &viewer, &api_id).await?;
    Ok(Json(Value::Array(
        policies
            .iter()
            .map(|p| tollgate_restcore::tier_json(p, tollgate_model::PolicyLevel::Subscription))
            .collect(),
    )))
}

pub(crate) async fn tags(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let listed = ops::tags(&ctx, &viewer, page).await?;
    Ok(listed_body(
        &listed,
        |(tag, count)| json!({"value": tag, "count": count}),
    ))
}

pub(crate) async fn search(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    QueryParams(q): QueryParams<ListQuery>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let listed = ops::search(&ctx, &viewer, q.query.as_deref(), page).await?;
    Ok(listed_body(&listed, |hit| match hit {
        SearchHit {
            api,
            document: None,
        } => without_nulls(json!({
            "id": api.id,
            "name": api.name,
            "type": "API",
            "transportType": api.api_type,
            "description": api.description,
            "context": api.context,
            "version": api.version,
            "provider": api.provider,
            "status": api.lifecycle_status,
            "thumbnailUri": api.has_thumbnail.then(|| format!("/apis/{}/thumbnail", api.id)),
            "businessInformation": api.definition.get("businessInformation"),
        })),
        SearchHit {
            api,
            document: Some(doc),
        } => {
            json!({
            "id": doc.id,
            "name": doc.name,
            "type": "DOC",
            "transportType": api.api_type,
            "docType": doc.doc_type,
            "summary": doc.summary,
            "sourceType": doc.source_type,
            "sourceUrl": doc.source_url.clone().unwrap_or_default(),
            "otherTypeName": doc.other_type_name.clone().unwrap_or_default(),
            "visibility": doc.visibility,
            "apiName": api.name,
            "apiVersion": api.version,
            "apiProvider": api.provider,
            "apiUUID": api.id,
            })
        }
    }))
}

/// `GET /apis/{apiId}/sdks/{language}`: SDK generation is not built; WSO2 uses Swagger
/// Codegen (Java). The definition at `/apis/{apiId}/swagger` feeds any generator.
pub(crate) async fn sdk(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path((api_id, language)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    ops::get_api(&ctx, &viewer, &api_id).await?;
    Ok((
        StatusCode::NOT_IMPLEMENTED,
        Json(json!({
            "code": 501,
            "message": "Not Implemented",
            "description": format!("SDK generation ({language}) is not available in Tollgate; generate a client from GET /apis/{api_id}/swagger with any OpenAPI generator"),
            "moreInfo": "",
            "error": [],
        })),
    )
        .into_response())
}

/// `GET /sdk-gen/languages`: none (see [`sdk`]).
pub(crate) async fn sdk_languages() -> Json<Value> {
    Json(json!([]))
}
