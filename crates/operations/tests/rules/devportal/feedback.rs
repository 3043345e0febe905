//! `devportal::feedback`: ratings (1 to 5, one per user) and comments with one level of
//! replies, of APIs the caller may see; the API's publishers discuss them from the publisher's
//! side. Neither is anything gateways hear of.

use tollgate_operations::devportal::discovery::Viewer;
use tollgate_operations::devportal::feedback::{
    add_comment, comment, comments, delete_comment, delete_rating, edit_comment, rate, ratings,
    user_rating, Discussed, Portal,
};
use tollgate_operations::{Actor, Listed, OpError, OpResult, Page};
use tollgate_store::{ApiRow, CommentRow};
use tollgate_testbed::{Refused, TestBed};

use super::ALL;

fn refusal<T>(result: OpResult<T>) -> OpError {
    match result {
        Err(err) => err,
        Ok(_) => panic!("expected a refusal, got a result"),
    }
}

async fn viewer(bed: &TestBed, username: &str) -> Viewer {
    Viewer::signed_in(bed.services(), &bed.user(username))
        .await
        .unwrap()
}

/// `who` comments on the API in the developer portal (a reply to `parent`, when given).
async fn say(
    bed: &TestBed,
    who: &Actor,
    api: &ApiRow,
    parent: Option<&str>,
    content: &str,
) -> OpResult<CommentRow> {
    add_comment(
        bed.services(),
        who,
        Portal::DevPortal,
        &api.id,
        parent,
        content,
        None,
    )
    .await
}

/// Alice comments on the API under `category`.
async fn categorised(
    bed: &TestBed,
    api: &ApiRow,
    content: &str,
    category: Option<&str>,
) -> OpResult<CommentRow> {
    let alice = bed.user("alice");
    add_comment(
        bed.services(),
        &alice,
        Portal::DevPortal,
        &api.id,
        None,
        content,
        category,
    )
    .await
}

/// `who` edits a developer portal comment, keeping its category.
async fn edit(
    bed: &TestBed,
    who: &Actor,
    api_id: &str,
    comment_id: &str,
    content: &str,
) -> OpResult<CommentRow> {
    edit_comment(
        bed.services(),
        who,
        Portal::DevPortal,
        api_id,
        comment_id,
        content,
        None,
    )
    .await
}

/// `who` deletes a developer portal comment.
async fn remove(bed: &TestBed, who: &Actor, api: &ApiRow, comment_id: &str) -> OpResult<()> {
    delete_comment(bed.services(), who, Portal::DevPortal, &api.id, comment_id).await
}

/// `who` comments on an API through the publisher's side.
async fn publisher_says(
    bed: &TestBed,
    who: &Actor,
    api_id: &str,
    content: &str,
) -> OpResult<CommentRow> {
    add_comment(
        bed.services(),
        who,
        Portal::Publisher,
        api_id,
        None,
        content,
        None,
    )
    .await
}

/// A comment with its replies, as an anonymous visitor of the developer portal reads it.
async fn read_in_devportal(bed: &TestBed, api_id: &str, comment_id: &str) -> OpResult<Discussed> {
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    comment(
        bed.services(),
        &anonymous,
        None,
        Portal::DevPortal,
        api_id,
        comment_id,
        ALL,
    )
    .await
}

async fn read(bed: &TestBed, api: &ApiRow, comment_id: &str) -> OpResult<Discussed> {
    read_in_devportal(bed, &api.id, comment_id).await
}

/// The replies to a comment, as an anonymous visitor of the developer portal reads them.
async fn replies_to(bed: &TestBed, api: &ApiRow, parent: &str) -> OpResult<Listed<Discussed>> {
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    let services = bed.services();
    comments(
        services,
        &anonymous,
        None,
        Portal::DevPortal,
        &api.id,
        Some(parent),
        ALL,
    )
    .await
}

/// The contents of the API's top-level comments with their replies' contents, sorted.
async fn thread(bed: &TestBed, api: &ApiRow) -> Vec<(String, Vec<String>)> {
    let anonymous = Viewer::anonymous(bed.services()).unwrap();
    let listed = comments(
        bed.services(),
        &anonymous,
        None,
        Portal::DevPortal,
        &api.id,
        None,
        ALL,
    );
    let mut thread: Vec<(String, Vec<String>)> = listed
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|d| {
            let replies = d.replies.expect("a top-level comment shows its replies");
            let mut contents: Vec<String> = replies.items.into_iter().map(|r| r.content).collect();
            contents.sort();
            (d.comment.content, contents)
        })
        .collect();
    thread.sort();
    thread
}

