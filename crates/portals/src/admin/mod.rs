//! The admin portal's pages: approvals waiting for a decision and the throttling tiers here;
//! users and roles, and the settings (a tier's page, gateway environments, key managers,
//! signing keys), in their modules.

pub(crate) mod settings;
pub(crate) mod users;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tollgate_operations::devportal::workflows;
use tollgate_operations::Page;
use tollgate_restcore::Ctx;

use crate::pages::{render, render_form, Chrome, FormErrors, PageError};
use crate::session::Administrator;

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
    admin: Administrator,
) -> Result<Response, PageError> {
    let listed =
        workflows::pending(&ctx, admin.actor(), None, Page::new(Some(100), Some(0))?).await?;
    Ok(render(&ApprovalsPage {
        page: admin.chrome("Approvals"),
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
    admin: Administrator,
    Path(workflow_id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    admin.check_token(&form.csrf)?;
    workflows::decide(
        &ctx,
        admin.actor(),
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
    errors: FormErrors,
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
    admin: &Administrator,
    form: TierForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    use tollgate_model::PolicyLevel;
    use tollgate_operations::admin::tiers;
    let mut rows = Vec::new();
    for (level, label) in [
        (PolicyLevel::Subscription, "Subscription"),
        (PolicyLevel::Application, "Application"),
    ] {
        for tier in tiers::list_tiers(ctx, admin.actor(), level).await? {
            rows.push(TierRow {
                id: tier.id.clone(),
                level: label,
                slug: level.as_str(),
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
    let page = TiersPage {
        page: admin.chrome("Throttling tiers"),
        tiers: rows,
        form,
        errors: errors.clone(),
    };
    Ok(render_form(&page, &errors))
}

pub(crate) async fn tiers(
    State(ctx): State<Ctx>,
    admin: Administrator,
) -> Result<Response, PageError> {
    let form = TierForm {
        level: "subscription".into(),
        unit_time: "1".into(),
        time_unit: "min".into(),
        ..TierForm::default()
    };
    tiers_page(&ctx, &admin, form, FormErrors::default()).await
}

pub(crate) async fn create_tier(
    State(ctx): State<Ctx>,
    admin: Administrator,
    Form(form): Form<TierForm>,
) -> Result<Response, PageError> {
    use tollgate_model::PolicyLevel;
    use tollgate_operations::admin::tiers::{self, TierInput};
    admin.check_token(&form.csrf)?;
    let mut errors = FormErrors::default();
    let level = match form.level.parse::<PolicyLevel>() {
        Ok(level) if level != PolicyLevel::Api => level,
        _ => {
            errors
                .fields
                .push(("level".into(), "choose subscription or application".into()));
            PolicyLevel::Subscription
        }
    };
    let number = |field: &str, text: &str, errors: &mut FormErrors| {
        text.trim().parse::<i64>().map_err(|_| {
            errors
                .fields
                .push((field.to_string(), "must be a whole number".into()));
        })
    };
    let count = number("requestCount", &form.request_count, &mut errors);
    let unit = number("unitTime", &form.unit_time, &mut errors);
    let (Ok(count), Ok(unit), true) = (count, unit, errors.is_empty()) else {
        return tiers_page(&ctx, &admin, form, errors).await;
    };
    let input = TierInput {
        name: form.name.clone(),
        display_name: None,
        description: Some(form.description.clone()).filter(|d| !d.trim().is_empty()),
        limit_type: tollgate_model::LimitType::RequestCount,
        request_count: Some((count, unit, form.time_unit.clone())),
    };
    match tiers::create_tier(&ctx, admin.actor(), level, input).await {
        Ok(_) => Ok(Redirect::to("/admin/tiers").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(
                err,
                &[
                    "policyName",
                    "requestCount",
                    "unitTime",
                    "timeUnit",
                    "description",
                ],
            )?;
            tiers_page(&ctx, &admin, form, errors).await
        }
    }
}
