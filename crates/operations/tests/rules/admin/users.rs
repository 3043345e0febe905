//! `users`: self sign-up, the administrator's users and roles, and a user's own password; what
//! makes each valid, and which sessions end with a change.

use tollgate_keymanager::{Grant, KeyManagerError, LockPolicy, TokenRequest};
use tollgate_model::{GrantType, KeyType, SUPER_TENANT};
use tollgate_operations::devportal::keys::{self, KeyRequest};
use tollgate_operations::devportal::workflows::{self, Approvals};
use tollgate_operations::users::{
    change_own_password, change_role_members, create_role, create_user, delete_role, delete_user,
    get_role, get_user, list_roles, list_users, role_id, sign_up, update_user, UserChange,
    UserInput, UserSettings,
};
use tollgate_operations::Page;
use tollgate_store::UserMatch;
use tollgate_testbed::{Refused, Settings, TestBed, PASSWORD};

fn user(username: &str, password: &str) -> UserInput {
    UserInput {
        username: username.into(),
        password: password.into(),
        ..UserInput::default()
    }
}

async fn user_id(bed: &TestBed, username: &str) -> String {
    bed.store()
        .find_user(SUPER_TENANT, username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {username}"))
        .id
}

/// Whether `username` signs in with `password` (a lock is an error).
async fn signs_in(bed: &TestBed, username: &str, password: &str) -> Result<bool, KeyManagerError> {
    bed.key_manager()
        .authenticate_user(username, password, None)
        .await
        .map(|user| user.is_some())
}

/// `username` (of the template) signs in through an application's keys with the password
/// grant: a refresh token and the access token issued with it, which a new password, a lock,
/// a lost role or the user's deletion revoke (events drained).
async fn sign_in(bed: &TestBed, username: &str) {
    let actor = bed.user(username);
    let app = bed.application(&actor, "Sessions").await;
    let key = keys::generate(
        bed.services(),
        &actor,
        &app.id,
        KeyRequest::new(
            KeyType::Production,
            &[GrantType::Password, GrantType::RefreshToken],
        ),
    )
    .await
    .unwrap();
    let tokens = bed
        .key_manager()
        .grant(
            &key.client,
            TokenRequest {
                grant: Grant::Password {
                    username: username.into(),
                    password: PASSWORD.into(),
                    scope: Vec::new(),
                },
                validity_period: None,
            },
            None,
        )
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    bed.events().await;
}

fn names(users: &[tollgate_store::UserRow]) -> Vec<&str> {
    users.iter().map(|u| u.username.as_str()).collect()
}

#[tokio::test]
async fn only_an_administrator_manages_users_and_roles() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let alice = user_id(&bed, "alice").await;
    let admin_role = role_id(SUPER_TENANT, "admin");
    for who in [
        bed.user("publisher"),
        bed.with_scopes("ops", &["apim:admin_operations"]),
    ] {
        create_user(services, &who, user("carol", "carol-password"))
            .await
            .forbidden();
        list_users(services, &who, &UserMatch::Any, 0, 10)
            .await
            .forbidden();
        get_user(services, &who, &alice).await.forbidden();
        update_user(services, &who, &alice, UserChange::default())
            .await
            .forbidden();
        delete_user(services, &who, &alice).await.forbidden();
        list_roles(services, &who, None).await.forbidden();
        get_role(services, &who, &admin_role).await.forbidden();
        create_role(services, &who, "auditors", Vec::new())
            .await
            .forbidden();
        change_role_members(services, &who, &admin_role, vec![alice.clone()], Vec::new())
            .await
            .forbidden();
        delete_role(services, &who, &admin_role).await.forbidden();
    }
    let root = bed.with_scopes("root", &["apim:admin"]);
    let (users, total) = list_users(services, &root, &UserMatch::Any, 0, 10)
        .await
        .unwrap();
    assert_eq!((users.len(), total), (5, 5));
    assert_eq!(list_roles(services, &root, None).await.unwrap().len(), 4);
}

