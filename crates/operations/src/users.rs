//! Users and roles: self sign-up (a public operation that makes a subscriber) and the
//! administrator's management of users and roles (SCIM 2.0's Users and Groups, roles being
//! groups), so that nobody has to write users into the database by hand.

use serde_json::{json, Value};
use tollgate_model::scopes::roles;
use tollgate_store::{NewUser, UserMatch, UserRow};

use crate::{Actor, OpError, OpResult, Problems, Services};

/// Managing users and roles is the administrator's.
const MANAGE: &[&str] = &["apim:admin"];

/// How users may sign up, and what their passwords must be (`[identity_mgt.user_self_registration]`,
/// `[identity_mgt.password_policy]`).
#[derive(Debug, Clone)]
pub struct UserSettings {
    pub self_sign_up: bool,
    pub min_password_length: usize,
    pub max_password_length: usize,
}

impl Default for UserSettings {
    fn default() -> Self {
        UserSettings {
            self_sign_up: true,
            min_password_length: 8,
            max_password_length: 64,
        }
    }
}

/// A user as described to create one.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub username: String,
    pub password: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub emails: Vec<String>,
    /// Role names; empty for a sign-up (which always makes a subscriber).
    pub roles: Vec<String>,
}

/// What a change of a user sets; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub password: Option<String>,
    /// Lock (`true`, until unlocked) or unlock (`false`) the account (SCIM's `accountLocked`).
    pub locked: Option<bool>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub emails: Option<Vec<String>>,
}

/// A role as SCIM shows it (a group): a stable id derived from the tenant and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// (user id, username).
    pub members: Vec<(String, String)>,
}

/// The id of the tenant's role `name`: the same on every node and across restarts.
pub fn role_id(tenant: &str, name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("tollgate:role:{tenant}:{name}").as_bytes(),
    )
    .to_string()
}

/// Names of users and roles: no spaces, no '/' (a user store domain's separator), no '@' (it
/// would name a tenant).
fn check_name(problems: &mut Problems, field: &str, name: &str, max: usize) {
    if name.is_empty()
        || name.chars().count() > max
        || name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '/' || c == '@')
    {
        problems.add(
            field,
            format!("must have 1 to {max} characters, without spaces, '/' or '@'"),
        );
    }
}

fn check_password(
    problems: &mut Problems,
    settings: &UserSettings,
    field: &str,
    username: &str,
    password: &str,
) {
    let length = password.chars().count();
    if length < settings.min_password_length || length > settings.max_password_length {
        problems.add(
            field,
            format!(
                "must have {} to {} characters",
                settings.min_password_length, settings.max_password_length
            ),
        );
    } else if password.eq_ignore_ascii_case(username) {
        problems.add(field, "must not be the username");
    } else if password.chars().any(char::is_control) {
        problems.add(field, "must not hold control characters");
    }
}

fn check_profile(
    problems: &mut Problems,
    given_name: Option<&str>,
    family_name: Option<&str>,
    emails: &[String],
) {
    for (field, value) in [
        ("name.givenName", given_name),
        ("name.familyName", family_name),
    ] {
        if value.is_some_and(|v| v.chars().count() > 255 || v.chars().any(char::is_control)) {
            problems.add(field, "must have at most 255 characters");
        }
    }
    for (i, email) in emails.iter().enumerate() {
        let plausible = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plausible {
            problems.add(
                format!("emails[{i}].value"),
                format!("'{email}' is not an e-mail address"),
            );
        }
    }
}

fn claims_of(
    given_name: Option<String>,
    family_name: Option<String>,
    emails: Vec<String>,
) -> Value {
    json!({"givenName": given_name, "familyName": family_name, "emails": emails})
}

/// Whether visitors may create their own accounts (refused, saying why, when not).
pub fn sign_up_allowed(services: &Services) -> OpResult<()> {
    if services.users.self_sign_up {
        Ok(())
    } else {
        Err(OpError::Forbidden(
            "Self sign-up is switched off ([identity_mgt.user_self_registration] allow_self_registration); ask an administrator for an account"
                .into(),
        ))
    }
}

/// WSO2's self sign-up: anyone may create a user with the subscriber role (and no other), when
/// the configuration allows it.
pub async fn sign_up(services: &Services, tenant: &str, input: UserInput) -> OpResult<UserRow> {
    sign_up_allowed(services)?;
    let input = UserInput {
        roles: vec![roles::SUBSCRIBER.to_string()],
        ..input
    };
    create(services, tenant, input, "user.password").await
}

