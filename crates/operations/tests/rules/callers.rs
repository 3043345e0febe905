//! The REST APIs' callers (`operations::token_caller`, `password_caller`): who a token or a
//! password is, and what they may do now.

use tollgate_operations::users::{self, UserChange};
use tollgate_operations::{password_caller, token_caller};
use tollgate_store::UserMatch;
use tollgate_testbed::{Refused, TestBed, PASSWORD};

#[tokio::test]
async fn a_tokens_rest_scopes_hold_only_while_the_users_roles_allow_them() {
    let bed = TestBed::sqlite().await;
    let token = bed.rest_token("creator", "apim:api_create openid").await;
    let caller = token_caller(bed.services(), &token).await.unwrap();
    assert_eq!(caller.username, "creator");
    caller.require_any(&["apim:api_create"]).unwrap();
    // The creator loses the role: the token keeps its other scopes, not the REST API's.
    let (found, _) = users::list_users(
        bed.services(),
        &bed.admin(),
        &UserMatch::Equals("creator".into()),
        0,
        1,
    )
    .await
    .unwrap();
    let role = users::role_id(tollgate_model::SUPER_TENANT, "creator");
    users::change_role_members(
        bed.services(),
        &bed.admin(),
        &role,
        Vec::new(),
        vec![found[0].id.clone()],
    )
    .await
    .unwrap();
    let caller = token_caller(bed.services(), &token).await.unwrap();
    caller.require_any(&["apim:api_create"]).forbidden();
    caller.require_any(&["openid"]).unwrap();
    token_caller(bed.services(), "not.a.token")
        .await
        .unauthenticated();
}

#[tokio::test]
async fn a_password_caller_has_the_users_roles() {
    let bed = TestBed::sqlite().await;
    let caller = password_caller(bed.services(), "publisher", PASSWORD, None)
        .await
        .unwrap();
    caller.require_any(&["apim:api_publish"]).unwrap();
    caller.require_any(&["apim:admin"]).forbidden();
    password_caller(bed.services(), "publisher", "wrong", None)
        .await
        .unauthenticated();
    // A locked account is the key manager's refusal, not a wrong password.
    let (found, _) = users::list_users(
        bed.services(),
        &bed.admin(),
        &UserMatch::Equals("bob".into()),
        0,
        1,
    )
    .await
    .unwrap();
    let lock = UserChange {
        locked: Some(true),
        ..UserChange::default()
    };
    users::update_user(bed.services(), &bed.admin(), &found[0].id, lock)
        .await
        .unwrap();
    password_caller(bed.services(), "bob", PASSWORD, None)
        .await
        .key_manager();
}

#[tokio::test]
async fn roles_are_found_by_name_and_held_by_their_members() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let creator = bed.user("creator");
    assert!(users::role_exists(services, &creator, "publisher")
        .await
        .unwrap());
    assert!(
        users::role_exists(services, &creator, "Internal/Subscriber")
            .await
            .unwrap()
    );
    assert!(!users::role_exists(services, &creator, "auditors")
        .await
        .unwrap());
    users::create_role(services, &bed.admin(), "auditors", Vec::new())
        .await
        .unwrap();
    assert!(users::role_exists(services, &creator, "auditors")
        .await
        .unwrap());
    users::role_exists(services, &bed.user("alice"), "publisher")
        .await
        .forbidden();
    assert!(users::holds_role(services, &creator, "Internal/creator")
        .await
        .unwrap());
    assert!(!users::holds_role(services, &creator, "admin")
        .await
        .unwrap());
}
