//! The developer portal's catalogue (search, tags), and what an API's page links to: its
//! definition for Swagger UI, its thumbnail and documents.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tollgate_operations::devportal::discovery::{self, Viewer};
use tollgate_operations::{OpError, Page};
use tollgate_restcore::Ctx;
use tollgate_store::ApiRow;

use crate::pages::{render, Chrome, PageError, Portal};
use crate::session::Visitor;

/// The visitor as discovery sees them; `Err` is the redirect to sign in when anonymous browsing
/// is off.
pub(crate) async fn viewer(
    ctx: &Ctx,
    visitor: &Visitor,
) -> Result<Result<Viewer, Response>, PageError> {
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
        page: visitor.chrome(Some(Portal::DevPortal), "APIs"),
        cards: listed.items.iter().map(Card::from).collect(),
        total: listed.total,
        tags: tags.items,
        previous: (offset > 0).then(|| (offset - PAGE_SIZE).max(0)),
        next: (offset + PAGE_SIZE < listed.total).then_some(offset + PAGE_SIZE),
        query,
    }))
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
        visitor.chrome(Some(Portal::DevPortal), doc.name.clone()),
        format!("/devportal/apis/{api_id}"),
        &doc,
        content,
    ))
}
