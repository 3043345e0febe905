//! The API's discussion as its publishers see it: read the developer portal's comments, answer
//! them, delete — over the same operations as the Publisher API's `/comments`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_operations::devportal::discovery::Viewer;
use tollgate_operations::devportal::feedback::{self, Portal as Discussion};
use tollgate_operations::publisher::apis;
use tollgate_restcore::Ctx;

use super::ApiHead;
use crate::comments::CommentLine;
use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Publisher;

#[derive(Template)]
#[template(path = "publisher_comments.html")]
struct CommentsPage {
    page: Chrome,
    head: ApiHead,
    comments: Vec<CommentLine>,
    /// Administrators delete anyone's comments; others only their own.
    moderator: bool,
    errors: FormErrors,
}

async fn comments_view(
    ctx: &Ctx,
    publisher: &Publisher,
    api_id: &str,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let api = apis::get_api(ctx, publisher.actor(), api_id).await?;
    let viewer = Viewer::signed_in(ctx, publisher.actor()).await?;
    let comments = crate::comments::comment_lines(
        ctx,
        &viewer,
        &publisher.visitor,
        Discussion::Publisher,
        api_id,
    )
    .await?;
    Ok(render_form(
        &CommentsPage {
            page: publisher.chrome(format!("{} · Comments", api.name)),
            head: ApiHead::new(&api, "/comments"),
            comments,
            moderator: feedback::moderates(publisher.actor()),
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn comments_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
) -> Result<Response, PageError> {
    comments_view(&ctx, &publisher, &api_id, FormErrors::default()).await
}

/// A comment or (with `parent`) an answer, marked as the publisher's.
pub(crate) async fn add_comment(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(api_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let parent = form.some("parent");
    match feedback::add_comment(
        &ctx,
        publisher.actor(),
        Discussion::Publisher,
        &api_id,
        parent.as_deref(),
        form.get("content"),
        None,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/publisher/apis/{api_id}/comments")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["content"])?;
            comments_view(&ctx, &publisher, &api_id, errors).await
        }
    }
}

pub(crate) async fn delete_comment(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path((api_id, comment_id)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    feedback::delete_comment(
        &ctx,
        publisher.actor(),
        Discussion::Publisher,
        &api_id,
        &comment_id,
    )
    .await?;
    Ok(Redirect::to(&format!("/publisher/apis/{api_id}/comments")).into_response())
}
