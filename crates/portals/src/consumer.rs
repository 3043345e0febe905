//! The developer portal's pages for a consumer's own things: self sign-up and applications.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tollgate_model::PolicyLevel;
use tollgate_operations::devportal::applications::{self, ApplicationInput, ApplicationView};
use tollgate_operations::users::{self, UserInput};
use tollgate_restcore::Ctx;

use crate::pages::{render, Chrome, FormErrors, PageError, Portal};
use crate::session::{self, Visitor};
use crate::signed_in_or_login;

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage<'a> {
    page: Chrome,
    login_csrf: &'a str,
    form: SignUpForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub(crate) struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    email: String,
}

fn sign_up_page(visitor: &Visitor, form: SignUpForm, errors: FormErrors) -> Response {
    let (token, cookie) = session::login_csrf(visitor.secure);
    let status = if errors.fields.is_empty() && errors.general.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = render(&SignUpPage {
        page: Chrome::new(Some(Portal::DevPortal), "Sign up", visitor),
        login_csrf: &token,
        form,
        errors,
    });
    *response.status_mut() = status;
    response
        .headers_mut()
        .append(axum::http::header::SET_COOKIE, cookie);
    response
}

pub(crate) async fn sign_up_form(State(ctx): State<Ctx>, visitor: Visitor) -> Response {
    if !ctx.users.self_sign_up {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "Self sign-up is switched off here; ask an administrator for an account.",
        )
        .into_response();
    }
    sign_up_page(&visitor, SignUpForm::default(), FormErrors::default())
}

/// Creates the account (a subscriber), then signs the new user in.
pub(crate) async fn sign_up(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    Form(mut form): Form<SignUpForm>,
) -> Result<Response, PageError> {
    if !session::login_csrf_ok(&headers, &form.csrf) {
        let errors = FormErrors {
            general: vec!["The form expired; please send it again.".into()],
            ..FormErrors::default()
        };
        form.password.clear();
        return Ok(sign_up_page(&visitor, form, errors));
    }
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = UserInput {
        username: form.username.clone(),
        password: form.password.clone(),
        given_name: optional(&form.given_name),
        family_name: optional(&form.family_name),
        emails: optional(&form.email).into_iter().collect(),
        roles: Vec::new(),
    };
    match users::sign_up(&ctx, tollgate_model::SUPER_TENANT, input).await {
        Ok(user) => {
            session::start(
                &ctx,
                &user.tenant,
                &user.username,
                visitor.secure,
                "/devportal/applications",
            )
            .await
        }
        Err(err) => {
            let errors = FormErrors::from_op(
                err,
                &["username", "password", "givenName", "familyName", "emails"],
            )?;
            form.password.clear();
            Ok(sign_up_page(&visitor, form, errors))
        }
    }
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ApplicationsPage {
    page: Chrome,
    applications: Vec<ApplicationView>,
    tiers: Vec<String>,
    form: ApplicationForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
pub(crate) struct ApplicationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    throttling_policy: String,
    #[serde(default)]
    description: String,
}

async fn applications_page(
    ctx: &Ctx,
    visitor: &Visitor,
    signed_in: &session::SignedIn,
    form: ApplicationForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let applications = applications::list(ctx, &signed_in.actor).await?;
    let tiers = ctx
        .store
        .policies(&signed_in.actor.tenant, PolicyLevel::Application)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    let failed = !errors.fields.is_empty() || !errors.general.is_empty();
    let mut response = render(&ApplicationsPage {
        page: Chrome::new(Some(Portal::DevPortal), "Applications", visitor),
        applications,
        tiers,
        form,
        errors,
    });
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub(crate) async fn applications(
    State(ctx): State<Ctx>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::DevPortal) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let form = ApplicationForm {
        throttling_policy: "Unlimited".into(),
        ..ApplicationForm::default()
    };
    applications_page(&ctx, &visitor, &signed_in, form, FormErrors::default()).await
}

pub(crate) async fn create_application(
    State(ctx): State<Ctx>,
    visitor: Visitor,
    Form(form): Form<ApplicationForm>,
) -> Result<Response, PageError> {
    let signed_in = match signed_in_or_login(&visitor, Portal::DevPortal) {
        Ok(signed_in) => signed_in,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    crate::session::require_csrf(&signed_in, &form.csrf)?;
    let input = ApplicationInput {
        name: form.name.clone(),
        throttling_policy: form.throttling_policy.clone(),
        description: Some(form.description.clone()).filter(|d| !d.trim().is_empty()),
        token_type: None,
        attributes: None,
    };
    match applications::create(&ctx, &signed_in.actor, input).await {
        Ok(_) => Ok(Redirect::to("/devportal/applications").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &["name", "throttlingPolicy", "description"])?;
            applications_page(&ctx, &visitor, &signed_in, form, errors).await
        }
    }
}
