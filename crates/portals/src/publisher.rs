//! The publisher's pages: the list of APIs (with WSO2's search).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tollgate_operations::publisher::apis::{self, ApiListing};
use tollgate_operations::Page;
use tollgate_restcore::Ctx;

use crate::pages::{render, Chrome, PageError, Portal};
use crate::session::Visitor;
use crate::signed_in_or_login;

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    query: Option<String>,
}

/// One API as the publisher's list shows it.
pub(crate) struct Row {
    pub id: String,
    pub name: String,
    pub version: String,
    pub context: String,
    pub provider: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "publisher_apis.html")]
struct ApisPage {
    page: Chrome,
    query: String,
    rows: Vec<Row>,
    total: i64,
}

pub(crate) async fn apis(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::Publisher) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let query = q.query.unwrap_or_default();
    let listing = ApiListing {
        query: Some(query.clone()).filter(|q| !q.is_empty()),
        ..ApiListing::default()
    };
    let listed = apis::list_apis(
        &ctx,
        &signed_in.actor,
        &listing,
        Page::new(Some(100), Some(0))?,
    )
    .await?;
    Ok(render(&ApisPage {
        page: Chrome::new(Some(Portal::Publisher), "APIs", &visitor),
        rows: listed
            .items
            .iter()
            .map(|api| Row {
                id: api.id.clone(),
                name: api.name.clone(),
                version: api.version.clone(),
                context: api.context.clone(),
                provider: api.provider.clone(),
                status: api.lifecycle_status.display_name().to_string(),
            })
            .collect(),
        total: listed.total,
        query,
    }))
}

#[derive(Template)]
#[template(path = "publisher_api.html")]
struct ApiPage {
    page: Chrome,
    row: Row,
    id: String,
    description: String,
    /// The lifecycle actions allowed from the API's state (WSO2's names).
    actions: Vec<&'static str>,
    history: Vec<(String, String, String)>,
}

pub(crate) async fn api(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    axum::extract::Path(api_id): axum::extract::Path<String>,
) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::Publisher) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let api = apis::get_api(&ctx, &signed_in.actor, &api_id).await?;
    let history = tollgate_operations::publisher::lifecycle::lifecycle_history(
        &ctx,
        &signed_in.actor,
        &api_id,
    )
    .await?
    .into_iter()
    .map(|event| {
        (
            tollgate_restcore::rfc3339(event.time),
            event.new_state.display_name().to_string(),
            event.username,
        )
    })
    .collect();
    Ok(render(&ApiPage {
        page: Chrome::new(Some(Portal::Publisher), api.name.clone(), &visitor),
        actions: api
            .lifecycle_status
            .actions()
            .iter()
            .map(|a| a.as_str())
            .collect(),
        id: api.id.clone(),
        description: api.description.clone(),
        row: Row {
            id: api.id.clone(),
            name: api.name.clone(),
            version: api.version.clone(),
            context: api.context.clone(),
            provider: api.provider.clone(),
            status: api.lifecycle_status.display_name().to_string(),
        },
        history,
    }))
}

#[derive(Deserialize)]
pub(crate) struct LifecycleForm {
    #[serde(default)]
    csrf: String,
    action: String,
}

/// A lifecycle button: the operation refuses what the state does not allow.
pub(crate) async fn change_lifecycle(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    axum::extract::Path(api_id): axum::extract::Path<String>,
    axum::Form(form): axum::Form<LifecycleForm>,
) -> Result<Response, PageError> {
    use tollgate_operations::publisher::lifecycle::{self, Checklist};
    let signed_in = match signed_in_or_login(&visitor, Portal::Publisher) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    crate::session::require_csrf(&signed_in, &form.csrf)?;
    let action = form.action.parse().map_err(|_| {
        PageError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "Unknown lifecycle action",
        )
    })?;
    lifecycle::change_lifecycle(
        &ctx,
        &signed_in.actor,
        &api_id,
        action,
        Checklist::default(),
    )
    .await?;
    Ok(axum::response::Redirect::to(&format!("/publisher/apis/{api_id}")).into_response())
}
