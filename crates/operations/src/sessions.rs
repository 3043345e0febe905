//! Signing in to the web portals: a session found by the hash of its cookie in the shared
//! database (so every control-plane node knows it), with a CSRF token for its forms; it ends
//! after 30 idle minutes or 8 hours, when the user signs out, or when their account is locked.
//! Passwords are checked by the key manager under the same failure limits as every login.

use std::net::IpAddr;

use tollgate_store::PortalSessionRow;

use crate::{Actor, OpError, OpResult, Services};

/// A session ends after this long unused…
pub const IDLE_MILLIS: i64 = 30 * 60 * 1000;
/// …and after this long in any case.
pub const LIFETIME_MILLIS: i64 = 8 * 60 * 60 * 1000;
/// How often a session's last use is written (a page view does not write every time).
const TOUCH_EVERY_MILLIS: i64 = 60 * 1000;

/// A signed-in user of the portals: their current roles decide what they may do, exactly as
/// for the REST APIs.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub actor: Actor,
    pub username: String,
    /// Every form of the session carries it.
    pub csrf: String,
    pub roles: Vec<String>,
}

/// The session a cookie holds, if it is still valid: not expired, its user still there and
/// not locked. The user's roles are read now, so a removed role takes effect at once.
pub async fn session(services: &Services, cookie: &str) -> OpResult<Option<PortalSession>> {
    let hash = tollgate_keymanager::hash_secret(cookie);
    let now = tollgate_model::now_millis();
    let Some(session) = services
        .store
        .portal_session(&hash, now, IDLE_MILLIS)
        .await?
    else {
        return Ok(None);
    };
    if now - session.last_seen > TOUCH_EVERY_MILLIS {
        services.store.touch_portal_session(&hash, now).await?;
    }
    let Some(user) = services
        .store
        .find_user(&session.tenant, &session.username)
        .await?
    else {
        return Ok(None);
    };
    // A locked account's sessions end with the lock.
    if user.locked_until > now {
        return Ok(None);
    }
    Ok(Some(PortalSession {
        actor: Actor::with_roles(
            session.tenant.clone(),
            session.username.clone(),
            user.roles.clone(),
        ),
        username: session.username,
        csrf: session.csrf_token,
        roles: user.roles,
    }))
}

/// Checks a user's password and starts a session; returns the session cookie's value (the
/// only place its secret is: the database keeps its hash). Wrong credentials are
/// `Unauthenticated`; a lock, too many failures or a busy password checker come from the key
/// manager.
pub async fn sign_in(
    services: &Services,
    username: &str,
    password: &str,
    source: Option<IpAddr>,
) -> OpResult<String> {
    let user = services
        .key_manager
        .authenticate_user(username, password, source)
        .await?
        .ok_or_else(|| OpError::Unauthenticated("The username or password is not right.".into()))?;
    open(services, &user.tenant, &user.username).await
}

/// Self sign-up in the developer portal: the account (a subscriber, as
/// [`users::sign_up`](crate::users::sign_up) makes it), signed in at once; the session
/// cookie's value.
pub async fn sign_up(services: &Services, input: crate::users::UserInput) -> OpResult<String> {
    let user = crate::users::sign_up(services, tollgate_model::SUPER_TENANT, input).await?;
    open(services, &user.tenant, &user.username).await
}

/// A new session of a user who has just proved who they are.
async fn open(services: &Services, tenant: &str, username: &str) -> OpResult<String> {
    let cookie = tollgate_keymanager::random_token(32);
    let now = tollgate_model::now_millis();
    services
        .store
        .insert_portal_session(&PortalSessionRow {
            session_hash: tollgate_keymanager::hash_secret(&cookie),
            tenant: tenant.to_string(),
            username: username.to_string(),
            csrf_token: tollgate_keymanager::random_token(24),
            created_time: now,
            last_seen: now,
            expires_time: now + LIFETIME_MILLIS,
        })
        .await?;
    Ok(cookie)
}

/// Ends the session a cookie holds (nothing happens for one that is not a session's).
pub async fn sign_out(services: &Services, cookie: &str) -> OpResult<()> {
    Ok(services
        .store
        .delete_portal_session(
            &tollgate_keymanager::hash_secret(cookie),
            tollgate_model::now_millis(),
            IDLE_MILLIS,
        )
        .await?)
}
