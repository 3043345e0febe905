//! Ratings (`/apis/{apiId}/ratings`, `/user-rating`) and comments with replies
//! (`/apis/{apiId}/comments`…). The publisher's API serves the same comments through
//! [`comment_routes`] with [`Portal::Publisher`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::devportal::feedback::{self as ops, Discussed, Portal};
use tollgate_operations::{Listed, Page};
use tollgate_restcore::Paged;
use tollgate_restcore::{
    listed_body, rfc3339, ApiError, Ctx, JsonBody, MaybePrincipal, Principal, QueryParams,
};
use tollgate_store::{CommentRow, RatingRow};

use crate::discovery::viewer;

fn rating_json(rating: &RatingRow) -> Value {
    json!({
        "ratingId": rating.id,
        "apiId": rating.api_id,
        "ratedBy": rating.username,
        "rating": rating.rating,
    })
}

pub(crate) async fn ratings(
    State(ctx): State<Ctx>,
    caller: MaybePrincipal,
    Path(api_id): Path<String>,
    Paged(page): Paged,
) -> Result<Json<Value>, ApiError> {
    let viewer = viewer(&ctx, &caller).await?;
    let ratings = ops::ratings(&ctx, &viewer, &api_id, page).await?;
    let list: Vec<Value> = ratings.list.iter().map(rating_json).collect();
    Ok(Json(json!({
        "avgRating": format!("{:.1}", ratings.summary.average),
        "userRating": ratings.own.unwrap_or(0),
        "count": list.len(),
        "list": list,
        "pagination": {"offset": ratings.page.offset, "limit": ratings.page.limit, "total": ratings.summary.count, "next": "", "previous": ""},
    })))
}

pub(crate) async fn user_rating(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rating = ops::user_rating(&ctx, &principal, &api_id).await?;
    Ok(Json(rating_json(&rating)))
}

#[derive(Deserialize)]
pub(crate) struct RatingInput {
    rating: i64,
}

pub(crate) async fn rate(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
    JsonBody(input): JsonBody<RatingInput>,
) -> Result<Json<Value>, ApiError> {
    let rating = ops::rate(&ctx, &principal, &api_id, input.rating).await?;
    Ok(Json(rating_json(&rating)))
}

pub(crate) async fn delete_rating(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    ops::delete_rating(&ctx, &principal, &api_id).await?;
    Ok(Json(json!({})))
}

fn comment_json(comment: &CommentRow, replies: Option<&Listed<CommentRow>>) -> Value {
    let mut body = crate::discovery::without_nulls(json!({
        "id": comment.id,
        "content": comment.content,
        "createdTime": rfc3339(comment.created_time),
        "createdBy": comment.created_by,
        "updatedTime": rfc3339(comment.updated_time),
        "category": comment.category,
        "parentCommentId": comment.parent_id,
        "entryPoint": comment.entry_point,
        "commenterInfo": {"fullName": comment.created_by},
    }));
    if let (Some(replies), Some(object)) = (replies, body.as_object_mut()) {
        object.insert(
            "replies".into(),
            listed_body(replies, |reply| comment_json(reply, None)).0,
        );
    }
    body
}

fn discussed_json(discussed: &Discussed) -> Value {
    comment_json(&discussed.comment, discussed.replies.as_ref())
}