#[tokio::test]
async fn self_sign_up_makes_a_subscriber_whatever_roles_are_asked_for() {
    let bed = TestBed::sqlite().await;
    let input = UserInput {
        given_name: Some("Carol".into()),
        emails: vec!["carol@example.com".into()],
        roles: vec!["admin".into()],
        ..user(" carol ", "carol-password")
    };
    let carol = sign_up(bed.services(), SUPER_TENANT, input).await.unwrap();
    assert_eq!(carol.username, "carol");
    assert_eq!(carol.roles, ["subscriber"]);
    assert_eq!(carol.claims["givenName"], "Carol");
    assert_eq!(carol.claims["emails"][0], "carol@example.com");
    assert!(signs_in(&bed, "carol", "carol-password").await.unwrap());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn self_sign_up_can_be_switched_off() {
    let mut settings = Settings::default();
    settings.users.self_sign_up = false;
    let bed = TestBed::sqlite_with(settings).await;
    let message = sign_up(
        bed.services(),
        SUPER_TENANT,
        user("carol", "carol-password"),
    )
    .await
    .forbidden();
    assert!(message.contains("allow_self_registration"), "{message}");
    assert!(bed
        .store()
        .find_user(SUPER_TENANT, "carol")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_sign_up_names_each_bad_field_and_the_password_as_user_password() {
    let bed = TestBed::sqlite().await;
    let input = UserInput {
        emails: vec!["carol".into()],
        ..user("carol@example.com", "short")
    };
    sign_up(bed.services(), SUPER_TENANT, input)
        .await
        .invalid_fields(&["userName", "user.password", "emails[0].value"]);
    let message = sign_up(
        bed.services(),
        SUPER_TENANT,
        user("alice", "alice-password"),
    )
    .await
    .conflict();
    assert!(message.contains("'alice' is taken"), "{message}");
}

#[tokio::test]
async fn a_new_user_names_each_bad_field_under_the_configured_password_rules() {
    let bed = TestBed::sqlite_with(Settings {
        users: UserSettings {
            self_sign_up: true,
            min_password_length: 12,
            max_password_length: 20,
        },
        ..Settings::default()
    })
    .await;
    let (services, admin) = (bed.services(), bed.admin());
    let input = UserInput {
        given_name: Some("g".repeat(256)),
        family_name: Some("Liddell\n".into()),
        emails: vec!["carol@example.com".into(), "carol@localhost".into()],
        roles: vec!["creator".into(), "no-such-role".into()],
        ..user("has space", "ten-chars!")
    };
    create_user(services, &admin, input).await.invalid_fields(&[
        "userName",
        "password",
        "name.givenName",
        "name.familyName",
        "emails[1].value",
        "groups[1]",
    ]);
    for name in ["", "a/b", "a@b", &"n".repeat(101)] {
        create_user(services, &admin, user(name, "a-good-password"))
            .await
            .invalid_fields(&["userName"]);
    }
    for (password, rule) in [
        ("ten-chars!", "12 to 20 characters"),
        ("twenty-one-characters", "12 to 20 characters"),
        ("CAROL-PASSWORD", "must not be the username"),
        ("bell\u{7}-password", "control characters"),
    ] {
        let message = create_user(services, &admin, user("carol-password", password))
            .await
            .invalid("password");
        assert!(message.contains(rule), "{password}: {message}");
    }
    let (_, total) = list_users(services, &admin, &UserMatch::Any, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 5);
}

#[tokio::test]
async fn a_new_user_has_the_roles_named_or_given_by_their_ids() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let input = UserInput {
        roles: vec![
            "creator".into(),
            role_id(SUPER_TENANT, "publisher"),
            "creator".into(),
        ],
        ..user("carol", "carol-password")
    };
    let carol = create_user(services, &admin, input).await.unwrap();
    assert_eq!(carol.roles, ["creator", "publisher"]);
    let read = get_user(services, &admin, &carol.id).await.unwrap();
    assert_eq!((read.username, read.roles), (carol.username, carol.roles));
    assert!(signs_in(&bed, "carol", "carol-password").await.unwrap());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_username_stays_taken_after_its_user_is_deleted() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let carol = create_user(services, &admin, user("carol", "carol-password"))
        .await
        .unwrap();
    create_user(services, &admin, user("carol", "other-password"))
        .await
        .conflict();
    delete_user(services, &admin, &carol.id).await.unwrap();
    let message = create_user(services, &admin, user("carol", "other-password"))
        .await
        .conflict();
    assert!(message.contains("(now or before)"), "{message}");
    sign_up(services, SUPER_TENANT, user("carol", "other-password"))
        .await
        .conflict();
}

#[tokio::test]
async fn users_are_listed_by_name_a_page_at_a_time() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let page = |filter: UserMatch, offset: i64, limit: i64| {
        let admin = admin.clone();
        async move {
            let (users, total) = list_users(services, &admin, &filter, offset, limit)
                .await
                .unwrap();
            (names(&users).join(","), total)
        }
    };
    assert_eq!(page(UserMatch::Any, 1, 2).await, ("alice,bob".into(), 5));
    assert_eq!(
        page(UserMatch::Equals("bob".into()), 0, 10).await,
        ("bob".into(), 1)
    );
    assert_eq!(
        page(UserMatch::StartsWith("PUB".into()), 0, 10).await,
        ("publisher".into(), 1)
    );
    assert_eq!(
        page(UserMatch::Contains("o".into()), 0, 10).await,
        ("bob,creator".into(), 2)
    );
    // The page size is clamped to 0..=1000.
    assert_eq!(page(UserMatch::Any, 0, 5000).await.0.split(',').count(), 5);
    assert_eq!(page(UserMatch::Any, 0, -3).await, (String::new(), 5));
    let (users, _) = list_users(services, &admin, &UserMatch::Equals("alice".into()), 0, 1)
        .await
        .unwrap();
    assert_eq!(users[0].roles, ["subscriber"]);
}

#[tokio::test]
async fn user_name_filters_are_literal_and_case_insensitive_on_postgres() {
    let bed = TestBed::postgres().await;
    let (services, admin) = (bed.services(), bed.admin());
    create_user(services, &admin, user("Data_Ops", "data-password"))
        .await
        .unwrap();
    let find = |filter: UserMatch| {
        let admin = admin.clone();
        async move {
            let (users, total) = list_users(services, &admin, &filter, 0, 10).await.unwrap();
            assert_eq!(users.len() as i64, total);
            // Sorted here: the order by username is the database's collation.
            let mut names = names(&users);
            names.sort_unstable_by_key(|n| n.to_lowercase());
            names.join(",")
        }
    };
    assert_eq!(find(UserMatch::Contains("_".into())).await, "Data_Ops");
    assert_eq!(find(UserMatch::Contains("%".into())).await, "");
    assert_eq!(find(UserMatch::StartsWith("data".into())).await, "Data_Ops");
    assert_eq!(find(UserMatch::Equals("data_ops".into())).await, "");
    assert_eq!(
        find(UserMatch::Contains("A".into())).await,
        "admin,alice,creator,Data_Ops"
    );
}

#[tokio::test]
async fn an_unknown_or_deleted_user_is_not_found() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let bob = user_id(&bed, "bob").await;
    delete_user(services, &admin, &bob).await.unwrap();
    for id in ["no-such-user", bob.as_str()] {
        get_user(services, &admin, id).await.not_found();
        update_user(services, &admin, id, UserChange::default())
            .await
            .not_found();
        delete_user(services, &admin, id).await.not_found();
    }
}

