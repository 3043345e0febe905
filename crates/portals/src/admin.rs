//! The admin portal's pages: approvals waiting for a decision.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tollgate_operations::devportal::workflows;
use tollgate_operations::Page;
use tollgate_restcore::Ctx;

use crate::pages::{render, Chrome, PageError, Portal};
use crate::session::{csrf_ok, Visitor};
use crate::signed_in_or_login;

/// One pending approval as the page lists it.
pub(crate) struct Pending {
    pub id: String,
    pub kind: &'static str,
    pub description: String,
    pub requested_by: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin_approvals.html")]
struct ApprovalsPage {
    page: Chrome,
    pending: Vec<Pending>,
}

pub(crate) async fn approvals(
    State(ctx): State<Ctx>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::Admin) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let listed =
        workflows::pending(&ctx, &signed_in.actor, None, Page::new(Some(100), Some(0))?).await?;
    Ok(render(&ApprovalsPage {
        page: Chrome::new(Some(Portal::Admin), "Approvals", &visitor),
        pending: listed
            .items
            .iter()
            .map(|w| Pending {
                id: w.id.clone(),
                kind: w.workflow_type.display_name(),
                description: w.description.clone(),
                requested_by: w.created_by.clone(),
                created: tollgate_restcore::rfc3339(w.created_time),
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    note: Option<String>,
}

pub(crate) async fn decide(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(workflow_id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::Admin) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    if !csrf_ok(&signed_in, &form.csrf) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "The form expired; reload the page and try again.",
        ));
    }
    workflows::decide(
        &ctx,
        &signed_in.actor,
        &workflow_id,
        &form.decision,
        form.note.as_deref().filter(|n| !n.is_empty()),
    )
    .await?;
    Ok(Redirect::to("/admin").into_response())
}