#[tokio::test]
async fn ratings_are_one_per_user_from_1_to_5_and_summed() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    bed.events().await;
    let services = bed.services();
    let (alice, bob) = (bed.user("alice"), bed.user("bob"));
    rate(services, &alice, &api.id, 1).await.unwrap();
    rate(services, &bob, &api.id, 2).await.unwrap();
    let changed = rate(services, &alice, &api.id, 5).await.unwrap();
    assert_eq!((changed.username.as_str(), changed.rating), ("alice", 5));
    let listed = ratings(services, &viewer(&bed, "alice").await, &api.id, ALL)
        .await
        .unwrap();
    assert_eq!((listed.summary.count, listed.summary.average), (2, 3.5));
    assert_eq!((listed.list.len(), listed.own), (2, Some(5)));
    let anonymous = Viewer::anonymous(services).unwrap();
    let page = Page::new(Some(1), Some(1)).unwrap();
    let listed = ratings(services, &anonymous, &api.id, page).await.unwrap();
    assert_eq!(
        (listed.list.len(), listed.summary.count, listed.own),
        (1, 2, None)
    );
    for bad in [0, 6, -1] {
        let message = rate(services, &alice, &api.id, bad).await.invalid("rating");
        assert!(message.contains("1 to 5"), "{message}");
    }
    // The value is checked before the API is looked for.
    rate(services, &alice, "no-such-api", 9)
        .await
        .invalid("rating");
    assert_eq!(
        user_rating(services, &alice, &api.id).await.unwrap().rating,
        5
    );
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_rating_is_read_and_removed_by_its_rater_only() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let services = bed.services();
    let (alice, bob) = (bed.user("alice"), bed.user("bob"));
    let message = user_rating(services, &alice, &api.id).await.not_found();
    assert!(message.contains("by alice"), "{message}");
    delete_rating(services, &alice, &api.id).await.not_found();
    rate(services, &alice, &api.id, 4).await.unwrap();
    delete_rating(services, &bob, &api.id).await.not_found();
    assert_eq!(
        user_rating(services, &alice, &api.id).await.unwrap().rating,
        4
    );
    delete_rating(services, &alice, &api.id).await.unwrap();
    user_rating(services, &alice, &api.id).await.not_found();
    delete_rating(services, &alice, &api.id).await.not_found();
}

#[tokio::test]
async fn rating_needs_the_subscribe_scope_and_an_api_the_rater_may_see() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let draft = bed.api("Draft", "/draft").await;
    let services = bed.services();
    let creator = bed.user("creator");
    rate(services, &creator, &api.id, 3).await.forbidden();
    user_rating(services, &creator, &api.id).await.forbidden();
    delete_rating(services, &creator, &api.id).await.forbidden();
    let alice = bed.user("alice");
    let message = rate(services, &alice, &draft.id, 3).await.not_found();
    assert!(message.contains(&draft.id), "{message}");
    user_rating(services, &alice, &draft.id).await.not_found();
    delete_rating(services, &alice, &draft.id).await.not_found();
    let anonymous = Viewer::anonymous(services).unwrap();
    let refused = refusal(ratings(services, &anonymous, &draft.id, ALL).await);
    assert!(matches!(refused, OpError::NotFound(_)), "{refused:?}");
}

#[tokio::test]
async fn comments_are_answered_one_level_deep() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (alice, bob) = (bed.user("alice"), bed.user("bob"));
    let question = say(&bed, &alice, &api, None, " Gluten free? ")
        .await
        .unwrap();
    assert_eq!(
        (
            question.content.as_str(),
            question.category.as_str(),
            question.entry_point.as_str()
        ),
        ("Gluten free?", "general", "devPortal")
    );
    let answer = say(&bed, &bob, &api, Some(&question.id), "Yes")
        .await
        .unwrap();
    say(&bed, &alice, &api, None, "Thanks").await.unwrap();
    let expected = [
        ("Gluten free?".to_string(), vec!["Yes".to_string()]),
        ("Thanks".to_string(), vec![]),
    ];
    assert_eq!(thread(&bed, &api).await, expected);
    let message = say(&bed, &alice, &api, Some(&answer.id), "Nested")
        .await
        .invalid("replyTo");
    assert!(message.contains("is a reply itself"), "{message}");
    let message = say(&bed, &alice, &api, Some("no-such-comment"), "Lost")
        .await
        .invalid("replyTo");
    assert!(message.contains("no-such-comment"), "{message}");
    // A comment of another API is no parent here either.
    let other = bed.published_api("Pasta", "/pasta").await;
    say(&bed, &alice, &other, Some(&question.id), "Wrong")
        .await
        .invalid("replyTo");
    assert_eq!(thread(&bed, &api).await, expected);
    assert!(thread(&bed, &other).await.is_empty());
}

