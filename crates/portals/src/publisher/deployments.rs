//! An API's revisions and deployments: create a revision, deploy one to gateway environments,
//! undeploy, restore, delete — and each environment's status (how many of its live gateways
//! already serve the deployment).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_operations::publisher::revisions::{self, DeploymentTarget};
use tollgate_operations::publisher::{apis, settings};
use tollgate_restcore::Ctx;

use super::ApiHead;
use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Publisher;

/// A revision and where it is deployed.
pub(crate) struct RevisionLine {
    pub id: String,
    pub number: i64,
    pub description: String,
    pub created: String,
    /// (environment, virtual host, gateways serving it, live gateways of the environment, since)
    pub deployed: Vec<(String, String, usize, usize, String)>,
}

#[derive(Template)]
#[template(path = "publisher_deployments.html")]
struct DeploymentsPage {
    page: Chrome,
    head: ApiHead,
    revisions: Vec<RevisionLine>,
    /// (name, label, virtual hosts: the first is the default)
    environments: Vec<(String, String, Vec<String>)>,
    max_revisions: i64,
    errors: FormErrors,
}

async fn deployments_view(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = publisher.actor();
    let api = apis::get_api(ctx, actor, api_id).await?;
    let (revisions, _) = revisions::list_revisions(ctx, actor, api_id).await?;
    let statuses = revisions::deployments(ctx, actor, api_id).await?;
    let environments = settings::settings(ctx, actor)
        .await?
        .environments
        .into_iter()
        .map(|e| {
            let label = if e.display_name.is_empty() {
                e.name.clone()
            } else {
                e.display_name.clone()
            };
            let hosts = e.vhosts.into_iter().map(|v| v.host).collect();
            (e.name, label, hosts)
        })
        .collect();
    Ok(render_form(
        &DeploymentsPage {
            page: publisher.chrome(format!("{} · Deployments", api.name)),
            head: ApiHead::new(&api, "/deployments"),
            revisions: revisions
                .into_iter()
                .map(|r| RevisionLine {
                    deployed: statuses
                        .iter()
                        .filter(|s| s.deployment.revision_id == r.id)
                        .map(|s| {
                            (
                                s.deployment.environment.clone(),
                                s.deployment.vhost.clone(),
                                s.applied_gateways,
                                s.live_gateways,
                                crate::pages::when(s.deployment.deployed_time),
                            )
                        })
                        .collect(),
                    id: r.id,
                    number: r.number,
                    description: r.description,
                    created: crate::pages::when(r.created_time),
                })
                .collect(),
            environments,
            max_revisions: revisions::MAX_REVISIONS,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn deployments_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    deployments_view(&ctx, &publisher, &api_id, FormErrors::default()).await
}

/// Every revision button posts here with `action`: create, deploy, undeploy, restore, delete.
pub(crate) async fn revision_action(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let actor = publisher.actor();
    let revision = form.get("revision_id");
    let result = match form.get("action") {
        "create" => {
            revisions::create_revision(&ctx, actor, &api_id, form.some("description").as_deref())
                .await
                .map(|_| ())
        }
        "deploy" => {
            let targets: Vec<DeploymentTarget> = form
                .all("environment")
                .into_iter()
                .map(|environment| DeploymentTarget {
                    // Where the environment has several, the one chosen beside it.
                    vhost: form.some(&format!("vhost_{environment}")),
                    environment,
                    display_on_devportal: form.ticked("display_on_devportal"),
                })
                .collect();
            if targets.is_empty() {
                Err(tollgate_operations::OpError::invalid(
                    "environment",
                    "choose at least one environment",
                ))
            } else {
                revisions::deploy_revision(&ctx, actor, &api_id, revision, &targets)
                    .await
                    .map(|_| ())
            }
        }
        "undeploy" => {
            let environments = form.all("environment");
            revisions::undeploy_revision(&ctx, actor, &api_id, revision, Some(&environments)).await
        }
        "restore" => revisions::restore_revision(&ctx, actor, &api_id, revision)
            .await
            .map(|_| ()),
        "delete" => revisions::delete_revision(&ctx, actor, &api_id, revision).await,
        _ => return Err(PageError::new(StatusCode::BAD_REQUEST, "Unknown action")),
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/publisher/apis/{api_id}/deployments")).into_response())
        }
        Err(err) => {
            let errors = FormErrors::from_op(err, &["description", "environment"])?;
            deployments_view(&ctx, &publisher, &api_id, errors).await
        }
    }
}
