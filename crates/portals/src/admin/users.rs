//! The admin portal's users and roles: list (with a name search), create with roles, delete —
//! over the same operations as the SCIM 2.0 endpoints.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tollgate_operations::users::{self, UserInput};
use tollgate_restcore::Ctx;
use tollgate_store::UserMatch;

use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Administrator;

/// A user as the list shows them.
pub(crate) struct UserLine {
    pub id: String,
    pub username: String,
    pub roles: String,
    pub locked: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    page: Chrome,
    search: String,
    users: Vec<UserLine>,
    total: i64,
    roles: Vec<String>,
    form: NewUserForm,
    errors: FormErrors,
}

impl UsersPage {
    /// The roles WSO2's permissions are built on (not deleted).
    fn built_in(&self, role: &str) -> bool {
        tollgate_model::scopes::roles::ALL.contains(&role)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    search: String,
}

/// The new-user form; `role` repeats, one per ticked role.
#[derive(Deserialize, Default)]
pub(crate) struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: Vec<String>,
}

async fn users_page(
    ctx: &Ctx,
    admin: &Administrator,
    search: String,
    form: NewUserForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = admin.actor();
    let filter = if search.trim().is_empty() {
        UserMatch::Any
    } else {
        UserMatch::Contains(search.trim().to_string())
    };
    let (rows, total) = users::list_users(ctx, actor, &filter, 0, 200).await?;
    let now = tollgate_model::now_millis();
    let roles = users::list_roles(ctx, actor, None)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let page = UsersPage {
        page: admin.chrome("Users and roles"),
        users: rows
            .into_iter()
            .map(|u| UserLine {
                locked: u.locked_until > now,
                roles: u.roles.join(", "),
                id: u.id,
                username: u.username,
            })
            .collect(),
        total,
        roles,
        search,
        form: NewUserForm {
            password: String::new(),
            ..form
        },
        errors: errors.clone(),
    };
    Ok(render_form(&page, &errors))
}

pub(crate) async fn list(
    State(ctx): State<Ctx>,
    admin: Administrator,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let form = NewUserForm {
        role: vec!["subscriber".into()],
        ..NewUserForm::default()
    };
    users_page(&ctx, &admin, q.search, form, FormErrors::default()).await
}

pub(crate) async fn create(
    State(ctx): State<Ctx>,
    admin: Administrator,
    fields: FormFields,
) -> Result<Response, PageError> {
    admin.check(&fields)?;
    // Repeated `role` fields: serde_urlencoded would keep one value.
    let form = NewUserForm {
        username: fields.get("username").to_string(),
        password: fields.get("password").to_string(),
        role: fields.all("role"),
    };
    let input = UserInput {
        username: form.username.clone(),
        password: form.password.clone(),
        roles: form.role.clone(),
        ..UserInput::default()
    };
    match users::create_user(&ctx, admin.actor(), input).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["userName", "password", "groups"])?;
            users_page(&ctx, &admin, String::new(), form, errors).await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    csrf: String,
    user_id: String,
}

pub(crate) async fn delete(
    State(ctx): State<Ctx>,
    admin: Administrator,
    Form(form): Form<DeleteForm>,
) -> Result<Response, PageError> {
    admin.check_token(&form.csrf)?;
    users::delete_user(&ctx, admin.actor(), &form.user_id).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    page: Chrome,
    user: UserLine,
    /// Every role, and whether the user holds it.
    roles: Vec<(String, bool)>,
    is_self: bool,
    errors: FormErrors,
}

async fn user_page(
    ctx: &Ctx,
    admin: &crate::session::Administrator,
    user_id: &str,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let actor = admin.actor();
    let user = users::get_user(ctx, actor, user_id).await?;
    let roles = users::list_roles(ctx, actor, None)
        .await?
        .into_iter()
        .map(|r| {
            let held = user.roles.contains(&r.name);
            (r.name, held)
        })
        .collect();
    Ok(crate::pages::render_form(
        &UserPage {
            page: admin.chrome(user.username.clone()),
            is_self: user.username == admin.user.username,
            user: UserLine {
                locked: user.locked_until > tollgate_model::now_millis(),
                roles: user.roles.join(", "),
                id: user.id,
                username: user.username,
            },
            roles,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn show(
    State(ctx): State<Ctx>,
    admin: crate::session::Administrator,
    axum::extract::Path(user_id): axum::extract::Path<String>,
) -> Result<Response, PageError> {
    user_page(&ctx, &admin, &user_id, FormErrors::default()).await
}

/// The user's roles as ticked: each role gained or lost changes that role's members (SCIM's
/// `PATCH /Groups/{id}`).
pub(crate) async fn set_roles(
    State(ctx): State<Ctx>,
    admin: crate::session::Administrator,
    axum::extract::Path(user_id): axum::extract::Path<String>,
    form: crate::pages::FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    let actor = admin.actor();
    let user = users::get_user(&ctx, actor, &user_id).await?;
    let wanted = form.all("role");
    // Refused before any role changes (the operation refuses it too, but after earlier roles).
    if user.username == admin.user.username
        && user.roles.iter().any(|r| r == "admin")
        && !wanted.iter().any(|r| r == "admin")
    {
        let errors = FormErrors {
            fields: Vec::new(),
            general: vec!["An administrator cannot remove their own admin role".into()],
        };
        return user_page(&ctx, &admin, &user_id, errors).await;
    }
    let all = users::list_roles(&ctx, actor, None).await?;
    for role in all {
        let held = user.roles.contains(&role.name);
        let want = wanted.contains(&role.name);
        let (add, remove) = match (held, want) {
            (false, true) => (vec![user.id.clone()], Vec::new()),
            (true, false) => (Vec::new(), vec![user.id.clone()]),
            _ => continue,
        };
        if let Err(err) = users::change_role_members(&ctx, actor, &role.id, add, remove).await {
            let errors = FormErrors::from_op(err, &["members"])?;
            return user_page(&ctx, &admin, &user_id, errors).await;
        }
    }
    Ok(Redirect::to(&format!("/admin/users/{user_id}")).into_response())
}

/// Locks the account (its sessions and tokens end) or unlocks it.
pub(crate) async fn set_locked(
    State(ctx): State<Ctx>,
    admin: crate::session::Administrator,
    axum::extract::Path(user_id): axum::extract::Path<String>,
    form: crate::pages::FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    let change = users::UserChange {
        locked: Some(form.get("locked") == "true"),
        ..users::UserChange::default()
    };
    match users::update_user(&ctx, admin.actor(), &user_id, change).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{user_id}")).into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            user_page(&ctx, &admin, &user_id, errors).await
        }
    }
}

/// A new role (no members yet; give it to users on their pages).
pub(crate) async fn create_role(
    State(ctx): State<Ctx>,
    admin: Administrator,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    match users::create_role(&ctx, admin.actor(), form.get("role_name"), Vec::new()).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["displayName"])?;
            users_page(&ctx, &admin, String::new(), NewUserForm::default(), errors).await
        }
    }
}

/// Deletes a role (the built-in ones stay: the operation refuses them).
pub(crate) async fn delete_role(
    State(ctx): State<Ctx>,
    admin: Administrator,
    form: FormFields,
) -> Result<Response, PageError> {
    admin.check(&form)?;
    let id = users::role_id(&admin.actor().tenant, form.get("role_name"));
    match users::delete_role(&ctx, admin.actor(), &id).await {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            users_page(&ctx, &admin, String::new(), NewUserForm::default(), errors).await
        }
    }
}
