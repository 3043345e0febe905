//! Ratings and comments: consumers rate the APIs they can see (1 to 5, one rating each) and
//! discuss them in comments with replies; the API's publishers read and answer them too.

use tollgate_store::{CommentRow, RatingRow, RatingSummary};

use super::discovery::{self, Viewer};
use crate::{Actor, Listed, OpError, OpResult, Page, Problems, Services};

const SUBSCRIBE: &[&str] = &["apim:subscribe"];
/// Publishers reading and answering comments (WSO2's publisher comment scopes).
const PUBLISHER: &[&str] = &[
    "apim:api_view",
    "apim:api_create",
    "apim:api_publish",
    "apim:api_manage",
    "apim:comment_view",
    "apim:comment_write",
];

/// Whether the caller may delete others' comments (an administrator), as the pages show it.
pub fn moderates(actor: &Actor) -> bool {
    actor.is_admin()
}

/// The longest comment WSO2 takes.
pub const MAX_COMMENT_CHARS: usize = 512;

/// The ratings of an API the viewer may see, their count and average, and the viewer's own.
pub struct Ratings {
    pub list: Vec<RatingRow>,
    pub summary: RatingSummary,
    pub own: Option<i64>,
    pub page: Page,
}

pub async fn ratings(
    services: &Services,
    viewer: &Viewer,
    api_id: &str,
    page: Page,
) -> OpResult<Ratings> {
    let api = discovery::get_api(services, viewer, api_id).await?;
    let (list, summary) = services
        .store
        .ratings(&api.id, page.limit, page.offset)
        .await?;
    let own = match &viewer.username {
        Some(username) => services
            .store
            .user_rating(&api.id, username)
            .await?
            .map(|r| r.rating),
        None => None,
    };
    Ok(Ratings {
        list,
        summary,
        own,
        page,
    })
}

/// The caller's rating of an API ("not found" when they have not rated it).
pub async fn user_rating(services: &Services, actor: &Actor, api_id: &str) -> OpResult<RatingRow> {
    actor.require_any(SUBSCRIBE)?;
    let viewer = Viewer::signed_in(services, actor).await?;
    let api = discovery::get_api(services, &viewer, api_id).await?;
    services
        .store
        .user_rating(&api.id, &actor.username)
        .await?
        .ok_or_else(|| OpError::NotFound(format!("rating of API {api_id} by {}", actor.username)))
}

pub async fn rate(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    rating: i64,
) -> OpResult<RatingRow> {
    actor.require_any(SUBSCRIBE)?;
    if !(1..=5).contains(&rating) {
        return Err(OpError::invalid("rating", "must be from 1 to 5"));
    }
    let viewer = Viewer::signed_in(services, actor).await?;
    let api = discovery::get_api(services, &viewer, api_id).await?;
    let mut tx = services.store.begin().await?;
    let row = tx
        .rate_api(&actor.tenant, &api.id, &actor.username, rating)
        .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete_rating(services: &Services, actor: &Actor, api_id: &str) -> OpResult<()> {
    actor.require_any(SUBSCRIBE)?;
    let viewer = Viewer::signed_in(services, actor).await?;
    let api = discovery::get_api(services, &viewer, api_id).await?;
    let mut tx = services.store.begin().await?;
    let deleted = tx.delete_rating(&api.id, &actor.username).await?;
    tx.commit().await?;
    if !deleted {
        return Err(OpError::NotFound(format!(
            "rating of API {api_id} by {}",
            actor.username
        )));
    }
    Ok(())
}

/// Who is at a discussion: a consumer who can see the API in the portal, or (through the
/// publisher's API) one of its publishers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portal {
    DevPortal,
    Publisher,
}

impl Portal {
    /// WSO2's `entryPoint`.
    pub fn entry_point(self) -> &'static str {
        match self {
            Portal::DevPortal => "devPortal",
            Portal::Publisher => "publisher",
        }
    }
}

/// Where a discussion happens: the API's id, once the caller may see the API from `portal`.
async fn discussed_api(
    services: &Services,
    viewer: &Viewer,
    actor: Option<&Actor>,
    portal: Portal,
    api_id: &str,
) -> OpResult<String> {
    match portal {
        Portal::DevPortal => Ok(discovery::get_api(services, viewer, api_id).await?.id),
        Portal::Publisher => {
            let actor = actor.ok_or_else(|| {
                OpError::Unauthenticated("the publisher's API needs a signed-in user".into())
            })?;
            actor.require_any(PUBLISHER)?;
            Ok(services.store.api(&actor.tenant, api_id).await?.id)
        }
    }
}

/// A comment with (for a top-level one) the first page of its replies.
pub struct Discussed {
    pub comment: CommentRow,
    pub replies: Option<Listed<CommentRow>>,
}

/// Replies shown with each comment of a list.
const REPLIES_SHOWN: i64 = 5;

