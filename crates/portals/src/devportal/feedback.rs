//! Ratings and comments on an API's page in the developer portal: rate (1 to 5) or take a
//! rating back, comment, reply, delete one's own — over the same operations as the REST API.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_operations::devportal::feedback::{self, Portal as Discussion};
use tollgate_operations::OpError;
use tollgate_restcore::Ctx;

use super::api_page::{self, Extras};
use crate::pages::{FormErrors, FormFields, PageError};
use crate::session::Consumer;

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
            api_page::show(
                &ctx,
                &consumer.visitor,
                &api_id,
                Extras {
                    feedback_errors: errors,
                    ..Extras::default()
                },
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
            api_page::show(
                &ctx,
                &consumer.visitor,
                &api_id,
                Extras {
                    feedback_errors: errors,
                    ..Extras::default()
                },
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