#[tokio::test]
async fn a_comment_is_read_with_its_replies_and_an_unknown_one_is_not_found() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let question = say(&bed, &bed.user("alice"), &api, None, "Gluten free?")
        .await
        .unwrap();
    let answer = say(&bed, &bed.user("bob"), &api, Some(&question.id), "Yes")
        .await
        .unwrap();
    let shown = read(&bed, &api, &question.id).await.unwrap();
    let replies = shown.replies.unwrap();
    assert_eq!(
        (replies.total, replies.items[0].id.as_str()),
        (1, answer.id.as_str())
    );
    let listed = replies_to(&bed, &api, &question.id).await.unwrap();
    assert_eq!(listed.total, 1);
    // A reply is shown without replies of its own.
    assert!(listed.items[0].replies.is_none());
    let missing = refusal(replies_to(&bed, &api, "no-such-comment").await);
    assert!(matches!(missing, OpError::NotFound(_)), "{missing:?}");
    let missing = refusal(read(&bed, &api, "no-such-comment").await);
    assert!(matches!(missing, OpError::NotFound(_)), "{missing:?}");
}

#[tokio::test]
async fn a_comment_holds_1_to_512_characters_in_a_short_category() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    for bad in ["   ".to_string(), "c".repeat(513)] {
        categorised(&bed, &api, &bad, None).await.invalid("content");
    }
    for bad in ["c".repeat(65), "bad\ncategory".into()] {
        categorised(&bed, &api, "fine", Some(&bad))
            .await
            .invalid("category");
    }
    categorised(&bed, &api, "", Some(&"c".repeat(65)))
        .await
        .invalid_fields(&["content", "category"]);
    let longest = categorised(&bed, &api, &"c".repeat(512), Some(" review "))
        .await
        .unwrap();
    assert_eq!(longest.category, "review");
    assert_eq!(thread(&bed, &api).await.len(), 1);
}

#[tokio::test]
async fn only_the_author_edits_a_comment() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (alice, bob) = (bed.user("alice"), bed.user("bob"));
    let asked = categorised(&bed, &api, "Gluten free?", Some("diet"))
        .await
        .unwrap();
    let message = edit(&bed, &bob, &api.id, &asked.id, "Vegan?")
        .await
        .forbidden();
    assert!(message.contains("author"), "{message}");
    edit(&bed, &alice, &api.id, &asked.id, " ")
        .await
        .invalid("content");
    assert_eq!(thread(&bed, &api).await[0].0, "Gluten free?");
    let edited = edit(&bed, &alice, &api.id, &asked.id, "Vegan?")
        .await
        .unwrap();
    // The category left out stays.
    assert_eq!(
        (edited.content.as_str(), edited.category.as_str()),
        ("Vegan?", "diet")
    );
    assert_eq!(thread(&bed, &api).await[0].0, "Vegan?");
    edit(&bed, &alice, &api.id, "no-such-comment", "x")
        .await
        .not_found();
}

#[tokio::test]
async fn the_author_or_an_administrator_deletes_a_comment_with_its_replies() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let (alice, bob) = (bed.user("alice"), bed.user("bob"));
    let question = say(&bed, &alice, &api, None, "Gluten free?").await.unwrap();
    let answer = say(&bed, &bob, &api, Some(&question.id), "Yes")
        .await
        .unwrap();
    let message = remove(&bed, &bob, &api, &question.id).await.forbidden();
    assert!(message.contains("administrator"), "{message}");
    assert_eq!(thread(&bed, &api).await.len(), 1);
    remove(&bed, &bob, &api, &answer.id).await.unwrap();
    let mine = say(&bed, &alice, &api, None, "Anyone?").await.unwrap();
    remove(&bed, &alice, &api, &mine.id).await.unwrap();
    say(&bed, &bob, &api, Some(&question.id), "Yes")
        .await
        .unwrap();
    remove(&bed, &bed.admin(), &api, &question.id)
        .await
        .unwrap();
    assert!(thread(&bed, &api).await.is_empty());
    assert!(refusal(read(&bed, &api, &question.id).await)
        .to_string()
        .contains("not found"));
    remove(&bed, &alice, &api, &question.id).await.not_found();
}

