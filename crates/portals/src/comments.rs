//! Comments as the pages show them — the developer portal's API page and the publisher's
//! comments tab alike: each with its first replies, its author's, and whether it came from the
//! publisher.

use tollgate_operations::devportal::discovery::Viewer;
use tollgate_operations::devportal::feedback::{self, Portal as Discussion};
use tollgate_operations::Page;
use tollgate_restcore::Ctx;

use crate::pages::PageError;
use crate::session::Visitor;

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