#[tokio::test]
async fn a_new_password_from_an_administrator_ends_the_users_sessions() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let alice = user_id(&bed, "alice").await;
    sign_in(&bed, "alice").await;
    let change = UserChange {
        password: Some("alice-new-password".into()),
        given_name: Some(Some("Alice".into())),
        emails: Some(vec!["alice@example.com".into()]),
        ..UserChange::default()
    };
    let changed = update_user(services, &admin, &alice, change).await.unwrap();
    assert_eq!(changed.claims["givenName"], "Alice");
    assert_eq!(bed.events().await, ["TOKEN_REVOCATION"]);
    assert!(signs_in(&bed, "alice", "alice-new-password").await.unwrap());
    assert!(!signs_in(&bed, "alice", PASSWORD).await.unwrap());
    // A profile change alone keeps the rest of the profile, and the sessions.
    let change = UserChange {
        family_name: Some(Some("Liddell".into())),
        ..UserChange::default()
    };
    let changed = update_user(services, &admin, &alice, change).await.unwrap();
    assert_eq!(changed.claims["givenName"], "Alice");
    assert_eq!(changed.claims["familyName"], "Liddell");
    assert_eq!(changed.claims["emails"][0], "alice@example.com");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_change_of_a_user_names_each_bad_field() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let alice = user_id(&bed, "alice").await;
    let change = UserChange {
        password: Some("short".into()),
        given_name: Some(Some("g".repeat(256))),
        family_name: Some(Some("Lid\u{0}dell".into())),
        emails: Some(vec!["nope".into()]),
        ..UserChange::default()
    };
    update_user(services, &admin, &alice, change)
        .await
        .invalid_fields(&[
            "password",
            "name.givenName",
            "name.familyName",
            "emails[0].value",
        ]);
    let own = user_id(&bed, "admin").await;
    let lock = UserChange {
        locked: Some(true),
        ..UserChange::default()
    };
    let message = update_user(services, &admin, &own, lock)
        .await
        .invalid("accountLocked");
    assert!(message.contains("their own account"), "{message}");
    let read = get_user(services, &admin, &alice).await.unwrap();
    assert_eq!(read.claims, serde_json::json!({}));
    assert_eq!(
        get_user(services, &admin, &own).await.unwrap().locked_until,
        0
    );
    assert!(signs_in(&bed, "alice", PASSWORD).await.unwrap());
}