/// Comment routes for one portal (the developer portal's or the publisher's API).
macro_rules! comment_handlers {
    ($module:ident, $portal:expr) => {
        pub(crate) mod $module {
            use super::*;

            pub(crate) async fn list(
                State(ctx): State<Ctx>,
                caller: MaybePrincipal,
                Path(api_id): Path<String>,
                Paged(page): Paged,
            ) -> Result<Json<Value>, ApiError> {
                let viewer = viewer_for(&ctx, &caller, $portal).await?;
                let listed = ops::comments(
                    &ctx,
                    &viewer,
                    caller.0.as_ref(),
                    $portal,
                    &api_id,
                    None,
                    page,
                )
                .await?;
                Ok(listed_body(&listed, discussed_json))
            }

            pub(crate) async fn add(
                State(ctx): State<Ctx>,
                principal: Principal,
                Path(api_id): Path<String>,
                QueryParams(q): QueryParams<ReplyQuery>,
                JsonBody(input): JsonBody<CommentInput>,
            ) -> Result<Response, ApiError> {
                let comment = ops::add_comment(
                    &ctx,
                    &principal,
                    $portal,
                    &api_id,
                    q.reply_to.as_deref().filter(|r| !r.is_empty()),
                    &input.content,
                    input.category.as_deref(),
                )
                .await?;
                Ok((StatusCode::CREATED, Json(comment_json(&comment, None))).into_response())
            }

            pub(crate) async fn get(
                State(ctx): State<Ctx>,
                caller: MaybePrincipal,
                Path((api_id, comment_id)): Path<(String, String)>,
                QueryParams(q): QueryParams<ReplyPageQuery>,
            ) -> Result<Json<Value>, ApiError> {
                let replies = Page::new(q.reply_limit, q.reply_offset)?;
                let viewer = viewer_for(&ctx, &caller, $portal).await?;
                let discussed = ops::comment(
                    &ctx,
                    &viewer,
                    caller.0.as_ref(),
                    $portal,
                    &api_id,
                    &comment_id,
                    replies,
                )
                .await?;
                Ok(Json(discussed_json(&discussed)))
            }

            pub(crate) async fn replies(
                State(ctx): State<Ctx>,
                caller: MaybePrincipal,
                Path((api_id, comment_id)): Path<(String, String)>,
                Paged(page): Paged,
            ) -> Result<Json<Value>, ApiError> {
                let viewer = viewer_for(&ctx, &caller, $portal).await?;
                let listed = ops::comments(
                    &ctx,
                    &viewer,
                    caller.0.as_ref(),
                    $portal,
                    &api_id,
                    Some(&comment_id),
                    page,
                )
                .await?;
                Ok(listed_body(&listed, discussed_json))
            }

            pub(crate) async fn edit(
                State(ctx): State<Ctx>,
                principal: Principal,
                Path((api_id, comment_id)): Path<(String, String)>,
                JsonBody(input): JsonBody<CommentInput>,
            ) -> Result<Json<Value>, ApiError> {
                let comment = ops::edit_comment(
                    &ctx,
                    &principal,
                    $portal,
                    &api_id,
                    &comment_id,
                    &input.content,
                    input.category.as_deref(),
                )
                .await?;
                Ok(Json(comment_json(&comment, None)))
            }

            pub(crate) async fn delete(
                State(ctx): State<Ctx>,
                principal: Principal,
                Path((api_id, comment_id)): Path<(String, String)>,
            ) -> Result<Json<Value>, ApiError> {
                ops::delete_comment(&ctx, &principal, $portal, &api_id, &comment_id).await?;
                Ok(Json(json!({})))
            }
        }
    };
}

comment_handlers!(devportal_comments, Portal::DevPortal);
comment_handlers!(publisher_comments, Portal::Publisher);

/// In the publisher's API every caller is signed in; in the developer portal a visitor may be
/// anonymous.
async fn viewer_for(
    ctx: &Ctx,
    caller: &MaybePrincipal,
    portal: Portal,
) -> Result<tollgate_operations::devportal::discovery::Viewer, ApiError> {
    if portal == Portal::Publisher && caller.0.is_none() {
        return Err(ApiError::unauthorized(
            "Authentication is required: send a Bearer token or Basic credentials",
        ));
    }
    viewer(ctx, caller).await
}

#[derive(Deserialize)]
pub(crate) struct ReplyQuery {
    #[serde(rename = "replyTo")]
    reply_to: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ReplyPageQuery {
    #[serde(rename = "replyLimit")]
    reply_limit: Option<i64>,
    #[serde(rename = "replyOffset")]
    reply_offset: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct CommentInput {
    content: String,
    #[serde(default)]
    category: Option<String>,
}

/// The comment routes under `/apis/{api_id}/comments`, added to `routes`.
pub(crate) fn comment_routes(
    routes: tollgate_restcore::Routes,
    portal: Portal,
) -> tollgate_restcore::Routes {
    use axum::routing::get;
    macro_rules! wire {
        ($m:ident) => {
            routes
                .route(
                    "/apis/{api_id}/comments",
                    "GET POST",
                    get($m::list).post($m::add),
                )
                .route(
                    "/apis/{api_id}/comments/{comment_id}",
                    "GET PATCH DELETE",
                    get($m::get).patch($m::edit).delete($m::delete),
                )
                .route(
                    "/apis/{api_id}/comments/{comment_id}/replies",
                    "GET",
                    get($m::replies),
                )
        };
    }
    match portal {
        Portal::Publisher => wire!(publisher_comments),
        Portal::DevPortal => wire!(devportal_comments),
    }
}