/// Creates a user with the given roles (SCIM `POST /Users`).
pub async fn create_user(
    services: &Services,
    actor: &Actor,
    input: UserInput,
) -> OpResult<UserRow> {
    actor.require_any(MANAGE)?;
    create(services, &actor.tenant, input, "password").await
}

async fn create(
    services: &Services,
    tenant: &str,
    input: UserInput,
    password_field: &str,
) -> OpResult<UserRow> {
    let mut problems = Problems::default();
    let username = input.username.trim().to_string();
    check_name(&mut problems, "userName", &username, 100);
    check_password(
        &mut problems,
        &services.users,
        password_field,
        &username,
        &input.password,
    );
    check_profile(
        &mut problems,
        input.given_name.as_deref(),
        input.family_name.as_deref(),
        &input.emails,
    );
    // Roles by name or by their SCIM group id; each once.
    let known = services.store.roles(tenant).await?;
    let mut roles: Vec<String> = Vec::new();
    for (i, given) in input.roles.iter().enumerate() {
        match known
            .iter()
            .find(|name| *name == given || role_id(tenant, name) == *given)
        {
            Some(name) if !roles.contains(name) => roles.push(name.clone()),
            Some(_) => {}
            None => problems.add(
                format!("groups[{i}]"),
                format!("there is no role '{given}'"),
            ),
        }
    }
    problems.into_result(())?;
    // A taken name is known before the (costly) hashing.
    if services.store.find_user(tenant, &username).await?.is_some() {
        return Err(OpError::Conflict(format!(
            "The username '{username}' is taken (now or before)"
        )));
    }
    let password_hash = services.key_manager.hash_password(&input.password).await?;
    let user = services
        .store
        .create_user(&NewUser {
            tenant: tenant.to_string(),
            username,
            password_hash,
            roles,
            claims: claims_of(input.given_name, input.family_name, input.emails),
        })
        .await?;
    tracing::info!(user = %user.username, roles = ?user.roles, "user created");
    Ok(user)
}

/// A page of the tenant's users (SCIM's 1-based `startIndex`, as an offset here).
pub async fn list_users(
    services: &Services,
    actor: &Actor,
    filter: &UserMatch,
    offset: i64,
    limit: i64,
) -> OpResult<(Vec<UserRow>, i64)> {
    actor.require_any(MANAGE)?;
    Ok(services
        .store
        .list_users(&actor.tenant, filter, offset, limit.clamp(0, 1000))
        .await?)
}

pub async fn get_user(services: &Services, actor: &Actor, user_id: &str) -> OpResult<UserRow> {
    actor.require_any(MANAGE)?;
    services
        .store
        .user_by_id(&actor.tenant, user_id)
        .await?
        .ok_or_else(|| OpError::NotFound(format!("user {user_id}")))
}

