//! The developer portal's pages: the API catalogue (search, tags) and an API's page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tollgate_operations::devportal::discovery::{self, EndpointUrls, Viewer};
use tollgate_operations::{OpError, Page};
use tollgate_restcore::Ctx;
use tollgate_store::{ApiRow, DocumentRow};

use crate::pages::{render, Chrome, PageError, Portal};
use crate::session::Visitor;

/// The visitor as discovery sees them; `Err` is the redirect to sign in when anonymous browsing
/// is off.
async fn viewer(ctx: &Ctx, visitor: &Visitor) -> Result<Result<Viewer, Response>, PageError> {
    match &visitor.signed_in {
        Some(signed_in) => Ok(Ok(Viewer::signed_in(ctx, &signed_in.actor).await?)),
        None => match Viewer::anonymous(ctx) {
            Ok(viewer) => Ok(Ok(viewer)),
            Err(OpError::Unauthenticated(_)) => {
                Ok(Err(Redirect::to("/devportal/login").into_response()))
            }
            Err(other) => Err(other.into()),
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct CatalogueQuery {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    offset: Option<i64>,
}

/// One API as the catalogue shows it.
pub(crate) struct Card {
    pub id: String,
    pub name: String,
    pub version: String,
    pub provider: String,
    pub description: String,
    pub tags: Vec<String>,
    pub thumbnail: bool,
}

impl From<&ApiRow> for Card {
    fn from(api: &ApiRow) -> Self {
        Card {
            id: api.id.clone(),
            name: api.name.clone(),
            version: api.version.clone(),
            provider: api.provider.clone(),
            description: api.description.clone(),
            tags: api.tags.clone(),
            thumbnail: api.has_thumbnail,
        }
    }
}

#[derive(Template)]
#[template(path = "devportal_apis.html")]
struct CataloguePage {
    page: Chrome,
    query: String,
    cards: Vec<Card>,
    total: i64,
    tags: Vec<(String, i64)>,
    previous: Option<i64>,
    next: Option<i64>,
}

const PAGE_SIZE: i64 = 24;

pub(crate) async fn catalogue(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Query(q): Query<CatalogueQuery>,
) -> Result<Response, PageError> {
    let viewer = match viewer(&ctx, &visitor).await? {
        Ok(viewer) => viewer,
        Err(redirect) => return Ok(redirect),
    };
    let offset = q.offset.unwrap_or(0).max(0);
    let query = q.query.unwrap_or_default();
    let listed = discovery::list_apis(
        &ctx,
        &viewer,
        Some(&query),
        Page::new(Some(PAGE_SIZE), Some(offset))?,
    )
    .await?;
    let tags = discovery::tags(&ctx, &viewer, Page::new(Some(50), Some(0))?).await?;
    Ok(render(&CataloguePage {
        page: Chrome::new(Some(Portal::DevPortal), "APIs", &visitor),
        cards: listed.items.iter().map(Card::from).collect(),
        total: listed.total,
        tags: tags.items,
        previous: (offset > 0).then(|| (offset - PAGE_SIZE).max(0)),
        next: (offset + PAGE_SIZE < listed.total).then_some(offset + PAGE_SIZE),
        query,
    }))
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
    tried: Option<crate::application::TryResult>,
    /// Average rating (one decimal), how many rated, and the visitor's own rating.
    average: String,
    ratings: i64,
    own_rating: Option<i64>,
    comments: Vec<crate::feedback::CommentLine>,
    feedback_errors: crate::pages::FormErrors,
}

impl ApiPage {
    fn rated(&self, stars: &i64) -> bool {
        self.own_rating == Some(*stars)
    }

    /// The "try it" form as last sent (empty before).
    fn tried_with(&self) -> crate::application::TriedWith {
        self.tried
            .as_ref()
            .map_or_else(Default::default, |t| t.sent.clone())
    }
}

pub(crate) async fn api_page(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    api_page_with(&ctx, &visitor, &api_id, None).await
}

/// An API's page with the problems of a rating or comment just sent.
pub(crate) async fn api_page_with_feedback_errors(
    ctx: &Ctx,
    visitor: &Visitor,
    api_id: &str,
    errors: crate::pages::FormErrors,
) -> Result<Response, PageError> {
    api_page_full(ctx, visitor, api_id, None, errors).await
}

/// An API's page, with what "try it" got back when it was just used.
pub(crate) async fn api_page_with(
    ctx: &Ctx,
    visitor: &Visitor,
    api_id: &str,
    tried: Option<crate::application::TryResult>,
) -> Result<Response, PageError> {
    api_page_full(
        ctx,
        visitor,
        api_id,
        tried,
        crate::pages::FormErrors::default(),
    )
    .await
}

async fn api_page_full(
    ctx: &Ctx,
    visitor: &Visitor,
    api_id: &str,
    tried: Option<crate::application::TryResult>,
    feedback_errors: crate::pages::FormErrors,
) -> Result<Response, PageError> {
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
    let comments = crate::feedback::comment_lines(
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
            page: Chrome::new(Some(Portal::DevPortal), detail.api.name.clone(), &visitor),
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

/// The API's OpenAPI definition as the portal's Swagger UI reads it: the same document as the
/// REST API's `/swagger`, gateway URLs as servers.
pub(crate) async fn definition(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    let viewer = match viewer(&ctx, &visitor).await? {
        Ok(viewer) => viewer,
        Err(redirect) => return Ok(redirect),
    };
    let document = discovery::definition(&ctx, &viewer, &api_id, None).await?;
    Ok(axum::Json(document).into_response())
}

/// The API's thumbnail as the visitor may see it.
pub(crate) async fn thumbnail(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    let viewer = match viewer(&ctx, &visitor).await? {
        Ok(viewer) => viewer,
        Err(redirect) => return Ok(redirect),
    };
    let image = discovery::thumbnail(&ctx, &viewer, &api_id).await?;
    Ok(tollgate_restcore::served_image(
        image.content_type,
        image.content,
    ))
}

/// A document of the API, rendered (Markdown) or served (files, links).
pub(crate) async fn document(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Path((api_id, document_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let viewer = match viewer(&ctx, &visitor).await? {
        Ok(viewer) => viewer,
        Err(redirect) => return Ok(redirect),
    };
    let doc = discovery::document(&ctx, &viewer, &api_id, &document_id).await?;
    let content = discovery::document_content(&ctx, &viewer, &api_id, &document_id).await?;
    Ok(crate::pages::show_document(
        Chrome::new(Some(Portal::DevPortal), doc.name.clone(), &visitor),
        format!("/devportal/apis/{api_id}"),
        &doc,
        content,
    ))
}