#[tokio::test]
async fn a_locked_account_stays_locked_until_an_administrator_unlocks_it() {
    // An administrator's lock holds even where failed logins lock nothing.
    let bed = TestBed::sqlite_with(Settings {
        lock_policy: LockPolicy {
            enabled: false,
            ..LockPolicy::default()
        },
        ..Settings::default()
    })
    .await;
    let (services, admin) = (bed.services(), bed.admin());
    let alice = user_id(&bed, "alice").await;
    sign_in(&bed, "alice").await;
    let lock = UserChange {
        locked: Some(true),
        ..UserChange::default()
    };
    let locked = update_user(services, &admin, &alice, lock).await.unwrap();
    assert_eq!(locked.locked_until, i64::MAX);
    assert_eq!(bed.events().await, ["TOKEN_REVOCATION"]);
    assert!(matches!(
        signs_in(&bed, "alice", PASSWORD).await,
        Err(KeyManagerError::AccountLocked {
            retry_after_secs: None
        })
    ));
    let unlock = UserChange {
        locked: Some(false),
        ..UserChange::default()
    };
    let unlocked = update_user(services, &admin, &alice, unlock).await.unwrap();
    assert_eq!((unlocked.locked_until, unlocked.failed_logins), (0, 0));
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert!(signs_in(&bed, "alice", PASSWORD).await.unwrap());
}

#[tokio::test]
async fn a_user_changes_their_own_password_and_their_sessions_end() {
    let bed = TestBed::sqlite().await;
    sign_in(&bed, "alice").await;
    change_own_password(
        bed.services(),
        &bed.user("alice"),
        PASSWORD,
        "alice-new-password",
        None,
    )
    .await
    .unwrap();
    assert_eq!(bed.events().await, ["TOKEN_REVOCATION"]);
    assert!(signs_in(&bed, "alice", "alice-new-password").await.unwrap());
}