/// Changes a user's password or profile (SCIM `PATCH /Users/{id}`).
pub async fn update_user(
    services: &Services,
    actor: &Actor,
    user_id: &str,
    change: UserChange,
) -> OpResult<UserRow> {
    let user = get_user(services, actor, user_id).await?;
    let mut problems = Problems::default();
    if let Some(password) = &change.password {
        check_password(
            &mut problems,
            &services.users,
            "password",
            &user.username,
            password,
        );
    }
    // A lock alone leaves the profile as it is (no rewrite of what a concurrent PATCH changed).
    let profile_changed =
        change.given_name.is_some() || change.family_name.is_some() || change.emails.is_some();
    let current = |field: &str| user.claims[field].as_str().map(str::to_string);
    let given_name = change.given_name.unwrap_or_else(|| current("givenName"));
    let family_name = change.family_name.unwrap_or_else(|| current("familyName"));
    let emails = change.emails.unwrap_or_else(|| {
        user.claims["emails"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    });
    check_profile(
        &mut problems,
        given_name.as_deref(),
        family_name.as_deref(),
        &emails,
    );
    if change.locked == Some(true) && user.username == actor.username {
        problems.add(
            "accountLocked",
            "an administrator cannot lock their own account",
        );
    }
    problems.into_result(())?;
    let hash = match &change.password {
        Some(password) => Some(services.key_manager.hash_password(password).await?),
        None => None,
    };
    if profile_changed || hash.is_some() {
        let claims = claims_of(given_name, family_name, emails);
        services
            .store
            .update_user(&actor.tenant, user_id, hash.as_deref(), Some(&claims))
            .await?;
    }
    match change.locked {
        Some(true) => services.store.lock_user(&user.id, i64::MAX).await?,
        Some(false) => {
            services
                .store
                .clear_failed_logins(&actor.tenant, &user.username)
                .await?;
        }
        None => {}
    }
    if hash.is_some() || change.locked == Some(true) {
        // A new password ends the sessions the old one opened; a lock ends them all.
        services
            .key_manager
            .revoke_user_tokens(&actor.tenant, &user.username)
            .await?;
        services
            .store
            .delete_user_portal_sessions(&actor.tenant, &user.username)
            .await?;
    }
    get_user(services, actor, user_id).await
}

/// A signed-in user changes their own password (the Developer Portal's
/// `POST /me/change-password`): the current one must be right (checked under the key manager's
/// failure limits), the new one follows the password rules; the sessions the old one opened
/// end.
pub async fn change_own_password(
    services: &Services,
    actor: &Actor,
    current: &str,
    new: &str,
    source: Option<std::net::IpAddr>,
) -> OpResult<()> {
    actor.require_any(&["apim:subscribe", "apim:admin"])?;
    let user = services
        .store
        .find_user(&actor.tenant, &actor.username)
        .await?
        .ok_or_else(|| {
            OpError::NotAllowed(
                "Your account belongs to another identity provider: change the password there"
                    .into(),
            )
        })?;
    let mut problems = Problems::default();
    check_password(
        &mut problems,
        &services.users,
        "newPassword",
        &user.username,
        new,
    );
    if new == current {
        problems.add("newPassword", "must differ from the current password");
    }
    problems.into_result(())?;
    let qualified = tollgate_keymanager::qualify_username(&actor.tenant, &actor.username);
    if services
        .key_manager
        .authenticate_user(&qualified, current, source)
        .await?
        .is_none()
    {
        return Err(OpError::invalid(
            "currentPassword",
            "is not your current password",
        ));
    }
    let hash = services.key_manager.hash_password(new).await?;
    services
        .store
        .update_user(&actor.tenant, &user.id, Some(&hash), None)
        .await?;
    services
        .key_manager
        .revoke_user_tokens(&actor.tenant, &user.username)
        .await?;
    tracing::info!(user = %user.username, "password changed by its owner");
    Ok(())
}

/// Deletes a user; an administrator cannot delete their own account.
pub async fn delete_user(services: &Services, actor: &Actor, user_id: &str) -> OpResult<()> {
    let user = get_user(services, actor, user_id).await?;
    if user.username == actor.username {
        return Err(OpError::Conflict(
            "An administrator cannot delete their own account".into(),
        ));
    }
    // Their applications go (with keys and subscriptions: gateways refuse their tokens), and
    // so do their refresh tokens; the name stays taken, so nobody inherits what remains.
    for app in services
        .store
        .applications_of(&actor.tenant, &user.username)
        .await?
    {
        let mut tx = services.store.begin().await?;
        tx.apply(&tollgate_store::Change::DeleteApplication(app))
            .await?;
        tx.commit().await?;
    }
    services
        .key_manager
        .revoke_user_tokens(&actor.tenant, &user.username)
        .await?;
    services.store.delete_user(&actor.tenant, user_id).await?;
    tracing::info!(user = %user.username, by = %actor.username, "user deleted");
    Ok(())
}

/// Whether the caller's tenant has a role named `name` (the publisher's `HEAD /roles/{role}`,
/// asked when a provider restricts an API to roles); case-insensitive, `Internal/` optional.
pub async fn role_exists(services: &Services, actor: &Actor, name: &str) -> OpResult<bool> {
    actor.require_any(&["apim:api_create", "apim:api_manage", "apim:api_view"])?;
    let name = unprefixed(name);
    Ok(services
        .store
        .roles(&actor.tenant)
        .await?
        .iter()
        .any(|role| role.eq_ignore_ascii_case(name)))
}

/// Whether the caller holds the role `name` now (`HEAD /me/roles/{role}`).
pub async fn holds_role(services: &Services, actor: &Actor, name: &str) -> OpResult<bool> {
    let name = unprefixed(name);
    Ok(services
        .store
        .find_user(&actor.tenant, &actor.username)
        .await?
        .is_some_and(|user| user.roles.iter().any(|r| r.eq_ignore_ascii_case(name))))
}

/// A role name without WSO2's `Internal/` domain.
fn unprefixed(name: &str) -> &str {
    name.strip_prefix("Internal/").unwrap_or(name)
}

/// The tenant's roles with their members; `name` keeps only that one.
pub async fn list_roles(
    services: &Services,
    actor: &Actor,
    name: Option<&str>,
) -> OpResult<Vec<Role>> {
    actor.require_any(MANAGE)?;
    let mut roles = Vec::new();
    for role in services.store.roles(&actor.tenant).await? {
        if name.is_some_and(|n| n != role) {
            continue;
        }
        roles.push(Role {
            id: role_id(&actor.tenant, &role),
            members: services.store.role_members(&actor.tenant, &role).await?,
            name: role,
        });
    }
    Ok(roles)
}

pub async fn get_role(services: &Services, actor: &Actor, id: &str) -> OpResult<Role> {
    list_roles(services, actor, None)
        .await?
        .into_iter()
        .find(|role| role.id == id)
        .ok_or_else(|| OpError::NotFound(format!("group {id}")))
}

/// Creates a role with its first members (SCIM `POST /Groups`).
pub async fn create_role(
    services: &Services,
    actor: &Actor,
    name: &str,
    members: Vec<String>,
) -> OpResult<Role> {
    actor.require_any(MANAGE)?;
    let mut problems = Problems::default();
    let name = name.trim();
    check_name(&mut problems, "displayName", name, 100);
    // Members are checked before the role exists: a bad one leaves nothing behind.
    for (i, member) in members.iter().enumerate() {
        if services
            .store
            .user_by_id(&actor.tenant, member)
            .await?
            .is_none()
        {
            problems.add(
                format!("members[{i}].value"),
                format!("user {member} does not exist"),
            );
        }
    }
    problems.into_result(())?;
    services.store.create_role(&actor.tenant, name).await?;
    if !members.is_empty() {
        change_members(services, actor, name, members, Vec::new()).await?;
    }
    get_role(services, actor, &role_id(&actor.tenant, name)).await
}

/// Adds and removes members of a role (SCIM `PATCH /Groups/{id}`).
pub async fn change_role_members(
    services: &Services,
    actor: &Actor,
    id: &str,
    add: Vec<String>,
    remove: Vec<String>,
) -> OpResult<Role> {
    let role = get_role(services, actor, id).await?;
    change_members(services, actor, &role.name, add, remove).await?;
    get_role(services, actor, id).await
}

async fn change_members(
    services: &Services,
    actor: &Actor,
    role: &str,
    add: Vec<String>,
    remove: Vec<String>,
) -> OpResult<()> {
    // The caller's own admin role stays: nobody locks themselves out by accident.
    if role == roles::ADMIN {
        for id in &remove {
            let user = services.store.user_by_id(&actor.tenant, id).await?;
            if user.is_some_and(|u| u.username == actor.username) {
                return Err(OpError::Conflict(
                    "An administrator cannot remove their own admin role".into(),
                ));
            }
        }
    }
    services
        .store
        .change_role_members(&actor.tenant, role, &add, &remove)
        .await
        .map_err(|err| match err {
            tollgate_store::StoreError::NotFound(what) => {
                OpError::invalid("members", format!("{what} does not exist"))
            }
            other => other.into(),
        })?;
    // Fewer roles: the tokens granted with the old ones go.
    for id in &remove {
        if let Some(user) = services.store.user_by_id(&actor.tenant, id).await? {
            services
                .key_manager
                .revoke_user_tokens(&actor.tenant, &user.username)
                .await?;
        }
    }
    Ok(())
}

/// Deletes a role and its memberships; the roles WSO2's permissions are built on stay.
pub async fn delete_role(services: &Services, actor: &Actor, id: &str) -> OpResult<()> {
    let role = get_role(services, actor, id).await?;
    if roles::ALL.contains(&role.name.as_str()) {
        return Err(OpError::NotAllowed(format!(
            "The role '{}' is built in and cannot be deleted",
            role.name
        )));
    }
    services
        .store
        .delete_role(&actor.tenant, &role.name)
        .await?;
    Ok(())
}
