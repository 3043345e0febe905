//! An API's page in the developer portal: what it is, where it is served, its operations and
//! documents, subscribing, "try it", ratings and comments. The actions on it (a try, a rating,
//! a comment) show the page again with their [`Extras`].

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use tollgate_operations::devportal::discovery::{self, EndpointUrls};
use tollgate_operations::{OpError, Page};
use tollgate_restcore::Ctx;
use tollgate_store::DocumentRow;

use super::catalogue::{viewer, Card};
use crate::comments::CommentLine;
use crate::pages::{Chrome, FormErrors, PageError, Portal};
use crate::session::Visitor;

/// What "try it" got back from the gateway.
pub(crate) struct TryResult {
    pub request: String,
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// What the form was filled with, to show it again.
    pub sent: TriedWith,
}

/// The "try it" form as it was sent.
#[derive(Clone, Default)]
pub(crate) struct TriedWith {
    pub application_id: String,
    pub operation: String,
    pub path: String,
    pub body: String,
}

/// One resource of an API, as its page lists it.
pub(crate) struct Resource {
    pub verb: String,
    pub target: String,
    pub secured: bool,
}

impl Resource {
    /// How "try it" names the operation.
    pub fn label(&self) -> String {
        format!("{} {}", self.verb, self.target)
    }
}

#[derive(Template)]
#[template(path = "devportal_api.html")]
struct ApiPage {
    page: Chrome,
    api: Card,
    context: String,
    status: String,
    urls: Vec<EndpointUrls>,
    resources: Vec<Resource>,
    documents: Vec<DocumentRow>,
    tiers: Vec<String>,
    /// The signed-in user's applications (id, name), to subscribe with.
    applications: Vec<(String, String)>,
    tried: Option<TryResult>,
    /// Average rating (one decimal), how many rated, and the visitor's own rating.
    average: String,
    ratings: i64,
    own_rating: Option<i64>,
    comments: Vec<CommentLine>,
    feedback_errors: FormErrors,
}

impl ApiPage {
    fn rated(&self, stars: &i64) -> bool {
        self.own_rating == Some(*stars)
    }

    /// The "try it" form as last sent (empty before).
    fn tried_with(&self) -> TriedWith {
        self.tried
            .as_ref()
            .map_or_else(Default::default, |t| t.sent.clone())
    }
}

/// What an action on the page shows with it.
#[derive(Default)]
pub(crate) struct Extras {
    /// What "try it" just got back.
    pub tried: Option<TryResult>,
    /// The problems of a rating or comment just sent.
    pub feedback_errors: FormErrors,
}

pub(crate) async fn page(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    show(&ctx, &visitor, &api_id, Extras::default()).await
}

/// The API's page, with what an action just did.
pub(crate) async fn show(
    ctx: &Ctx,
    visitor: &Visitor,
    api_id: &str,
    extras: Extras,
) -> Result<Response, PageError> {
    let Extras {
        tried,
        feedback_errors,
    } = extras;
    let (ctx, visitor, api_id) = (ctx.clone(), visitor.clone(), api_id.to_string());
    let viewer = match viewer(&ctx, &visitor).await? {
        Ok(viewer) => viewer,
        Err(redirect) => return Ok(redirect),
    };
    let detail = discovery::api_detail(&ctx, &viewer, &api_id).await?;
    let documents = discovery::documents(&ctx, &viewer, &api_id, Page::new(Some(100), Some(0))?)
        .await?
        .items;
    let tiers = discovery::subscription_policies(&ctx, &viewer, &api_id)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    let resources = detail
        .definition
        .operations
        .iter()
        .map(|op| Resource {
            verb: op.verb.to_string(),
            target: op.target.clone(),
            secured: op.auth_type != tollgate_model::AuthType::None,
        })
        .collect();
    let applications = match &visitor.signed_in {
        Some(signed_in) => {
            tollgate_operations::devportal::applications::list(&ctx, &signed_in.actor)
                .await
                .map(|views| {
                    views
                        .into_iter()
                        .map(|v| (v.application.id, v.application.name))
                        .collect()
                })
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let ratings = tollgate_operations::devportal::feedback::ratings(
        &ctx,
        &viewer,
        &api_id,
        Page::new(Some(1), Some(0))?,
    )
    .await?;
    let own_rating = match &visitor.signed_in {
        Some(signed_in) => {
            match tollgate_operations::devportal::feedback::user_rating(
                &ctx,
                &signed_in.actor,
                &api_id,
            )
            .await
            {
                Ok(rating) => Some(rating.rating),
                Err(OpError::NotFound(_) | OpError::Forbidden(_)) => None,
                Err(other) => return Err(other.into()),
            }
        }
        None => None,
    };
    let comments = crate::comments::comment_lines(
        &ctx,
        &viewer,
        &visitor,
        tollgate_operations::devportal::feedback::Portal::DevPortal,
        &api_id,
    )
    .await?;
    Ok(crate::pages::render_form(
        &ApiPage {
            average: format!("{:.1}", ratings.summary.average),
            ratings: ratings.summary.count,
            own_rating,
            comments,
            feedback_errors: feedback_errors.clone(),
            tried,
            applications,
            page: visitor.chrome(Some(Portal::DevPortal), detail.api.name.clone()),
            context: detail.api.context.clone(),
            status: detail.api.lifecycle_status.display_name().to_string(),
            api: Card::from(&detail.api),
            urls: detail.urls,
            resources,
            documents,
            tiers,
        },
        &feedback_errors,
    ))
}
