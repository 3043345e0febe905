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