#[tokio::test]
async fn an_own_password_change_is_refused_naming_what_is_wrong() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let alice = bed.user("alice");
    change_own_password(
        services,
        &bed.user("creator"),
        PASSWORD,
        "new-password-2",
        None,
    )
    .await
    .forbidden();
    // A user another identity provider knows has no password here.
    let stranger = bed.with_scopes("stranger", &["apim:subscribe"]);
    change_own_password(services, &stranger, PASSWORD, "new-password-2", None)
        .await
        .not_allowed();
    change_own_password(services, &alice, PASSWORD, "short", None)
        .await
        .invalid_fields(&["newPassword"]);
    let message = change_own_password(services, &alice, PASSWORD, PASSWORD, None)
        .await
        .invalid("newPassword");
    assert!(message.contains("must differ"), "{message}");
    change_own_password(services, &alice, "not-the-password", "new-password-2", None)
        .await
        .invalid_fields(&["currentPassword"]);
    assert!(signs_in(&bed, "alice", PASSWORD).await.unwrap());
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn a_wrong_current_password_counts_toward_the_account_lock() {
    let bed = TestBed::sqlite_with(Settings {
        lock_policy: LockPolicy {
            enabled: true,
            allowed_failed_attempts: 1,
            unlock_after: None,
        },
        ..Settings::default()
    })
    .await;
    let (services, alice) = (bed.services(), bed.user("alice"));
    change_own_password(services, &alice, "not-the-password", "new-password-2", None)
        .await
        .invalid_fields(&["currentPassword"]);
    let refusal = change_own_password(services, &alice, PASSWORD, "new-password-2", None)
        .await
        .key_manager();
    assert!(
        matches!(
            refusal,
            KeyManagerError::AccountLocked {
                retry_after_secs: None
            }
        ),
        "{refusal:?}"
    );
    let row = bed
        .store()
        .find_user(SUPER_TENANT, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.locked_until, i64::MAX);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_administrator_cannot_delete_their_own_account() {
    let bed = TestBed::sqlite().await;
    let own = user_id(&bed, "admin").await;
    delete_user(bed.services(), &bed.admin(), &own)
        .await
        .conflict();
    get_user(bed.services(), &bed.admin(), &own).await.unwrap();
}

#[tokio::test]
async fn a_deleted_users_applications_and_sessions_go_with_them() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let bob = user_id(&bed, "bob").await;
    bed.application(&bed.user("bob"), "Shop").await;
    sign_in(&bed, "bob").await;
    delete_user(services, &admin, &bob).await.unwrap();
    assert_eq!(
        bed.events().await,
        [
            "APPLICATION_DELETE",
            "APPLICATION_DELETE",
            "TOKEN_REVOCATION"
        ]
    );
    let left = bed
        .store()
        .applications_of(SUPER_TENANT, "bob")
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert!(!signs_in(&bed, "bob", PASSWORD).await.unwrap());
    let (_, total) = list_users(services, &admin, &UserMatch::Any, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 4);
}

#[tokio::test]
async fn a_deleted_users_pending_approvals_are_withdrawn() {
    let mut settings = Settings::default();
    settings.devportal.approvals = Approvals {
        application_creation: true,
        ..Approvals::default()
    };
    let bed = TestBed::sqlite_with(settings).await;
    let (services, admin) = (bed.services(), bed.admin());
    bed.application(&bed.user("bob"), "Shop").await;
    let bob = user_id(&bed, "bob").await;
    delete_user(services, &admin, &bob).await.unwrap();
    let page = Page::new(None, None).unwrap();
    let waiting = workflows::pending(services, &admin, None, page)
        .await
        .unwrap();
    assert_eq!(waiting.total, 0, "{:?}", waiting.items);
}

#[tokio::test]
async fn roles_are_listed_with_their_members() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let roles = list_roles(services, &admin, None).await.unwrap();
    let names: Vec<_> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["admin", "creator", "publisher", "subscriber"]);
    let subscribers: Vec<_> = roles[3].members.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(subscribers, ["alice", "bob"]);
    let creator = list_roles(services, &admin, Some("creator")).await.unwrap();
    assert_eq!(creator, [roles[1].clone()]);
    assert!(list_roles(services, &admin, Some("auditors"))
        .await
        .unwrap()
        .is_empty());
    let by_id = get_role(services, &admin, &role_id(SUPER_TENANT, "admin"))
        .await
        .unwrap();
    assert_eq!(by_id, roles[0]);
    get_role(services, &admin, "no-such-role").await.not_found();
}