#[tokio::test]
async fn a_devportal_comment_needs_the_subscribe_scope_and_an_api_the_commenter_may_see() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let draft = bed.api("Draft", "/draft").await;
    say(&bed, &bed.user("creator"), &api, None, "Hello")
        .await
        .forbidden();
    let alice = bed.user("alice");
    let message = say(&bed, &alice, &draft, None, "Hello").await.not_found();
    assert!(message.contains(&draft.id), "{message}");
    edit(&bed, &alice, &draft.id, "c", "x").await.not_found();
    remove(&bed, &alice, &draft, "c").await.not_found();
    let listed = refusal(replies_to(&bed, &draft, "c").await);
    assert!(
        matches!(listed, OpError::NotFound(ref m) if m.contains(&draft.id)),
        "{listed:?}"
    );
    assert!(thread(&bed, &api).await.is_empty());
}

#[tokio::test]
async fn the_publishers_side_needs_a_signed_in_publisher() {
    let bed = TestBed::sqlite().await;
    let draft = bed.api("Draft", "/draft").await;
    let services = bed.services();
    let anonymous = Viewer::anonymous(services).unwrap();
    let listed = comments(
        services,
        &anonymous,
        None,
        Portal::Publisher,
        &draft.id,
        None,
        ALL,
    );
    let refused = refusal(listed.await);
    assert!(
        matches!(refused, OpError::Unauthenticated(_)),
        "{refused:?}"
    );
    let alice = bed.user("alice");
    publisher_says(&bed, &alice, &draft.id, "Hi")
        .await
        .forbidden();
    let note = publisher_says(&bed, &bed.user("publisher"), &draft.id, "Soon")
        .await
        .unwrap();
    let edited = edit_comment(
        services,
        &alice,
        Portal::Publisher,
        &draft.id,
        &note.id,
        "x",
        None,
    );
    edited.await.forbidden();
    let listed = comments(
        services,
        &anonymous,
        Some(&alice),
        Portal::Publisher,
        &draft.id,
        None,
        ALL,
    );
    assert!(matches!(refusal(listed.await), OpError::Forbidden(_)));
}

#[tokio::test]
async fn a_publisher_discusses_any_api_of_the_tenant_whatever_its_state() {
    let bed = TestBed::sqlite().await;
    let draft = bed.api("Draft", "/draft").await;
    let publisher = bed.user("publisher");
    let note = publisher_says(&bed, &publisher, &draft.id, "Soon")
        .await
        .unwrap();
    assert_eq!(
        (note.entry_point.as_str(), note.created_by.as_str()),
        ("publisher", "publisher")
    );
    let services = bed.services();
    let viewer = viewer(&bed, "publisher").await;
    let read = comment(
        services,
        &viewer,
        Some(&publisher),
        Portal::Publisher,
        &draft.id,
        &note.id,
        ALL,
    );
    assert_eq!(read.await.unwrap().comment.content, "Soon");
    let message = publisher_says(&bed, &publisher, "no-such-api", "Hi")
        .await
        .not_found();
    assert!(message.contains("no-such-api"), "{message}");
    // The developer portal does not show a draft, nor its discussion.
    let missing = refusal(read_in_devportal(&bed, &draft.id, &note.id).await);
    assert!(matches!(missing, OpError::NotFound(_)), "{missing:?}");
}

#[tokio::test]
async fn editing_or_deleting_a_devportal_comment_needs_the_subscribe_scope() {
    let bed = TestBed::sqlite().await;
    let api = bed.published_api("Pizza", "/pizza").await;
    let question = say(&bed, &bed.user("alice"), &api, None, "Gluten free?")
        .await
        .unwrap();
    let unscoped = bed.with_scopes("alice", &["openid"]);
    edit(&bed, &unscoped, &api.id, &question.id, "Vegan?")
        .await
        .forbidden();
    remove(&bed, &unscoped, &api, &question.id)
        .await
        .forbidden();
    assert_eq!(thread(&bed, &api).await[0].0, "Gluten free?");
}
