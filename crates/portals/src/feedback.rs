//! Ratings and comments on an API's page in the developer portal: rate (1 to 5) or take a
//! rating back, comment, reply, delete one's own — over the same operations as the REST API.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_operations::devportal::discovery::Viewer;
use tollgate_operations::devportal::feedback::{self, Portal as Discussion};
use tollgate_operations::{OpError, Page};
use tollgate_restcore::Ctx;

use crate::pages::{FormErrors, FormFields, PageError};
use crate::session::{Consumer, Visitor};

/// A comment as the API's page shows it, with its replies.
pub(crate) struct CommentLine {
    pub id: String,
    pub author: String,
    pub when: String,
    pub content: String,
    /// Whether the visitor may delete it (its author).
    pub own: bool,
    pub from_publisher: bool,
    pub replies: Vec<CommentLine>,
}

fn line(
    visitor: &Visitor,
    comment: &tollgate_store::CommentRow,
    replies: Vec<CommentLine>,
) -> CommentLine {
    CommentLine {
        id: comment.id.clone(),
        author: comment.created_by.clone(),
        when: crate::pages::when(comment.created_time),
        content: comment.content.clone(),
        own: visitor
            .signed_in
            .as_ref()
            .is_some_and(|s| s.username == comment.created_by),
        from_publisher: comment.entry_point == Discussion::Publisher.entry_point(),
        replies,
    }
}

/// The API's latest comments with their first replies, as seen from `portal`.
pub(crate) async fn comment_lines(
    ctx: &Ctx,
    viewer: &Viewer,
    visitor: &Visitor,
    portal: Discussion,
    api_id: &str,
) -> Result<Vec<CommentLine>, PageError> {
    let actor = visitor.signed_in.as_ref().map(|s| &s.actor);
    let listed = feedback::comments(
        ctx,
        viewer,
        actor,
        portal,
        api_id,
        None,
        Page::new(Some(50), Some(0))?,
    )
    .await?;
    Ok(listed
        .items
        .iter()
        .map(|discussed| {
            let replies = discussed
                .replies
                .as_ref()
                .map(|r| {
                    r.items
                        .iter()
                        .map(|c| line(visitor, c, Vec::new()))
                        .collect()
                })
                .unwrap_or_default();
            line(visitor, &discussed.comment, replies)
        })
        .collect())
}

fn back(api_id: &str) -> Response {
    Redirect::to(&format!("/devportal/apis/{api_id}#feedback")).into_response()
}

/// The rating form: a number from 1 to 5, or `remove`.
pub(crate) async fn rate(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let result = if form.get("action") == "remove" {
        feedback::delete_rating(&ctx, consumer.actor(), &api_id).await
    } else {
        match form.get("rating").parse::<i64>() {
            Ok(rating) => feedback::rate(&ctx, consumer.actor(), &api_id, rating)
                .await
                .map(|_| ()),
            Err(_) => Err(OpError::invalid("rating", "choose 1 to 5 stars")),
        }
    };
    match result {
        Ok(()) => Ok(back(&api_id)),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["rating", "comment"])?;
            crate::devportal::api_page_with_feedback_errors(
                &ctx,
                &consumer.visitor,
                &api_id,
                errors,
            )
            .await
        }
    }
}

/// A new comment, or a reply when `parent` is set.
pub(crate) async fn comment(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    let parent = form.some("parent");
    let result = feedback::add_comment(
        &ctx,
        consumer.actor(),
        Discussion::DevPortal,
        &api_id,
        parent.as_deref(),
        form.get("content"),
        None,
    )
    .await;
    match result {
        Ok(_) => Ok(back(&api_id)),
        Err(err) => {
            // The text's problem is shown at the box it was typed in.
            let field = if parent.is_some() { "reply" } else { "comment" };
            let mut errors = FormErrors::from_op(err, &["content"])?;
            for (name, _) in &mut errors.fields {
                *name = field.to_string();
            }
            crate::devportal::api_page_with_feedback_errors(
                &ctx,
                &consumer.visitor,
                &api_id,
                errors,
            )
            .await
        }
    }
}

pub(crate) async fn delete_comment(
    State(ctx): State<Ctx>,
    consumer: Consumer,
    Path((api_id, comment_id)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, PageError> {
    consumer.check(&form)?;
    feedback::delete_comment(
        &ctx,
        consumer.actor(),
        Discussion::DevPortal,
        &api_id,
        &comment_id,
    )
    .await?;
    Ok(back(&api_id))
}
