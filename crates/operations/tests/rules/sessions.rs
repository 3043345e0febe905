//! `operations::sessions`: the portals' sessions — signing in and up, what a session holds,
//! and when it ends.

use tollgate_model::scopes::roles;
use tollgate_operations::sessions::{session, sign_in, sign_out, sign_up};
use tollgate_operations::users::{self, UserChange, UserInput, UserSettings};
use tollgate_store::UserMatch;
use tollgate_testbed::{Refused, Settings, TestBed, PASSWORD};

async fn user_id(bed: &TestBed, username: &str) -> String {
    let (found, _) = users::list_users(
        bed.services(),
        &bed.admin(),
        &UserMatch::Equals(username.into()),
        0,
        1,
    )
    .await
    .unwrap();
    found[0].id.clone()
}

#[tokio::test]
async fn a_session_holds_the_users_current_roles_until_it_is_ended() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    sign_in(services, "alice", "not her password", None)
        .await
        .unauthenticated();
    sign_in(services, "nobody", PASSWORD, None)
        .await
        .unauthenticated();
    let cookie = sign_in(services, "alice", PASSWORD, None).await.unwrap();
    let found = session(services, &cookie).await.unwrap().unwrap();
    assert_eq!(
        (found.username.as_str(), found.roles.as_slice()),
        ("alice", [roles::SUBSCRIBER.to_string()].as_slice())
    );
    assert!(!found.csrf.is_empty());
    assert!(session(services, "not-a-session").await.unwrap().is_none());
    // Only the hash is stored: the cookie's value opens the session, nothing else does.
    assert_ne!(cookie, found.csrf);
    sign_out(services, &cookie).await.unwrap();
    assert!(session(services, &cookie).await.unwrap().is_none());
    // Signing out of nothing is no error.
    sign_out(services, "not-a-session").await.unwrap();
}

#[tokio::test]
async fn a_locked_account_has_no_session() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let cookie = sign_in(services, "bob", PASSWORD, None).await.unwrap();
    let bob = user_id(&bed, "bob").await;
    let lock = UserChange {
        locked: Some(true),
        ..UserChange::default()
    };
    users::update_user(services, &bed.admin(), &bob, lock)
        .await
        .unwrap();
    assert!(session(services, &cookie).await.unwrap().is_none());
}

#[tokio::test]
async fn signing_up_makes_a_signed_in_subscriber_where_sign_up_is_on() {
    let input = || UserInput {
        username: "carol".into(),
        password: "carols-password".into(),
        ..UserInput::default()
    };
    let closed = TestBed::sqlite_with(Settings {
        users: UserSettings {
            self_sign_up: false,
            ..UserSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let refusal = sign_up(closed.services(), input()).await.forbidden();
    assert!(refusal.contains("allow_self_registration"), "{refusal}");
    users::sign_up_allowed(closed.services()).forbidden();

    let bed = TestBed::sqlite().await;
    users::sign_up_allowed(bed.services()).unwrap();
    let cookie = sign_up(bed.services(), input()).await.unwrap();
    let found = session(bed.services(), &cookie).await.unwrap().unwrap();
    assert_eq!(found.username, "carol");
    assert_eq!(found.roles, [roles::SUBSCRIBER]);
    // A taken name is refused like any sign-up's.
    sign_up(bed.services(), input()).await.conflict();
}