pub async fn comments(
    services: &Services,
    viewer: &Viewer,
    actor: Option<&Actor>,
    portal: Portal,
    api_id: &str,
    parent: Option<&str>,
    page: Page,
) -> OpResult<Listed<Discussed>> {
    let api_id = discussed_api(services, viewer, actor, portal, api_id).await?;
    if let Some(parent) = parent {
        services.store.comment(&api_id, parent).await?;
    }
    let (comments, total) = services
        .store
        .comments(&api_id, parent, page.limit, page.offset)
        .await?;
    let mut items = Vec::with_capacity(comments.len());
    for comment in comments {
        let replies = if parent.is_none() {
            let (replies, total) = services
                .store
                .comments(&api_id, Some(&comment.id), REPLIES_SHOWN, 0)
                .await?;
            Some(Listed {
                items: replies,
                page: Page {
                    limit: REPLIES_SHOWN,
                    offset: 0,
                },
                total,
            })
        } else {
            None
        };
        items.push(Discussed { comment, replies });
    }
    Ok(Listed { items, page, total })
}

pub async fn comment(
    services: &Services,
    viewer: &Viewer,
    actor: Option<&Actor>,
    portal: Portal,
    api_id: &str,
    comment_id: &str,
    replies: Page,
) -> OpResult<Discussed> {
    let api_id = discussed_api(services, viewer, actor, portal, api_id).await?;
    let comment = services.store.comment(&api_id, comment_id).await?;
    let (items, total) = services
        .store
        .comments(&api_id, Some(&comment.id), replies.limit, replies.offset)
        .await?;
    Ok(Discussed {
        comment,
        replies: Some(Listed {
            items,
            page: replies,
            total,
        }),
    })
}

fn checked_content(content: &str, category: Option<&str>) -> OpResult<(String, String)> {
    let mut problems = Problems::default();
    let content = content.trim();
    if content.is_empty() {
        problems.add("content", "is required");
    } else if content.chars().count() > MAX_COMMENT_CHARS {
        problems.add(
            "content",
            format!("must have at most {MAX_COMMENT_CHARS} characters"),
        );
    }
    let category = category
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("general");
    if category.chars().count() > 64 || category.chars().any(char::is_control) {
        problems.add("category", "must be a word of at most 64 characters");
    }
    problems.into_result((content.to_string(), category.to_string()))
}

/// Adds a comment, or a reply to `parent` (a top-level comment of the same API).
#[allow(clippy::too_many_arguments)]
pub async fn add_comment(
    services: &Services,
    actor: &Actor,
    portal: Portal,
    api_id: &str,
    parent: Option<&str>,
    content: &str,
    category: Option<&str>,
) -> OpResult<CommentRow> {
    if portal == Portal::DevPortal {
        actor.require_any(SUBSCRIBE)?;
    }
    let viewer = Viewer::signed_in(services, actor).await?;
    let api_id = discussed_api(services, &viewer, Some(actor), portal, api_id).await?;
    let (content, category) = checked_content(content, category)?;
    if let Some(parent) = parent {
        let parent_comment = services.store.comment(&api_id, parent).await.map_err(|_| {
            OpError::invalid(
                "replyTo",
                format!("there is no comment {parent} on this API"),
            )
        })?;
        if parent_comment.parent_id.is_some() {
            return Err(OpError::invalid(
                "replyTo",
                "is a reply itself; reply to the comment it answers",
            ));
        }
    }
    let now = tollgate_model::now_millis();
    let row = CommentRow {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: actor.tenant.clone(),
        api_id,
        parent_id: parent.map(str::to_string),
        content,
        category,
        entry_point: portal.entry_point().to_string(),
        created_by: actor.username.clone(),
        created_time: now,
        updated_time: now,
    };
    let mut tx = services.store.begin().await?;
    tx.insert_comment(&row).await?;
    tx.commit().await?;
    Ok(row)
}

/// Edits a comment: its author only.
pub async fn edit_comment(
    services: &Services,
    actor: &Actor,
    portal: Portal,
    api_id: &str,
    comment_id: &str,
    content: &str,
    category: Option<&str>,
) -> OpResult<CommentRow> {
    if portal == Portal::DevPortal {
        actor.require_any(SUBSCRIBE)?;
    }
    let viewer = Viewer::signed_in(services, actor).await?;
    let api_id = discussed_api(services, &viewer, Some(actor), portal, api_id).await?;
    let mut comment = services.store.comment(&api_id, comment_id).await?;
    if comment.created_by != actor.username {
        return Err(OpError::Forbidden(
            "Only the author of a comment may edit it".into(),
        ));
    }
    let (content, category) = checked_content(content, category.or(Some(&comment.category)))?;
    comment.content = content;
    comment.category = category;
    comment.updated_time = tollgate_model::now_millis();
    let mut tx = services.store.begin().await?;
    tx.update_comment(&comment).await?;
    tx.commit().await?;
    Ok(comment)
}

/// Deletes a comment (with its replies): its author, or an administrator.
pub async fn delete_comment(
    services: &Services,
    actor: &Actor,
    portal: Portal,
    api_id: &str,
    comment_id: &str,
) -> OpResult<()> {
    if portal == Portal::DevPortal {
        actor.require_any(&["apim:subscribe", "apim:admin"])?;
    }
    let viewer = Viewer::signed_in(services, actor).await?;
    let api_id = discussed_api(services, &viewer, Some(actor), portal, api_id).await?;
    let comment = services.store.comment(&api_id, comment_id).await?;
    if comment.created_by != actor.username && !moderates(actor) {
        return Err(OpError::Forbidden(
            "Only the author of a comment or an administrator may delete it".into(),
        ));
    }
    let mut tx = services.store.begin().await?;
    tx.delete_comment(&comment.id).await?;
    tx.commit().await?;
    Ok(())
}