#[tokio::test]
async fn a_new_role_has_its_first_members_or_is_not_created_at_all() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let alice = user_id(&bed, "alice").await;
    create_role(
        services,
        &admin,
        "bad name",
        vec![alice.clone(), "nobody".into()],
    )
    .await
    .invalid_fields(&["displayName", "members[1].value"]);
    create_role(
        services,
        &admin,
        "auditors",
        vec![alice.clone(), "nobody".into()],
    )
    .await
    .invalid_fields(&["members[1].value"]);
    assert!(list_roles(services, &admin, Some("auditors"))
        .await
        .unwrap()
        .is_empty());
    create_role(services, &admin, "creator", Vec::new())
        .await
        .conflict();
    let auditors = create_role(services, &admin, " auditors ", vec![alice.clone()])
        .await
        .unwrap();
    assert_eq!(auditors.name, "auditors");
    assert_eq!(auditors.id, role_id(SUPER_TENANT, "auditors"));
    assert_eq!(auditors.members, [(alice.clone(), "alice".to_string())]);
    let roles = get_user(services, &admin, &alice).await.unwrap().roles;
    assert_eq!(roles, ["auditors", "subscriber"]);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn role_members_change_all_at_once_and_a_removed_member_loses_their_sessions() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let (alice, bob) = (user_id(&bed, "alice").await, user_id(&bed, "bob").await);
    let auditors = create_role(services, &admin, "auditors", vec![alice.clone()])
        .await
        .unwrap();
    sign_in(&bed, "alice").await;
    let changed = change_role_members(
        services,
        &admin,
        &auditors.id,
        vec![bob.clone()],
        vec![alice.clone()],
    )
    .await
    .unwrap();
    assert_eq!(changed.members, [(bob.clone(), "bob".to_string())]);
    assert_eq!(bed.events().await, ["TOKEN_REVOCATION"]);
    // An unknown user: neither the addition nor the removal is made.
    let message = change_role_members(
        services,
        &admin,
        &auditors.id,
        vec!["nobody".into()],
        vec![bob.clone()],
    )
    .await
    .invalid("members");
    assert!(message.contains("user nobody does not exist"), "{message}");
    let role = get_role(services, &admin, &auditors.id).await.unwrap();
    assert_eq!(role.members, changed.members);
    change_role_members(services, &admin, "no-such-role", vec![bob], Vec::new())
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_administrator_cannot_remove_their_own_admin_role() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let own = user_id(&bed, "admin").await;
    let admin_role = role_id(SUPER_TENANT, "admin");
    change_role_members(services, &admin, &admin_role, Vec::new(), vec![own.clone()])
        .await
        .conflict();
    let members = get_role(services, &admin, &admin_role)
        .await
        .unwrap()
        .members;
    assert_eq!(members, [(own, "admin".to_string())]);
}

#[tokio::test]
async fn built_in_roles_stay_and_others_go_with_their_memberships() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let alice = user_id(&bed, "alice").await;
    for name in ["admin", "creator", "publisher", "subscriber"] {
        delete_role(services, &admin, &role_id(SUPER_TENANT, name))
            .await
            .not_allowed();
    }
    let auditors = create_role(services, &admin, "auditors", vec![alice.clone()])
        .await
        .unwrap();
    delete_role(services, &admin, &auditors.id).await.unwrap();
    get_role(services, &admin, &auditors.id).await.not_found();
    delete_role(services, &admin, &auditors.id)
        .await
        .not_found();
    let roles = get_user(services, &admin, &alice).await.unwrap().roles;
    assert_eq!(roles, ["subscriber"]);
    assert_eq!(list_roles(services, &admin, None).await.unwrap().len(), 4);
}
