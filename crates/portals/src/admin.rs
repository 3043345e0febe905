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
use crate::session::Visitor;
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
                created: crate::pages::when(w.created_time),
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
    crate::session::require_csrf(&signed_in, &form.csrf)?;
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

/// A tier as the admin's list shows it.
pub(crate) struct TierRow {
    pub id: String,
    pub level: &'static str,
    /// The level as the tier's page URL names it.
    pub slug: &'static str,
    pub name: String,
    pub description: String,
    pub limit: String,
}

#[derive(Template)]
#[template(path = "admin_tiers.html")]
struct TiersPage {
    page: Chrome,
    tiers: Vec<TierRow>,
    form: TierForm,
    errors: crate::pages::FormErrors,
}

#[derive(Deserialize, Default)]
pub(crate) struct TierForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    request_count: String,
    #[serde(default)]
    unit_time: String,
    #[serde(default)]
    time_unit: String,
}

async fn tiers_page(
    ctx: &Ctx,
    visitor: &Visitor,
    actor: &tollgate_operations::Actor,
    form: TierForm,
    errors: crate::pages::FormErrors,
) -> Result<Response, PageError> {
    use tollgate_model::PolicyLevel;
    use tollgate_operations::admin::tiers;
    let mut rows = Vec::new();
    for (level, label, slug) in [
        (PolicyLevel::Subscription, "Subscription", "subscription"),
        (PolicyLevel::Application, "Application", "application"),
    ] {
        for tier in tiers::list_tiers(ctx, actor, level).await? {
            rows.push(TierRow {
                id: tier.id.clone(),
                level: label,
                slug,
                limit: match tier.request_count {
                    Some(count) => format!(
                        "{count} requests per {} {}",
                        tier.unit_time,
                        tier.time_unit.as_str()
                    ),
                    None => "Unlimited".into(),
                },
                name: tier.name,
                description: tier.description,
            });
        }
    }
    let failed = !errors.fields.is_empty() || !errors.general.is_empty();
    let mut response = render(&TiersPage {
        page: Chrome::new(Some(Portal::Admin), "Throttling tiers", visitor),
        tiers: rows,
        form,
        errors,
    });
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub(crate) async fn tiers(State(ctx): State<Ctx>, visitor: Visitor) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::Admin) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let form = TierForm {
        level: "subscription".into(),
        unit_time: "1".into(),
        time_unit: "min".into(),
        ..TierForm::default()
    };
    tiers_page(&ctx, &visitor, &signed_in.actor, form, Default::default()).await
}

pub(crate) async fn create_tier(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Form(form): Form<TierForm>,
) -> Result<Response, PageError> {
    use tollgate_model::PolicyLevel;
    use tollgate_operations::admin::tiers::{self, TierInput};
    let signed_in = match signed_in_or_login(&visitor, Portal::Admin) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    crate::session::require_csrf(&signed_in, &form.csrf)?;
    let mut errors = crate::pages::FormErrors::default();
    let level = match form.level.parse::<PolicyLevel>() {
        Ok(level) if level != PolicyLevel::Api => level,
        _ => {
            errors
                .fields
                .push(("level".into(), "choose subscription or application".into()));
            PolicyLevel::Subscription
        }
    };
    let number = |field: &str, text: &str, errors: &mut crate::pages::FormErrors| {
        text.trim().parse::<i64>().map_err(|_| {
            errors
                .fields
                .push((field.to_string(), "must be a whole number".into()));
        })
    };
    let count = number("requestCount", &form.request_count, &mut errors);
    let unit = number("unitTime", &form.unit_time, &mut errors);
    let (Ok(count), Ok(unit), true) = (count, unit, errors.is_empty()) else {
        return tiers_page(&ctx, &visitor, &signed_in.actor, form, errors).await;
    };
    let input = TierInput {
        name: form.name.clone(),
        display_name: None,
        description: Some(form.description.clone()).filter(|d| !d.trim().is_empty()),
        limit_type: tollgate_model::LimitType::RequestCount,
        request_count: Some((count, unit, form.time_unit.clone())),
    };
    match tiers::create_tier(&ctx, &signed_in.actor, level, input).await {
        Ok(_) => Ok(Redirect::to("/admin/tiers").into_response()),
        Err(err) => {
            let errors = crate::pages::FormErrors::from_op(
                err,
                &[
                    "policyName",
                    "requestCount",
                    "unitTime",
                    "timeUnit",
                    "description",
                ],
            )?;
            tiers_page(&ctx, &visitor, &signed_in.actor, form, errors).await
        }
    }
}
